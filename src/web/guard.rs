//! Extractors for form posts: the CSRF token is checked (and, for `SignedInForm`, the session)
//! before a handler runs, so no handler can forget either.

use axum::body::Bytes;
use axum::extract::{FromRequest, OptionalFromRequestParts, Request};
use axum::http::StatusCode;
use axum_extra::extract::CookieJar;
use serde::Deserialize;
use serde::de::DeserializeOwned;

use super::PageError;
use crate::auth::Current;
use crate::http::extract::Auth;
use crate::state::AppState;

#[derive(Deserialize)]
struct CsrfField {
    #[serde(default)]
    csrf: String,
}

/// A form whose CSRF token matched this browser's cookie.
pub struct CheckedForm<T>(pub T);

/// A form from a signed-in person, CSRF-checked. Signed-out visitors go to `/login`.
pub struct SignedInForm<T> {
    pub me: Current,
    pub form: T,
}

fn malformed() -> PageError {
    PageError::message(
        StatusCode::BAD_REQUEST,
        "This form could not be read",
        "This form submission was malformed. Go back and try again.",
    )
}

impl<T: DeserializeOwned + Send> FromRequest<AppState> for CheckedForm<T> {
    type Rejection = PageError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, PageError> {
        let jar = CookieJar::from_headers(req.headers());
        let bytes = Bytes::from_request(req, state).await.map_err(|r| {
            PageError::message(r.status(), "This form could not be read", r.body_text())
        })?;
        let token: CsrfField = serde_urlencoded::from_bytes(&bytes).map_err(|_| malformed())?;
        if !super::csrf::check(&state.settings, &jar, &token.csrf) {
            return Err(PageError::message(
                StatusCode::FORBIDDEN,
                "This form has expired",
                "Go back, reload the page and submit the form again.",
            ));
        }
        serde_urlencoded::from_bytes(&bytes)
            .map(Self)
            .map_err(|_| malformed())
    }
}

impl<T: DeserializeOwned + Send> FromRequest<AppState> for SignedInForm<T> {
    type Rejection = PageError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, PageError> {
        let (mut parts, body) = req.into_parts();
        let me =
            <Auth as OptionalFromRequestParts<AppState>>::from_request_parts(&mut parts, state)
                .await?
                .ok_or(PageError::SignIn)?;
        let CheckedForm(form) =
            CheckedForm::from_request(Request::from_parts(parts, body), state).await?;
        Ok(Self { me: me.0, form })
    }
}

/// For forms that carry nothing but their CSRF token (sign out, revoke, confirm).
#[derive(Deserialize)]
pub struct NoFields {}
