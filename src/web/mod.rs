//! Server-rendered pages. Usable without JavaScript; every form carries a CSRF token; pages
//! call the same use-cases as the JSON API.

mod account_settings;
mod assets;
pub mod csrf;
mod dev;
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

use axum::Router;
use axum::routing::{get, post};

use crate::state::AppState;

pub use failure::{PageError, not_found};
pub use next::safe_next;
pub use page::{Layout, MyPage, Page, PageResult};

use failure::form_messages;
use flash::{Flash, redirect_with};
use page::{render, render_status, status_for};

pub fn routes(state: &AppState) -> Router<AppState> {
    let router = Router::new()
        .route("/", get(home::home))
        .route(
            "/signup",
            get(signup::signup_page).post(signup::signup_submit),
        )
        .route("/login", get(login::login_page).post(login::login_submit))
        .route("/logout", post(login::logout))
        .route("/accounts/switch", post(switcher::switch))
        .route(
            "/welcome",
            get(signup::welcome_page).post(signup::welcome_submit),
        )
        .route("/verify/resend", post(verify::resend))
        .route(
            "/verify/{token}",
            get(verify::verify_page).post(verify::verify_submit),
        )
        .route("/terms", get(home::terms))
        .route(
            "/login/2fa",
            get(mfa::second_step_page).post(mfa::second_step_submit),
        )
        .route("/settings/account", get(account_settings::settings_page))
        .route(
            "/settings/account/email",
            post(account_settings::change_email),
        )
        .route(
            "/settings/account/password",
            post(account_settings::change_password),
        )
        .route(
            "/settings/account/delete",
            post(account_settings::delete_account),
        )
        .route(
            "/settings/profile",
            get(profile::settings_page).post(profile::save),
        )
        .route("/u/{username}", get(profile::user_page))
        .route(
            "/forgot",
            get(recovery::forgot_page).post(recovery::forgot_submit),
        )
        .route(
            "/reset/{token}",
            get(recovery::reset_page).post(recovery::reset_submit),
        )
        .route(
            "/email-change/undo/{token}",
            get(recovery::undo_page).post(recovery::undo_submit),
        )
        .route("/settings/account/2fa/setup", post(mfa::setup))
        .route("/settings/account/2fa/enable", post(mfa::enable))
        .route(
            "/settings/account/2fa/recovery-codes",
            post(mfa::regenerate),
        )
        .route("/settings/account/2fa/disable", post(mfa::disable))
        .route(
            "/settings/account/security-keys/begin",
            post(security_keys::begin),
        )
        .route(
            "/settings/account/security-keys",
            post(security_keys::finish),
        )
        .route(
            "/settings/account/security-keys/{id}/remove",
            post(security_keys::remove),
        )
        .route("/settings/sessions", get(sessions::sessions_page))
        .route(
            "/settings/sessions/confirm",
            post(sessions::confirm_password),
        )
        .route(
            "/settings/sessions/revoke-others",
            post(sessions::revoke_others),
        )
        .route("/settings/sessions/{id}/revoke", post(sessions::revoke_one))
        .route("/welcome/team", get(teams::welcome))
        .route("/oauth/authorize", get(oauth::authorize))
        .route(
            "/oauth/consent/{id}",
            get(oauth::consent).post(oauth::decide),
        )
        .route(
            "/device",
            get(oauth::device_page).post(oauth::device_decide),
        )
        .route("/teams/new", get(teams::new_page).post(teams::create))
        .route("/teams/{slug}", get(teams::overview))
        .route("/teams/{slug}/members", get(teams::members::members_page))
        .route(
            "/teams/{slug}/settings",
            get(teams::settings::settings_page).post(teams::settings::save_settings),
        )
        .route("/teams/{slug}/delete", post(teams::settings::delete))
        .route("/teams/{slug}/join", post(teams::join))
        .route("/teams/{slug}/leave", post(teams::leave))
        .route(
            "/teams/{slug}/members/{username}/role",
            post(teams::members::set_role),
        )
        .route(
            "/teams/{slug}/members/{username}/remove",
            post(teams::members::remove_member),
        )
        .route(
            "/teams/{slug}/invitations",
            post(teams::invitations::invite),
        )
        .route(
            "/teams/{slug}/invitations/{id}/resend",
            post(teams::invitations::resend),
        )
        .route(
            "/teams/{slug}/invitations/{id}/revoke",
            post(teams::invitations::revoke),
        )
        .route(
            "/teams/{slug}/requests/{username}/{decision}",
            post(teams::members::decide),
        )
        .route(
            "/invitations/{token}",
            get(teams::invitations::invitation_page).post(teams::invitations::accept),
        )
        .route("/static/app.css", get(assets::stylesheet))
        .route("/static/app.js", get(assets::script))
        .route("/static/captcha.js", get(assets::captcha_script));
    let router = if state.settings.dev_mail {
        router.route("/_dev/mail", get(dev::mail))
    } else {
        router
    };
    router.layer(axum::middleware::from_fn_with_state(
        state.clone(),
        failure::render_failures,
    ))
}
