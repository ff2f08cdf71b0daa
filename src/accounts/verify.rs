//! Email confirmation: single-use links that confirm the address they were sent to.

use crate::auth::Current;
use crate::auth::throttle::{self, Rule};
use crate::domain::{TokenHash, TokenKind};
use crate::error::{Error, Result};
use crate::state::AppState;

/// Resends are limited to a few an hour per account: each one is a mail we send.
const RESEND: Rule = Rule {
    burst: 3,
    interval_secs: 600,
};

/// Confirms the address a link was sent to. Unknown, used, expired and superseded links are
/// all `InvalidToken`.
pub async fn confirm(state: &AppState, presented: &str) -> Result<()> {
    let hash =
        TokenHash::of_kind(presented, TokenKind::EmailVerification).ok_or(Error::InvalidToken)?;
    let now = crate::clock::now();
    let mut tx = state.store.begin().await?;
    let link = tx
        .take_email_verification(&hash.0)
        .await?
        .ok_or(Error::InvalidToken)?;
    if link.expires_at <= now
        || !tx
            .mark_email_verified(link.user_id, &link.email, now)
            .await?
    {
        // The link is consumed either way; committing the delete keeps it from being retried.
        tx.commit().await?;
        return Err(Error::InvalidToken);
    }
    tx.commit().await?;
    tracing::info!(user = %link.user_id, "email confirmed");
    Ok(())
}

pub async fn resend(state: &AppState, me: &Current) -> Result<()> {
    if me.user.email_verified_at.is_some() {
        return Err(Error::AlreadyVerified);
    }
    let key = format!("verify-resend:{}", me.user.id);
    throttle::check(&state.store, &key, RESEND).await?;
    throttle::hit(&state.store, &key, RESEND).await?;
    let mut tx = state.store.begin().await?;
    super::queue_verification(&mut tx, state, &me.user).await?;
    tx.commit().await?;
    state.mail_queued.notify_one();
    Ok(())
}
