//! `/verify/{token}` (confirming an email address) and `/verify/resend`.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum_extra::extract::CookieJar;

use super::guard::{CheckedForm, NoFields, SignedInForm};
use super::{Flash, Layout, Page, PageError, PageResult, redirect_with, render};
use crate::accounts::{Purpose, verify};
use crate::error::Error;
use crate::http::extract::{Client, Path};
use crate::state::AppState;

#[derive(Template)]
#[template(path = "web/verify.html")]
struct VerifyPage {
    layout: Layout,
    token: String,
}

/// Opening the link only shows a button: mail scanners that prefetch links must not use up the
/// single-use token before the person does.
pub async fn verify_page(page: Page, Path(token): Path<String>) -> PageResult {
    render(
        page.jar,
        &VerifyPage {
            layout: page.layout,
            token,
        },
    )
}

pub async fn verify_submit(
    State(state): State<AppState>,
    Client(client): Client,
    jar: CookieJar,
    Path(token): Path<String>,
    CheckedForm(_): CheckedForm<NoFields>,
) -> PageResult {
    match verify::confirm(&state, &token, &client).await {
        // A newly confirmed account can now create or join a team: onboarding's next step.
        Ok(Purpose::Signup) => Ok(redirect_with(
            &state,
            jar,
            "/welcome/team",
            Flash::EmailVerified,
        )),
        Ok(Purpose::Change) => Ok(redirect_with(&state, jar, "/", Flash::EmailVerified)),
        Err(Error::InvalidToken) => Err(PageError::message(
            StatusCode::BAD_REQUEST,
            "This link cannot be used",
            "The confirmation link is invalid, has expired or was already used. Sign in and ask for a new one.",
        )),
        Err(e) => Err(e.into()),
    }
}

pub async fn resend(
    State(state): State<AppState>,
    jar: CookieJar,
    SignedInForm { me, .. }: SignedInForm<NoFields>,
) -> PageResult {
    match verify::resend(&state, &me).await {
        Ok(()) => Ok(redirect_with(&state, jar, "/", Flash::VerificationSent)),
        Err(Error::AlreadyVerified) => Ok(redirect_with(&state, jar, "/", Flash::EmailVerified)),
        Err(e) => Err(e.into()),
    }
}
