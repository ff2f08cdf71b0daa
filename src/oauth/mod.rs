//! The authorization server for our own CLI (`latchkey login`): the authorization code flow
//! with PKCE S256 and loopback redirects (RFC 6749, 7636, 8252), device authorization
//! (RFC 8628), refresh-token rotation and revocation (RFC 7009). A grant is a session of kind
//! `cli`, listed and revoked like any other; its tokens end with it.

mod authorize;
pub mod device;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::auth::ClientInfo;
use crate::auth::sessions;
use crate::domain::{SecretToken, TokenHash, TokenKind};
use crate::error::{Error, Result};
use crate::state::AppState;

/// How CLI grants are named in the session list ("Latchkey CLI on <host>"); it lives beside
/// `describe_device`, which shows such names as they are.
pub use crate::auth::sessions::CLI_NAME;
pub use authorize::{
    AuthorizeError, AuthorizeParams, approve, authorize_request, is_browser_secret,
    is_loopback_redirect, new_browser_secret, pending, skip, start,
};

pub const CLIENT_ID: &str = "latchkey-cli";
pub const REQUEST_TTL_SECS: i64 = 5 * 60;
pub const CODE_TTL_SECS: i64 = 60;
pub const ACCESS_TTL_SECS: i64 = 3600;

/// The CLI's host name as the consent page and the session list show it.
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
    use super::pkce_matches;

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
