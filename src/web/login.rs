//! `/login` and `/logout`.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use axum_extra::extract::CookieJar;
use serde::Deserialize;

use super::guard::{CheckedForm, NoFields};
use super::{Layout, Page, PageError, PageResult, form_messages, render, render_status};
use crate::auth::login;
use crate::error::Error;
use crate::http::extract::{Auth, Client};
use crate::state::AppState;

pub use super::next::safe_next;

#[derive(Template)]
#[template(path = "web/login.html")]
struct LoginPage {
    layout: Layout,
    errors: Vec<String>,
    login: String,
    remember: bool,
    next: String,
    /// "Add another account" while already signed in.
    adding: bool,
}

/// `/login?next=/path`: where to go after signing in. Only paths on this site are followed.
#[derive(Deserialize)]
pub struct NextQuery {
    next: Option<String>,
    /// `/login?add=1`: sign in to another account without signing out.
    add: Option<String>,
}

fn too_many_accounts() -> PageError {
    PageError::message(
        StatusCode::CONFLICT,
        "Five accounts are signed in",
        "Sign out of one of them before adding another.",
    )
}

pub async fn login_page(page: Page, Query(q): Query<NextQuery>) -> PageResult {
    let next = safe_next(q.next.as_deref()).to_owned();
    let adding = q.add.is_some();
    if page.me.is_some() && !adding {
        return Ok(Redirect::to(&next).into_response());
    }
    if adding && page.accounts >= super::switcher::MAX_ACCOUNTS {
        return Err(too_many_accounts());
    }
    let login = LoginPage {
        layout: page.layout,
        errors: vec![],
        login: String::new(),
        remember: false,
        next,
        adding,
    };
    render(page.jar, &login)
}

#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    login: String,
    #[serde(default)]
    password: String,
    remember: Option<String>,
    next: Option<String>,
}

pub async fn login_submit(
    State(state): State<AppState>,
    Client(client): Client,
    auth: Option<Auth>,
    jar: CookieJar,
    CheckedForm(form): CheckedForm<LoginForm>,
) -> PageResult {
    let remember = form.remember.is_some();
    if !super::switcher::room_for_another(&state, &jar).await? {
        return Err(too_many_accounts());
    }
    let signed_in = login::login(
        &state,
        &form.login,
        &form.password,
        remember,
        "web",
        &client,
    )
    .await;
    match signed_in {
        Ok(login::Outcome::SignedIn(done)) => {
            let jar = super::switcher::activate(&state, jar, &done.session, done.user.id).await?;
            Ok((jar, Redirect::to(safe_next(form.next.as_deref()))).into_response())
        }
        Ok(login::Outcome::MfaRequired { mfa_token, .. }) => {
            let next = safe_next(form.next.as_deref()).to_owned();
            let jar = jar
                .add(super::mfa::pending_cookie(&state.settings, mfa_token))
                .add(super::mfa::next_cookie(&state.settings, next));
            Ok((jar, Redirect::to("/login/2fa")).into_response())
        }
        Err(e) => {
            let status = match &e {
                Error::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
                _ => StatusCode::UNAUTHORIZED,
            };
            let errors = form_messages(e)?;
            // Someone signed in was adding another account: they still are, and still adding.
            let page = Page::build(&state, jar, auth.map(|Auth(me)| me)).await?;
            let login = LoginPage {
                adding: page.me.is_some(),
                layout: page.layout,
                errors,
                login: form.login,
                remember,
                next: safe_next(form.next.as_deref()).to_owned(),
            };
            render_status(status, page.jar, &login)
        }
    }
}

pub async fn logout(
    State(state): State<AppState>,
    auth: Option<Auth>,
    jar: CookieJar,
    CheckedForm(_): CheckedForm<NoFields>,
) -> PageResult {
    let me = auth.map(|Auth(me)| me);
    super::switcher::sign_out(&state, jar, me.as_ref()).await
}
