//! How pages fail: one error type for every page handler. Its words come from the API's table
//! (`ApiError`), so a refusal reads the same in a browser and in a terminal; `failure` renders
//! it inside the page layout.

use std::borrow::Cow;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};

use crate::error::Error;
use crate::http::problem::ApiError;

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
pub(super) struct Failure {
    pub(super) heading: &'static str,
    pub(super) text: String,
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let (status, heading, text, retry_after) = match self {
            Self::SignIn => return Redirect::to("/login").into_response(),
            Self::Refused(e) => {
                let (status, retry_after) = (e.status(), e.retry_after());
                (status, heading(status), e.messages().join(" "), retry_after)
            }
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
