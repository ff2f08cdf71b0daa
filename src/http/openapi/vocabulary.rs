//! Fields that take one of a few words. The lists live beside the code that checks them;
//! this copies them into the document so a client (and schemathesis) knows the choices.

use serde_json::Value;
use utoipa::Modify;
use utoipa::openapi::OpenApi;
use utoipa::openapi::schema::{SchemaType, Type};

use super::property;
use crate::{accounts::profile, teams};

pub struct Vocabulary;

impl Modify for Vocabulary {
    fn modify(&self, doc: &mut OpenApi) {
        // An empty role clears it.
        let mut profile_roles = vec![""];
        profile_roles.extend_from_slice(profile::ROLES);
        restrict(doc, "ProfileRequest", "role", &profile_roles, true);
        restrict(
            doc,
            "UpdateTeamRequest",
            "join_policy",
            teams::JOIN_POLICIES,
            true,
        );
        restrict(doc, "RoleRequest", "role", teams::ROLES, false);
        restrict(doc, "InviteRequest", "role", teams::ROLES, false);
        // Terms must be accepted: `false` is refused (`terms_not_accepted`).
        property(doc, "SignupRequest", "accept_terms").enum_values = Some(vec![Value::Bool(true)]);
    }
}

/// Keeps the field's description and example; only the choices are added.
fn restrict(doc: &mut OpenApi, schema: &str, field: &str, words: &[&str], nullable: bool) {
    let property = property(doc, schema, field);
    let mut values: Vec<Value> = words.iter().map(|w| Value::from(*w)).collect();
    property.schema_type = if nullable {
        values.push(Value::Null);
        SchemaType::from_iter([Type::String, Type::Null])
    } else {
        SchemaType::Type(Type::String)
    };
    property.enum_values = Some(values);
}
