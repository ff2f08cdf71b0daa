//! Re-entering the password before sensitive changes (2FA, email, deletion). Failures count
//! against the same per-account allowance as sign-in, so this is no side door for guessing.

use crate::auth::throttle::{self, Rule};
use crate::error::{Error, Result};
use crate::state::AppState;
use crate::store::User;

pub async fn confirm_password(state: &AppState, user: &User, password: &str) -> Result<()> {
    let t = &state.settings.throttle;
    let rule = Rule {
        burst: t.account_burst,
        interval_secs: t.account_interval_secs,
    };
    let key = format!("login-account:{}", user.id);
    throttle::check(&state.store, &key, rule).await?;
    if state
        .hasher
        .verify(password, user.password_hash.clone())
        .await?
    {
        Ok(())
    } else {
        throttle::hit(&state.store, &key, rule).await?;
        Err(Error::InvalidPassword)
    }
}
