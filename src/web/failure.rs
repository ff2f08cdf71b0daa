//! Failed pages, rendered: a `PageError` becomes an HTML page with the normal header of
//! whoever is signed in, and an unknown address a "Not found" page for browsers.

use axum::extract::{OptionalFromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum_extra::extract::CookieJar;

use super::error::Failure;
use super::page::Page;
use crate::http::extract::Auth;
use crate::http::problem::ApiError;
use crate::state::AppState;

/// The page layer's middleware: a handler's failure becomes a whole page with the header of
/// the person who asked, and keeps the cookies the handler set.
pub async fn render_failures(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let headers = req.headers().clone();
    let res = next.run(req).await;
    let Some(failure) = res.extensions().get::<Failure>().cloned() else {
        return res;
    };
    let (mut parts, _) = res.into_parts();
    let page = failure_page(&state, &headers, parts.status, failure).await;
    parts.headers.remove(header::CONTENT_TYPE);
    parts.headers.remove(header::CONTENT_LENGTH);
    let (page_parts, body) = page.into_parts();
    for (name, value) in &page_parts.headers {
        parts.headers.append(name, value.clone());
    }
    Response::from_parts(parts, body)
}

async fn failure_page(
    state: &AppState,
    headers: &HeaderMap,
    status: StatusCode,
    failure: Failure,
) -> Response {
    let mut parts = Request::new(()).into_parts().0;
    parts.headers = headers.clone();
    let me = signed_in(state, &mut parts).await;
    let page = match Page::build(state, CookieJar::from_headers(headers), me).await {
        Ok(page) => page.message(status, failure.heading, failure.text.clone()),
        Err(e) => Err(e),
    };
    // When even the context cannot be built (the database is gone), the words still go out.
    page.unwrap_or_else(|_| (status, failure.text).into_response())
}

async fn signed_in(state: &AppState, parts: &mut Parts) -> Option<crate::auth::Current> {
    <Auth as OptionalFromRequestParts<AppState>>::from_request_parts(parts, state)
        .await
        .ok()
        .flatten()
        .map(|Auth(me)| me)
}

/// Unknown paths: a page for browsers, problem+json for everyone else.
pub async fn not_found(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let wants_html = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/html"));
    if !wants_html {
        return ApiError::not_found().into_response();
    }
    let failure = Failure {
        heading: "Not found",
        text: "There is nothing at this address.".to_owned(),
    };
    failure_page(&state, &headers, StatusCode::NOT_FOUND, failure).await
}
