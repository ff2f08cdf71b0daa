//! Account settings pages: active sessions. Ending other sessions needs a recent sign-in; the
//! page asks for the password again when this one is older (ASVS V3.3.4).

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum_extra::extract::CookieJar;
use serde::Deserialize;
use uuid::Uuid;

use super::dates::When;
use super::guard::{NoFields, SignedInForm};
use super::{
    Flash, Layout, MyPage, PageError, PageResult, form_messages, redirect_with, render_status,
};
use crate::auth::sessions::{self, SessionView};
use crate::error::Error;
use crate::http::extract::Path;
use crate::state::AppState;

#[derive(Template)]
#[template(path = "web/sessions.html")]
struct SessionsPage {
    layout: Layout,
    errors: Vec<String>,
    sessions: Vec<SessionRow>,
    /// Signed in (or password re-entered) in the last 15 minutes: others can be ended.
    recent: bool,
}

/// A session with its times as people read them.
struct SessionRow {
    view: SessionView,
    created: When,
    last_seen: When,
    ends: When,
}

/// The page; with `errors`, answered with `status` (422 for a wrong password, 429 when the
/// re-entries are throttled).
async fn sessions_view(
    state: &AppState,
    page: MyPage,
    errors: Vec<String>,
    status: StatusCode,
) -> PageResult {
    let (list, recent) = tokio::try_join!(
        sessions::list(state, &page.me),
        sessions::recently_signed_in(state, &page.me)
    )?;
    let now = state.clock.now();
    let sessions = list
        .into_iter()
        .map(|view| SessionRow {
            created: When::parse(&view.created_at, now),
            last_seen: When::parse(&view.last_seen_at, now),
            ends: When::parse(&view.expires_at, now),
            view,
        })
        .collect();
    let view = SessionsPage {
        layout: page.layout,
        errors,
        sessions,
        recent,
    };
    render_status(status, page.jar, &view)
}

pub async fn sessions_page(State(state): State<AppState>, page: MyPage) -> PageResult {
    sessions_view(&state, page, vec![], StatusCode::OK).await
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
) -> PageResult {
    match crate::auth::reauth::reauthenticate(&state, &me, &form.password).await {
        Ok(()) => Ok(redirect_with(
            &state,
            jar,
            "/settings/sessions",
            Flash::PasswordConfirmed,
        )),
        Err(e) => {
            let status = match &e {
                Error::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
                _ => StatusCode::UNPROCESSABLE_ENTITY,
            };
            let errors = form_messages(e)?;
            let page = MyPage::build(&state, jar, me).await?;
            sessions_view(&state, page, errors, status).await
        }
    }
}

fn needs_password(e: Error) -> PageError {
    let refused = crate::http::problem::ApiError::from(e);
    PageError::message(
        refused.status(),
        "Confirm your password first",
        refused.detail().to_owned(),
    )
}

pub async fn revoke_one(
    State(state): State<AppState>,
    jar: CookieJar,
    Path(id): Path<Uuid>,
    SignedInForm { me, .. }: SignedInForm<NoFields>,
) -> PageResult {
    match sessions::revoke(&state, &me, id).await {
        Ok(()) => Ok(redirect_with(
            &state,
            jar,
            "/settings/sessions",
            Flash::SessionRevoked,
        )),
        Err(Error::NotFound(_)) => Err(PageError::message(
            StatusCode::NOT_FOUND,
            "No such session",
            "It may already have ended.",
        )),
        Err(e @ Error::ReauthenticationRequired) => Err(needs_password(e)),
        Err(e) => Err(e.into()),
    }
}

pub async fn revoke_others(
    State(state): State<AppState>,
    jar: CookieJar,
    SignedInForm { me, .. }: SignedInForm<NoFields>,
) -> PageResult {
    match sessions::revoke_all(&state, &me, true).await {
        Ok(_) => Ok(redirect_with(
            &state,
            jar,
            "/settings/sessions",
            Flash::OthersRevoked,
        )),
        Err(e @ Error::ReauthenticationRequired) => Err(needs_password(e)),
        Err(e) => Err(e.into()),
    }
}
