//! Extractors shared by the API and the pages: JSON with problem+json rejections, the
//! caller's address and browser, and the signed-in session from cookie or bearer token.

use std::net::SocketAddr;

use axum::extract::{
    ConnectInfo, FromRef, FromRequest, FromRequestParts, OptionalFromRequestParts,
};
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use axum_extra::extract::CookieJar;

use super::problem::ApiError;
use crate::auth::{ClientInfo, Current, sessions};
use crate::error::Error;
use crate::state::AppState;

/// `axum::Json`, but malformed bodies answer with problem+json.
#[derive(FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub struct Json<T>(pub T);

impl<T: serde::Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(ApiError))]
pub struct Path<T>(pub T);

#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub struct Query<T>(pub T);

/// Where the request came from. Behind a proxy (`--behind-proxy`) the address is the one the
/// proxy appended to `X-Forwarded-For`; otherwise forwarded headers are ignored, since anyone
/// can send them.
pub struct Client(pub ClientInfo);

impl<S: Send + Sync> FromRequestParts<S> for Client
where
    AppState: FromRef<S>,
{
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let state = AppState::from_ref(state);
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip().to_string())
            .unwrap_or_default();
        let forwarded = state
            .settings
            .behind_proxy
            .then(|| forwarded_for(&parts.headers))
            .flatten();
        let user_agent = parts
            .headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        Ok(Self(ClientInfo {
            ip: forwarded.unwrap_or(peer),
            user_agent,
        }))
    }
}

/// The address our proxy appended to `X-Forwarded-For`, if it is an IP address. Some proxies
/// (HAProxy's `option forwardfor`) add a line of their own instead of extending the client's,
/// so the answer is at the end of the last line: earlier ones are the client's to forge.
pub fn forwarded_for(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all("x-forwarded-for")
        .iter()
        .next_back()?
        .to_str()
        .ok()?
        .rsplit(',')
        .next()
        .map(|v| v.trim().to_owned())
        .filter(|v| v.parse::<std::net::IpAddr>().is_ok())
}

/// How the session token arrived; only cookies need CSRF protection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    Cookie,
    Bearer,
}

pub fn presented_token(parts: &Parts, cookie_name: &str) -> Option<(String, Via)> {
    if let Some(auth) = parts.headers.get(header::AUTHORIZATION) {
        let value = auth.to_str().ok()?;
        let (scheme, token) = value.split_once(' ')?;
        return scheme
            .eq_ignore_ascii_case("bearer")
            .then(|| (token.trim().to_owned(), Via::Bearer));
    }
    let jar = CookieJar::from_headers(&parts.headers);
    jar.get(cookie_name)
        .map(|c| (c.value().to_owned(), Via::Cookie))
}

/// The signed-in caller; 401 `unauthenticated` otherwise.
pub struct Auth(pub Current);

impl FromRequestParts<AppState> for Auth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let found =
            <Self as OptionalFromRequestParts<AppState>>::from_request_parts(parts, state).await?;
        found.ok_or_else(|| Error::Unauthenticated.into())
    }
}

impl OptionalFromRequestParts<AppState> for Auth {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Option<Self>, ApiError> {
        if let Some(current) = parts.extensions.get::<Current>() {
            return Ok(Some(Self(current.clone())));
        }
        let Some((token, _)) = presented_token(parts, state.settings.session_cookie()) else {
            return Ok(None);
        };
        let current = sessions::authenticate(state, &token).await?;
        if let Some(c) = &current {
            parts.extensions.insert(c.clone());
        }
        Ok(current.map(Self))
    }
}

#[cfg(test)]
mod tests {
    use axum::http::{HeaderMap, HeaderValue};

    use super::forwarded_for;

    fn forwarded(lines: &[&'static str]) -> Option<String> {
        let mut headers = HeaderMap::new();
        for line in lines {
            headers.append("x-forwarded-for", HeaderValue::from_static(line));
        }
        forwarded_for(&headers)
    }

    #[test]
    fn the_client_is_what_the_proxy_appended_last() {
        assert_eq!(forwarded(&["203.0.113.7"]).as_deref(), Some("203.0.113.7"));
        assert_eq!(
            forwarded(&["6.6.6.6, 203.0.113.7"]).as_deref(),
            Some("203.0.113.7")
        );
        assert_eq!(forwarded(&["6.6.6.6, not-an-ip"]), None);
        assert_eq!(forwarded(&[]), None);
    }

    #[test]
    fn a_forged_line_before_the_proxys_own_line_is_ignored() {
        assert_eq!(
            forwarded(&["6.6.6.6", "203.0.113.7"]).as_deref(),
            Some("203.0.113.7")
        );
        assert_eq!(forwarded(&["6.6.6.6", "garbage"]), None);
    }
}
