//! Fields that take one of a few words. The lists live beside the code that checks them;
//! this copies them into the document so a client (and schemathesis) knows the choices.

use serde_json::Value;
use utoipa::Modify;
use utoipa::openapi::schema::{ObjectBuilder, Schema, SchemaType, Type};
use utoipa::openapi::{OpenApi, RefOr};

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
    }
}

fn restrict(doc: &mut OpenApi, schema: &str, field: &str, words: &[&str], nullable: bool) {
    let property = doc
        .components
        .as_mut()
        .and_then(|c| c.schemas.get_mut(schema))
        .and_then(|s| match s {
            RefOr::T(Schema::Object(object)) => object.properties.get_mut(field),
            _ => None,
        });
    let Some(property) = property else {
        panic!("OpenAPI vocabulary: {schema}.{field} is not in the document");
    };
    let mut values: Vec<Value> = words.iter().map(|w| Value::from(*w)).collect();
    let kind = if nullable {
        values.push(Value::Null);
        SchemaType::from_iter([Type::String, Type::Null])
    } else {
        SchemaType::Type(Type::String)
    };
    *property = RefOr::T(Schema::Object(
        ObjectBuilder::new()
            .schema_type(kind)
            .enum_values(Some(values))
            .build(),
    ));
}
