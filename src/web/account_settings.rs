//! `/settings/account`: email address, password, two-factor authentication (handlers in
//! `mfa`) and deleting the account.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum_extra::extract::CookieJar;
use serde::Deserialize;

use super::guard::SignedInForm;
use super::{
    Flash, Layout, MyPage, Page, PageResult, form_messages, redirect_with, render_status,
    status_for,
};
use crate::accounts::{delete, email, password};
use crate::auth::Current;
use crate::error::Error;
use crate::http::cookies;
use crate::http::extract::Client;
use crate::state::AppState;

#[derive(Template)]
#[template(path = "web/account.html")]
struct AccountPage {
    layout: Layout,
    errors: Vec<String>,
    email: String,
    username: String,
    managed: bool,
    mfa_enabled: bool,
    codes_left: i64,
    teams: Vec<String>,
    /// Whether this server can use security keys (its public URL is a domain name).
    keys_offered: bool,
    security_keys: Vec<KeyRow>,
}

struct KeyRow {
    id: String,
    name: String,
    added: String,
    last_used: String,
}

impl From<crate::mfa::security_keys::KeyInfo> for KeyRow {
    fn from(k: crate::mfa::security_keys::KeyInfo) -> Self {
        let day = super::dates::day;
        Self {
            id: k.id.to_string(),
            name: k.name,
            added: day(k.created_at),
            last_used: k
                .last_used_at
                .map(day)
                .unwrap_or_else(|| "never".to_owned()),
        }
    }
}

/// The account page for `page`, with `errors` from a form that failed.
pub(super) async fn account_page(
    state: &AppState,
    page: MyPage,
    errors: Vec<String>,
) -> PageResult {
    let keys = crate::mfa::security_keys::list(state, &page.me.user).await?;
    let account = AccountPage {
        errors,
        email: page.me.user.email.clone(),
        username: page.me.user.username.clone(),
        managed: page.me.user.managed_by.is_some(),
        mfa_enabled: page.me.user.mfa_enabled,
        codes_left: page.codes_left.unwrap_or(0),
        teams: page.teams.iter().map(|t| t.team.slug.clone()).collect(),
        keys_offered: state.settings.webauthn.is_some(),
        security_keys: keys.into_iter().map(KeyRow::from).collect(),
        layout: page.layout,
    };
    let status = status_for(&account.errors, StatusCode::UNPROCESSABLE_ENTITY);
    render_status(status, page.jar, &account)
}

pub async fn settings_page(State(state): State<AppState>, page: MyPage) -> PageResult {
    account_page(&state, page, vec![]).await
}

#[derive(Deserialize)]
pub struct EmailForm {
    #[serde(default)]
    new_email: String,
    #[serde(default)]
    password: String,
}

pub async fn change_email(
    State(state): State<AppState>,
    Client(client): Client,
    jar: CookieJar,
    SignedInForm { me, form }: SignedInForm<EmailForm>,
) -> PageResult {
    match email::request_change(&state, &me, &form.new_email, &form.password, &client).await {
        Ok(()) => Ok(redirect_with(
            &state,
            jar,
            "/settings/account",
            Flash::EmailChangeSent,
        )),
        Err(e) => show_error(&state, jar, me, e).await,
    }
}

#[derive(Deserialize)]
pub struct PasswordChangeForm {
    #[serde(default)]
    current_password: String,
    #[serde(default)]
    new_password: String,
}

pub async fn change_password(
    State(state): State<AppState>,
    Client(client): Client,
    jar: CookieJar,
    SignedInForm { me, form }: SignedInForm<PasswordChangeForm>,
) -> PageResult {
    match password::change(
        &state,
        &me,
        &form.current_password,
        &form.new_password,
        &client,
    )
    .await
    {
        Ok(_) => Ok(redirect_with(
            &state,
            jar,
            "/settings/account",
            Flash::PasswordChanged,
        )),
        Err(e) => show_error(&state, jar, me, e).await,
    }
}

#[derive(Deserialize)]
pub struct DeleteForm {
    #[serde(default)]
    password: String,
    #[serde(default)]
    confirm_username: String,
    code: Option<String>,
}

pub async fn delete_account(
    State(state): State<AppState>,
    Client(client): Client,
    jar: CookieJar,
    SignedInForm { me, form }: SignedInForm<DeleteForm>,
) -> PageResult {
    let confirmation = delete::Confirmation {
        password: &form.password,
        confirm_username: &form.confirm_username,
        code: form.code.as_deref(),
    };
    match delete::delete(&state, &me, &confirmation, &client).await {
        Ok(()) => {
            let jar = jar.add(cookies::clear_session(&state.settings));
            Page::build(&state, jar, None).await?.message(
                StatusCode::OK,
                "Your account was deleted",
                "Your account and everything in it are gone. We sent a last confirmation to your email address.",
            )
        }
        Err(e) => show_error(&state, jar, me, e).await,
    }
}

/// Shows the error on the account page, or a whole page for what a form cannot fix.
pub(super) async fn show_error(
    state: &AppState,
    jar: CookieJar,
    me: Current,
    e: Error,
) -> PageResult {
    let errors = form_messages(e)?;
    account_page(state, MyPage::build(state, jar, me).await?, errors).await
}
