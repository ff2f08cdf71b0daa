//! The browser step of the code flow: `/oauth/authorize` checks the CLI's request and records
//! it for the browser that opened it, and the person signed in to that browser approves or
//! skips it on the consent page. The browser holds a secret in a cookie and the request keeps
//! its hash, so a consent address that reaches another browser (pasted, shared, guessed) shows
//! nothing there and cannot be answered from it (ASVS 4.0.3 V4.2.1).

use subtle::ConstantTimeEq;
use url::Url;
use uuid::Uuid;

use super::{CLIENT_ID, CODE_TTL_SECS, REQUEST_TTL_SECS};
use crate::auth::Current;
use crate::domain::{SecretToken, TokenHash, TokenKind};
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

/// A new secret for a browser to hold for the CLI sign-ins it opens.
pub fn new_browser_secret() -> String {
    SecretToken::generate(TokenKind::ConsentBrowser).into_string()
}

/// Whether a browser's cookie has the shape of such a secret.
pub fn is_browser_secret(presented: &str) -> bool {
    TokenHash::of_kind(presented, TokenKind::ConsentBrowser).is_some()
}

/// Validates an authorization request and records it for the browser step of the browser
/// holding `browser_secret`.
pub async fn start(
    state: &AppState,
    p: &AuthorizeParams,
    browser_secret: &str,
) -> std::result::Result<Uuid, AuthorizeError> {
    let now = state.clock.now();
    let mut request = authorize_request(p, now)?;
    request.browser_hash = Some(TokenHash::of(browser_secret).0);
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
        browser_hash: None,
    })
}

/// A browser step still in progress, for the browser presenting `browser_secret`, the one that
/// opened it. To any other it does not exist (`NotFound`, as when the id names nothing, or the
/// step was answered); `InvalidToken` once it expired.
pub async fn pending(
    state: &AppState,
    id: Uuid,
    browser_secret: Option<&str>,
) -> Result<OauthRequest> {
    let presented = browser_secret.and_then(|s| TokenHash::of_kind(s, TokenKind::ConsentBrowser));
    let request = state
        .store
        .oauth_request(id)
        .await?
        .filter(|r| match (&r.browser_hash, &presented) {
            (Some(kept), Some(presented)) => kept.ct_eq(&presented.0).into(),
            _ => false,
        })
        .ok_or(Error::NotFound("sign-in request"))?;
    if request.expires_at <= state.clock.now() {
        return Err(Error::InvalidToken);
    }
    Ok(request)
}

/// The person approved: a 60-second code goes back to the CLI's loopback address.
pub async fn approve(
    state: &AppState,
    me: &Current,
    id: Uuid,
    browser_secret: Option<&str>,
) -> Result<String> {
    let request = pending(state, id, browser_secret).await?;
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
pub async fn skip(state: &AppState, id: Uuid, browser_secret: Option<&str>) -> Result<String> {
    let request = pending(state, id, browser_secret).await?;
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
