//! Account settings pages: active sessions.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum_extra::extract::CookieJar;
use uuid::Uuid;

use super::guard::{NoFields, SignedIn, SignedInForm};
use super::{Flash, Layout, layout, message, redirect_with, render};
use crate::auth::sessions::{self, SessionView};
use crate::error::Error;
use crate::http::extract::Path;
use crate::state::AppState;

#[derive(Template)]
#[template(path = "web/sessions.html")]
struct SessionsPage {
    layout: Layout,
    sessions: Vec<SessionView>,
}

pub async fn sessions_page(
    State(state): State<AppState>,
    SignedIn(me): SignedIn,
    jar: CookieJar,
) -> Response {
    match sessions::list(&state, &me).await {
        Ok(list) => {
            let (jar, layout) = layout(&state, jar, Some(&me)).await;
            render(
                jar,
                &SessionsPage {
                    layout,
                    sessions: list,
                },
            )
        }
        Err(e) => crate::http::problem::ApiError::from(e).into_response(),
    }
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
        Err(e) => crate::http::problem::ApiError::from(e).into_response(),
    }
}
