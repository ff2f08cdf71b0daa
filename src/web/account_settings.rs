//! `/settings/account`: email address, password, two-factor authentication (handlers in
//! `mfa`) and deleting the account.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum_extra::extract::CookieJar;
use serde::Deserialize;

use super::guard::{SignedIn, SignedInForm};
use super::{Flash, FormError, Layout, form_errors, layout, message, redirect_with, render_status};
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
        let day = |t: i64| crate::clock::rfc3339(t).chars().take(10).collect();
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

pub(super) async fn account_page(
    state: &AppState,
    jar: CookieJar,
    me: &Current,
    errors: Vec<String>,
) -> Response {
    let loaded = async {
        let codes_left = crate::mfa::codes_left(state, &me.user).await?;
        let teams = state.store.team_slugs_of(me.user.id).await?;
        let keys = crate::mfa::security_keys::list(state, &me.user).await?;
        Ok::<_, crate::error::Error>((codes_left, teams, keys))
    };
    let (codes_left, teams, keys) = match loaded.await {
        Ok(v) => v,
        Err(e) => return crate::http::problem::ApiError::from(e).into_response(),
    };
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let (jar, layout) = layout(state, jar, Some(me)).await;
    let page = AccountPage {
        layout,
        errors,
        email: me.user.email.clone(),
        username: me.user.username.clone(),
        managed: me.user.managed_by.is_some(),
        mfa_enabled: me.user.mfa_enabled,
        codes_left,
        teams,
        keys_offered: state.settings.webauthn.is_some(),
        security_keys: keys.into_iter().map(KeyRow::from).collect(),
    };
    render_status(status, jar, &page)
}

pub async fn settings_page(
    State(state): State<AppState>,
    SignedIn(me): SignedIn,
    jar: CookieJar,
) -> Response {
    account_page(&state, jar, &me, vec![]).await
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
) -> Response {
    match email::request_change(&state, &me, &form.new_email, &form.password, &client).await {
        Ok(()) => redirect_with(&state, jar, "/settings/account", Flash::EmailChangeSent),
        Err(e) => show_error(&state, jar, &me, e).await,
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
) -> Response {
    match password::change(
        &state,
        &me,
        &form.current_password,
        &form.new_password,
        &client,
    )
    .await
    {
        Ok(_) => redirect_with(&state, jar, "/settings/account", Flash::PasswordChanged),
        Err(e) => show_error(&state, jar, &me, e).await,
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
) -> Response {
    let confirmation = delete::Confirmation {
        password: &form.password,
        confirm_username: &form.confirm_username,
        code: form.code.as_deref(),
    };
    match delete::delete(&state, &me, &confirmation, &client).await {
        Ok(()) => {
            let jar = jar.add(cookies::clear_session(&state.settings));
            message(
                &state,
                jar,
                StatusCode::OK,
                "Your account was deleted",
                "Your account and everything in it are gone. We sent a last confirmation to your email address.",
            )
            .await
        }
        Err(e) => show_error(&state, jar, &me, e).await,
    }
}

/// Shows the given errors on the account page, or a whole page for what a form cannot fix.
pub(super) async fn show_error(
    state: &AppState,
    jar: CookieJar,
    me: &crate::auth::Current,
    e: Error,
) -> Response {
    match form_errors(state, jar, e).await {
        FormError::Show(jar, errors) => account_page(state, jar, me, errors).await,
        FormError::Page(page) => page,
    }
}
