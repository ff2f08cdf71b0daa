//! Several accounts in one browser, as Google does it: up to five signed-in accounts, one
//! active. The active session is the session cookie; every signed-in account's session token
//! is also kept in a second HttpOnly cookie, so switching needs no password. Each account's
//! session is its own row in its own session list.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::Cookie;
use serde::Deserialize;
use uuid::Uuid;

use futures_util::future::try_join_all;

use super::guard::CheckedForm;
use super::{Flash, PageError, PageResult, redirect_with};
use crate::auth::Current;
use crate::auth::sessions::{self, Issued};
use crate::error::{Error, Result};
use crate::http::cookies;
use crate::state::{AppState, Settings};

pub const MAX_ACCOUNTS: usize = 5;

/// Tokens kept in the browser's account list, as stored (possibly dead).
fn listed(settings: &Settings, jar: &CookieJar) -> Vec<String> {
    jar.get(settings.accounts_cookie())
        .map(|c| {
            c.value()
                .split('.')
                .filter(|t| !t.is_empty())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

fn list_cookie(settings: &Settings, tokens: &[String]) -> Cookie<'static> {
    // A browser-session cookie: closing the browser forgets the other accounts.
    cookies::base(
        settings.accounts_cookie(),
        tokens.join("."),
        settings.secure,
    )
}

/// The signed-in accounts of this browser, live ones only, each with its token. Looked up
/// together; a failed lookup fails the page rather than hiding an account.
pub async fn signed_in(state: &AppState, jar: &CookieJar) -> Result<Vec<(String, Current)>> {
    let mut tokens = listed(&state.settings, jar);
    if let Some(active) = jar
        .get(state.settings.session_cookie())
        .map(|c| c.value().to_owned())
        && !tokens.contains(&active)
    {
        tokens.insert(0, active);
    }
    let found = try_join_all(tokens.into_iter().map(|token| async move {
        Ok::<_, Error>(sessions::peek(state, &token).await?.map(|c| (token, c)))
    }))
    .await?;
    let mut live: Vec<(String, Current)> = Vec::new();
    for (token, current) in found.into_iter().flatten() {
        if !live.iter().any(|(_, c)| c.user.id == current.user.id) {
            live.push((token, current));
        }
    }
    Ok(live)
}

/// Whether another account may be added to this browser.
pub async fn room_for_another(state: &AppState, jar: &CookieJar) -> Result<bool> {
    Ok(signed_in(state, jar).await?.len() < MAX_ACCOUNTS)
}

/// Makes a fresh sign-in the active account and adds it to the browser's list. An older
/// session of the same account in this browser is ended: one account, one session here, so
/// signing out really signs it out.
pub async fn activate(
    state: &AppState,
    jar: CookieJar,
    issued: &Issued,
    user_id: Uuid,
) -> Result<CookieJar> {
    let mut tokens = Vec::new();
    for (token, current) in signed_in(state, &jar).await? {
        if current.user.id == user_id && current.session_id != issued.session_id {
            if let Err(e) = sessions::logout(state, &current).await {
                tracing::warn!(error = %e, "ending a replaced session failed");
            }
        } else if token != issued.token.as_str() {
            tokens.push(token);
        }
    }
    tokens.push(issued.token.as_str().to_owned());
    Ok(jar
        .add(cookies::session(&state.settings, issued))
        .add(list_cookie(&state.settings, &tokens)))
}

#[derive(Deserialize)]
pub struct SwitchForm {
    #[serde(default)]
    username: String,
}

pub async fn switch(
    State(state): State<AppState>,
    jar: CookieJar,
    CheckedForm(form): CheckedForm<SwitchForm>,
) -> PageResult {
    let accounts = signed_in(&state, &jar).await?;
    Ok(
        match accounts
            .into_iter()
            .find(|(_, c)| c.user.username.eq_ignore_ascii_case(&form.username))
        {
            Some((token, current)) => {
                let jar = jar.add(cookies::session_token(
                    &state.settings,
                    token,
                    current.remember,
                ));
                (jar, Redirect::to("/")).into_response()
            }
            None => {
                return Err(PageError::message(
                    StatusCode::NOT_FOUND,
                    "Not signed in",
                    "That account is not signed in in this browser.",
                ));
            }
        },
    )
}

/// Signs the active account out; another signed-in account, if any, becomes active.
pub async fn sign_out(state: &AppState, jar: CookieJar, me: Option<&Current>) -> PageResult {
    if let Some(me) = me
        && let Err(e) = sessions::logout(state, me).await
    {
        tracing::error!(error = %e, "sign-out failed");
    }
    let remaining: Vec<(String, Current)> = signed_in(state, &jar)
        .await?
        .into_iter()
        .filter(|(_, c)| me.is_none_or(|m| c.session_id != m.session_id))
        .collect();
    let tokens: Vec<String> = remaining.iter().map(|(t, _)| t.clone()).collect();
    let jar = jar.add(list_cookie(&state.settings, &tokens));
    Ok(match remaining.into_iter().next() {
        Some((token, next)) => {
            let jar = jar.add(cookies::session_token(
                &state.settings,
                token,
                next.remember,
            ));
            redirect_with(state, jar, "/", Flash::SignedOut)
        }
        None => redirect_with(
            state,
            jar.add(cookies::clear_session(&state.settings)),
            "/login",
            Flash::SignedOut,
        ),
    })
}
