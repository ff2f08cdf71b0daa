//! The browser side of `latchkey login`: the consent page behind `/oauth/authorize`, and
//! `/device` where a code shown in a terminal is entered and approved.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use serde::Deserialize;
use uuid::Uuid;

use super::guard::SignedInForm;
use super::{Layout, MyPage, Page, PageError, PageResult, render, render_status};
use crate::error::Error;
use crate::http::cookies;
use crate::http::extract::Path;
use crate::oauth::{self, AuthorizeError, AuthorizeParams, CLI_NAME, device};
use crate::state::{AppState, Settings};

/// Holds the secret of the browser that opens CLI sign-ins, to which their consent pages
/// belong (`oauth::authorize`). It ends with the browser.
fn browser_cookie_name(settings: &Settings) -> &'static str {
    if settings.secure {
        "__Host-latchkey_cli_browser"
    } else {
        "latchkey_cli_browser"
    }
}

fn browser_secret(settings: &Settings, jar: &CookieJar) -> Option<String> {
    jar.get(browser_cookie_name(settings))
        .map(|c| c.value().to_owned())
}

/// Signed-out people sign in first (with 2FA if they have it) and come back here.
fn sign_in_first(path: &str) -> Response {
    let next: String = url::form_urlencoded::byte_serialize(path.as_bytes()).collect();
    Redirect::to(&format!("/login?next={next}")).into_response()
}

pub async fn authorize(
    State(state): State<AppState>,
    jar: CookieJar,
    Query(params): Query<AuthorizeParams>,
) -> PageResult {
    let settings = &state.settings;
    let held = browser_secret(settings, &jar).filter(|s| oauth::is_browser_secret(s));
    let (jar, secret) = match held {
        Some(secret) => (jar, secret),
        None => {
            let secret = oauth::new_browser_secret();
            let name = browser_cookie_name(settings);
            let cookie = cookies::base(name, secret.clone(), settings.secure);
            (jar.add(cookie), secret)
        }
    };
    match oauth::start(&state, &params, &secret).await {
        Ok(id) => Ok((jar, Redirect::to(&format!("/oauth/consent/{id}"))).into_response()),
        Err(AuthorizeError::Redirect(url)) => Ok(Redirect::to(&url).into_response()),
        Err(AuthorizeError::Page(why)) => Err(PageError::message(
            StatusCode::BAD_REQUEST,
            "This sign-in link cannot be used",
            why,
        )),
    }
}

#[derive(Template)]
#[template(path = "web/consent.html")]
struct ConsentPage {
    layout: Layout,
    client: &'static str,
    device: String,
    username: String,
    action: String,
    user_code: String,
}

fn expired() -> PageError {
    PageError::message(
        StatusCode::BAD_REQUEST,
        "This sign-in request expired",
        "Browser sign-in must finish within five minutes. Start again from your terminal with latchkey login.",
    )
}

pub async fn consent(
    State(state): State<AppState>,
    page: Page,
    Path(id): Path<Uuid>,
) -> PageResult {
    // Another browser learns nothing, signed in or not: not even whether to sign in.
    let secret = browser_secret(&state.settings, &page.jar);
    let request = match oauth::pending(&state, id, secret.as_deref()).await {
        Ok(request) => request,
        Err(Error::InvalidToken) => return Err(expired()),
        Err(e) => return Err(e.into()),
    };
    let Some(me) = &page.me else {
        return Ok(sign_in_first(&format!("/oauth/consent/{id}")));
    };
    let consent = ConsentPage {
        username: me.user.username.clone(),
        layout: page.layout,
        client: CLI_NAME,
        device: request.device_name,
        action: format!("/oauth/consent/{id}"),
        user_code: String::new(),
    };
    // The answer is a redirect to the CLI on this computer, which `form-action 'self'` would
    // block: this page's policy names loopback too.
    let csp = crate::http::middleware::CSP.replace(
        "form-action 'self'",
        "form-action 'self' http://127.0.0.1:* http://[::1]:*",
    );
    let mut res = render(page.jar, &consent)?;
    if let Ok(v) = axum::http::HeaderValue::from_str(&csp) {
        res.headers_mut().insert("content-security-policy", v);
    }
    Ok(res)
}

#[derive(Deserialize)]
pub struct DecisionForm {
    #[serde(default)]
    decision: String,
    #[serde(default)]
    user_code: String,
}

pub async fn decide(
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
    jar: CookieJar,
    SignedInForm { me, form }: SignedInForm<DecisionForm>,
) -> PageResult {
    let secret = browser_secret(&state.settings, &jar);
    let outcome = if form.decision == "approve" {
        oauth::approve(&state, &me, id, secret.as_deref()).await
    } else {
        oauth::skip(&state, id, secret.as_deref()).await
    };
    match outcome {
        // Back to the CLI listening on this computer's loopback address.
        Ok(url) => Ok(Redirect::to(&url).into_response()),
        Err(Error::InvalidToken) => Err(expired()),
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
pub struct DeviceQuery {
    user_code: Option<String>,
}

#[derive(Template)]
#[template(path = "web/device.html")]
struct DevicePage {
    layout: Layout,
    errors: Vec<String>,
    user_code: String,
}

pub async fn device_page(
    State(state): State<AppState>,
    page: Page,
    Query(q): Query<DeviceQuery>,
) -> PageResult {
    let typed = q.user_code.unwrap_or_default();
    let Some(me) = &page.me else {
        let back = if typed.is_empty() {
            "/device".to_owned()
        } else {
            format!(
                "/device?user_code={}",
                url::form_urlencoded::byte_serialize(typed.as_bytes()).collect::<String>()
            )
        };
        return Ok(sign_in_first(&back));
    };
    if typed.is_empty() {
        return render(
            page.jar,
            &DevicePage {
                layout: page.layout,
                errors: vec![],
                user_code: String::new(),
            },
        );
    }
    match device::lookup(&state, &typed).await {
        Ok(d) => {
            let consent = ConsentPage {
                username: me.user.username.clone(),
                layout: page.layout,
                client: CLI_NAME,
                device: d.device_name,
                action: "/device".to_owned(),
                user_code: d.user_code,
            };
            render(page.jar, &consent)
        }
        Err(_) => {
            let errors = vec![
                "That code is not valid, has expired or was already used. Check your terminal."
                    .to_owned(),
            ];
            render_status(
                StatusCode::BAD_REQUEST,
                page.jar,
                &DevicePage {
                    layout: page.layout,
                    errors,
                    user_code: typed,
                },
            )
        }
    }
}

pub async fn device_decide(
    State(state): State<AppState>,
    jar: CookieJar,
    SignedInForm { me, form }: SignedInForm<DecisionForm>,
) -> PageResult {
    let approve = form.decision == "approve";
    match device::decide(&state, &me, &form.user_code, approve).await {
        Ok(()) => {
            let (heading, text) = if approve {
                ("Device connected", "You can return to your terminal.")
            } else {
                ("Sign-in declined", "The terminal was not signed in.")
            };
            MyPage::build(&state, jar, me)
                .await?
                .message(StatusCode::OK, heading, text)
        }
        Err(_) => Err(PageError::message(
            StatusCode::BAD_REQUEST,
            "This code cannot be used",
            "It is invalid, has expired or was already used.",
        )),
    }
}
