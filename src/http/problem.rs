//! RFC 9457 problem details. Every failure an API client sees goes through `ApiError`, and this
//! one `match` gives each a status and a stable snake_case `code` to branch on.

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::domain::Invalid;
use crate::error::Error;

mod answers;

tokio::task_local! {
    /// The current request's id, so error bodies can quote it.
    pub static REQUEST_ID: String;
}

#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    detail: String,
    errors: Vec<Invalid>,
    retry_after: Option<u64>,
    teams: Option<Vec<String>>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Problem {
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// Stable machine-readable code, e.g. `invalid_credentials`.
    pub code: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// With `leave_teams_first`: the teams to leave.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub teams: Option<Vec<String>>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct FieldError {
    pub field: String,
    pub code: String,
    pub message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, detail: impl Into<String>) -> Self {
        Self {
            status,
            code,
            detail: detail.into(),
            errors: Vec::new(),
            retry_after: None,
            teams: None,
        }
    }

    /// The human-readable explanation, for pages that show it.
    pub fn detail(&self) -> &str {
        &self.detail
    }

    pub fn status(&self) -> StatusCode {
        self.status
    }

    pub fn code(&self) -> &'static str {
        self.code
    }

    pub fn retry_after(&self) -> Option<u64> {
        self.retry_after
    }

    /// Every sentence a form should show: one per invalid field, or the explanation.
    pub fn messages(self) -> Vec<String> {
        if self.errors.is_empty() {
            vec![self.detail]
        } else {
            self.errors.into_iter().map(|e| e.message).collect()
        }
    }

    pub fn not_found() -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "not_found",
            "There is nothing at this address.",
        )
    }

    pub fn method_not_allowed() -> Self {
        Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            "This method is not allowed here.",
        )
    }

    pub fn csrf() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "csrf_failed",
            "This request came from another site and was refused.",
        )
    }
}

impl From<crate::store::StoreError> for ApiError {
    fn from(e: crate::store::StoreError) -> Self {
        Error::from(e).into()
    }
}

impl From<JsonRejection> for ApiError {
    fn from(r: JsonRejection) -> Self {
        use StatusCode as S;
        match r {
            JsonRejection::JsonDataError(e) => Self::new(
                S::UNPROCESSABLE_ENTITY,
                "invalid_body",
                readable(&e.body_text()),
            ),
            JsonRejection::JsonSyntaxError(e) => {
                Self::new(S::BAD_REQUEST, "invalid_json", e.body_text())
            }
            JsonRejection::MissingJsonContentType(_) => Self::new(
                S::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "Send a JSON body with Content-Type: application/json.",
            ),
            other if other.status() == S::PAYLOAD_TOO_LARGE => Self::new(
                S::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                "Request bodies are limited to 64 KiB.",
            ),
            other => Self::new(S::BAD_REQUEST, "invalid_body", other.body_text()),
        }
    }
}

/// The parser's complaint in words a person reads: "missing field `email` at line 1 column 2"
/// becomes "The field \"email\" is missing."; other complaints keep their words, without the
/// axum preamble.
fn readable(text: &str) -> String {
    let text = text
        .strip_prefix("Failed to deserialize the JSON body into the target type: ")
        .unwrap_or(text);
    match text
        .strip_prefix("missing field `")
        .and_then(|rest| rest.split_once('`'))
    {
        Some((field, _)) => format!("The field \"{field}\" is missing."),
        None => text.to_owned(),
    }
}

impl From<PathRejection> for ApiError {
    fn from(_: PathRejection) -> Self {
        Self::not_found()
    }
}

impl From<QueryRejection> for ApiError {
    fn from(r: QueryRejection) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_query", r.body_text())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = Problem {
            kind: format!("urn:latchkey:problem:{}", self.code),
            title: self.status.canonical_reason().unwrap_or("Error").to_owned(),
            status: self.status.as_u16(),
            detail: self.detail,
            code: self.code.to_owned(),
            request_id: REQUEST_ID.try_with(Clone::clone).ok(),
            teams: self.teams,
            errors: self
                .errors
                .into_iter()
                .map(|e| FieldError {
                    field: e.field.to_owned(),
                    code: e.code.to_owned(),
                    message: e.message,
                })
                .collect(),
        };
        let mut res = (self.status, axum::Json(body)).into_response();
        res.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if let Some(secs) = self.retry_after {
            res.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        res
    }
}
