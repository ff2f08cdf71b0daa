//! Re-entering the password before sensitive changes (2FA, email, password, deletion).
//! Failures count against the sign-in allowance of the account's username, so a stolen session
//! is no side door for guessing: sign-in and re-entry together stay within ASVS V2.2.1's limit.

use crate::auth::login::{name_key, name_rule};
use crate::auth::sessions::Current;
use crate::auth::throttle;
use crate::error::{Error, Result};
use crate::state::AppState;
use crate::store::User;

pub async fn confirm_password(state: &AppState, user: &User, password: &str) -> Result<()> {
    let rule = name_rule(state);
    // Usernames are ASCII, so this is the name sign-in lower-cases when the username is typed.
    let key = name_key(&user.username.to_ascii_lowercase());
    let had_failures = throttle::check(state, &key, rule).await?;
    if state
        .hasher
        .verify(password, user.password_hash.clone())
        .await?
    {
        if had_failures {
            throttle::clear(&state.store, &key).await?;
        }
        Ok(())
    } else {
        throttle::hit(state, &key, rule).await?;
        Err(Error::InvalidPassword)
    }
}

/// Entering the password again in a session counts as a fresh sign-in for what needs one
/// (ending other sessions).
pub async fn reauthenticate(state: &AppState, me: &Current, password: &str) -> Result<()> {
    confirm_password(state, &me.user, password).await?;
    let mut tx = state.store.begin().await?;
    tx.set_credentials_entered_at(me.session_id, state.clock.now())
        .await?;
    tx.commit().await?;
    tracing::info!(user = %me.user.id, session = %me.session_id, "password re-entered");
    Ok(())
}
