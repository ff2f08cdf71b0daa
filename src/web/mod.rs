//! Server-rendered pages. Usable without JavaScript; every form carries a CSRF token; pages
//! call the same use-cases as the JSON API.

mod account_settings;
mod assets;
pub mod csrf;
mod dates;
mod dev;
mod error;
mod failure;
mod flash;
mod guard;
mod home;
mod login;
mod mfa;
mod next;
mod oauth;
mod page;
mod profile;
mod recovery;
mod security_keys;
mod sessions;
mod signup;
mod switcher;
mod teams;
mod verify;

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, Method, Uri};

use crate::http::routes::Routes;
use crate::state::AppState;

pub use error::PageError;
pub use failure::not_found;
pub use next::safe_next;
pub use page::{Layout, MyPage, Page, PageResult};

use error::form_messages;
use flash::{Flash, redirect_with};
use page::{render, render_status, status_for};

/// Every page and what serves it; `/_dev/mail` only with `dev_mail`.
pub fn table(dev_mail: bool) -> Routes<AppState> {
    let routes = Routes::new()
        .get("/", home::home)
        .get("/signup", signup::signup_page)
        .post("/signup", signup::signup_submit)
        .get("/login", login::login_page)
        .post("/login", login::login_submit)
        .post("/logout", login::logout)
        .post("/accounts/switch", switcher::switch)
        .get("/welcome", signup::welcome_page)
        .post("/welcome", signup::welcome_submit)
        .post("/verify/resend", verify::resend)
        .get("/verify/{token}", verify::verify_page)
        .post("/verify/{token}", verify::verify_submit)
        .get("/terms", home::terms)
        .get("/login/2fa", mfa::second_step_page)
        .post("/login/2fa", mfa::second_step_submit)
        .get("/settings/account", account_settings::settings_page)
        .post("/settings/account/email", account_settings::change_email)
        .post(
            "/settings/account/password",
            account_settings::change_password,
        )
        .post("/settings/account/delete", account_settings::delete_account)
        .get("/settings/profile", profile::settings_page)
        .post("/settings/profile", profile::save)
        .get("/u/{username}", profile::user_page)
        .get("/forgot", recovery::forgot_page)
        .post("/forgot", recovery::forgot_submit)
        .get("/reset/{token}", recovery::reset_page)
        .post("/reset/{token}", recovery::reset_submit)
        .get("/email-change/undo/{token}", recovery::undo_page)
        .post("/email-change/undo/{token}", recovery::undo_submit)
        .get("/settings/account/2fa/setup", mfa::setup_page)
        .post("/settings/account/2fa/setup", mfa::setup)
        .post("/settings/account/2fa/enable", mfa::enable)
        .post("/settings/account/2fa/recovery-codes", mfa::regenerate)
        .post("/settings/account/2fa/disable", mfa::disable)
        .post(
            "/settings/account/security-keys/begin",
            security_keys::begin,
        )
        .post("/settings/account/security-keys", security_keys::finish)
        .post(
            "/settings/account/security-keys/{id}/remove",
            security_keys::remove,
        )
        .get("/settings/sessions", sessions::sessions_page)
        .post("/settings/sessions/confirm", sessions::confirm_password)
        .post("/settings/sessions/revoke-others", sessions::revoke_others)
        .post("/settings/sessions/{id}/revoke", sessions::revoke_one)
        .get("/welcome/team", teams::welcome)
        .get("/oauth/authorize", oauth::authorize)
        .get("/oauth/consent/{id}", oauth::consent)
        .post("/oauth/consent/{id}", oauth::decide)
        .get("/device", oauth::device_page)
        .post("/device", oauth::device_decide)
        .get("/teams", teams::index)
        .get("/teams/new", teams::new_page)
        .post("/teams/new", teams::create)
        .get("/teams/{slug}", teams::overview)
        .get("/teams/{slug}/members", teams::members::members_page)
        .get("/teams/{slug}/settings", teams::settings::settings_page)
        .post("/teams/{slug}/settings", teams::settings::save_settings)
        .post("/teams/{slug}/delete", teams::settings::delete)
        .post("/teams/{slug}/join", teams::join)
        .post("/teams/{slug}/leave", teams::leave)
        .post(
            "/teams/{slug}/members/{username}/role",
            teams::members::set_role,
        )
        .post(
            "/teams/{slug}/members/{username}/remove",
            teams::members::remove_member,
        )
        .post("/teams/{slug}/invitations", teams::invitations::invite)
        .post(
            "/teams/{slug}/invitations/{id}/resend",
            teams::invitations::resend,
        )
        .post(
            "/teams/{slug}/invitations/{id}/revoke",
            teams::invitations::revoke,
        )
        .post(
            "/teams/{slug}/requests/{username}/{decision}",
            teams::members::decide,
        )
        .get("/invitations/{token}", teams::invitations::invitation_page)
        .post("/invitations/{token}", teams::invitations::accept)
        .post("/invitations/{token}/decline", teams::invitations::decline)
        .get("/static/app.css", assets::stylesheet)
        .get("/static/app.js", assets::script)
        .get("/static/captcha.js", assets::captcha_script);
    if dev_mail {
        routes.get("/_dev/mail", dev::mail)
    } else {
        routes
    }
}

/// The pages, with failures rendered inside the layout of whoever asked; a method an address
/// does not serve is a page too (`failure::method_not_allowed`).
pub fn routes(state: &AppState) -> Router<AppState> {
    let table = table(state.settings.dev_mail);
    let gets: Arc<[String]> = table
        .list()
        .iter()
        .filter(|r| r.method == "GET")
        .map(|r| r.path.clone())
        .collect();
    table
        .into_router()
        .method_not_allowed_fallback(
            move |State(state): State<AppState>, method: Method, uri: Uri, headers: HeaderMap| {
                let gets = Arc::clone(&gets);
                async move { failure::method_not_allowed(state, &gets, method, uri, headers).await }
            },
        )
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            failure::render_failures,
        ))
}
