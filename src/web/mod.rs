//! Server-rendered pages. Usable without JavaScript; every form carries a CSRF token; pages
//! call the same use-cases as the JSON API.

mod account;
mod account_settings;
mod accounts;
pub mod csrf;
mod dev;
mod guard;
mod mfa;
mod oauth;
mod profile;
mod recovery;
mod security_keys;
mod settings;
mod teams;

use askama::Template;
use axum::Router;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum_extra::extract::CookieJar;

use crate::auth::Current;
use crate::error::Error;
use crate::http::cookies;
use crate::state::{AppState, Settings};

pub use account::safe_next;

pub fn routes(state: &AppState) -> Router<AppState> {
    let router = Router::new()
        .route("/", get(account::home))
        .route(
            "/signup",
            get(account::signup_page).post(account::signup_submit),
        )
        .route(
            "/login",
            get(account::login_page).post(account::login_submit),
        )
        .route("/logout", post(account::logout))
        .route("/accounts/switch", post(accounts::switch))
        .route(
            "/welcome",
            get(account::welcome_page).post(account::welcome_submit),
        )
        .route("/verify/resend", post(account::resend))
        .route(
            "/verify/{token}",
            get(account::verify_page).post(account::verify_submit),
        )
        .route("/terms", get(account::terms))
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
        .route("/settings/sessions", get(settings::sessions_page))
        .route(
            "/settings/sessions/confirm",
            post(settings::confirm_password),
        )
        .route(
            "/settings/sessions/revoke-others",
            post(settings::revoke_others),
        )
        .route("/settings/sessions/{id}/revoke", post(settings::revoke_one))
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
        .route("/teams/{slug}/members", get(teams::members_page))
        .route(
            "/teams/{slug}/settings",
            get(teams::settings_page).post(teams::save_settings),
        )
        .route("/teams/{slug}/delete", post(teams::delete))
        .route("/teams/{slug}/join", post(teams::join))
        .route("/teams/{slug}/leave", post(teams::leave))
        .route(
            "/teams/{slug}/members/{username}/role",
            post(teams::set_role),
        )
        .route(
            "/teams/{slug}/members/{username}/remove",
            post(teams::remove_member),
        )
        .route("/teams/{slug}/invitations", post(teams::invite))
        .route("/teams/{slug}/invitations/{id}/resend", post(teams::resend))
        .route("/teams/{slug}/invitations/{id}/revoke", post(teams::revoke))
        .route(
            "/teams/{slug}/requests/{username}/{decision}",
            post(teams::decide),
        )
        .route(
            "/invitations/{token}",
            get(teams::invitation_page).post(teams::accept),
        )
        .route("/static/app.css", get(stylesheet))
        .route("/static/app.js", get(script))
        .route("/static/captcha.js", get(captcha_script));
    if state.settings.dev_mail {
        router.route("/_dev/mail", get(dev::mail))
    } else {
        router
    }
}

async fn script() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../../static/app.js"),
    )
}

async fn captcha_script() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../../static/captcha.js"),
    )
}

async fn stylesheet() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../../static/app.css"),
    )
}

/// What the shared layout shows around every page.
pub struct Layout {
    pub user: Option<String>,
    pub unverified: bool,
    pub unverified_email: String,
    /// Set when 2FA is on and few recovery codes are left.
    pub low_codes: Option<i64>,
    /// The signed-in person's teams (slug, name), for the switcher.
    pub teams: Vec<(String, String)>,
    /// Other accounts signed in in this browser, to switch to.
    pub other_accounts: Vec<String>,
    /// Whether "+ Add account" is offered (fewer than five signed in).
    pub can_add_account: bool,
    pub flash: Option<&'static str>,
    pub csrf: String,
}

/// The flash cookie's name: `__Host-` prefixed over HTTPS, like every cookie of ours.
fn flash_cookie(settings: &Settings) -> &'static str {
    if settings.secure {
        "__Host-latchkey_flash"
    } else {
        "latchkey_flash"
    }
}

/// One-time notices shown after a redirect. The cookie holds only a key, never text, so nobody
/// can make our pages say something else.
#[derive(Clone, Copy)]
pub enum Flash {
    SignedOut,
    EmailVerified,
    VerificationSent,
    SessionRevoked,
    OthersRevoked,
    ProfileSaved,
    MfaDisabled,
    SetupExpired,
    EmailChangeSent,
    PasswordChanged,
    PasswordReset,
    TeamSaved,
    InvitationSent,
    JoinRequested,
    LeftTeam,
    TeamDeleted,
    PasswordConfirmed,
    SecurityKeyAdded,
    SecurityKeyRemoved,
}

impl Flash {
    fn key(self) -> &'static str {
        match self {
            Self::SignedOut => "signed_out",
            Self::EmailVerified => "email_verified",
            Self::VerificationSent => "verification_sent",
            Self::SessionRevoked => "session_revoked",
            Self::OthersRevoked => "others_revoked",
            Self::ProfileSaved => "profile_saved",
            Self::MfaDisabled => "mfa_disabled",
            Self::SetupExpired => "setup_expired",
            Self::EmailChangeSent => "email_change_sent",
            Self::PasswordChanged => "password_changed",
            Self::PasswordReset => "password_reset",
            Self::TeamSaved => "team_saved",
            Self::InvitationSent => "invitation_sent",
            Self::JoinRequested => "join_requested",
            Self::LeftTeam => "left_team",
            Self::TeamDeleted => "team_deleted",
            Self::PasswordConfirmed => "password_confirmed",
            Self::SecurityKeyAdded => "security_key_added",
            Self::SecurityKeyRemoved => "security_key_removed",
        }
    }

    fn text(key: &str) -> Option<&'static str> {
        Some(match key {
            "signed_out" => "You are signed out.",
            "email_verified" => "Your email address is confirmed.",
            "verification_sent" => "We sent a new confirmation link.",
            "session_revoked" => "The session was revoked.",
            "others_revoked" => "All your other sessions are signed out.",
            "profile_saved" => "Your profile is saved.",
            "mfa_disabled" => "Two-factor authentication is off.",
            "setup_expired" => "Start the two-factor set-up again.",
            "email_change_sent" => {
                "We sent a confirmation link to your new address. Your address changes once you open it."
            }
            "password_changed" => {
                "Your password is changed, and every other session is signed out."
            }
            "password_reset" => "Your password is set. Sign in with it.",
            "team_saved" => "Saved.",
            "invitation_sent" => "The invitation is on its way.",
            "join_requested" => "Your request to join was sent to the team's admins.",
            "left_team" => "You left the team.",
            "team_deleted" => "The team was deleted.",
            "password_confirmed" => {
                "Password confirmed: for the next 15 minutes you can sign out other sessions."
            }
            "security_key_added" => "Your security key is added: signing in can use it now.",
            "security_key_removed" => "The security key is removed.",
            _ => return None,
        })
    }
}

/// A redirect that shows `flash` on the next page.
pub fn redirect_with(state: &AppState, jar: CookieJar, to: &str, flash: Flash) -> Response {
    let s = &state.settings;
    let cookie = cookies::base(flash_cookie(s), flash.key().to_owned(), s.secure);
    (jar.add(cookie), Redirect::to(to)).into_response()
}

/// Builds the layout: reads (and clears) the flash, makes sure a CSRF cookie exists.
pub async fn layout(state: &AppState, jar: CookieJar, me: Option<&Current>) -> (CookieJar, Layout) {
    let name = flash_cookie(&state.settings);
    let flash = jar.get(name).and_then(|c| Flash::text(c.value()));
    let jar = if flash.is_some() {
        jar.remove(cookies::removal(name, state.settings.secure))
    } else {
        jar
    };
    let (jar, csrf) = csrf::ensure(&state.settings, jar);
    let low_codes = match me {
        Some(m) if m.user.mfa_enabled => crate::mfa::codes_left(state, &m.user)
            .await
            .ok()
            .filter(|left| *left <= crate::mfa::LOW_CODES),
        _ => None,
    };
    let teams = match me {
        Some(m) => state
            .store
            .teams_of(m.user.id)
            .await
            .map(|list| {
                list.into_iter()
                    .map(|t| (t.team.slug, t.team.name))
                    .collect()
            })
            .unwrap_or_default(),
        None => Vec::new(),
    };
    let (other_accounts, can_add_account) = match me {
        Some(m) => {
            let all = accounts::signed_in(state, &jar).await;
            let others = all
                .iter()
                .filter(|(_, c)| c.user.id != m.user.id)
                .map(|(_, c)| c.user.username.clone())
                .collect();
            (others, all.len() < accounts::MAX_ACCOUNTS)
        }
        None => (Vec::new(), false),
    };
    let layout = Layout {
        low_codes,
        teams,
        other_accounts,
        can_add_account,
        user: me.map(|m| m.user.username.clone()),
        unverified: me.is_some_and(|m| m.user.email_verified_at.is_none()),
        unverified_email: me.map(|m| m.user.email.clone()).unwrap_or_default(),
        flash,
        csrf,
    };
    (jar, layout)
}

pub fn render(jar: CookieJar, page: &impl Template) -> Response {
    render_status(StatusCode::OK, jar, page)
}

pub fn render_status(status: StatusCode, jar: CookieJar, page: &impl Template) -> Response {
    match page.render() {
        Ok(html) => (status, jar, Html(html)).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "template failed");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "Something went wrong on our side.",
            )
                .into_response()
        }
    }
}

#[derive(Template)]
#[template(path = "web/message.html")]
pub struct MessagePage {
    pub layout: Layout,
    pub heading: &'static str,
    pub text: String,
}

pub async fn message(
    state: &AppState,
    jar: CookieJar,
    status: StatusCode,
    heading: &'static str,
    text: impl Into<String>,
) -> Response {
    message_as(state, jar, None, status, heading, text).await
}

/// A message page with the navigation of `me`, for pages only signed-in people reach.
pub async fn message_as(
    state: &AppState,
    jar: CookieJar,
    me: Option<&Current>,
    status: StatusCode,
    heading: &'static str,
    text: impl Into<String>,
) -> Response {
    let (jar, layout) = layout(state, jar, me).await;
    render_status(
        status,
        jar,
        &MessagePage {
            layout,
            heading,
            text: text.into(),
        },
    )
}

/// What to do with a use-case error on a form.
pub enum FormError {
    /// Show the form again with these messages.
    Show(CookieJar, Vec<String>),
    /// The person cannot fix this by editing the form: a whole page answers.
    Page(Response),
}

/// Turns a use-case error into messages for the form that caused it, or into a whole error
/// page when the person cannot fix it by editing the form.
pub async fn form_errors(state: &AppState, jar: CookieJar, e: Error) -> FormError {
    let one = |s: &str| vec![s.to_owned()];
    let messages = match e {
        Error::Invalid(errors) => errors.into_iter().map(|e| e.message).collect(),
        Error::EmailTaken => one("An account already uses this email address. Sign in instead?"),
        Error::UsernameTaken => one("That username is taken."),
        Error::InvalidCredentials => one("Incorrect username, email or password."),
        Error::RateLimited { retry_after_secs } => vec![format!(
            "Too many attempts. Try again in {} minute(s).",
            retry_after_secs.div_ceil(60)
        )],
        Error::Overloaded { .. } => one("The server is busy. Try again in a moment."),
        Error::Internal(cause) => {
            tracing::error!(error = ?cause, "internal error");
            return FormError::Page(
                message(
                    state,
                    jar,
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Something went wrong",
                    "Something went wrong on our side. Try again.",
                )
                .await,
            );
        }
        other => one(&other.to_string()),
    };
    FormError::Show(jar, messages)
}

pub async fn csrf_failed(state: &AppState, jar: CookieJar) -> Response {
    message(
        state,
        jar,
        StatusCode::FORBIDDEN,
        "This form has expired",
        "Go back, reload the page and submit the form again.",
    )
    .await
}

/// Unknown paths: a page for browsers, problem+json for everyone else.
pub async fn not_found(headers: axum::http::HeaderMap) -> Response {
    let wants_html = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/html"));
    if !wants_html {
        return crate::http::problem::ApiError::not_found().into_response();
    }
    (StatusCode::NOT_FOUND, Html("<!doctype html><title>Not found</title><h1>Not found</h1><p><a href=\"/\">Go to the start page</a></p>")).into_response()
}
