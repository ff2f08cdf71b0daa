//! How pages fail: one error type for every page handler, rendered as an HTML page with the
//! normal header of whoever is signed in. The wording comes from the API's table (`ApiError`),
//! so a refusal reads the same in a browser and in a terminal.

use std::borrow::Cow;

use axum::extract::{OptionalFromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;

use super::page::Page;
use crate::error::Error;
use crate::http::extract::Auth;
use crate::http::problem::ApiError;
use crate::state::AppState;

#[derive(Debug)]
pub enum PageError {
    /// A use-case refusal or failure, worded by the one table.
    Refused(ApiError),
    /// Words of the page's own, for what only a page can say ("This link cannot be used").
    Message {
        status: StatusCode,
        heading: &'static str,
        text: Cow<'static, str>,
    },
    /// Signed-out visitors of a signed-in page go to `/login`.
    SignIn,
}

impl PageError {
    pub fn message(
        status: StatusCode,
        heading: &'static str,
        text: impl Into<Cow<'static, str>>,
    ) -> Self {
        Self::Message {
            status,
            heading,
            text: text.into(),
        }
    }

    pub fn not_found(text: &'static str) -> Self {
        Self::message(StatusCode::NOT_FOUND, "Not found", text)
    }
}

impl From<Error> for PageError {
    fn from(e: Error) -> Self {
        Self::Refused(e.into())
    }
}

impl From<ApiError> for PageError {
    fn from(e: ApiError) -> Self {
        Self::Refused(e)
    }
}

/// The messages a form shows for `e`; what no edit of the form can fix (our own failures)
/// answers with a whole page instead.
pub fn form_messages(e: Error) -> Result<Vec<String>, PageError> {
    let refused = ApiError::from(e);
    if refused.status().is_server_error() && refused.code() != "overloaded" {
        return Err(PageError::Refused(refused));
    }
    Ok(refused.messages())
}

/// A heading for a refusal that came with no words of the page's own.
fn heading(status: StatusCode) -> &'static str {
    match status.as_u16() {
        401 => "Sign in again",
        403 => "Not allowed",
        404 => "Not found",
        429 => "Too many attempts",
        503 => "The server is busy",
        500..=599 => "Something went wrong",
        _ => "That did not work",
    }
}

/// Carried from a failed handler to `render_failures`, which knows the request.
#[derive(Clone)]
struct Failure {
    heading: &'static str,
    text: String,
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let (status, heading, text, retry_after) = match self {
            Self::SignIn => return Redirect::to("/login").into_response(),
            Self::Refused(e) => (
                e.status(),
                heading(e.status()),
                e.detail().to_owned(),
                e.retry_after(),
            ),
            Self::Message {
                status,
                heading,
                text,
            } => (status, heading, text.into_owned(), None),
        };
        // Plain text until the failure layer wraps it in the page layout.
        let mut res = (status, text.clone()).into_response();
        if let Some(secs) = retry_after {
            res.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        res.extensions_mut().insert(Failure { heading, text });
        res
    }
}

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
