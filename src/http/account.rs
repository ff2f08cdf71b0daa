//! Account settings and recovery endpoints: email and password changes, "Trouble signing
//! in?", the CAPTCHA, deletion, and public profiles.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum_extra::extract::CookieJar;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::cookies;
use super::extract::{Auth, Client, Json, Path};
use super::problem::{ApiError, Problem};
use crate::accounts::{delete, email, password, profile};
use crate::captcha::Challenge;
use crate::http::routes::Routes;
use crate::state::AppState;

type ApiResult<T> = Result<T, ApiError>;

pub fn routes() -> Routes<AppState> {
    Routes::new()
        .post("/me/email", change_email)
        .post("/me/password", change_password)
        .post("/account-recovery", account_recovery)
        .post("/password-resets", reset_password)
        .post("/email-changes/undo", undo_email_change)
        .get("/captcha", captcha)
        .get("/users/{username}", public_profile)
}

/// Accepted: something will arrive by mail (or, where an attacker could ask, may arrive).
#[derive(Serialize, ToSchema)]
pub struct Accepted {
    /// `accepted`
    pub status: &'static str,
}

const ACCEPTED: Accepted = Accepted { status: "accepted" };

#[derive(Deserialize, ToSchema)]
pub struct EmailChangeRequest {
    pub new_email: String,
    pub password: String,
}

#[utoipa::path(post, path = "/api/v1/me/email", tag = "account", request_body = EmailChangeRequest,
    responses((status = 202, body = Accepted), (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn change_email(
    State(state): State<AppState>,
    Auth(me): Auth,
    Client(client): Client,
    Json(req): Json<EmailChangeRequest>,
) -> ApiResult<impl IntoResponse> {
    email::request_change(&state, &me, &req.new_email, &req.password, &client).await?;
    Ok((StatusCode::ACCEPTED, Json(ACCEPTED)))
}

#[derive(Deserialize, ToSchema)]
pub struct PasswordChangeRequest {
    pub current_password: String,
    pub new_password: String,
}

#[derive(Serialize, ToSchema)]
pub struct PasswordChanged {
    /// Other sessions that were signed out.
    pub revoked_sessions: u64,
}

#[utoipa::path(post, path = "/api/v1/me/password", tag = "account", request_body = PasswordChangeRequest,
    responses((status = 200, body = PasswordChanged), (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn change_password(
    State(state): State<AppState>,
    Auth(me): Auth,
    Client(client): Client,
    Json(req): Json<PasswordChangeRequest>,
) -> ApiResult<Json<PasswordChanged>> {
    let revoked_sessions = password::change(
        &state,
        &me,
        &req.current_password,
        &req.new_password,
        &client,
    )
    .await?;
    Ok(Json(PasswordChanged { revoked_sessions }))
}

#[derive(Deserialize, ToSchema)]
pub struct RecoveryRequest {
    pub email: String,
    /// The solved ALTCHA challenge from `GET /api/v1/captcha` (base64 JSON). Missing is
    /// answered like empty, `captcha_required`, rather than with the parser's words.
    #[serde(default)]
    #[schema(required = true, min_length = 1)]
    pub captcha: String,
}

#[utoipa::path(post, path = "/api/v1/account-recovery", tag = "account", request_body = RecoveryRequest,
    responses((status = 202, body = Accepted), (status = 400, body = Problem), (status = 429, body = Problem)))]
async fn account_recovery(
    State(state): State<AppState>,
    Client(client): Client,
    Json(req): Json<RecoveryRequest>,
) -> ApiResult<impl IntoResponse> {
    password::request_recovery(&state, &req.email, &req.captcha, &client).await?;
    Ok((StatusCode::ACCEPTED, Json(ACCEPTED)))
}

#[derive(Deserialize, ToSchema)]
pub struct ResetRequest {
    pub token: String,
    pub new_password: String,
}

#[utoipa::path(post, path = "/api/v1/password-resets", tag = "account", request_body = ResetRequest,
    responses((status = 204), (status = 400, body = Problem), (status = 422, body = Problem)))]
async fn reset_password(
    State(state): State<AppState>,
    Client(client): Client,
    Json(req): Json<ResetRequest>,
) -> ApiResult<StatusCode> {
    password::reset(&state, &req.token, &req.new_password, &client).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
pub struct TokenRequest {
    pub token: String,
}

#[utoipa::path(post, path = "/api/v1/email-changes/undo", tag = "account", request_body = TokenRequest,
    responses((status = 204), (status = 400, body = Problem)))]
async fn undo_email_change(
    State(state): State<AppState>,
    Client(client): Client,
    Json(req): Json<TokenRequest>,
) -> ApiResult<StatusCode> {
    email::undo(&state, &req.token, &client).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v1/captcha", tag = "account", responses((status = 200, body = Challenge)))]
async fn captcha(State(state): State<AppState>) -> Json<Challenge> {
    Json(state.settings.captcha.challenge(state.clock.now()))
}

#[derive(Deserialize, ToSchema)]
pub struct DeleteAccountRequest {
    pub password: String,
    /// The username, typed out.
    pub confirm_username: String,
    /// With 2FA on: a code from the app, or a recovery code.
    pub code: Option<String>,
}

#[utoipa::path(delete, path = "/api/v1/me", tag = "account", request_body = DeleteAccountRequest,
    responses((status = 204), (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub(super) async fn delete_account(
    State(state): State<AppState>,
    Auth(me): Auth,
    Client(client): Client,
    jar: CookieJar,
    Json(req): Json<DeleteAccountRequest>,
) -> ApiResult<impl IntoResponse> {
    let confirmation = delete::Confirmation {
        password: &req.password,
        confirm_username: &req.confirm_username,
        code: req.code.as_deref(),
    };
    delete::delete(&state, &me, &confirmation, &client).await?;
    Ok((
        StatusCode::NO_CONTENT,
        jar.add(cookies::clear_session(&state.settings)),
    ))
}

#[utoipa::path(get, path = "/api/v1/users/{username}", tag = "account", params(("username" = String, Path)),
    responses((status = 200, body = profile::PublicProfile), (status = 404, body = Problem)))]
async fn public_profile(
    State(state): State<AppState>,
    Path(username): Path<String>,
) -> ApiResult<Json<profile::PublicProfile>> {
    Ok(Json(profile::public(&state, &username).await?))
}
