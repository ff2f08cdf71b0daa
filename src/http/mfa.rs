//! Two-factor endpoints: the sign-in second step and managing the authenticator.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum_extra::extract::CookieJar;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::api::{PasswordRequest, SignedInResponse, signed_in};
use super::cookies;
use super::extract::{Auth, Client, Json};
use super::problem::{ApiError, Problem};
use crate::domain::Invalid;
use crate::error::Error;
use crate::http::routes::Routes;
use crate::mfa::{self, second_step};
use crate::state::AppState;
use webauthn_rs::prelude::PublicKeyCredential;

type ApiResult<T> = Result<T, ApiError>;

pub fn routes() -> Routes<AppState> {
    Routes::new()
        .post("/login/mfa", login_mfa)
        .get("/me/mfa", status)
        .delete("/me/mfa", disable)
        .post("/me/mfa/totp/setup", setup)
        .post("/me/mfa/totp/enable", enable)
        .post("/me/mfa/recovery-codes", regenerate)
}

#[derive(Deserialize, ToSchema)]
pub struct MfaLoginRequest {
    pub mfa_token: String,
    /// The 6-digit code from the authenticator app…
    pub code: Option<String>,
    /// …or one of the recovery codes…
    pub recovery_code: Option<String>,
    /// …or a security key's answer (`credential.toJSON()`) to the challenge from
    /// `POST /api/v1/login/mfa/security-key`.
    #[schema(value_type = Option<Object>)]
    pub security_key: Option<serde_json::Value>,
}

/// Finish signing in with a second factor
///
/// The second step of a sign-in that answered `mfa_required`: send the `mfa_token` with exactly one of a code from the authenticator app (`code`), a recovery code (`recovery_code`) or a security key's answer (`security_key`, to the challenge from `POST /api/v1/login/mfa/security-key`). Answers with a session, like `POST /api/v1/login`.
///
/// 401 `mfa_token_invalid`: the sign-in attempt expired (5 minutes), so sign in again; `invalid_code`, `code_already_used` or `security_key_invalid`: the proof was not accepted. 422 `code_required`: send exactly one of the three.
#[utoipa::path(post, path = "/api/v1/login/mfa", tag = "Sign-up and sign-in", request_body = MfaLoginRequest,
    responses((status = 200, body = SignedInResponse), (status = 401, description = "`mfa_token_invalid`, `invalid_code`, `code_already_used` or `security_key_invalid`", body = Problem), (status = 422, body = Problem),
        (status = 409, description = "`security_keys_unavailable`: this server offers no security keys", body = Problem),
        (status = 500, description = "`second_factor_unavailable`: the account's TOTP secret opens with none of this server's keys; a recovery code still works", body = Problem)))]
async fn login_mfa(
    State(state): State<AppState>,
    Client(client): Client,
    jar: CookieJar,
    Json(req): Json<MfaLoginRequest>,
) -> ApiResult<impl IntoResponse> {
    let answer: Option<PublicKeyCredential> = req
        .security_key
        .map(|v| crate::mfa::security_keys::parse_answer_value("security_key", v))
        .transpose()?;
    let proof = match (&req.code, &req.recovery_code, &answer) {
        (Some(code), None, None) => second_step::Proof::Totp(code),
        (None, Some(code), None) => second_step::Proof::RecoveryCode(code),
        (None, None, Some(answer)) => second_step::Proof::SecurityKey(answer),
        _ => {
            return Err(Error::invalid(Invalid::new(
                "code",
                "code_required",
                "Send one of `code`, `recovery_code` or `security_key`.",
            ))
            .into());
        }
    };
    let done = second_step::complete(&state, &req.mfa_token, proof, &client).await?;
    let jar = jar.add(cookies::session(&state.settings, &done.session));
    Ok((jar, Json(signed_in(&done.user, done.session))))
}

#[derive(Serialize, ToSchema)]
pub struct MfaStatus {
    pub enabled: bool,
    pub recovery_codes_left: i64,
}

/// Get two-factor authentication status
///
/// Whether two-factor authentication is on for the signed-in account, and how many unused recovery codes are left.
#[utoipa::path(get, path = "/api/v1/me/mfa", tag = "Password and authentication", responses((status = 200, body = MfaStatus)))]
async fn status(State(state): State<AppState>, Auth(me): Auth) -> ApiResult<Json<MfaStatus>> {
    Ok(Json(MfaStatus {
        enabled: me.user.mfa_enabled,
        recovery_codes_left: mfa::codes_left(&state, &me.user).await?,
    }))
}

#[derive(Serialize, ToSchema)]
pub struct SetupResponse {
    /// Base32, for typing into an app by hand.
    pub secret: String,
    pub otpauth_uri: String,
    /// The URI as a QR code, inline SVG.
    pub qr_svg: String,
}

/// Start setting up an authenticator app
///
/// Step one of turning on two-factor authentication, after the password: a fresh secret for the app, as text, as an `otpauth://` URI and as a QR code. Nothing is on yet: confirm with a code at `POST /api/v1/me/mfa/totp/enable`.
///
/// 403 `invalid_password`: the password is wrong. 409 `mfa_already_enabled`: two-factor authentication is already on.
#[utoipa::path(post, path = "/api/v1/me/mfa/totp/setup", tag = "Password and authentication", request_body = PasswordRequest,
    responses((status = 200, body = SetupResponse), (status = 403, body = Problem), (status = 409, body = Problem)))]
async fn setup(
    State(state): State<AppState>,
    Auth(me): Auth,
    Json(req): Json<PasswordRequest>,
) -> ApiResult<Json<SetupResponse>> {
    let s = mfa::setup(&state, &me, &req.password).await?;
    Ok(Json(SetupResponse {
        secret: s.secret_base32,
        otpauth_uri: s.otpauth_uri,
        qr_svg: s.qr_svg,
    }))
}

#[derive(Deserialize, ToSchema)]
pub struct CodeRequest {
    pub code: String,
}

#[derive(Serialize, ToSchema)]
pub struct EnabledResponse {
    /// Shown once; each works once.
    pub recovery_codes: Vec<String>,
    /// This session's new token: enabling 2FA signs out every session and rotates this one.
    pub token: String,
}

/// Turn on two-factor authentication
///
/// Step two: the first code from the app proves it has the secret. Two-factor authentication goes on, recovery codes are issued (shown only this once), every other session ends and this session gets a new token (also set as a cookie).
///
/// 401 `invalid_code` or `code_already_used`: the code was not accepted. 409 `mfa_setup_required`: start with `POST /api/v1/me/mfa/totp/setup`; `mfa_already_enabled`: it is already on.
#[utoipa::path(post, path = "/api/v1/me/mfa/totp/enable", tag = "Password and authentication", request_body = CodeRequest,
    responses((status = 200, body = EnabledResponse), (status = 401, body = Problem), (status = 409, body = Problem),
        (status = 500, description = "`second_factor_unavailable`: the pending secret opens with none of this server's keys; set up again", body = Problem)))]
async fn enable(
    State(state): State<AppState>,
    Auth(me): Auth,
    Client(client): Client,
    jar: CookieJar,
    Json(req): Json<CodeRequest>,
) -> ApiResult<impl IntoResponse> {
    let done = mfa::enable(&state, &me, &req.code, &client).await?;
    let jar = jar.add(cookies::session(&state.settings, &done.session));
    Ok((
        jar,
        Json(EnabledResponse {
            recovery_codes: done.recovery_codes,
            token: done.session.token.into_string(),
        }),
    ))
}

#[derive(Serialize, ToSchema)]
pub struct RecoveryCodesResponse {
    pub recovery_codes: Vec<String>,
}

/// Regenerate recovery codes
///
/// A new set of recovery codes, after the password; the old set stops working.
///
/// 403 `invalid_password`: the password is wrong. 409 `mfa_not_enabled`: two-factor authentication is off.
#[utoipa::path(post, path = "/api/v1/me/mfa/recovery-codes", tag = "Password and authentication", request_body = PasswordRequest,
    responses((status = 200, body = RecoveryCodesResponse), (status = 403, body = Problem), (status = 409, body = Problem)))]
async fn regenerate(
    State(state): State<AppState>,
    Auth(me): Auth,
    Client(client): Client,
    Json(req): Json<PasswordRequest>,
) -> ApiResult<Json<RecoveryCodesResponse>> {
    let recovery_codes = mfa::regenerate_codes(&state, &me, &req.password, &client).await?;
    Ok(Json(RecoveryCodesResponse { recovery_codes }))
}

/// Turn off two-factor authentication
///
/// Turns off two-factor authentication for the signed-in account, after the password.
///
/// 403 `invalid_password`: the password is wrong. 409 `mfa_not_enabled`: it is already off.
#[utoipa::path(delete, path = "/api/v1/me/mfa", tag = "Password and authentication", request_body = PasswordRequest,
    responses((status = 204), (status = 403, body = Problem), (status = 409, body = Problem)))]
async fn disable(
    State(state): State<AppState>,
    Auth(me): Auth,
    Client(client): Client,
    Json(req): Json<PasswordRequest>,
) -> ApiResult<StatusCode> {
    mfa::disable(&state, &me, &req.password, &client).await?;
    Ok(StatusCode::NO_CONTENT)
}
