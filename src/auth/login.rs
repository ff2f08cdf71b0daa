//! Password sign-in. Every failure looks the same (401 `invalid_credentials`, same work done),
//! and failures are throttled per account and per IP address.

use crate::auth::second_factor;
use crate::auth::sessions::{self, ClientInfo, Issued};
use crate::auth::throttle::{self, Rule};
use crate::domain::Password;
use crate::error::{Error, Result};
use crate::state::AppState;
use crate::store::User;

pub struct SignedIn {
    pub user: User,
    pub session: Issued,
}

pub enum Outcome {
    SignedIn(Box<SignedIn>),
    /// The password was right and the account has 2FA: finish with `mfa::second_step`.
    MfaRequired {
        mfa_token: String,
        /// What the account can finish with: `totp`, `recovery_code`, `security_key`.
        methods: Vec<&'static str>,
    },
}

/// Rehashes a password whose stored hash was made with other Argon2 parameters (ASVS V6.2.4):
/// raising `[argon2]` in the configuration reaches every account as it next signs in.
async fn upgrade_hash(state: &AppState, user: &User, stored: &str, password: &str) -> Result<()> {
    let new = state.hasher.hash(password).await?;
    let mut tx = state.store.begin().await?;
    let upgraded = tx.upgrade_password_hash(user.id, stored, &new).await?;
    tx.commit().await?;
    tracing::info!(user = %user.id, upgraded, "password rehashed with the current parameters");
    Ok(())
}

/// The allowance of failed passwords given under one name (a username or an address).
pub(crate) fn name_rule(state: &AppState) -> Rule {
    let t = &state.settings.throttle;
    Rule {
        burst: t.account_burst,
        interval_secs: t.account_interval_secs,
    }
}

/// The throttle key for failed passwords given under `login_norm`, lower-cased as typed.
pub(crate) fn name_key(login_norm: &str) -> String {
    format!("login-name:{login_norm}")
}

pub async fn login(
    state: &AppState,
    login: &str,
    password: &str,
    remember: bool,
    kind: &str,
    client: &ClientInfo,
) -> Result<Outcome> {
    let t = &state.settings.throttle;
    let ip_rule = Rule {
        burst: t.ip_burst,
        interval_secs: t.ip_interval_secs,
    };
    let account_rule = name_rule(state);
    let ip_key = format!("login-ip:{}", client.ip);
    throttle::check(state, &ip_key, ip_rule).await?;

    let login_norm = login.trim().to_lowercase();
    // No username or address holds control characters (and PostgreSQL cannot store NUL).
    if login_norm.chars().any(char::is_control) {
        return Err(Error::InvalidCredentials);
    }
    let user = if login_norm.is_empty() || login_norm.len() > 254 {
        None
    } else {
        state.store.user_by_login(&login_norm).await?
    };
    // Failures are counted per name typed, whether or not an account has it, so a 429 never
    // tells which names exist or which address belongs to which username.
    let account_key = name_key(&login_norm);
    let had_failures = throttle::check(state, &account_key, account_rule).await?;

    let hash = user.as_ref().and_then(|u| u.password_hash.clone());
    let ok = state.hasher.verify(password, hash).await?;
    let Some(user) = user.filter(|_| ok) else {
        throttle::hit(state, &ip_key, ip_rule).await?;
        throttle::hit(state, &account_key, account_rule).await?;
        tracing::info!(ip = %client.ip, "sign-in failed");
        return Err(Error::InvalidCredentials);
    };
    if had_failures {
        throttle::clear(&state.store, &account_key).await?;
    }
    if let Some(stored) = user.password_hash.as_deref()
        && !state.hasher.is_current(stored)
    {
        // Opportunistic: a full hashing queue must not turn a right password into an error.
        if let Err(e) = upgrade_hash(state, &user, stored, password).await {
            tracing::warn!(user = %user.id, error = %e, "could not rehash the password");
        }
    }
    if Password::is_common(password) {
        // As GitHub does with a breached password (ASVS V2.1.7): whoever else knows it cannot
        // get in either, so the way back in goes through the owner's mailbox. The answer
        // confirms the password to whoever typed it, so it counts as a failure on both
        // throttles: spraying the common list stays as slow as guessing.
        throttle::hit(state, &ip_key, ip_rule).await?;
        throttle::hit(state, &account_key, account_rule).await?;
        crate::auth::recovery::send_recovery(state, &user.email).await?;
        tracing::info!(user = %user.id, "sign-in refused: breached password, reset mailed");
        return Err(Error::PasswordResetRequired);
    }
    if user.mfa_enabled {
        let token = second_factor::begin(state, &user, remember, kind).await?;
        return Ok(Outcome::MfaRequired {
            mfa_token: token.into_string(),
            methods: second_factor::methods(state, &user).await?,
        });
    }

    let mut tx = state.store.begin().await?;
    let now = state.clock.now();
    let session = sessions::issue(&mut tx, user.id, kind, remember, client, now).await?;
    if session.new_device {
        crate::mail::notices::new_sign_in(&mut tx, state, &user, client).await?;
    }
    tx.commit().await?;
    if session.new_device {
        state.mail_queued.notify_one();
    }
    tracing::info!(user = %user.id, session = %session.session_id, remember, "signed in");
    Ok(Outcome::SignedIn(Box::new(SignedIn { user, session })))
}
