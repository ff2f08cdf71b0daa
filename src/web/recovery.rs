//! "Trouble signing in?" (`/forgot`), choosing a new password (`/reset/{token}`) and the
//! "this wasn't me" link of an email change (`/email-change/undo/{token}`).

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum_extra::extract::CookieJar;
use serde::Deserialize;

use super::guard::{CheckedForm, NoFields};
use super::{
    Flash, FormError, Layout, form_errors, layout, message, redirect_with, render, render_status,
};
use crate::accounts::{email, password};
use crate::error::Error;
use crate::http::extract::{Client, Path};
use crate::state::AppState;

#[derive(Template)]
#[template(path = "web/forgot.html")]
struct ForgotPage {
    layout: Layout,
    errors: Vec<String>,
}

pub async fn forgot_page(State(state): State<AppState>, jar: CookieJar) -> Response {
    let (jar, layout) = layout(&state, jar, None).await;
    render(
        jar,
        &ForgotPage {
            layout,
            errors: vec![],
        },
    )
}

#[derive(Deserialize)]
pub struct ForgotForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    captcha: String,
}

pub async fn forgot_submit(
    State(state): State<AppState>,
    Client(client): Client,
    jar: CookieJar,
    CheckedForm(form): CheckedForm<ForgotForm>,
) -> Response {
    match password::request_recovery(&state, &form.email, &form.captcha, &client).await {
        Ok(()) => {
            message(
                &state,
                jar,
                StatusCode::ACCEPTED,
                "Check your email",
                "If an account uses that address, a message with its username and a link to choose a new password is on its way. The link works for 30 minutes.",
            )
            .await
        }
        Err(e) => match form_errors(&state, jar, e).await {
            FormError::Show(jar, errors) => {
                let (jar, layout) = layout(&state, jar, None).await;
                render_status(StatusCode::BAD_REQUEST, jar, &ForgotPage { layout, errors })
            }
            FormError::Page(page) => page,
        },
    }
}

#[derive(Template)]
#[template(path = "web/reset.html")]
struct ResetPage {
    layout: Layout,
    errors: Vec<String>,
    token: String,
}

/// Shows the form only: opening the link does not use it up.
pub async fn reset_page(
    State(state): State<AppState>,
    jar: CookieJar,
    Path(token): Path<String>,
) -> Response {
    let (jar, layout) = layout(&state, jar, None).await;
    render(
        jar,
        &ResetPage {
            layout,
            errors: vec![],
            token,
        },
    )
}

#[derive(Deserialize)]
pub struct ResetForm {
    #[serde(default)]
    new_password: String,
}

pub async fn reset_submit(
    State(state): State<AppState>,
    Client(client): Client,
    jar: CookieJar,
    Path(token): Path<String>,
    CheckedForm(form): CheckedForm<ResetForm>,
) -> Response {
    match password::reset(&state, &token, &form.new_password, &client).await {
        Ok(()) => redirect_with(&state, jar, "/login", Flash::PasswordReset),
        Err(Error::InvalidToken) => invalid_link(&state, jar).await,
        Err(e) => match form_errors(&state, jar, e).await {
            FormError::Show(jar, errors) => {
                let (jar, layout) = layout(&state, jar, None).await;
                render_status(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    jar,
                    &ResetPage {
                        layout,
                        errors,
                        token,
                    },
                )
            }
            FormError::Page(page) => page,
        },
    }
}

async fn invalid_link(state: &AppState, jar: CookieJar) -> Response {
    message(
        state,
        jar,
        StatusCode::BAD_REQUEST,
        "This link cannot be used",
        "The link is invalid, has expired or was already used. Ask for a new one from \"Trouble signing in?\".",
    )
    .await
}

#[derive(Template)]
#[template(path = "web/confirm.html")]
struct ConfirmPage {
    layout: Layout,
    heading: &'static str,
    text: &'static str,
    action: String,
    button: &'static str,
}

pub async fn undo_page(
    State(state): State<AppState>,
    jar: CookieJar,
    Path(token): Path<String>,
) -> Response {
    let (jar, layout) = layout(&state, jar, None).await;
    render(
        jar,
        &ConfirmPage {
            layout,
            heading: "Undo the email change",
            text: "Your account goes back to this address, every session is signed out, and we send you a link to choose a new password.",
            action: format!("/email-change/undo/{token}"),
            button: "Undo the change and secure my account",
        },
    )
}

pub async fn undo_submit(
    State(state): State<AppState>,
    Client(client): Client,
    jar: CookieJar,
    Path(token): Path<String>,
    CheckedForm(_): CheckedForm<NoFields>,
) -> Response {
    match email::undo(&state, &token, &client).await {
        Ok(()) => {
            let jar = jar.add(crate::http::cookies::clear_session(&state.settings));
            message(
                &state,
                jar,
                StatusCode::OK,
                "Your account is secured",
                "Your email address is restored and every session is signed out. Check your email for a link to choose a new password.",
            )
            .await
        }
        Err(Error::InvalidToken) => invalid_link(&state, jar).await,
        Err(e) => match form_errors(&state, jar, e).await {
            FormError::Show(jar, errors) => {
                message(
                    &state,
                    jar,
                    StatusCode::CONFLICT,
                    "Not undone",
                    errors.join(" "),
                )
                .await
            }
            FormError::Page(page) => page,
        },
    }
}
