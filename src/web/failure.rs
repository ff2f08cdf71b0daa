//! Failed pages, rendered: a `PageError` becomes an HTML page with the normal header of
//! whoever is signed in, an unknown address a "Not found" page for browsers, and a method an
//! address does not serve a "Not allowed" page, or the form's page for a GET.

use axum::extract::{OptionalFromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
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

fn wants_html(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/html"))
}

/// Unknown paths: a page for browsers, problem+json for everyone else.
pub async fn not_found(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if !wants_html(&headers) {
        return ApiError::not_found().into_response();
    }
    let failure = Failure {
        heading: "Not found",
        text: "There is nothing at this address.".to_owned(),
    };
    failure_page(&state, &headers, StatusCode::NOT_FOUND, failure).await
}

/// A known address asked with a method it does not serve. A browser GETting a form's address
/// (going back to a failed form's answer, or Enter in the address bar) is sent to the page
/// that holds the form, the nearest address above it that `gets` serves; other methods get a
/// "Not allowed" page with the header. Scripts get problem+json.
pub async fn method_not_allowed(
    state: AppState,
    gets: &[String],
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    if !wants_html(&headers) {
        return ApiError::method_not_allowed().into_response();
    }
    if method == Method::GET || method == Method::HEAD {
        return Redirect::to(&form_page(gets, uri.path())).into_response();
    }
    let failure = Failure {
        heading: "Not allowed",
        text: "This address does not answer that kind of request.".to_owned(),
    };
    failure_page(&state, &headers, StatusCode::METHOD_NOT_ALLOWED, failure).await
}

/// The nearest address above `path` that one of the `gets` templates (`/teams/{slug}`)
/// serves, or the start page: `/settings/account/email` → `/settings/account`.
fn form_page(gets: &[String], path: &str) -> String {
    let segments: Vec<&str> = path.split('/').skip(1).collect();
    if segments.iter().any(|s| s.is_empty()) {
        return "/".to_owned();
    }
    (1..segments.len())
        .rev()
        .map(|n| &segments[..n])
        .find(|above| gets.iter().any(|t| serves(t, above)))
        .map_or_else(|| "/".to_owned(), |above| format!("/{}", above.join("/")))
}

/// Whether the route template `template` serves the path made of `segments`.
fn serves(template: &str, segments: &[&str]) -> bool {
    let parts: Vec<&str> = template.split('/').skip(1).collect();
    parts.len() == segments.len()
        && parts
            .iter()
            .zip(segments)
            .all(|(part, segment)| part.starts_with('{') || part == segment)
}

#[cfg(test)]
mod tests {
    use super::form_page;

    #[test]
    fn a_form_address_leads_to_the_page_above_it() {
        let gets = [
            "/",
            "/settings/account",
            "/teams/{slug}",
            "/teams/{slug}/members",
        ]
        .map(str::to_owned);
        for (path, page) in [
            ("/settings/account/email", "/settings/account"),
            ("/settings/account/2fa/enable", "/settings/account"),
            ("/teams/acme/members/bob/role", "/teams/acme/members"),
            ("/teams/acme/join", "/teams/acme"),
            ("/logout", "/"),
            ("//evil.example/x", "/"),
        ] {
            assert_eq!(form_page(&gets, path), page, "{path}");
        }
    }
}
