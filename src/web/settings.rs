//! Account settings pages: active sessions. Ending other sessions needs a recent sign-in; the
//! page asks for the password again when this one is older (ASVS V3.3.4).

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum_extra::extract::CookieJar;
use uuid::Uuid;

use serde::Deserialize;

use super::guard::{NoFields, SignedIn, SignedInForm};
use super::{Flash, FormError, Layout, form_errors, layout, message, redirect_with, render_status};
use crate::auth::sessions::{self, Current, SessionView};
use crate::error::Error;
use crate::http::extract::Path;
use crate::state::AppState;

#[derive(Template)]
#[template(path = "web/sessions.html")]
struct SessionsPage {
    layout: Layout,
    errors: Vec<String>,
    sessions: Vec<SessionView>,
    /// Signed in (or password re-entered) in the last 15 minutes: others can be ended.
    recent: bool,
}

/// The page; with `errors`, answered with `status` (422 for a wrong password, 429 when the
/// re-entries are throttled).
async fn sessions_view(
    state: &AppState,
    jar: CookieJar,
    me: &Current,
    errors: Vec<String>,
    status: StatusCode,
) -> Response {
    let listed = match sessions::list(state, me).await {
        Ok(list) => sessions::recently_signed_in(state, me)
            .await
            .map(|recent| (list, recent)),
        Err(e) => Err(e),
    };
    match listed {
        Ok((list, recent)) => {
            let (jar, layout) = layout(state, jar, Some(me)).await;
            render_status(
                status,
                jar,
                &SessionsPage {
                    layout,
                    errors,
                    sessions: list,
                    recent,
                },
            )
        }
        Err(e) => crate::http::problem::ApiError::from(e).into_response(),
    }
}

pub async fn sessions_page(
    State(state): State<AppState>,
    SignedIn(me): SignedIn,
    jar: CookieJar,
) -> Response {
    sessions_view(&state, jar, &me, vec![], StatusCode::OK).await
}

#[derive(Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    password: String,
}

pub async fn confirm_password(
    State(state): State<AppState>,
    jar: CookieJar,
    SignedInForm { me, form }: SignedInForm<PasswordForm>,
) -> Response {
    match crate::auth::reauth::reauthenticate(&state, &me, &form.password).await {
        Ok(()) => redirect_with(&state, jar, "/settings/sessions", Flash::PasswordConfirmed),
        Err(e) => {
            let status = match &e {
                Error::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
                _ => StatusCode::UNPROCESSABLE_ENTITY,
            };
            match form_errors(&state, jar, e).await {
                FormError::Show(jar, errors) => {
                    sessions_view(&state, jar, &me, errors, status).await
                }
                FormError::Page(page) => page,
            }
        }
    }
}

async fn needs_password(state: &AppState, jar: CookieJar, e: &Error) -> Response {
    message(
        state,
        jar,
        StatusCode::FORBIDDEN,
        "Confirm your password first",
        e.to_string(),
    )
    .await
}

pub async fn revoke_one(
    State(state): State<AppState>,
    jar: CookieJar,
    Path(id): Path<Uuid>,
    SignedInForm { me, .. }: SignedInForm<NoFields>,
) -> Response {
    match sessions::revoke(&state, &me, id).await {
        Ok(()) => redirect_with(&state, jar, "/settings/sessions", Flash::SessionRevoked),
        Err(Error::NotFound(_)) => {
            message(
                &state,
                jar,
                StatusCode::NOT_FOUND,
                "No such session",
                "It may already have ended.",
            )
            .await
        }
        Err(e @ Error::ReauthenticationRequired) => needs_password(&state, jar, &e).await,
        Err(e) => crate::http::problem::ApiError::from(e).into_response(),
    }
}

pub async fn revoke_others(
    State(state): State<AppState>,
    jar: CookieJar,
    SignedInForm { me, .. }: SignedInForm<NoFields>,
) -> Response {
    match sessions::revoke_all(&state, &me, true).await {
        Ok(_) => redirect_with(&state, jar, "/settings/sessions", Flash::OthersRevoked),
        Err(e @ Error::ReauthenticationRequired) => needs_password(&state, jar, &e).await,
        Err(e) => crate::http::problem::ApiError::from(e).into_response(),
    }
}
