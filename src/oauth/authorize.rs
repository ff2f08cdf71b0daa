//! The browser step of the code flow: `/oauth/authorize` checks the CLI's request and records
//! it, and the person signed in to this browser approves or skips it on the consent page.

use url::Url;
use uuid::Uuid;

use super::{CLIENT_ID, CODE_TTL_SECS, REQUEST_TTL_SECS};
use crate::auth::Current;
use crate::domain::{SecretToken, TokenKind};
use crate::error::{Error, Result};
use crate::state::AppState;
use crate::store::{OauthCode, OauthRequest};

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

/// Validates an authorization request and records it for the browser step.
pub async fn start(
    state: &AppState,
    p: &AuthorizeParams,
) -> std::result::Result<Uuid, AuthorizeError> {
    let now = crate::clock::now();
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
        device_name: super::clean_device_name(p.device_name.as_deref()),
        expires_at: now + REQUEST_TTL_SECS,
    })
}

/// A browser step still in progress; `InvalidToken` once it expired or was answered.
pub async fn pending(state: &AppState, id: Uuid) -> Result<OauthRequest> {
    state
        .store
        .oauth_request(id)
        .await?
        .filter(|r| r.expires_at > crate::clock::now())
        .ok_or(Error::InvalidToken)
}

/// The person approved: a 60-second code goes back to the CLI's loopback address.
pub async fn approve(state: &AppState, me: &Current, id: Uuid) -> Result<String> {
    let request = pending(state, id).await?;
    if !state.store.take_oauth_request(id).await? {
        return Err(Error::InvalidToken);
    }
    let now = crate::clock::now();
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

#[cfg(test)]
mod tests {
    use super::is_loopback_redirect;

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
}
