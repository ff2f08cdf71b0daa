//! Team endpoints: teams, discovery, members and roles, join requests; invitations are in
//! `teams/invitations.rs`.

pub(super) mod invitations;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::extract::{Auth, Json, Path};
use super::problem::{ApiError, Problem};
use crate::clock::rfc3339;
use crate::http::routes::Routes;
use crate::state::AppState;
use crate::store::{Member, Team};
use crate::teams;

type ApiResult<T> = Result<T, ApiError>;

pub fn routes() -> Routes<AppState> {
    Routes::new()
        .get("/teams", list)
        .post("/teams", create)
        .get("/teams/discoverable", discoverable)
        .get("/teams/{slug}", show)
        .patch("/teams/{slug}", update)
        .delete("/teams/{slug}", remove_team)
        .post("/teams/{slug}/join", join)
        .post("/teams/{slug}/leave", leave)
        .get("/teams/{slug}/members", members)
        .patch("/teams/{slug}/members/{username}", set_role)
        .delete("/teams/{slug}/members/{username}", remove_member)
        .get("/teams/{slug}/join-requests", join_requests)
        .post("/teams/{slug}/join-requests/{username}", approve_request)
        .delete("/teams/{slug}/join-requests/{username}", decline_request)
        .merge(invitations::routes())
}

#[derive(Serialize, ToSchema)]
pub struct TeamView {
    pub slug: String,
    pub name: String,
    /// The caller's role: `admin`, `member` or `billing`.
    pub role: String,
    pub discovery_enabled: bool,
    /// The company domain people must have a confirmed address on to discover the team.
    pub discovery_domain: Option<String>,
    /// `open` or `approval`.
    pub join_policy: String,
    /// Admins must have two-factor authentication on to act as admins.
    pub require_2fa: bool,
    pub created_at: String,
}

fn team_view(t: Team, role: String) -> TeamView {
    TeamView {
        discovery_enabled: t.discovery_domain.is_some(),
        discovery_domain: t.discovery_domain,
        slug: t.slug,
        name: t.name,
        role,
        join_policy: t.join_policy,
        require_2fa: t.require_2fa,
        created_at: rfc3339(t.created_at),
    }
}

#[derive(Deserialize, ToSchema)]
pub struct CreateTeamRequest {
    #[schema(example = "Acme")]
    pub name: String,
    /// The team's address: 2–40 lowercase letters, digits and single hyphens.
    #[schema(example = "acme")]
    pub slug: String,
}

/// Create a team
///
/// Creates a team with the caller as its admin. Needs a confirmed email address.
///
/// 403 `email_unverified`: confirm the address first. 409 `slug_taken`: another team has this address. 422: the name or slug breaks its rules.
#[utoipa::path(post, path = "/api/v1/teams", tag = "Teams", request_body = CreateTeamRequest,
    responses((status = 201, body = TeamView), (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn create(
    State(state): State<AppState>,
    Auth(me): Auth,
    Json(req): Json<CreateTeamRequest>,
) -> ApiResult<impl IntoResponse> {
    let t = teams::create(&state, &me, &req.name, &req.slug).await?;
    Ok((StatusCode::CREATED, Json(team_view(t.team, t.role))))
}

/// List your teams
///
/// The teams the signed-in account belongs to, each with the caller's role in it.
#[utoipa::path(get, path = "/api/v1/teams", tag = "Teams", responses((status = 200, body = [TeamView])))]
async fn list(State(state): State<AppState>, Auth(me): Auth) -> ApiResult<Json<Vec<TeamView>>> {
    let mine = teams::mine(&state, &me).await?;
    Ok(Json(
        mine.into_iter()
            .map(|t| team_view(t.team, t.role))
            .collect(),
    ))
}

#[derive(Serialize, ToSchema)]
pub struct DiscoverableTeam {
    pub slug: String,
    pub name: String,
    pub join_policy: String,
}

/// List teams you can join
///
/// Teams with discovery turned on for the domain of the caller's confirmed email address. Join one with `POST /api/v1/teams/{slug}/join`.
#[utoipa::path(get, path = "/api/v1/teams/discoverable", tag = "Teams", responses((status = 200, body = [DiscoverableTeam])))]
async fn discoverable(
    State(state): State<AppState>,
    Auth(me): Auth,
) -> ApiResult<Json<Vec<DiscoverableTeam>>> {
    let found = teams::discoverable(&state, &me).await?;
    Ok(Json(
        found
            .into_iter()
            .map(|t| DiscoverableTeam {
                slug: t.slug,
                name: t.name,
                join_policy: t.join_policy,
            })
            .collect(),
    ))
}

/// Get a team
///
/// A team the caller belongs to, with the caller's role in it.
///
/// 404: no such team, or the caller is not a member (the two are not told apart).
#[utoipa::path(get, path = "/api/v1/teams/{slug}", tag = "Teams", params(("slug" = String, Path)),
    responses((status = 200, body = TeamView), (status = 404, body = Problem)))]
async fn show(
    State(state): State<AppState>,
    Auth(me): Auth,
    Path(slug): Path<String>,
) -> ApiResult<Json<TeamView>> {
    let (team, role) = teams::membership(&state, &me, &slug).await?;
    Ok(Json(team_view(team, role)))
}

#[derive(Deserialize, ToSchema)]
pub struct UpdateTeamRequest {
    pub name: Option<String>,
    pub discovery_enabled: Option<bool>,
    /// `open` (default) or `approval`.
    pub join_policy: Option<String>,
    /// Turning it on needs 2FA on the caller's own account (403 `two_factor_required`).
    pub require_2fa: Option<bool>,
}

/// Update a team
///
/// Admins rename the team, turn discovery on (for the domain of their own confirmed address) or off, choose whether joining needs their approval (`join_policy`) and whether admins must have two-factor authentication on (`require_2fa`). Fields left out stay as they are.
///
/// 403 `forbidden`: the caller is not an admin; `two_factor_required`: the caller needs two-factor authentication on. 404: no such team, or the caller is not a member. 422: a field breaks its rules.
#[utoipa::path(patch, path = "/api/v1/teams/{slug}", tag = "Teams", params(("slug" = String, Path)), request_body = UpdateTeamRequest,
    responses((status = 200, body = TeamView), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn update(
    State(state): State<AppState>,
    Auth(me): Auth,
    Path(slug): Path<String>,
    Json(req): Json<UpdateTeamRequest>,
) -> ApiResult<Json<TeamView>> {
    let change = teams::TeamChange {
        name: req.name,
        discovery_enabled: req.discovery_enabled,
        join_policy: req.join_policy,
        require_2fa: req.require_2fa,
    };
    let team = teams::update(&state, &me, &slug, &change).await?;
    Ok(Json(team_view(team, "admin".to_owned())))
}

#[derive(Deserialize, ToSchema)]
pub struct DeleteTeamRequest {
    /// The team's slug, typed out.
    pub confirm_slug: String,
}

/// Delete a team
///
/// Deletes the team for every member. Admins only; the team's slug must be typed out (`confirm_slug`).
///
/// 403 `forbidden`: the caller is not an admin; `two_factor_required`: the team requires admins to have two-factor authentication on. 404: no such team, or the caller is not a member. 422: the typed slug does not match.
#[utoipa::path(delete, path = "/api/v1/teams/{slug}", tag = "Teams", params(("slug" = String, Path)), request_body = DeleteTeamRequest,
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn remove_team(
    State(state): State<AppState>,
    Auth(me): Auth,
    Path(slug): Path<String>,
    Json(req): Json<DeleteTeamRequest>,
) -> ApiResult<StatusCode> {
    teams::delete(&state, &me, &slug, &req.confirm_slug).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize, ToSchema)]
pub struct JoinResponse {
    /// `joined`, or `requested` when an admin must approve.
    pub status: &'static str,
}

/// Join a team
///
/// Joins a team discoverable by the domain of the caller's confirmed address (201, `joined`), or asks to join when an admin must approve (202, `requested`).
///
/// 403 `email_unverified`: confirm the address first. 404: no such team, or the caller cannot discover it (the two are not told apart). 409 `already_member`.
#[utoipa::path(post, path = "/api/v1/teams/{slug}/join", tag = "Teams", params(("slug" = String, Path)),
    responses((status = 201, body = JoinResponse), (status = 202, body = JoinResponse), (status = 404, body = Problem), (status = 409, body = Problem)))]
async fn join(
    State(state): State<AppState>,
    Auth(me): Auth,
    Path(slug): Path<String>,
) -> ApiResult<impl IntoResponse> {
    Ok(match teams::join(&state, &me, &slug).await? {
        teams::Joined::Member => (StatusCode::CREATED, Json(JoinResponse { status: "joined" })),
        teams::Joined::Requested => (
            StatusCode::ACCEPTED,
            Json(JoinResponse {
                status: "requested",
            }),
        ),
    })
}

/// Leave a team
///
/// Removes the caller from the team.
///
/// 404: no such team, or the caller is not a member. 409 `last_admin`: a team needs an admin, so promote someone else first or delete the team.
#[utoipa::path(post, path = "/api/v1/teams/{slug}/leave", tag = "Teams", params(("slug" = String, Path)),
    responses((status = 204), (status = 404, body = Problem), (status = 409, body = Problem)))]
async fn leave(
    State(state): State<AppState>,
    Auth(me): Auth,
    Path(slug): Path<String>,
) -> ApiResult<StatusCode> {
    teams::leave(&state, &me, &slug).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize, ToSchema)]
pub struct MemberView {
    pub username: String,
    pub name: String,
    pub role: String,
    pub joined_at: String,
}

fn member_view(m: Member) -> MemberView {
    MemberView {
        username: m.username,
        name: m.name,
        role: m.role,
        joined_at: rfc3339(m.joined_at),
    }
}

/// List team members
///
/// The members of a team the caller belongs to, with their roles and when they joined.
///
/// 404: no such team, or the caller is not a member.
#[utoipa::path(get, path = "/api/v1/teams/{slug}/members", tag = "Teams", params(("slug" = String, Path)),
    responses((status = 200, body = [MemberView]), (status = 404, body = Problem)))]
async fn members(
    State(state): State<AppState>,
    Auth(me): Auth,
    Path(slug): Path<String>,
) -> ApiResult<Json<Vec<MemberView>>> {
    let (_, _, members) = teams::members(&state, &me, &slug).await?;
    Ok(Json(members.into_iter().map(member_view).collect()))
}

#[derive(Deserialize, ToSchema)]
pub struct RoleRequest {
    /// `admin`, `member` or `billing`.
    pub role: String,
}

/// Change a member's role
///
/// Admins make a member `admin`, `member` or `billing`. The team keeps at least one admin.
///
/// 403 `forbidden`: the caller is not an admin; `two_factor_required`: the team requires admins to have two-factor authentication on. 404: no such team or member. 409 `last_admin`: the team would have no admin left.
#[utoipa::path(patch, path = "/api/v1/teams/{slug}/members/{username}", tag = "Teams",
    params(("slug" = String, Path), ("username" = String, Path)), request_body = RoleRequest,
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
async fn set_role(
    State(state): State<AppState>,
    Auth(me): Auth,
    Path((slug, username)): Path<(String, String)>,
    Json(req): Json<RoleRequest>,
) -> ApiResult<StatusCode> {
    teams::set_role(&state, &me, &slug, &username, &req.role).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Remove a member
///
/// Admins remove a member from the team; removing oneself is leaving. The team keeps at least one admin.
///
/// 403 `forbidden`: the caller is not an admin; `two_factor_required`: the team requires admins to have two-factor authentication on. 404: no such team or member. 409 `last_admin`: the team would have no admin left.
#[utoipa::path(delete, path = "/api/v1/teams/{slug}/members/{username}", tag = "Teams",
    params(("slug" = String, Path), ("username" = String, Path)),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
async fn remove_member(
    State(state): State<AppState>,
    Auth(me): Auth,
    Path((slug, username)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    teams::remove(&state, &me, &slug, &username).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// List join requests
///
/// Admins see who asked to join a team that needs approval.
///
/// 403 `forbidden`: the caller is not an admin; `two_factor_required`: the team requires admins to have two-factor authentication on. 404: no such team, or the caller is not a member.
#[utoipa::path(get, path = "/api/v1/teams/{slug}/join-requests", tag = "Teams", params(("slug" = String, Path)),
    responses((status = 200, body = [MemberView]), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn join_requests(
    State(state): State<AppState>,
    Auth(me): Auth,
    Path(slug): Path<String>,
) -> ApiResult<Json<Vec<MemberView>>> {
    let list = teams::join_requests(&state, &me, &slug).await?;
    Ok(Json(list.into_iter().map(member_view).collect()))
}

/// Approve a join request
///
/// Admins let the person who asked join the team.
///
/// 403 `forbidden`: the caller is not an admin; `two_factor_required`: the team requires admins to have two-factor authentication on. 404: no such team or join request.
#[utoipa::path(post, path = "/api/v1/teams/{slug}/join-requests/{username}", tag = "Teams",
    params(("slug" = String, Path), ("username" = String, Path)),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn approve_request(
    State(state): State<AppState>,
    Auth(me): Auth,
    Path((slug, username)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    teams::decide_request(&state, &me, &slug, &username, true).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Decline a join request
///
/// Admins turn down a request to join the team.
///
/// 403 `forbidden`: the caller is not an admin; `two_factor_required`: the team requires admins to have two-factor authentication on. 404: no such team or join request.
#[utoipa::path(delete, path = "/api/v1/teams/{slug}/join-requests/{username}", tag = "Teams",
    params(("slug" = String, Path), ("username" = String, Path)),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn decline_request(
    State(state): State<AppState>,
    Auth(me): Auth,
    Path((slug, username)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    teams::decide_request(&state, &me, &slug, &username, false).await?;
    Ok(StatusCode::NO_CONTENT)
}
