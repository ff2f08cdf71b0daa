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

/// Change your email address
///
/// Starts moving the account to a new address, after the current password. A confirmation link goes to the new address and the change happens once it is confirmed (`POST /api/v1/email-verifications`); the current address is told, with a link to undo it. If another account already uses the new address, that address is told instead and nothing changes; the answer is the same either way.
///
/// 403 `invalid_password`: the password is wrong; `managed_account`: the account is managed by an organization. 422 `email_unchanged`: it is already the account's address, or the address is not valid.
#[utoipa::path(post, path = "/api/v1/me/email", tag = "Account", request_body = EmailChangeRequest,
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

/// Change the password
///
/// Sets a new password after the current one. Every other session of the account is signed out (the answer says how many), pending password-reset links and email changes are cancelled, and a notice is mailed.
///
/// 403 `invalid_password`: the current password is wrong; `managed_account`: the account is managed by an organization. 422: the new password breaks the password rules.
#[utoipa::path(post, path = "/api/v1/me/password", tag = "Password and authentication", request_body = PasswordChangeRequest,
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

/// Request a password reset
///
/// "Trouble signing in?": after a solved CAPTCHA (`GET /api/v1/captcha`), mails a password-reset link to the address if an account uses it. The answer is the same whether or not one does. No session is needed. Throttled per IP address (429 `rate_limited`).
///
/// 400 `captcha_required` or `captcha_invalid`: solve a new CAPTCHA.
#[utoipa::path(post, path = "/api/v1/account-recovery", tag = "Sign-up and sign-in", request_body = RecoveryRequest,
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

/// Reset the password
///
/// Sets a new password with the token of a reset link. Every session of the account and every other reset link ends, and a notice is mailed. Following the link also confirms the address. No session is needed: the token is the proof.
///
/// 400 `invalid_token`: the link is unknown, expired or already used. 422: the new password breaks the password rules.
#[utoipa::path(post, path = "/api/v1/password-resets", tag = "Sign-up and sign-in", request_body = ResetRequest,
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

/// Undo an email change
///
/// The "this wasn't me" link mailed to the old address when the account's address changes: puts the old address back, signs out every session and mails a password-reset link. No session is needed: the token is the proof.
///
/// 400 `invalid_token`: the link is unknown, expired or already used.
#[utoipa::path(post, path = "/api/v1/email-changes/undo", tag = "Account", request_body = TokenRequest,
    responses((status = 204), (status = 400, body = Problem)))]
async fn undo_email_change(
    State(state): State<AppState>,
    Client(client): Client,
    Json(req): Json<TokenRequest>,
) -> ApiResult<StatusCode> {
    email::undo(&state, &req.token, &client).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Get a CAPTCHA challenge
///
/// A proof-of-work (ALTCHA) challenge. Solve it and send the solution as `captcha` with `POST /api/v1/account-recovery`. No session is needed.
#[utoipa::path(get, path = "/api/v1/captcha", tag = "Sign-up and sign-in", responses((status = 200, body = Challenge)))]
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

/// Delete your account
///
/// Deletes the signed-in account for good and clears the session cookie. Needs the password, the username typed out (`confirm_username`) and, with two-factor authentication on, a code from the app or a recovery code.
///
/// 403 `invalid_password`: the password is wrong; `managed_account`: the account is managed by an organization. 409 `leave_teams_first`: the account is still in teams (`teams` lists them). 422 `confirmation_mismatch`: the typed username does not match; `code_required`: two-factor authentication is on and no code was sent.
#[utoipa::path(delete, path = "/api/v1/me", tag = "Account", request_body = DeleteAccountRequest,
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

/// Get a public profile
///
/// What anyone may see of an account: username, display name, role and when it joined; never the email address.
///
/// 404: no account has this username.
#[utoipa::path(get, path = "/api/v1/users/{username}", tag = "Public profiles", params(("username" = String, Path)),
    responses((status = 200, body = profile::PublicProfile), (status = 404, body = Problem)))]
async fn public_profile(
    State(state): State<AppState>,
    Path(username): Path<String>,
) -> ApiResult<Json<profile::PublicProfile>> {
    Ok(Json(profile::public(&state, &username).await?))
}
