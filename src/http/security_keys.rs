//! Security key endpoints: listing, adding (two steps around `navigator.credentials.create`),
//! removing, and the challenge a sign-in's second step signs with `navigator.credentials.get`.
//! WebAuthn's own JSON (options and answers) passes through as objects; webauthn-rs reads it.

use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;
use uuid::Uuid;

use super::extract::{Auth, Client, Json, Path};
use super::problem::{ApiError, Problem};
use crate::clock;
use crate::http::routes::Routes;
use crate::mfa::security_keys::{self, KeyInfo};
use crate::state::AppState;

type ApiResult<T> = Result<T, ApiError>;

pub fn routes() -> Routes<AppState> {
    Routes::new()
        .post("/login/mfa/security-key", sign_in_challenge)
        .get("/me/mfa/security-keys", list)
        .post("/me/mfa/security-keys", finish)
        .post("/me/mfa/security-keys/registration", begin)
        .delete("/me/mfa/security-keys/{id}", remove)
}

#[derive(Serialize, ToSchema)]
pub struct SecurityKeyView {
    pub id: Uuid,
    pub name: String,
    pub created_at: String,
    pub last_used_at: Option<String>,
}

impl From<KeyInfo> for SecurityKeyView {
    fn from(k: KeyInfo) -> Self {
        Self {
            id: k.id,
            name: k.name,
            created_at: clock::rfc3339(k.created_at),
            last_used_at: k.last_used_at.map(clock::rfc3339),
        }
    }
}

/// List your security keys
///
/// The security keys registered to the signed-in account, with their names, when they were added and when they were last used.
#[utoipa::path(get, path = "/api/v1/me/mfa/security-keys", tag = "Password and authentication",
    responses((status = 200, body = Vec<SecurityKeyView>)))]
async fn list(
    State(state): State<AppState>,
    Auth(me): Auth,
) -> ApiResult<Json<Vec<SecurityKeyView>>> {
    let keys = security_keys::list(&state, &me.user).await?;
    Ok(Json(keys.into_iter().map(Into::into).collect()))
}

#[derive(Deserialize, ToSchema)]
pub struct RegistrationRequest {
    pub password: String,
    /// What the owner calls the key, such as "Blue YubiKey"; at most 64 characters.
    pub name: String,
}

/// WebAuthn options for the browser.
#[derive(Serialize, ToSchema)]
pub struct WebauthnOptions {
    /// Pass `public_key` to `PublicKeyCredential.parseCreationOptionsFromJSON` (adding a key)
    /// or `parseRequestOptionsFromJSON` (signing in), then to `navigator.credentials`.
    #[schema(value_type = Object)]
    pub public_key: Value,
}

fn options(wrapped: impl Serialize) -> ApiResult<Json<WebauthnOptions>> {
    let public_key = security_keys::public_key_options(wrapped)?;
    Ok(Json(WebauthnOptions { public_key }))
}

/// Start adding a security key
///
/// Step one of adding a security key, after the password: the options to pass to `navigator.credentials.create`. Send the browser's answer to `POST /api/v1/me/mfa/security-keys`. Security keys come after an authenticator app: two-factor authentication must be on.
///
/// 403 `invalid_password`: the password is wrong. 409 `mfa_not_enabled`, `too_many_security_keys`, or `security_keys_unavailable` (the server is not reached by a domain name). 422: the name breaks its rules.
#[utoipa::path(post, path = "/api/v1/me/mfa/security-keys/registration", tag = "Password and authentication", request_body = RegistrationRequest,
    responses((status = 200, body = WebauthnOptions), (status = 403, body = Problem), (status = 422, body = Problem),
        (status = 409, description = "`mfa_not_enabled` (turn on an authenticator app first), `too_many_security_keys` or `security_keys_unavailable`", body = Problem)))]
async fn begin(
    State(state): State<AppState>,
    Auth(me): Auth,
    Json(req): Json<RegistrationRequest>,
) -> ApiResult<Json<WebauthnOptions>> {
    options(security_keys::begin_registration(&state, &me, &req.password, &req.name).await?)
}

#[derive(Deserialize, ToSchema)]
pub struct AddKeyRequest {
    /// The new credential as `credential.toJSON()` gives it.
    #[schema(value_type = Object)]
    pub credential: Value,
}

/// Add a security key
///
/// Step two: the browser's answer (`credential.toJSON()`) to the options from `POST /api/v1/me/mfa/security-keys/registration`. The key is added and the owner told by mail.
#[utoipa::path(post, path = "/api/v1/me/mfa/security-keys", tag = "Password and authentication", request_body = AddKeyRequest,
    responses((status = 201, body = SecurityKeyView), (status = 401, description = "`security_key_invalid`", body = Problem),
        (status = 409, description = "`security_key_registration_expired`, `security_key_already_registered`, `too_many_security_keys`, `mfa_not_enabled` or `security_keys_unavailable`", body = Problem),
        (status = 422, body = Problem)))]
async fn finish(
    State(state): State<AppState>,
    Auth(me): Auth,
    Client(client): Client,
    Json(req): Json<AddKeyRequest>,
) -> ApiResult<(StatusCode, Json<SecurityKeyView>)> {
    let credential = security_keys::parse_answer_value("credential", req.credential)?;
    let key = security_keys::finish_registration(&state, &me, &credential, &client).await?;
    Ok((StatusCode::CREATED, Json(key.into())))
}

#[derive(Deserialize, ToSchema)]
pub struct RemoveKeyRequest {
    pub password: String,
}

/// Remove a security key
///
/// Removes one of the account's security keys, after the password.
///
/// 403 `invalid_password`: the password is wrong. 404: the account has no key with this id.
#[utoipa::path(delete, path = "/api/v1/me/mfa/security-keys/{id}", tag = "Password and authentication", request_body = RemoveKeyRequest,
    params(("id" = Uuid, Path)), responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn remove(
    State(state): State<AppState>,
    Auth(me): Auth,
    Client(client): Client,
    Path(id): Path<Uuid>,
    Json(req): Json<RemoveKeyRequest>,
) -> ApiResult<StatusCode> {
    security_keys::remove(&state, &me, id, &req.password, &client).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
pub struct SecurityKeyChallengeRequest {
    pub mfa_token: String,
}

/// Get a security key challenge for sign-in
///
/// During a sign-in that answered `mfa_required`, the options for `navigator.credentials.get`. Sign them with the key and send the answer as `security_key` to `POST /api/v1/login/mfa`. A new call replaces the previous challenge.
///
/// 401 `mfa_token_invalid`: the sign-in attempt expired. 409 `no_security_keys`: the account has none, so use a code.
#[utoipa::path(post, path = "/api/v1/login/mfa/security-key", tag = "Sign-up and sign-in", request_body = SecurityKeyChallengeRequest,
    responses((status = 200, description = "Sign the challenge, then send the answer as `security_key` to `/api/v1/login/mfa`", body = WebauthnOptions),
        (status = 401, body = Problem),
        (status = 409, description = "`no_security_keys` or `security_keys_unavailable`", body = Problem)))]
async fn sign_in_challenge(
    State(state): State<AppState>,
    Json(req): Json<SecurityKeyChallengeRequest>,
) -> ApiResult<Json<WebauthnOptions>> {
    options(security_keys::begin_sign_in(&state, &req.mfa_token).await?)
}
