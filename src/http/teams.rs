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

#[utoipa::path(post, path = "/api/v1/teams", tag = "teams", request_body = CreateTeamRequest,
    responses((status = 201, body = TeamView), (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn create(
    State(state): State<AppState>,
    Auth(me): Auth,
    Json(req): Json<CreateTeamRequest>,
) -> ApiResult<impl IntoResponse> {
    let t = teams::create(&state, &me, &req.name, &req.slug).await?;
    Ok((StatusCode::CREATED, Json(team_view(t.team, t.role))))
}

#[utoipa::path(get, path = "/api/v1/teams", tag = "teams", responses((status = 200, body = [TeamView])))]
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

#[utoipa::path(get, path = "/api/v1/teams/discoverable", tag = "teams", responses((status = 200, body = [DiscoverableTeam])))]
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

#[utoipa::path(get, path = "/api/v1/teams/{slug}", tag = "teams", params(("slug" = String, Path)),
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

#[utoipa::path(patch, path = "/api/v1/teams/{slug}", tag = "teams", params(("slug" = String, Path)), request_body = UpdateTeamRequest,
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

#[utoipa::path(delete, path = "/api/v1/teams/{slug}", tag = "teams", params(("slug" = String, Path)), request_body = DeleteTeamRequest,
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

#[utoipa::path(post, path = "/api/v1/teams/{slug}/join", tag = "teams", params(("slug" = String, Path)),
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

#[utoipa::path(post, path = "/api/v1/teams/{slug}/leave", tag = "teams", params(("slug" = String, Path)),
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

#[utoipa::path(get, path = "/api/v1/teams/{slug}/members", tag = "teams", params(("slug" = String, Path)),
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

#[utoipa::path(patch, path = "/api/v1/teams/{slug}/members/{username}", tag = "teams",
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

#[utoipa::path(delete, path = "/api/v1/teams/{slug}/members/{username}", tag = "teams",
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

#[utoipa::path(get, path = "/api/v1/teams/{slug}/join-requests", tag = "teams", params(("slug" = String, Path)),
    responses((status = 200, body = [MemberView]), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn join_requests(
    State(state): State<AppState>,
    Auth(me): Auth,
    Path(slug): Path<String>,
) -> ApiResult<Json<Vec<MemberView>>> {
    let list = teams::join_requests(&state, &me, &slug).await?;
    Ok(Json(list.into_iter().map(member_view).collect()))
}

#[utoipa::path(post, path = "/api/v1/teams/{slug}/join-requests/{username}", tag = "teams",
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

#[utoipa::path(delete, path = "/api/v1/teams/{slug}/join-requests/{username}", tag = "teams",
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
