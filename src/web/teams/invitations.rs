//! Invitations: sending, resending and revoking them (`/teams/{slug}/invitations/…`), and the
//! link an invited person opens (`/invitations/{token}`), saying who invited them, to accept
//! or decline.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use axum_extra::extract::CookieJar;
use serde::Deserialize;
use uuid::Uuid;

use super::failure;
use crate::error::Error;
use crate::http::extract::Path;
use crate::state::AppState;
use crate::teams::invitations;
use crate::web::guard::{CheckedForm, NoFields, SignedInForm};
use crate::web::{
    Flash, Layout, Page, PageError, PageResult, redirect_with, render_status, status_for,
};

/// Back to the members page with `flash`.
fn back(state: &AppState, jar: CookieJar, slug: &str, flash: Flash) -> PageResult {
    let to = format!("/teams/{slug}/members");
    Ok(redirect_with(state, jar, &to, flash))
}

#[derive(Deserialize)]
pub struct InviteForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    role: String,
}

pub async fn invite(
    State(state): State<AppState>,
    jar: CookieJar,
    Path(slug): Path<String>,
    SignedInForm { me, form }: SignedInForm<InviteForm>,
) -> PageResult {
    invitations::invite(&state, &me, &slug, &form.email, &form.role)
        .await
        .map_err(failure)?;
    back(&state, jar, &slug, Flash::InvitationSent)
}

pub async fn resend(
    State(state): State<AppState>,
    jar: CookieJar,
    Path((slug, id)): Path<(String, Uuid)>,
    SignedInForm { me, .. }: SignedInForm<NoFields>,
) -> PageResult {
    invitations::resend(&state, &me, &slug, id)
        .await
        .map_err(failure)?;
    back(&state, jar, &slug, Flash::InvitationSent)
}

pub async fn revoke(
    State(state): State<AppState>,
    jar: CookieJar,
    Path((slug, id)): Path<(String, Uuid)>,
    SignedInForm { me, .. }: SignedInForm<NoFields>,
) -> PageResult {
    invitations::revoke(&state, &me, &slug, id)
        .await
        .map_err(failure)?;
    back(&state, jar, &slug, Flash::TeamSaved)
}

#[derive(Template)]
#[template(path = "web/invitation.html")]
struct InvitationPage {
    layout: Layout,
    errors: Vec<String>,
    team_name: String,
    role: String,
    email: String,
    /// Who sent it, while their account exists.
    inviter: Option<String>,
    token: String,
    signed_in: bool,
}

fn unusable() -> PageError {
    PageError::message(
        StatusCode::BAD_REQUEST,
        "This invitation cannot be used",
        "It is invalid, has expired, was revoked, declined or already accepted. Ask the team's admin for a new one.",
    )
}

async fn invitation_view(
    state: &AppState,
    page: Page,
    token: String,
    errors: Vec<String>,
) -> PageResult {
    let Ok((invitation, team)) = invitations::lookup(state, &token).await else {
        return Err(unusable());
    };
    let inviter = invitations::inviter(state, &invitation).await?;
    let status = status_for(&errors, StatusCode::FORBIDDEN);
    let view = InvitationPage {
        signed_in: page.me.is_some(),
        layout: page.layout,
        errors,
        team_name: team.name,
        role: invitation.role,
        email: invitation.email,
        inviter,
        token,
    };
    render_status(status, page.jar, &view)
}

pub async fn invitation_page(
    State(state): State<AppState>,
    page: Page,
    Path(token): Path<String>,
) -> PageResult {
    invitation_view(&state, page, token, vec![]).await
}

/// Declines the invitation: the link stops working. Whoever holds it may, signed in or not.
pub async fn decline(
    State(state): State<AppState>,
    page: Page,
    Path(token): Path<String>,
    CheckedForm(_): CheckedForm<NoFields>,
) -> PageResult {
    match invitations::decline(&state, &token).await {
        Ok(team) => page.message(
            StatusCode::OK,
            "Invitation declined",
            format!(
                "You will not join {}, and the link no longer works. If you change your mind, ask the team's admin for a new invitation.",
                team.name
            ),
        ),
        Err(Error::InvalidToken) => Err(unusable()),
        Err(e) => Err(e.into()),
    }
}

pub async fn accept(
    State(state): State<AppState>,
    jar: CookieJar,
    Path(token): Path<String>,
    SignedInForm { me, .. }: SignedInForm<NoFields>,
) -> PageResult {
    match invitations::accept(&state, &me, &token).await {
        Ok(team) => Ok(Redirect::to(&format!("/teams/{}", team.slug)).into_response()),
        Err(e @ (Error::InvitationMismatch | Error::EmailUnverified | Error::AlreadyMember)) => {
            let errors = vec![crate::http::problem::ApiError::from(e).detail().to_owned()];
            let page = Page::build(&state, jar, Some(me)).await?;
            invitation_view(&state, page, token, errors).await
        }
        Err(e) => Err(failure(e)),
    }
}
