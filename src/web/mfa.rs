//! Two-factor pages: the sign-in second step (`/login/2fa`) and the 2FA part of
//! `/settings/account`.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::Cookie;
use serde::Deserialize;

use super::account_settings::show_error;
use super::guard::{CheckedForm, SignedInForm};
use super::{
    Flash, Layout, MyPage, Page, PageError, PageResult, form_messages, redirect_with, render,
    render_status,
};
use crate::error::Error;
use crate::http::cookies;
use crate::http::extract::{Auth, Client};
use crate::mfa::{self, second_step, security_keys};
use crate::state::{AppState, Settings};

/// Carries the `mfa_token` from the password step to `/login/2fa`, never in a URL.
fn pending_cookie_name(settings: &Settings) -> &'static str {
    if settings.secure {
        "__Host-latchkey_mfa"
    } else {
        "latchkey_mfa"
    }
}

/// Where to go once the second step is done (the `next` of the sign-in form).
fn next_cookie_name(settings: &Settings) -> &'static str {
    if settings.secure {
        "__Host-latchkey_next"
    } else {
        "latchkey_next"
    }
}

pub fn next_cookie(settings: &Settings, next: String) -> Cookie<'static> {
    let mut c = cookies::base(next_cookie_name(settings), next, settings.secure);
    c.set_max_age(time::Duration::seconds(second_step::CHALLENGE_SECS));
    c
}

pub fn pending_cookie(settings: &Settings, mfa_token: String) -> Cookie<'static> {
    let mut c = cookies::base(pending_cookie_name(settings), mfa_token, settings.secure);
    c.set_max_age(time::Duration::seconds(second_step::CHALLENGE_SECS));
    c
}

#[derive(Template)]
#[template(path = "web/login_2fa.html")]
struct SecondStepPage {
    layout: Layout,
    errors: Vec<String>,
    /// `app`, `recovery` or `security-key`.
    method: &'static str,
    /// Whether the account has security keys, to offer them from the other methods.
    offers_key: bool,
    /// For `navigator.credentials.get`, when `method` is `security-key`.
    key_options: String,
}

/// The page for `asked` (the `method` query): a security key first when the account has one,
/// as GitHub does, with a fresh challenge each time the page is shown.
async fn second_step_view(
    state: &AppState,
    layout: Layout,
    mfa_token: &str,
    asked: Option<&str>,
    errors: Vec<String>,
) -> SecondStepPage {
    let other = match asked {
        Some("recovery") => Some("recovery"),
        Some("app") => Some("app"),
        _ => None,
    };
    // Otherwise a key first: a challenge is made when the account has one, and without one
    // (or when keys are off) the page falls back to the app.
    let (method, offers_key, key_options) = match other {
        Some(method) => {
            let offers_key = second_step::pending_methods(state, mfa_token)
                .await
                .is_ok_and(|m| m.contains(&"security_key"));
            (method, offers_key, String::new())
        }
        None => match security_keys::begin_sign_in(state, mfa_token)
            .await
            .and_then(security_keys::public_key_options)
        {
            Ok(options) => ("security-key", true, options.to_string()),
            Err(_) => ("app", false, String::new()),
        },
    };
    SecondStepPage {
        layout,
        errors,
        method,
        offers_key,
        key_options,
    }
}

#[derive(Deserialize)]
pub struct MethodQuery {
    method: Option<String>,
}

pub async fn second_step_page(
    State(state): State<AppState>,
    auth: Option<Auth>,
    jar: CookieJar,
    Query(q): Query<MethodQuery>,
) -> PageResult {
    let Some(token) = jar
        .get(pending_cookie_name(&state.settings))
        .map(|c| c.value().to_owned())
    else {
        return Ok(Redirect::to("/login").into_response());
    };
    // Someone adding an account to this browser keeps their own header meanwhile.
    let page = Page::build(&state, jar, auth.map(|Auth(me)| me)).await?;
    let step = second_step_view(&state, page.layout, &token, q.method.as_deref(), vec![]).await;
    render(page.jar, &step)
}

#[derive(Deserialize)]
pub struct SecondStepForm {
    code: Option<String>,
    recovery_code: Option<String>,
    /// The security key's answer as JSON, filled in by `static/app.js`.
    security_key: Option<String>,
}

pub async fn second_step_submit(
    State(state): State<AppState>,
    Client(client): Client,
    auth: Option<Auth>,
    jar: CookieJar,
    CheckedForm(form): CheckedForm<SecondStepForm>,
) -> PageResult {
    let (cookie_name, secure) = (pending_cookie_name(&state.settings), state.settings.secure);
    let next_name = next_cookie_name(&state.settings);
    let Some(token) = jar.get(cookie_name).map(|c| c.value().to_owned()) else {
        return Ok(Redirect::to("/login").into_response());
    };
    let answer = form
        .security_key
        .as_deref()
        .map(|text| security_keys::parse_answer("security_key", text));
    let (method, done) = match (&form.code, &form.recovery_code, answer) {
        (_, _, Some(Err(e))) => ("security-key", Err(e)),
        (_, _, Some(Ok(answer))) => {
            let proof = second_step::Proof::SecurityKey(&answer);
            let done = second_step::complete(&state, &token, proof, &client).await;
            ("security-key", done)
        }
        (_, Some(code), None) => {
            let proof = second_step::Proof::RecoveryCode(code);
            let done = second_step::complete(&state, &token, proof, &client).await;
            ("recovery", done)
        }
        (code, None, None) => {
            let proof = second_step::Proof::Totp(code.as_deref().unwrap_or(""));
            let done = second_step::complete(&state, &token, proof, &client).await;
            ("app", done)
        }
    };
    match done {
        Ok(done) => {
            let next = super::safe_next(jar.get(next_name).map(Cookie::value)).to_owned();
            let jar = super::switcher::activate(&state, jar, &done.session, done.user.id)
                .await?
                .remove(cookies::removal(cookie_name, secure))
                .remove(cookies::removal(next_name, secure));
            Ok((jar, Redirect::to(&next)).into_response())
        }
        Err(Error::MfaTokenInvalid) => {
            let jar = jar.remove(cookies::removal(cookie_name, secure));
            let expired = PageError::message(
                StatusCode::UNAUTHORIZED,
                "Sign in again",
                "This sign-in attempt expired or had too many wrong codes. Sign in again.",
            );
            // The cleared cookie goes out with the page.
            Ok((jar, expired).into_response())
        }
        Err(e) => {
            let errors = form_messages(e)?;
            let page = Page::build(&state, jar, auth.map(|Auth(me)| me)).await?;
            let step = second_step_view(&state, page.layout, &token, Some(method), errors).await;
            render_status(StatusCode::UNAUTHORIZED, page.jar, &step)
        }
    }
}

#[derive(Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    password: String,
}

#[derive(Template)]
#[template(path = "web/mfa_setup.html")]
struct SetupPage {
    layout: Layout,
    errors: Vec<String>,
    qr_svg: String,
    secret_grouped: String,
}

/// Where the set-up waiting for its first code is shown.
const SETUP_PAGE: &str = "/settings/account/2fa/setup";

/// The password form of `/settings/account`: stores the secret to scan and sends the browser
/// to the page showing it, so a reload shows that secret again instead of posting anew.
pub async fn setup(
    State(state): State<AppState>,
    jar: CookieJar,
    SignedInForm { me, form }: SignedInForm<PasswordForm>,
) -> PageResult {
    match mfa::start(&state, &me, &form.password).await {
        Ok(()) => Ok((jar, Redirect::to(SETUP_PAGE)).into_response()),
        Err(e) => show_error(&state, jar, me, e).await,
    }
}

/// The QR code and key of the set-up waiting for its first code; without one, the account
/// page, where set-up starts.
pub async fn setup_page(State(state): State<AppState>, page: MyPage) -> PageResult {
    let Some(pending) = mfa::pending_setup(&state, &page.me).await? else {
        if page.me.user.mfa_enabled {
            return Ok((page.jar, Redirect::to("/settings/account")).into_response());
        }
        return Ok(redirect_with(
            &state,
            page.jar,
            "/settings/account",
            Flash::SetupExpired,
        ));
    };
    let setup = SetupPage {
        layout: page.layout,
        errors: vec![],
        qr_svg: pending.qr_svg,
        secret_grouped: mfa::codes::grouped(&pending.secret_base32),
    };
    render(page.jar, &setup)
}

#[derive(Deserialize)]
pub struct CodeForm {
    #[serde(default)]
    code: String,
}

#[derive(Template)]
#[template(path = "web/recovery_codes.html")]
struct CodesPage {
    layout: Layout,
    intro: &'static str,
    codes: Vec<String>,
    download: String,
}

fn codes_page(
    layout: Layout,
    intro: &'static str,
    username: &str,
    codes: Vec<String>,
) -> CodesPage {
    let text = format!(
        "Latchkey recovery codes for {username}\n\n{}\n",
        codes.join("\n")
    );
    let download = text
        .replace('%', "%25")
        .replace('\n', "%0A")
        .replace(' ', "%20");
    CodesPage {
        layout,
        intro,
        codes,
        download,
    }
}

pub async fn enable(
    State(state): State<AppState>,
    Client(client): Client,
    jar: CookieJar,
    SignedInForm { me, form }: SignedInForm<CodeForm>,
) -> PageResult {
    match mfa::enable(&state, &me, &form.code, &client).await {
        Ok(done) => {
            let jar = jar.add(cookies::session(&state.settings, &done.session));
            // The codes show in the header of the person, now in their new session.
            let mut me = me;
            me.session_id = done.session.session_id;
            me.user.mfa_enabled = true;
            let page = MyPage::build(&state, jar, me).await?;
            let intro = "Two-factor authentication is on, and every other session was signed out.";
            let username = page.me.user.username.clone();
            render(
                page.jar,
                &codes_page(page.layout, intro, &username, done.recovery_codes),
            )
        }
        Err(e @ (Error::InvalidCode | Error::Invalid(_))) => {
            let pending = match mfa::pending_setup(&state, &me).await {
                Ok(Some(p)) => p,
                Ok(None) => {
                    return Ok(redirect_with(
                        &state,
                        jar,
                        "/settings/account",
                        Flash::SetupExpired,
                    ));
                }
                Err(e) => return show_error(&state, jar, me, e).await,
            };
            let errors = match &e {
                Error::Invalid(list) => list.iter().map(|i| i.message.clone()).collect(),
                _ => vec![
                    "That code did not match. Check the time on your phone and try the next code."
                        .to_owned(),
                ],
            };
            let page = MyPage::build(&state, jar, me).await?;
            let setup = SetupPage {
                layout: page.layout,
                errors,
                qr_svg: pending.qr_svg,
                secret_grouped: mfa::codes::grouped(&pending.secret_base32),
            };
            render_status(StatusCode::UNPROCESSABLE_ENTITY, page.jar, &setup)
        }
        Err(e) => show_error(&state, jar, me, e).await,
    }
}

pub async fn regenerate(
    State(state): State<AppState>,
    Client(client): Client,
    jar: CookieJar,
    SignedInForm { me, form }: SignedInForm<PasswordForm>,
) -> PageResult {
    match mfa::regenerate_codes(&state, &me, &form.password, &client).await {
        Ok(codes) => {
            let page = MyPage::build(&state, jar, me).await?;
            let intro = "Your new recovery codes are ready; the old ones no longer work.";
            let username = page.me.user.username.clone();
            render(page.jar, &codes_page(page.layout, intro, &username, codes))
        }
        Err(e) => show_error(&state, jar, me, e).await,
    }
}

pub async fn disable(
    State(state): State<AppState>,
    Client(client): Client,
    jar: CookieJar,
    SignedInForm { me, form }: SignedInForm<PasswordForm>,
) -> PageResult {
    match mfa::disable(&state, &me, &form.password, &client).await {
        Ok(()) => Ok(redirect_with(
            &state,
            jar,
            "/settings/account",
            Flash::MfaDisabled,
        )),
        Err(e) => show_error(&state, jar, me, e).await,
    }
}
