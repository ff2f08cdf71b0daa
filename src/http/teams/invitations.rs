//! Invitation endpoints: sending, listing, resending and revoking a team's invitations, and
//! accepting one.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::{ApiResult, TeamView, team_view};
use crate::clock::rfc3339;
use crate::http::extract::{Auth, Json, Path};
use crate::http::problem::Problem;
use crate::http::routes::Routes;
use crate::state::AppState;
use crate::store::Invitation;
use crate::teams::invitations;

pub fn routes() -> Routes<AppState> {
    Routes::new()
        .get("/teams/{slug}/invitations", list_invitations)
        .post("/teams/{slug}/invitations", invite)
        .delete("/teams/{slug}/invitations/{id}", revoke_invitation)
        .post("/teams/{slug}/invitations/{id}/resend", resend_invitation)
        .post("/invitations/{token}/accept", accept)
}

#[derive(Serialize, ToSchema)]
pub struct InvitationView {
    pub id: Uuid,
    pub email: String,
    pub role: String,
    pub created_at: String,
    pub expires_at: String,
}

fn invitation_view(i: Invitation) -> InvitationView {
    InvitationView {
        id: i.id,
        email: i.email,
        role: i.role,
        created_at: rfc3339(i.created_at),
        expires_at: rfc3339(i.expires_at),
    }
}

#[derive(Deserialize, ToSchema)]
pub struct InviteRequest {
    #[schema(example = "grace@example.com")]
    pub email: String,
    #[schema(example = "member")]
    pub role: String,
}

/// Invite someone to a team
///
/// Admins invite an email address with a role; an invitation link is mailed to it.
///
/// 403 `forbidden`: the caller is not an admin; `two_factor_required`: the team requires admins to have two-factor authentication on. 404: no such team, or the caller is not a member. 409 `already_member`: the address belongs to a member.
#[utoipa::path(post, path = "/api/v1/teams/{slug}/invitations", tag = "Teams", params(("slug" = String, Path)), request_body = InviteRequest,
    responses((status = 201, body = InvitationView), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
async fn invite(
    State(state): State<AppState>,
    Auth(me): Auth,
    Path(slug): Path<String>,
    Json(req): Json<InviteRequest>,
) -> ApiResult<impl IntoResponse> {
    let i = invitations::invite(&state, &me, &slug, &req.email, &req.role).await?;
    Ok((StatusCode::CREATED, Json(invitation_view(i))))
}

/// List pending invitations
///
/// Admins see the team's invitations that are not yet accepted, with their addresses, roles and expiry.
///
/// 403 `forbidden`: the caller is not an admin; `two_factor_required`: the team requires admins to have two-factor authentication on. 404: no such team, or the caller is not a member.
#[utoipa::path(get, path = "/api/v1/teams/{slug}/invitations", tag = "Teams", params(("slug" = String, Path)),
    responses((status = 200, body = [InvitationView]), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn list_invitations(
    State(state): State<AppState>,
    Auth(me): Auth,
    Path(slug): Path<String>,
) -> ApiResult<Json<Vec<InvitationView>>> {
    let list = invitations::pending(&state, &me, &slug).await?;
    Ok(Json(list.into_iter().map(invitation_view).collect()))
}

/// Resend an invitation
///
/// Admins send the invitation again with a new link and a new week; the old link stops working.
///
/// 403 `forbidden`: the caller is not an admin; `two_factor_required`: the team requires admins to have two-factor authentication on. 404: no such team or invitation.
#[utoipa::path(post, path = "/api/v1/teams/{slug}/invitations/{id}/resend", tag = "Teams",
    params(("slug" = String, Path), ("id" = Uuid, Path)),
    responses((status = 200, body = InvitationView), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn resend_invitation(
    State(state): State<AppState>,
    Auth(me): Auth,
    Path((slug, id)): Path<(String, Uuid)>,
) -> ApiResult<Json<InvitationView>> {
    Ok(Json(invitation_view(
        invitations::resend(&state, &me, &slug, id).await?,
    )))
}

/// Revoke an invitation
///
/// Admins withdraw an invitation; its link stops working.
///
/// 403 `forbidden`: the caller is not an admin; `two_factor_required`: the team requires admins to have two-factor authentication on. 404: no such team or invitation.
#[utoipa::path(delete, path = "/api/v1/teams/{slug}/invitations/{id}", tag = "Teams",
    params(("slug" = String, Path), ("id" = Uuid, Path)),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn revoke_invitation(
    State(state): State<AppState>,
    Auth(me): Auth,
    Path((slug, id)): Path<(String, Uuid)>,
) -> ApiResult<StatusCode> {
    invitations::revoke(&state, &me, &slug, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Accept an invitation
///
/// Joins the team with the token of an invitation link. The signed-in account must have confirmed the invited address.
///
/// 400 `invalid_token`: the link is unknown, expired or already used. 403 `invitation_email_mismatch`: the invitation was sent to another address; `email_unverified`: confirm the address first. 409 `already_member`.
#[utoipa::path(post, path = "/api/v1/invitations/{token}/accept", tag = "Teams", params(("token" = String, Path)),
    responses((status = 200, body = TeamView), (status = 400, body = Problem), (status = 403, body = Problem), (status = 409, body = Problem)))]
async fn accept(
    State(state): State<AppState>,
    Auth(me): Auth,
    Path(token): Path<String>,
) -> ApiResult<Json<TeamView>> {
    let team = invitations::accept(&state, &me, &token).await?;
    let role = state
        .store
        .role_in(team.id, me.user.id)
        .await?
        .unwrap_or_default();
    Ok(Json(team_view(team, role)))
}
