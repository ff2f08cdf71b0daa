//! "Trouble signing in?" (`/forgot`), choosing a new password (`/reset/{token}`) and the
//! "this wasn't me" link of an email change (`/email-change/undo/{token}`).

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum_extra::extract::CookieJar;
use serde::Deserialize;

use super::guard::{CheckedForm, NoFields};
use super::{
    Flash, Layout, Page, PageError, PageResult, form_messages, redirect_with, render, render_status,
};
use crate::accounts::{email, password};
use crate::error::Error;
use crate::http::extract::{Auth, Client, Path};
use crate::state::AppState;

#[derive(Template)]
#[template(path = "web/forgot.html")]
struct ForgotPage {
    layout: Layout,
    errors: Vec<String>,
}

pub async fn forgot_page(page: Page) -> PageResult {
    render(
        page.jar,
        &ForgotPage {
            layout: page.layout,
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
    auth: Option<Auth>,
    jar: CookieJar,
    CheckedForm(form): CheckedForm<ForgotForm>,
) -> PageResult {
    let requested = password::request_recovery(&state, &form.email, &form.captcha, &client).await;
    let page = Page::build(&state, jar, auth.map(|Auth(me)| me)).await?;
    match requested {
        Ok(()) => page.message(
            StatusCode::ACCEPTED,
            "Check your email",
            "If an account uses that address, a message with its username and a link to choose a new password is on its way. The link works for 30 minutes.",
        ),
        Err(e) => {
            let errors = form_messages(e)?;
            let forgot = ForgotPage {
                layout: page.layout,
                errors,
            };
            render_status(StatusCode::BAD_REQUEST, page.jar, &forgot)
        }
    }
}

#[derive(Template)]
#[template(path = "web/reset.html")]
struct ResetPage {
    layout: Layout,
    errors: Vec<String>,
    token: String,
}

/// Shows the form only: opening the link does not use it up. A link that cannot work says so
/// at once, before anyone types a password.
pub async fn reset_page(
    State(state): State<AppState>,
    page: Page,
    Path(token): Path<String>,
) -> PageResult {
    if !password::reset_usable(&state, &token).await? {
        return dead_reset_link(page);
    }
    render(
        page.jar,
        &ResetPage {
            layout: page.layout,
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
    auth: Option<Auth>,
    jar: CookieJar,
    Path(token): Path<String>,
    CheckedForm(form): CheckedForm<ResetForm>,
) -> PageResult {
    match password::reset(&state, &token, &form.new_password, &client).await {
        Ok(()) => Ok(redirect_with(&state, jar, "/login", Flash::PasswordReset)),
        Err(Error::InvalidToken) => {
            dead_reset_link(Page::build(&state, jar, auth.map(|Auth(me)| me)).await?)
        }
        Err(e) => {
            let errors = form_messages(e)?;
            let page = Page::build(&state, jar, auth.map(|Auth(me)| me)).await?;
            let reset = ResetPage {
                layout: page.layout,
                errors,
                token,
            };
            render_status(StatusCode::UNPROCESSABLE_ENTITY, page.jar, &reset)
        }
    }
}

fn dead_reset_link(page: Page) -> PageResult {
    page.dead_link(
        "The link is invalid, has expired or was already used.",
        "/forgot",
        "Request a new link",
    )
}

fn invalid_link() -> PageError {
    PageError::message(
        StatusCode::BAD_REQUEST,
        "This link cannot be used",
        "The link is invalid, has expired or was already used. Ask for a new one from \"Trouble signing in?\".",
    )
}

pub async fn undo_page(page: Page, Path(token): Path<String>) -> PageResult {
    page.confirm(
        "Undo the email change",
        "Your account goes back to this address, every session is signed out, and we send you a link to choose a new password.",
        format!("/email-change/undo/{token}"),
        "Undo the change and secure my account",
    )
}

pub async fn undo_submit(
    State(state): State<AppState>,
    Client(client): Client,
    jar: CookieJar,
    Path(token): Path<String>,
    CheckedForm(_): CheckedForm<NoFields>,
) -> PageResult {
    match email::undo(&state, &token, &client).await {
        Ok(()) => {
            let jar = jar.add(crate::http::cookies::clear_session(&state.settings));
            Page::build(&state, jar, None).await?.message(
                StatusCode::OK,
                "Your account is secured",
                "Your email address is restored and every session is signed out. Check your email for a link to choose a new password.",
            )
        }
        Err(Error::InvalidToken) => Err(invalid_link()),
        Err(e) => Err(e.into()),
    }
}
