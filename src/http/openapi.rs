//! The machine-readable API description at `/api/v1/openapi.json`, browsable at `/docs`.

use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{Object, Schema};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::{account, api, mfa, oauth, security_keys, teams};

mod links;
mod responses;
mod rules;
mod vocabulary;

use links::Links;
use responses::CommonResponses;
use rules::Rules;
use vocabulary::Vocabulary;

#[derive(OpenApi)]
#[openapi(
    info(title = "Latchkey", description = "Self-hostable accounts: sign-up, sign-in, sessions."),
    paths(
        api::signup_handler, api::login_handler, api::logout, api::me, api::update_profile,
        api::confirm_email, api::resend_verification, api::list_sessions, api::revoke_session, api::reauthenticate,
        api::revoke_sessions, mfa::login_mfa, mfa::status, mfa::setup, mfa::enable,
        mfa::regenerate, mfa::disable, security_keys::list, security_keys::begin,
        security_keys::finish, security_keys::remove, security_keys::sign_in_challenge, account::change_email, account::change_password,
        account::account_recovery, account::reset_password, account::undo_email_change,
        account::captcha, account::delete_account, account::public_profile, teams::create,
        teams::list, teams::discoverable, teams::show, teams::update, teams::remove_team,
        teams::join, teams::leave, teams::members, teams::set_role, teams::remove_member,
        teams::invitations::invite, teams::invitations::list_invitations, teams::invitations::resend_invitation,
        teams::invitations::revoke_invitation, teams::invitations::accept, teams::join_requests, teams::approve_request,
        teams::decline_request, oauth::token, oauth::device_code, oauth::revoke,
    ),
    components(schemas(super::problem::Problem, super::problem::FieldError, api::Scope)),
    modifiers(&Security, &CommonResponses, &Vocabulary, &Rules, &Links),
    security(("bearer" = []), ("cookie" = [])),
    // In the order a person meets the pages: signing up, the settings pages, teams, then what
    // is not a page of one's own. Every operation's tag is declared here (tests/api/health.rs).
    tags(
        (name = "Sign-up and sign-in", description = "Creating an account, confirming its email address, signing in and out (with a second factor when it is on), and recovering a forgotten password."),
        (name = "Profile", description = "The display name, role and username others see, as on the Profile settings page."),
        (name = "Account", description = "The account itself, as on the Account settings page: its email address and its deletion."),
        (name = "Password and authentication", description = "The password, two-factor authentication with an app, recovery codes and security keys, as in those sections of the Account settings page."),
        (name = "Sessions", description = "The places the account is signed in, as on the Sessions settings page, and signing them out."),
        (name = "Teams", description = "Teams, their members and roles, invitations and requests to join, as on the team pages."),
        (name = "Public profiles", description = "What anyone can see of an account, as on its page at `/u/{username}`."),
        (name = "CLI sign-in (OAuth)", description = "The OAuth endpoints the `latchkey` command-line client calls to sign in, through a browser or a device code, and to refresh and revoke its tokens."),
    ),
)]
pub struct ApiDoc;

struct Security;

impl Modify for Security {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        components.add_security_scheme(
            "cookie",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new("latchkey_session"))),
        );
    }
}

/// A field of a request or answer, for the modifiers that say more of it than its Rust type
/// does. A field missing from the document is a bug in their tables.
fn property<'a>(
    doc: &'a mut utoipa::openapi::OpenApi,
    schema: &str,
    field: &str,
) -> &'a mut Object {
    let property = doc
        .components
        .as_mut()
        .and_then(|c| c.schemas.get_mut(schema))
        .and_then(|s| match s {
            RefOr::T(Schema::Object(object)) => object.properties.get_mut(field),
            _ => None,
        });
    match property {
        Some(RefOr::T(Schema::Object(property))) => property,
        _ => panic!("OpenAPI: {schema}.{field} is not a plain field of the document"),
    }
}
