//! The JSON API under `/api/v1`: thin handlers that parse, call a use-case, and shape the answer.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum_extra::extract::CookieJar;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::cookies;
use super::extract::{Auth, Client, Json, Path, Query};
use super::problem::{ApiError, Problem};
use crate::accounts::{profile, signup, verify};
use crate::auth::{login, sessions};
use crate::clock;
use crate::http::routes::Routes;
use crate::state::AppState;
use crate::store::User;

type ApiResult<T> = Result<T, ApiError>;

pub fn routes() -> Routes<AppState> {
    Routes::new()
        .post("/signup", signup_handler)
        .post("/login", login_handler)
        .post("/logout", logout)
        .get("/me", me)
        .delete("/me", super::account::delete_account)
        .patch("/me/profile", update_profile)
        .get("/me/sessions", list_sessions)
        .delete("/me/sessions", revoke_sessions)
        .delete("/me/sessions/{id}", revoke_session)
        .post("/me/reauthenticate", reauthenticate)
        .post("/email-verifications", confirm_email)
        .post("/email-verifications/resend", resend_verification)
}

/// The account as its owner sees it.
#[derive(Serialize, ToSchema)]
pub struct MeView {
    pub id: Uuid,
    pub email: String,
    pub email_verified: bool,
    pub username: String,
    pub name: String,
    pub role: String,
    pub mfa_enabled: bool,
    pub created_at: String,
}

impl From<&User> for MeView {
    fn from(u: &User) -> Self {
        Self {
            id: u.id,
            email: u.email.clone(),
            email_verified: u.email_verified_at.is_some(),
            username: u.username.clone(),
            name: u.name.clone(),
            role: u.role.clone(),
            mfa_enabled: u.mfa_enabled,
            created_at: clock::rfc3339(u.created_at),
        }
    }
}

/// Browsers announce themselves with `Sec-Fetch-*`; anything else is an API client.
pub(super) fn session_kind(headers: &HeaderMap) -> &'static str {
    if headers.contains_key("sec-fetch-site") {
        "web"
    } else {
        "api"
    }
}

#[derive(Deserialize, ToSchema)]
pub struct SignupRequest {
    #[schema(example = "ada@example.com")]
    pub email: String,
    #[schema(example = "ada")]
    pub username: String,
    #[schema(example = "analytical engine notes")]
    pub password: String,
    /// Must be `true`: the terms of service and privacy policy are accepted.
    #[schema(example = true)]
    pub accept_terms: bool,
    pub name: Option<String>,
    /// The token of a team invitation sent to this address: joins the team on sign-up.
    pub invitation: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct SignedInResponse {
    /// `signed_in`
    pub status: &'static str,
    /// Session token (`lks_…`): send as `Authorization: Bearer`. Also set as a cookie.
    pub token: String,
    /// This session's id, as listed by `GET /api/v1/me/sessions`.
    pub session_id: Uuid,
    pub user: MeView,
    pub expires_at: String,
}

/// Create an account
///
/// Creates an account and signs it in: the answer carries a session token (also set as a cookie). Anyone may call it; sign-ups are throttled per IP address. The terms must be accepted (`accept_terms: true`). A confirmation link is mailed to the address. With `invitation`, the token of a team invitation sent to this same address, the account joins that team instead and the address counts as confirmed.
///
/// 409 `email_taken` or `username_taken`: another account uses the address or the username; `username_unavailable`: the username was recently given up and is reserved for a while. 422: a field breaks its rules; `errors` lists each one.
#[utoipa::path(post, path = "/api/v1/signup", tag = "Sign-up and sign-in", request_body = SignupRequest,
    responses((status = 201, body = SignedInResponse), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn signup_handler(
    State(state): State<AppState>,
    Client(client): Client,
    headers: HeaderMap,
    jar: CookieJar,
    Json(req): Json<SignupRequest>,
) -> ApiResult<impl IntoResponse> {
    let input = signup::SignupInput {
        email: req.email,
        username: req.username,
        password: req.password,
        accept_terms: req.accept_terms,
        name: req.name,
        invitation: req.invitation,
    };
    let done = signup::signup(&state, &input, session_kind(&headers), &client).await?;
    let jar = jar.add(cookies::session(&state.settings, &done.session));
    Ok((
        StatusCode::CREATED,
        jar,
        Json(signed_in(&done.user, done.session)),
    ))
}

pub(super) fn signed_in(user: &User, session: sessions::Issued) -> SignedInResponse {
    SignedInResponse {
        status: "signed_in",
        expires_at: clock::rfc3339(session.expires_at),
        session_id: session.session_id,
        token: session.token.into_string(),
        user: MeView::from(user),
    }
}

#[derive(Deserialize, ToSchema)]
pub struct LoginRequest {
    /// Username or email address, in any case.
    pub login: String,
    pub password: String,
    #[serde(default)]
    pub remember_me: bool,
}

/// Sign in
///
/// Signs in with a username or email address and the password. Without two-factor authentication the answer is a session (`status: signed_in`, token also set as a cookie); with it, the answer is `status: mfa_required` with an `mfa_token` to finish at `POST /api/v1/login/mfa`. `remember_me` makes a session that does not end after a spell of inactivity and lasts longer.
///
/// 401 `invalid_credentials`: the login or the password is wrong (the answer does not say which). Failed passwords are throttled per account and per IP address (429 `rate_limited`, with `Retry-After`). 403 `password_reset_required`: the password is on the breached list; a reset link was mailed.
#[utoipa::path(post, path = "/api/v1/login", tag = "Sign-up and sign-in", request_body = LoginRequest,
    responses((status = 200, body = LoginResponse), (status = 401, body = Problem),
        (status = 403, description = "`password_reset_required`: the password is on the breached list; a reset link was mailed", body = Problem),
        (status = 429, body = Problem)))]
async fn login_handler(
    State(state): State<AppState>,
    Client(client): Client,
    headers: HeaderMap,
    jar: CookieJar,
    Json(req): Json<LoginRequest>,
) -> ApiResult<impl IntoResponse> {
    let kind = session_kind(&headers);
    match login::login(
        &state,
        &req.login,
        &req.password,
        req.remember_me,
        kind,
        &client,
    )
    .await?
    {
        login::Outcome::SignedIn(done) => {
            let jar = jar.add(cookies::session(&state.settings, &done.session));
            Ok((
                jar,
                Json(LoginResponse::SignedIn(signed_in(&done.user, done.session))),
            ))
        }
        login::Outcome::MfaRequired { mfa_token, methods } => Ok((
            jar,
            Json(LoginResponse::MfaRequired(MfaRequiredResponse {
                status: "mfa_required",
                mfa_token,
                methods,
            })),
        )),
    }
}

/// Either signed in, or asked for a second factor (`POST /api/v1/login/mfa`).
#[derive(Serialize, ToSchema)]
#[serde(untagged)]
pub enum LoginResponse {
    SignedIn(SignedInResponse),
    MfaRequired(MfaRequiredResponse),
}

#[derive(Serialize, ToSchema)]
pub struct MfaRequiredResponse {
    /// `mfa_required`
    pub status: &'static str,
    /// Valid for 5 minutes; send it with a code to `/api/v1/login/mfa`.
    pub mfa_token: String,
    /// How this account can finish: `totp`, `recovery_code`, and `security_key` when it has
    /// security keys (get a challenge from `/api/v1/login/mfa/security-key`).
    pub methods: Vec<&'static str>,
}

/// Sign out
///
/// Ends the session that makes the request and clears the session cookie. Other sessions of the account stay signed in (see `DELETE /api/v1/me/sessions` to end them).
#[utoipa::path(post, path = "/api/v1/logout", tag = "Sign-up and sign-in", responses((status = 204), (status = 401, body = Problem)))]
async fn logout(
    State(state): State<AppState>,
    Auth(me): Auth,
    jar: CookieJar,
) -> ApiResult<impl IntoResponse> {
    sessions::logout(&state, &me).await?;
    Ok((
        StatusCode::NO_CONTENT,
        jar.add(cookies::clear_session(&state.settings)),
    ))
}

/// Get your account
///
/// The signed-in account as its owner sees it: email address and whether it is confirmed, username, name, role, whether two-factor authentication is on, and when the account was created.
#[utoipa::path(get, path = "/api/v1/me", tag = "Account", responses((status = 200, body = MeView), (status = 401, body = Problem)))]
async fn me(Auth(me): Auth) -> Json<MeView> {
    Json(MeView::from(&me.user))
}

#[derive(Deserialize, ToSchema)]
pub struct ProfileRequest {
    pub name: Option<String>,
    /// One of `developer`, `qa_engineer`, `devops`, `architect`, `product_manager`,
    /// `technical_writer`, `student`, `other`.
    pub role: Option<String>,
    pub username: Option<String>,
}

/// Update your profile
///
/// Changes the display name, the role and/or the username of the signed-in account; fields left out stay as they are. Answers with the account as it now is.
///
/// 409 `username_taken`: another account has the username; `username_unavailable`: it was recently given up and is reserved for a while; `changed_meanwhile`: the account changed while this was being done, so try again. 422: a field breaks its rules.
#[utoipa::path(patch, path = "/api/v1/me/profile", tag = "Profile", request_body = ProfileRequest,
    responses((status = 200, body = MeView), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn update_profile(
    State(state): State<AppState>,
    Auth(me): Auth,
    Json(req): Json<ProfileRequest>,
) -> ApiResult<Json<MeView>> {
    let change = profile::ProfileChange {
        name: req.name,
        role: req.role,
        username: req.username,
    };
    let user = profile::update(&state, &me, &change).await?;
    Ok(Json(MeView::from(&user)))
}

#[derive(Deserialize, ToSchema)]
pub struct ConfirmEmailRequest {
    pub token: String,
}

#[derive(Serialize, ToSchema)]
pub struct ConfirmEmailResponse {
    pub email_verified: bool,
}

/// Confirm an email address
///
/// Confirms the address a link was mailed to, with the token from the link: the address given at sign-up, or the new address of an email change (which then takes effect). No session is needed: the token is the proof.
///
/// 400 `invalid_token`: the link is unknown, expired, already used or superseded by a newer one.
#[utoipa::path(post, path = "/api/v1/email-verifications", tag = "Sign-up and sign-in", request_body = ConfirmEmailRequest,
    responses((status = 200, body = ConfirmEmailResponse), (status = 400, body = Problem)))]
async fn confirm_email(
    State(state): State<AppState>,
    Client(client): Client,
    Json(req): Json<ConfirmEmailRequest>,
) -> ApiResult<Json<ConfirmEmailResponse>> {
    verify::confirm(&state, &req.token, &client).await?;
    Ok(Json(ConfirmEmailResponse {
        email_verified: true,
    }))
}

/// Resend the confirmation email
///
/// Mails a new confirmation link to the signed-in account's address. Throttled per account (429 `rate_limited`).
///
/// 409 `already_verified`: the address is already confirmed.
#[utoipa::path(post, path = "/api/v1/email-verifications/resend", tag = "Sign-up and sign-in",
    responses((status = 202), (status = 409, body = Problem), (status = 429, body = Problem)))]
async fn resend_verification(
    State(state): State<AppState>,
    Auth(me): Auth,
) -> ApiResult<StatusCode> {
    verify::resend(&state, &me).await?;
    Ok(StatusCode::ACCEPTED)
}

/// List your sessions
///
/// Every signed-in session of the account (`web` for browsers, `api` for clients with a bearer token), with its device, IP address, and when it started, was last seen and expires; `current` marks the calling one. Each session's `id` is what `DELETE /api/v1/me/sessions/{id}` takes.
#[utoipa::path(get, path = "/api/v1/me/sessions", tag = "Sessions",
    responses((status = 200, body = [sessions::SessionView]), (status = 401, body = Problem)))]
async fn list_sessions(
    State(state): State<AppState>,
    Auth(me): Auth,
) -> ApiResult<Json<Vec<sessions::SessionView>>> {
    Ok(Json(sessions::list(&state, &me).await?))
}

#[derive(Deserialize, ToSchema)]
pub struct PasswordRequest {
    pub password: String,
}

/// Confirm your password
///
/// Entering the password again makes this session count as freshly signed in for 15 minutes, which ending other sessions requires. Wrong passwords are throttled.
///
/// 403 `invalid_password`: the password is wrong.
#[utoipa::path(post, path = "/api/v1/me/reauthenticate", tag = "Sessions",
    request_body = PasswordRequest,
    responses((status = 204, description = "The session counts as freshly signed in for 15 minutes"),
        (status = 403, description = "`invalid_password`", body = Problem)))]
async fn reauthenticate(
    State(state): State<AppState>,
    Auth(me): Auth,
    Json(req): Json<PasswordRequest>,
) -> ApiResult<StatusCode> {
    crate::auth::reauth::reauthenticate(&state, &me, &req.password).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Sign out a session
///
/// Ends one session of the account. Ending the calling session is signing out (and clears its cookie). Ending another session needs a recent sign-in, so a stolen session cannot lock its owner out.
///
/// 403 `reauthentication_required`: sign in again or confirm the password (`POST /api/v1/me/reauthenticate`) first. 404: the account has no session with this id.
#[utoipa::path(delete, path = "/api/v1/me/sessions/{id}", tag = "Sessions",
    params(("id" = Uuid, Path)), responses((status = 204),
        (status = 403, description = "`reauthentication_required`: ending another session needs a sign-in or `POST /api/v1/me/reauthenticate` within 15 minutes", body = Problem),
        (status = 404, body = Problem)))]
async fn revoke_session(
    State(state): State<AppState>,
    Auth(me): Auth,
    jar: CookieJar,
    Path(id): Path<Uuid>,
) -> ApiResult<impl IntoResponse> {
    sessions::revoke(&state, &me, id).await?;
    let jar = if id == me.session_id {
        jar.add(cookies::clear_session(&state.settings))
    } else {
        jar
    };
    Ok((StatusCode::NO_CONTENT, jar))
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct RevokeScope {
    /// `others` keeps this session; `all` signs this one out too.
    pub scope: Scope,
}

#[derive(Deserialize, Clone, Copy, PartialEq, Eq, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    Others,
    All,
}

#[derive(Serialize, ToSchema)]
pub struct RevokedResponse {
    pub revoked: u64,
}

/// Sign out other sessions
///
/// Ends every session of the account but this one (`scope=others`), or all of them including this one (`scope=all`, which also clears the cookie). Answers with how many sessions ended. Needs a recent sign-in.
///
/// 403 `reauthentication_required`: sign in again or confirm the password (`POST /api/v1/me/reauthenticate`) first.
#[utoipa::path(delete, path = "/api/v1/me/sessions", tag = "Sessions", params(RevokeScope),
    responses((status = 200, body = RevokedResponse), (status = 400, body = Problem),
        (status = 403, description = "`reauthentication_required`: needs a sign-in or `POST /api/v1/me/reauthenticate` within 15 minutes", body = Problem)))]
async fn revoke_sessions(
    State(state): State<AppState>,
    Auth(me): Auth,
    jar: CookieJar,
    Query(q): Query<RevokeScope>,
) -> ApiResult<impl IntoResponse> {
    let keep_current = q.scope == Scope::Others;
    let revoked = sessions::revoke_all(&state, &me, keep_current).await?;
    let jar = if keep_current {
        jar
    } else {
        jar.add(cookies::clear_session(&state.settings))
    };
    Ok((jar, Json(RevokedResponse { revoked })))
}
