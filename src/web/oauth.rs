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
use super::{Layout, layout, message, render, render_status};
use crate::error::Error;
use crate::http::extract::{Auth, Path};
use crate::oauth::{self, AuthorizeError, AuthorizeParams, CLI_NAME, device};
use crate::state::AppState;

/// Signed-out people sign in first (with 2FA if they have it) and come back here.
fn sign_in_first(path: &str) -> Response {
    let next: String = url::form_urlencoded::byte_serialize(path.as_bytes()).collect();
    Redirect::to(&format!("/login?next={next}")).into_response()
}

pub async fn authorize(
    State(state): State<AppState>,
    jar: CookieJar,
    Query(params): Query<AuthorizeParams>,
) -> Response {
    match oauth::start(&state, &params).await {
        Ok(id) => Redirect::to(&format!("/oauth/consent/{id}")).into_response(),
        Err(AuthorizeError::Redirect(url)) => Redirect::to(&url).into_response(),
        Err(AuthorizeError::Page(why)) => {
            message(
                &state,
                jar,
                StatusCode::BAD_REQUEST,
                "This sign-in link cannot be used",
                why,
            )
            .await
        }
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

async fn expired(state: &AppState, jar: CookieJar) -> Response {
    message(
        state,
        jar,
        StatusCode::BAD_REQUEST,
        "This sign-in request expired",
        "Browser sign-in must finish within five minutes. Start again from your terminal with latchkey login.",
    )
    .await
}

pub async fn consent(
    State(state): State<AppState>,
    auth: Option<Auth>,
    jar: CookieJar,
    Path(id): Path<Uuid>,
) -> Response {
    let Some(Auth(me)) = auth else {
        return sign_in_first(&format!("/oauth/consent/{id}"));
    };
    match oauth::pending(&state, id).await {
        Ok(request) => {
            let (jar, layout) = layout(&state, jar, Some(&me)).await;
            let page = ConsentPage {
                layout,
                client: CLI_NAME,
                device: request.device_name,
                username: me.user.username.clone(),
                action: format!("/oauth/consent/{id}"),
                user_code: String::new(),
            };
            // The answer is a redirect to the CLI on this computer, which `form-action 'self'`
            // would block: this page's policy names loopback too.
            let csp = crate::http::middleware::CSP.replace(
                "form-action 'self'",
                "form-action 'self' http://127.0.0.1:* http://[::1]:*",
            );
            let mut res = render(jar, &page);
            if let Ok(v) = axum::http::HeaderValue::from_str(&csp) {
                res.headers_mut().insert("content-security-policy", v);
            }
            res
        }
        Err(_) => expired(&state, jar).await,
    }
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
    jar: CookieJar,
    Path(id): Path<Uuid>,
    SignedInForm { me, form }: SignedInForm<DecisionForm>,
) -> Response {
    let outcome = if form.decision == "approve" {
        oauth::approve(&state, &me, id).await
    } else {
        oauth::skip(&state, id).await
    };
    match outcome {
        // Back to the CLI listening on this computer's loopback address.
        Ok(url) => Redirect::to(&url).into_response(),
        Err(Error::InvalidToken) => expired(&state, jar).await,
        Err(e) => crate::http::problem::ApiError::from(e).into_response(),
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
    auth: Option<Auth>,
    jar: CookieJar,
    Query(q): Query<DeviceQuery>,
) -> Response {
    let typed = q.user_code.unwrap_or_default();
    let Some(Auth(me)) = auth else {
        let back = if typed.is_empty() {
            "/device".to_owned()
        } else {
            format!(
                "/device?user_code={}",
                url::form_urlencoded::byte_serialize(typed.as_bytes()).collect::<String>()
            )
        };
        return sign_in_first(&back);
    };
    if typed.is_empty() {
        let (jar, layout) = layout(&state, jar, Some(&me)).await;
        return render(
            jar,
            &DevicePage {
                layout,
                errors: vec![],
                user_code: String::new(),
            },
        );
    }
    match device::lookup(&state, &typed).await {
        Ok(d) => {
            let (jar, layout) = layout(&state, jar, Some(&me)).await;
            let page = ConsentPage {
                layout,
                client: CLI_NAME,
                device: d.device_name,
                username: me.user.username.clone(),
                action: "/device".to_owned(),
                user_code: d.user_code,
            };
            render(jar, &page)
        }
        Err(_) => {
            let (jar, layout) = layout(&state, jar, Some(&me)).await;
            let errors = vec![
                "That code is not valid, has expired or was already used. Check your terminal."
                    .to_owned(),
            ];
            render_status(
                StatusCode::BAD_REQUEST,
                jar,
                &DevicePage {
                    layout,
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
) -> Response {
    let approve = form.decision == "approve";
    match device::decide(&state, &me, &form.user_code, approve).await {
        Ok(()) if approve => {
            message(
                &state,
                jar,
                StatusCode::OK,
                "Device connected",
                "You can return to your terminal.",
            )
            .await
        }
        Ok(()) => {
            message(
                &state,
                jar,
                StatusCode::OK,
                "Sign-in declined",
                "The terminal was not signed in.",
            )
            .await
        }
        Err(_) => {
            message(
                &state,
                jar,
                StatusCode::BAD_REQUEST,
                "This code cannot be used",
                "It is invalid, has expired or was already used.",
            )
            .await
        }
    }
}
