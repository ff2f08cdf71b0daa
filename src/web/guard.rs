//! Extractors for form posts: the CSRF token is checked (and, for `SignedInForm`, the session)
//! before a handler runs, so no handler can forget either.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, OptionalFromRequestParts, Request};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use serde::Deserialize;
use serde::de::DeserializeOwned;

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

impl<T: DeserializeOwned + Send> FromRequest<AppState> for CheckedForm<T> {
    type Rejection = Response;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Response> {
        let (mut parts, body) = req.into_parts();
        let jar = CookieJar::from_request_parts(&mut parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        let req = Request::from_parts(parts, body);
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(IntoResponse::into_response)?;
        let malformed = || {
            (
                StatusCode::BAD_REQUEST,
                "This form submission was malformed. Go back and try again.",
            )
                .into_response()
        };
        let token: CsrfField = serde_urlencoded::from_bytes(&bytes).map_err(|_| malformed())?;
        if !super::csrf::check(&state.settings, &jar, &token.csrf) {
            return Err(super::csrf_failed(state, jar).await);
        }
        serde_urlencoded::from_bytes(&bytes)
            .map(Self)
            .map_err(|_| malformed())
    }
}

impl<T: DeserializeOwned + Send> FromRequest<AppState> for SignedInForm<T> {
    type Rejection = Response;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Response> {
        let (mut parts, body) = req.into_parts();
        let auth =
            <Auth as OptionalFromRequestParts<AppState>>::from_request_parts(&mut parts, state)
                .await
                .map_err(IntoResponse::into_response)?;
        let Some(Auth(me)) = auth else {
            return Err(Redirect::to("/login").into_response());
        };
        let CheckedForm(form) =
            CheckedForm::from_request(Request::from_parts(parts, body), state).await?;
        Ok(Self { me, form })
    }
}

/// For forms that carry nothing but their CSRF token (sign out, revoke, confirm).
#[derive(Deserialize)]
pub struct NoFields {}

/// The signed-in person, for pages; signed-out visitors are sent to `/login`.
pub struct SignedIn(pub Current);

impl FromRequestParts<AppState> for SignedIn {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &AppState,
    ) -> Result<Self, Response> {
        match <Auth as OptionalFromRequestParts<AppState>>::from_request_parts(parts, state).await {
            Ok(Some(Auth(me))) => Ok(Self(me)),
            Ok(None) => Err(Redirect::to("/login").into_response()),
            Err(e) => Err(e.into_response()),
        }
    }
}
