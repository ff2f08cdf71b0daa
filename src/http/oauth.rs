//! The OAuth endpoints machines call: token, device authorization, revocation. Form-encoded
//! requests, JSON answers, RFC 6749 error codes. (The pages of the browser step are in `web`.)

use axum::Json;
use axum::extract::rejection::FormRejection;
use axum::extract::{FromRequest, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use super::extract::Client;
use crate::http::routes::Routes;
use crate::oauth::{self, CLIENT_ID, OauthError, device};
use crate::state::AppState;

pub fn routes() -> Routes<AppState> {
    Routes::new()
        .post("/oauth/token", token)
        .post("/oauth/device/code", device_code)
        .post("/oauth/revoke", revoke)
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct OauthErrorBody {
    pub error: &'static str,
    pub error_description: &'static str,
}

impl IntoResponse for OauthError {
    fn into_response(self) -> Response {
        let status = if self.error == "invalid_client" {
            StatusCode::UNAUTHORIZED
        } else {
            StatusCode::BAD_REQUEST
        };
        let mut res = (
            status,
            Json(OauthErrorBody {
                error: self.error,
                error_description: self.description,
            }),
        )
            .into_response();
        res.headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        res
    }
}

/// `axum::Form`, but a body that is not a form answers with RFC 6749's `invalid_request`
/// in JSON, like every other refusal here.
#[derive(FromRequest)]
#[from_request(via(axum::Form), rejection(OauthError))]
struct Form<T>(T);

impl From<FormRejection> for OauthError {
    fn from(_: FormRejection) -> Self {
        OauthError::new(
            "invalid_request",
            "Send the parameters as an application/x-www-form-urlencoded body.",
        )
    }
}

fn check_client(client_id: Option<&str>) -> Result<(), OauthError> {
    if client_id == Some(CLIENT_ID) {
        Ok(())
    } else {
        Err(OauthError::new("invalid_client", "Unknown client_id."))
    }
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = OauthTokenRequest)]
pub struct TokenRequest {
    pub grant_type: Option<String>,
    pub client_id: Option<String>,
    pub code: Option<String>,
    pub redirect_uri: Option<String>,
    pub code_verifier: Option<String>,
    pub refresh_token: Option<String>,
    pub device_code: Option<String>,
}

const DEVICE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

/// Get or refresh CLI tokens
///
/// The OAuth token endpoint of the `latchkey` CLI (client `latchkey-cli`), form-encoded. `grant_type=authorization_code` exchanges a code from the browser sign-in (with PKCE: `code_verifier`); a code works once, and a replay revokes what it produced. `grant_type=refresh_token` rotates the tokens; presenting a spent refresh token again ends the whole grant. `grant_type=urn:ietf:params:oauth:grant-type:device_code` polls a device sign-in. Refusals use RFC 6749 error codes.
///
/// 400 `invalid_request`, `invalid_grant`, `unsupported_grant_type`, and while polling `authorization_pending`, `slow_down`, `expired_token` or `access_denied`. 401 `invalid_client`: unknown `client_id`.
#[utoipa::path(post, path = "/oauth/token", tag = "CLI sign-in (OAuth)", request_body(content = TokenRequest, content_type = "application/x-www-form-urlencoded"),
    responses((status = 200, body = oauth::TokenResponse), (status = 400, body = OauthErrorBody), (status = 401, body = OauthErrorBody)))]
async fn token(
    State(state): State<AppState>,
    Client(client): Client,
    Form(req): Form<TokenRequest>,
) -> Result<Response, OauthError> {
    check_client(req.client_id.as_deref())?;
    let missing = || OauthError::new("invalid_request", "A required parameter is missing.");
    let tokens = match req.grant_type.as_deref() {
        Some("authorization_code") => {
            let (code, redirect, verifier) = (
                req.code.as_deref().ok_or_else(missing)?,
                req.redirect_uri.as_deref().ok_or_else(missing)?,
                req.code_verifier.as_deref().ok_or_else(missing)?,
            );
            oauth::exchange_code(&state, code, redirect, verifier, &client).await?
        }
        Some("refresh_token") => {
            oauth::refresh(&state, req.refresh_token.as_deref().ok_or_else(missing)?).await?
        }
        Some(DEVICE_GRANT) => {
            device::poll(
                &state,
                req.device_code.as_deref().ok_or_else(missing)?,
                &client,
            )
            .await?
        }
        _ => {
            return Err(OauthError::new(
                "unsupported_grant_type",
                "Supported: authorization_code, refresh_token, device_code.",
            ));
        }
    };
    let mut res = Json(tokens).into_response();
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(res)
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct DeviceCodeRequest {
    pub client_id: Option<String>,
    /// The CLI's host name, shown when approving and in the session list.
    pub device_name: Option<String>,
}

/// Start a device sign-in
///
/// Starts signing in the CLI on a device without a browser (RFC 8628): a code for the person to enter at the verification page, and a device code for the CLI to poll `POST /oauth/token` with. `device_name` is shown when approving and in the session list.
///
/// 401 `invalid_client`: unknown `client_id`.
#[utoipa::path(post, path = "/oauth/device/code", tag = "CLI sign-in (OAuth)", request_body(content = DeviceCodeRequest, content_type = "application/x-www-form-urlencoded"),
    responses((status = 200, body = device::DeviceStart), (status = 400, body = OauthErrorBody), (status = 401, body = OauthErrorBody)))]
async fn device_code(
    State(state): State<AppState>,
    Form(req): Form<DeviceCodeRequest>,
) -> Result<Json<device::DeviceStart>, OauthError> {
    check_client(req.client_id.as_deref())?;
    Ok(Json(
        device::start(&state, req.device_name.as_deref()).await?,
    ))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = OauthRevokeRequest)]
pub struct RevokeRequest {
    pub token: String,
}

/// Revoke a CLI token
///
/// RFC 7009: revoking either token of a grant (access or refresh) ends the whole grant. Unknown tokens are answered the same way.
#[utoipa::path(post, path = "/oauth/revoke", tag = "CLI sign-in (OAuth)", request_body(content = RevokeRequest, content_type = "application/x-www-form-urlencoded"),
    responses((status = 200), (status = 400, body = OauthErrorBody)))]
async fn revoke(
    State(state): State<AppState>,
    Form(req): Form<RevokeRequest>,
) -> Result<StatusCode, OauthError> {
    oauth::revoke(&state, &req.token).await?;
    Ok(StatusCode::OK)
}
