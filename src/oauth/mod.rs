//! The authorization server for our own CLI (`latchkey login`): the authorization code flow
//! with PKCE S256 and loopback redirects (RFC 6749, 7636, 8252), device authorization
//! (RFC 8628), refresh-token rotation and revocation (RFC 7009). A grant is a session of kind
//! `cli`, listed and revoked like any other; its tokens end with it.

pub mod device;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;
use sha2::{Digest, Sha256};
use url::Url;
use uuid::Uuid;

use crate::auth::sessions;
use crate::auth::{ClientInfo, Current};
use crate::domain::{SecretToken, TokenHash, TokenKind};
use crate::error::{Error, Result};
use crate::state::AppState;
use crate::store::{OauthCode, OauthRequest};

/// How CLI grants are named in the session list ("Latchkey CLI on <host>"); it lives beside
/// `describe_device`, which shows such names as they are.
pub use crate::auth::sessions::CLI_NAME;

pub const CLIENT_ID: &str = "latchkey-cli";
pub const REQUEST_TTL_SECS: i64 = 5 * 60;
pub const CODE_TTL_SECS: i64 = 60;
pub const ACCESS_TTL_SECS: i64 = 3600;

/// An error of the token, device and revocation endpoints, as RFC 6749 §5.2 spells them.
#[derive(Debug)]
pub struct OauthError {
    pub error: &'static str,
    pub description: &'static str,
}

impl OauthError {
    pub const fn new(error: &'static str, description: &'static str) -> Self {
        Self { error, description }
    }
}

impl From<Error> for OauthError {
    fn from(e: Error) -> Self {
        tracing::error!(error = ?e, "oauth");
        Self::new("server_error", "Something went wrong on our side.")
    }
}

impl From<crate::store::StoreError> for OauthError {
    fn from(e: crate::store::StoreError) -> Self {
        Error::from(e).into()
    }
}

/// `/oauth/authorize`'s query.
#[derive(Debug, Default, serde::Deserialize)]
pub struct AuthorizeParams {
    pub response_type: Option<String>,
    pub client_id: Option<String>,
    pub redirect_uri: Option<String>,
    pub code_challenge: Option<String>,
    pub code_challenge_method: Option<String>,
    pub state: Option<String>,
    /// The CLI's host name, shown on the consent page and in the session list.
    pub device_name: Option<String>,
}

/// Loopback redirect URIs only (RFC 8252 §7.3): `http://127.0.0.1:<port>/…` or
/// `http://[::1]:<port>/…`, nothing else.
pub fn is_loopback_redirect(uri: &str) -> bool {
    if uri.chars().any(char::is_control) {
        return false;
    }
    let Ok(url) = Url::parse(uri) else {
        return false;
    };
    let loopback = matches!(url.host(), Some(url::Host::Ipv4(ip)) if ip.is_loopback() && ip.octets() == [127, 0, 0, 1])
        || matches!(url.host(), Some(url::Host::Ipv6(ip)) if ip.is_loopback());
    url.scheme() == "http"
        && loopback
        && url.port().is_some()
        && url.username().is_empty()
        && url.password().is_none()
        && url.fragment().is_none()
}

fn with_query(uri: &str, pairs: &[(&str, &str)]) -> String {
    let mut url = Url::parse(uri).expect("validated before");
    url.query_pairs_mut().extend_pairs(pairs);
    url.into()
}

/// What to do with a bad authorization request: redirect errors only to a redirect URI we
/// trust; otherwise an error page.
pub enum AuthorizeError {
    Page(&'static str),
    Redirect(String),
}

fn clean_device_name(raw: Option<&str>) -> String {
    let name: String = raw
        .unwrap_or("")
        .chars()
        .filter(|c| !c.is_control())
        .take(64)
        .collect();
    if name.trim().is_empty() {
        "an unnamed computer".to_owned()
    } else {
        name.trim().to_owned()
    }
}

/// Validates an authorization request and records it for the browser step.
pub async fn start(
    state: &AppState,
    p: &AuthorizeParams,
) -> std::result::Result<Uuid, AuthorizeError> {
    let now = state.clock.now();
    let request = authorize_request(p, now)?;
    state
        .store
        .insert_oauth_request(&request, now)
        .await
        .map_err(|_| AuthorizeError::Page("Something went wrong on our side."))?;
    Ok(request.id)
}

/// What an authorization request asks for, checked: the record the browser step works from.
pub fn authorize_request(
    p: &AuthorizeParams,
    now: i64,
) -> std::result::Result<OauthRequest, AuthorizeError> {
    if p.client_id.as_deref() != Some(CLIENT_ID) {
        return Err(AuthorizeError::Page(
            "This sign-in link is not for a client Latchkey knows.",
        ));
    }
    let redirect = p.redirect_uri.as_deref().unwrap_or("");
    if !is_loopback_redirect(redirect) {
        return Err(AuthorizeError::Page(
            "This sign-in link sends its answer somewhere other than your own computer, so it was refused.",
        ));
    }
    // Echoed back as given, within reason: no control characters, at most 512 of them.
    let state_param: String = p
        .state
        .clone()
        .unwrap_or_default()
        .chars()
        .filter(|c| !c.is_control())
        .take(512)
        .collect();
    let fail = |error: &str, description: &str| {
        AuthorizeError::Redirect(with_query(
            redirect,
            &[
                ("error", error),
                ("error_description", description),
                ("state", &state_param),
            ],
        ))
    };
    if p.response_type.as_deref() != Some("code") {
        return Err(fail(
            "unsupported_response_type",
            "Only response_type=code is supported.",
        ));
    }
    if p.code_challenge_method.as_deref() != Some("S256") {
        return Err(fail(
            "invalid_request",
            "PKCE with code_challenge_method=S256 is required.",
        ));
    }
    let challenge = p.code_challenge.clone().unwrap_or_default();
    if challenge.len() != 43
        || !challenge
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err(fail(
            "invalid_request",
            "code_challenge must be a base64url SHA-256 digest.",
        ));
    }
    Ok(OauthRequest {
        id: Uuid::now_v7(),
        redirect_uri: redirect.to_owned(),
        code_challenge: challenge,
        state: state_param,
        device_name: clean_device_name(p.device_name.as_deref()),
        expires_at: now + REQUEST_TTL_SECS,
    })
}

/// A browser step still in progress; `InvalidToken` once it expired or was answered.
pub async fn pending(state: &AppState, id: Uuid) -> Result<OauthRequest> {
    state
        .store
        .oauth_request(id)
        .await?
        .filter(|r| r.expires_at > state.clock.now())
        .ok_or(Error::InvalidToken)
}

/// The person approved: a 60-second code goes back to the CLI's loopback address.
pub async fn approve(state: &AppState, me: &Current, id: Uuid) -> Result<String> {
    let request = pending(state, id).await?;
    if !state.store.take_oauth_request(id).await? {
        return Err(Error::InvalidToken);
    }
    let now = state.clock.now();
    let code = SecretToken::generate(TokenKind::AuthCode);
    let record = OauthCode {
        user_id: me.user.id,
        redirect_uri: request.redirect_uri.clone(),
        code_challenge: request.code_challenge,
        device_name: request.device_name,
        expires_at: now + CODE_TTL_SECS,
        used_at: None,
        session_id: None,
        authenticated_at: state.store.credentials_entered_at(me.session_id).await?,
    };
    state
        .store
        .insert_oauth_code(&code.hash().0, &record, now)
        .await?;
    Ok(with_query(
        &request.redirect_uri,
        &[("code", code.as_str()), ("state", &request.state)],
    ))
}

/// The person chose "Skip": the CLI hears `access_denied`.
pub async fn skip(state: &AppState, id: Uuid) -> Result<String> {
    let request = pending(state, id).await?;
    state.store.take_oauth_request(id).await?;
    Ok(with_query(
        &request.redirect_uri,
        &[("error", "access_denied"), ("state", &request.state)],
    ))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: i64,
    pub refresh_token: String,
}

/// Starts a CLI grant: a `cli` session and its first tokens. A grant to a machine that has not
/// signed in to the account lately is mailed to the owner; the caller wakes the mail worker.
async fn grant(
    tx: &mut crate::store::Tx,
    state: &AppState,
    user_id: Uuid,
    device_name: &str,
    authenticated_at: Option<i64>,
    client: &ClientInfo,
) -> Result<(Uuid, TokenResponse)> {
    let named = ClientInfo {
        ip: client.ip.clone(),
        user_agent: format!("{CLI_NAME} on {device_name}"),
    };
    let session = sessions::issue(tx, user_id, "cli", true, &named, state.clock.now()).await?;
    // No password was typed for this session: its credentials are as old as the approver's,
    // so a grant approved from an old session cannot end other sessions (ASVS V3.3.4).
    tx.set_credentials_entered_at(session.session_id, authenticated_at.unwrap_or(0))
        .await?;
    if session.new_device
        && let Some(user) = tx.user_by_id(user_id).await?
    {
        crate::mail::notices::new_sign_in(tx, state, &user, &named).await?;
    }
    let now = state.clock.now();
    let tokens = mint(tx, session.session_id, session.expires_at, now).await?;
    Ok((session.session_id, tokens))
}

/// New access and refresh tokens for a grant ending at `grant_ends`.
async fn mint(
    tx: &mut crate::store::Tx,
    session_id: Uuid,
    grant_ends: i64,
    now: i64,
) -> Result<TokenResponse> {
    let access = SecretToken::generate(TokenKind::AccessToken);
    let refresh = SecretToken::generate(TokenKind::RefreshToken);
    let access_ends = (now + ACCESS_TTL_SECS).min(grant_ends);
    tx.insert_oauth_token(&access.hash().0, session_id, "access", now, access_ends)
        .await?;
    tx.insert_oauth_token(&refresh.hash().0, session_id, "refresh", now, grant_ends)
        .await?;
    Ok(TokenResponse {
        access_token: access.into_string(),
        token_type: "Bearer",
        expires_in: access_ends - now,
        refresh_token: refresh.into_string(),
    })
}

pub fn pkce_matches(verifier: &str, challenge: &str) -> bool {
    let shape = (43..=128).contains(&verifier.len())
        && verifier
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'));
    shape && URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes())) == challenge
}

const BAD_CODE: OauthError = OauthError::new(
    "invalid_grant",
    "The code is invalid, expired or already used.",
);

/// `grant_type=authorization_code`. A code works once; a replay revokes what it produced.
pub async fn exchange_code(
    state: &AppState,
    code: &str,
    redirect_uri: &str,
    verifier: &str,
    client: &ClientInfo,
) -> std::result::Result<TokenResponse, OauthError> {
    let hash = TokenHash::of_kind(code, TokenKind::AuthCode).ok_or(BAD_CODE)?;
    let now = state.clock.now();
    let mut tx = state.store.begin().await?;
    let (record, fresh) = tx.claim_oauth_code(&hash.0, now).await?.ok_or(BAD_CODE)?;
    if !fresh {
        tx.commit().await?;
        if let Some(session) = record.session_id {
            tracing::warn!(session = %session, "authorization code replayed; its grant is revoked");
            state.store.end_session(session).await?;
        }
        return Err(BAD_CODE);
    }
    if record.expires_at <= now || record.redirect_uri != redirect_uri {
        tx.commit().await?;
        return Err(BAD_CODE);
    }
    if !pkce_matches(verifier, &record.code_challenge) {
        tx.commit().await?;
        return Err(OauthError::new(
            "invalid_grant",
            "The code_verifier does not match the code_challenge.",
        ));
    }
    let (session_id, tokens) = grant(
        &mut tx,
        state,
        record.user_id,
        &record.device_name,
        record.authenticated_at,
        client,
    )
    .await?;
    tx.set_code_session(&hash.0, session_id).await?;
    tx.commit().await?;
    state.mail_queued.notify_one();
    Ok(tokens)
}

const BAD_REFRESH: OauthError = OauthError::new(
    "invalid_grant",
    "The refresh token is invalid, expired or revoked.",
);

/// `grant_type=refresh_token`: rotates. Presenting a spent refresh token again ends the whole
/// grant, since one of the two holders must be a thief.
pub async fn refresh(
    state: &AppState,
    token: &str,
) -> std::result::Result<TokenResponse, OauthError> {
    let hash = TokenHash::of_kind(token, TokenKind::RefreshToken).ok_or(BAD_REFRESH)?;
    let now = state.clock.now();
    let record = state
        .store
        .oauth_token(&hash.0)
        .await?
        .filter(|t| t.kind == "refresh")
        .ok_or(BAD_REFRESH)?;
    if record.expires_at <= now {
        return Err(BAD_REFRESH);
    }
    let mut tx = state.store.begin().await?;
    if !tx.spend_refresh_token(&hash.0, now).await? {
        drop(tx);
        tracing::warn!(session = %record.session_id, "refresh token reused; the grant is revoked");
        state.store.end_session(record.session_id).await?;
        return Err(BAD_REFRESH);
    }
    let tokens = mint(&mut tx, record.session_id, record.expires_at, now).await?;
    tx.commit().await?;
    Ok(tokens)
}

/// RFC 7009: revoking either token of a grant ends the grant. Unknown tokens are fine.
pub async fn revoke(state: &AppState, token: &str) -> Result<()> {
    for kind in [TokenKind::AccessToken, TokenKind::RefreshToken] {
        if let Some(hash) = TokenHash::of_kind(token, kind)
            && let Some(record) = state.store.oauth_token(&hash.0).await?
        {
            state.store.end_session(record.session_id).await?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{is_loopback_redirect, pkce_matches};

    #[test]
    fn only_loopback_redirects_with_a_port_are_accepted() {
        for ok in [
            "http://127.0.0.1:53682/callback",
            "http://[::1]:8000/",
            "http://127.0.0.1:1/x?y=1",
        ] {
            assert!(is_loopback_redirect(ok), "{ok}");
        }
        for bad in [
            "https://127.0.0.1:53682/",
            "http://localhost:53682/",
            "http://127.0.0.1/",
            "http://127.0.0.2:80/",
            "http://evil.example:80/",
            "http://user@127.0.0.1:80/",
            "http://127.0.0.1:80/#frag",
            "not a url",
        ] {
            assert!(!is_loopback_redirect(bad), "{bad}");
        }
    }

    /// RFC 7636 Appendix B.
    #[test]
    fn pkce_s256_matches_the_rfc_example() {
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        assert!(pkce_matches(
            verifier,
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        ));
        assert!(!pkce_matches(
            "x",
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        ));
    }
}
