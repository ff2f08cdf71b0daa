//! Passwords: changing one while signed in, and "Trouble signing in?" — a mail with the
//! username and a 30-minute reset link (`auth::recovery`), behind a CAPTCHA, saying nothing
//! about whether the address has an account.

use super::refuse_managed;
use crate::auth::reauth::confirm_password;
use crate::auth::recovery::send_recovery;
use crate::auth::throttle::{self, Rule};
use crate::auth::{ClientInfo, Current};
use crate::domain::{Password, PasswordPolicy, TokenHash, TokenKind};
use crate::error::{Error, Result};
use crate::mail::notices::{self, What};
use crate::state::AppState;
use crate::store::User;

/// Per IP address: 10 requests at once, then one a minute.
const PER_IP: Rule = Rule {
    burst: 10,
    interval_secs: 60,
};

fn new_password(raw: &str, user: &User) -> Result<Password> {
    Password::parse(
        raw,
        &PasswordPolicy {
            username: Some(&user.username),
            email: Some(&user.email),
        },
    )
    .map_err(|mut e| {
        e.field = "new_password";
        Error::invalid(e)
    })
}

/// Changes the password of the signed-in account; every other session ends. Returns how many.
pub async fn change(
    state: &AppState,
    me: &Current,
    current: &str,
    new: &str,
    client: &ClientInfo,
) -> Result<u64> {
    refuse_managed(&me.user)?;
    let password = new_password(new, &me.user)?;
    confirm_password(state, &me.user, current).await?;
    let hash = state.hasher.hash(password.expose()).await?;
    let checked = me.user.password_hash.as_deref().unwrap_or_default();
    let mut tx = state.store.begin().await?;
    // Compare-and-swap: of changes racing each other, only the first finds the hash its
    // current password was checked against; the others named a password no longer current.
    if !tx
        .change_password(me.user.id, checked, &hash, state.clock.now())
        .await?
    {
        return Err(Error::InvalidPassword);
    }
    tx.delete_password_resets(me.user.id).await?;
    // Whoever knew the old password may have asked to move the account to their address.
    tx.delete_pending_email_changes(me.user.id).await?;
    let revoked = tx
        .delete_sessions_except(me.user.id, Some(me.session_id))
        .await?;
    let what = What {
        subject: "Your password was changed",
        headline: "The password of your Latchkey account was changed.",
        detail: "Every other session was signed out.",
    };
    notices::queue(&mut tx, state, &me.user, client, &what).await?;
    tx.commit().await?;
    state.mail_queued.notify_one();
    tracing::info!(user = %me.user.id, revoked, "password changed");
    Ok(revoked)
}

/// "Trouble signing in?". After the CAPTCHA, the answer is the same for every address; the
/// lookup and the mail happen afterwards, in the background, so timing says nothing either.
pub async fn request_recovery(
    state: &AppState,
    email: &str,
    captcha: &str,
    client: &ClientInfo,
) -> Result<()> {
    let ip_key = format!("recovery-ip:{}", client.ip);
    throttle::check(state, &ip_key, PER_IP).await?;
    state
        .settings
        .captcha
        .verify(&state.store, captcha, state.clock.now())
        .await?;
    throttle::hit(state, &ip_key, PER_IP).await?;
    let (state, email) = (state.clone(), email.to_owned());
    tokio::spawn(async move {
        if let Err(e) = send_recovery(&state, &email).await {
            tracing::error!(error = ?e, "account recovery mail failed");
        }
    });
    Ok(())
}

/// Sets a new password from a reset link: every session and every other reset link of the
/// account ends, and a notice goes out. Following the link also proves the address.
/// Whether a reset link would still work, without using it up: its page says so before the
/// person types a new password.
pub async fn reset_usable(state: &AppState, presented: &str) -> Result<bool> {
    let Some(hash) = TokenHash::of_kind(presented, TokenKind::PasswordReset) else {
        return Ok(false);
    };
    let link = state.store.password_reset(&hash.0).await?;
    Ok(link.is_some_and(|l| l.expires_at > state.clock.now()))
}

pub async fn reset(
    state: &AppState,
    presented: &str,
    new: &str,
    client: &ClientInfo,
) -> Result<()> {
    let hash =
        TokenHash::of_kind(presented, TokenKind::PasswordReset).ok_or(Error::InvalidToken)?;
    let now = state.clock.now();
    let link = state
        .store
        .password_reset(&hash.0)
        .await?
        .filter(|l| l.expires_at > now)
        .ok_or(Error::InvalidToken)?;
    let user = state
        .store
        .user_by_id(link.user_id)
        .await?
        .ok_or(Error::InvalidToken)?;
    refuse_managed(&user)?;
    let password = new_password(new, &user)?;
    let password_hash = state.hasher.hash(password.expose()).await?;

    let mut tx = state.store.begin().await?;
    if tx.take_password_reset(&hash.0).await?.is_none() {
        return Err(Error::InvalidToken);
    }
    tx.set_password(user.id, &password_hash, now).await?;
    tx.delete_password_resets(user.id).await?;
    tx.delete_pending_email_changes(user.id).await?;
    tx.delete_sessions_except(user.id, None).await?;
    tx.mark_email_verified(user.id, &user.email, now).await?;
    let what = What {
        subject: "Your password was reset",
        headline: "The password of your Latchkey account was reset.",
        detail: "Every session was signed out; sign in again with the new password.",
    };
    notices::queue(&mut tx, state, &user, client, &what).await?;
    tx.commit().await?;
    state.mail_queued.notify_one();
    tracing::info!(user = %user.id, "password reset");
    Ok(())
}
