//! Cross-cutting request handling: request ids and logs, CSRF origin checks, security headers.

use std::time::Instant;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum_extra::extract::CookieJar;
use tracing::Instrument;

use super::problem::{ApiError, REQUEST_ID};
use crate::state::{AppState, Settings};

/// Gives every request an id (in the log span, the `X-Request-Id` header and error bodies) and
/// logs one line when it completes. Paths carrying secrets are redacted first.
pub async fn observe(req: Request, next: Next) -> Response {
    let id = uuid::Uuid::new_v4().simple().to_string();
    let span = tracing::info_span!(
        "request",
        method = %req.method(),
        path = %redact(req.uri().path()),
        request_id = %id,
    );
    let started = Instant::now();
    let mut res = REQUEST_ID
        .scope(id.clone(), next.run(req))
        .instrument(span.clone())
        .await;
    let status = res.status().as_u16();
    let elapsed_us = started.elapsed().as_micros();
    span.in_scope(|| tracing::info!(status, elapsed_us, "handled"));
    if let Ok(v) = HeaderValue::from_str(&id) {
        res.headers_mut().insert("x-request-id", v);
    }
    res
}

/// Replaces the token in links that carry one (`/verify/{token}` …) so logs never hold it.
pub fn redact(path: &str) -> String {
    for marker in [
        "/verify/",
        "/reset/",
        "/invitations/",
        "/email-change/undo/",
    ] {
        if let Some(at) = path.find(marker) {
            let rest = &path[at + marker.len()..];
            let tail = rest.find('/').map_or("", |i| &rest[i..]);
            return format!("{}{marker}[redacted]{tail}", &path[..at]);
        }
    }
    path.to_owned()
}

/// Runs before any extractor reads cookies (see `cookies::drop_encoded_names`).
pub async fn plain_cookie_names(mut req: Request, next: Next) -> Response {
    super::cookies::drop_encoded_names(req.headers_mut());
    next.run(req).await
}

/// Refuses state-changing requests that a browser sent on behalf of another site (ASVS
/// V4.2.2 / V3.4.3 / V13.2.3). Bearer-token requests cannot be forged that way and pass;
/// cookie requests must come from our own origin according to `Sec-Fetch-Site` or, for older
/// browsers, `Origin`. A request that names no origin at all is a script's, since browsers
/// send one of the two on every unsafe request: it passes only if no cookie signs it in.
/// Forms additionally carry a CSRF token (see `web::csrf`).
pub async fn csrf_origin(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let unsafe_method = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    let forgeable = unsafe_method && !req.headers().contains_key(header::AUTHORIZATION);
    if forgeable
        && !same_origin(&req)
            .unwrap_or_else(|| !signed_in_by_cookie(&state.settings, req.headers()))
    {
        tracing::warn!("cross-site request refused");
        return ApiError::csrf().into_response();
    }
    next.run(req).await
}

/// Where the browser says the request comes from: `Some(true)` for our own origin,
/// `Some(false)` for another, `None` when it sends neither `Sec-Fetch-Site` nor `Origin`.
pub fn same_origin(req: &Request) -> Option<bool> {
    let headers = req.headers();
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        return Some(matches!(site, "same-origin" | "none"));
    }
    let origin = headers.get(header::ORIGIN)?;
    let origin = origin.to_str().unwrap_or("");
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let origin_host = origin.split_once("://").map_or("", |(_, h)| h);
    Some(!host.is_empty() && origin_host.eq_ignore_ascii_case(host))
}

/// Whether the request carries a cookie that signs someone in: the session, or the other
/// accounts of this browser. A stale one counts too; no database is asked.
fn signed_in_by_cookie(settings: &Settings, headers: &HeaderMap) -> bool {
    let jar = CookieJar::from_headers(headers);
    [settings.session_cookie(), settings.accounts_cookie()]
        .iter()
        .any(|name| jar.get(name).is_some())
}

/// Behind a TLS-terminating proxy, a request the proxy received over plain HTTP
/// (`X-Forwarded-Proto: http`) is sent to the HTTPS public URL instead of being served.
pub async fn require_https(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let s = &state.settings;
    let plain = s.behind_proxy
        && s.secure
        && req
            .headers()
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|p| p.eq_ignore_ascii_case("http"));
    if plain {
        let path = req.uri().path_and_query().map_or("/", |p| p.as_str());
        return axum::response::Redirect::permanent(&s.link(path)).into_response();
    }
    next.run(req).await
}

/// The pages' Content Security Policy: our own scripts and styles only, no inline code, no
/// framing, forms posting only to us.
pub const CSP: &str = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// Headers every response carries. The referrer policy matters: links with tokens in their path
/// must not leak through `Referer`. `/docs` gets the same policy: Swagger UI loads its scripts
/// and styles from files, and it shares this origin (and so the session cookie) with the pages.
pub async fn security_headers(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    h.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    h.insert("x-frame-options", HeaderValue::from_static("DENY"));
    h.insert("referrer-policy", HeaderValue::from_static("no-referrer"));
    // A page may set its own policy (the CLI's consent page must let its form redirect to
    // the CLI's loopback address).
    if !h.contains_key("content-security-policy") {
        h.insert("content-security-policy", HeaderValue::from_static(CSP));
    }
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    if state.settings.secure {
        h.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=63072000; includeSubDomains"),
        );
    }
    res
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn tokens_in_paths_are_redacted() {
        assert_eq!(redact("/verify/lkv_secret"), "/verify/[redacted]");
        assert_eq!(
            redact("/invitations/abc/accept"),
            "/invitations/[redacted]/accept"
        );
        assert_eq!(
            redact("/api/v1/invitations/lki_x/accept"),
            "/api/v1/invitations/[redacted]/accept"
        );
        assert_eq!(redact("/api/v1/me"), "/api/v1/me");
    }
}
