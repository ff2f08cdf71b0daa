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

#[utoipa::path(post, path = "/api/v1/login/mfa", tag = "auth", request_body = MfaLoginRequest,
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

#[utoipa::path(get, path = "/api/v1/me/mfa", tag = "mfa", responses((status = 200, body = MfaStatus)))]
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

#[utoipa::path(post, path = "/api/v1/me/mfa/totp/setup", tag = "mfa", request_body = PasswordRequest,
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

#[utoipa::path(post, path = "/api/v1/me/mfa/totp/enable", tag = "mfa", request_body = CodeRequest,
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

#[utoipa::path(post, path = "/api/v1/me/mfa/recovery-codes", tag = "mfa", request_body = PasswordRequest,
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

#[utoipa::path(delete, path = "/api/v1/me/mfa", tag = "mfa", request_body = PasswordRequest,
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
