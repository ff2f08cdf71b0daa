//! Email confirmation: single-use links that confirm the address they were sent to, either the
//! account's own (after sign-up) or a new one (an email change, which takes effect only now).

use uuid::Uuid;

use super::{Purpose, queue_confirmation};
use crate::auth::throttle::{self, Rule};
use crate::auth::{ClientInfo, Current};
use crate::domain::{Email, TokenHash, TokenKind};
use crate::error::{Error, Result};
use crate::mail::notices::{self, What};
use crate::state::AppState;

/// Resends are limited to a few an hour per account: each one is a mail we send.
const RESEND: Rule = Rule {
    burst: 3,
    interval_secs: 600,
};

/// Whether a confirmation link would still work, without using it up: its page says so
/// before the person presses anything.
pub async fn usable(state: &AppState, presented: &str) -> Result<bool> {
    let Some(hash) = TokenHash::of_kind(presented, TokenKind::EmailVerification) else {
        return Ok(false);
    };
    let expiry = state.store.email_verification_expiry(&hash.0).await?;
    Ok(expiry.is_some_and(|at| at > state.clock.now()))
}

/// What a confirmation link did, and for whom.
pub struct Confirmed {
    pub purpose: Purpose,
    pub user_id: Uuid,
}

/// Confirms what a link was sent for. Unknown, used, expired and superseded links are all
/// `InvalidToken`.
pub async fn confirm(state: &AppState, presented: &str, client: &ClientInfo) -> Result<Confirmed> {
    let hash =
        TokenHash::of_kind(presented, TokenKind::EmailVerification).ok_or(Error::InvalidToken)?;
    let now = state.clock.now();
    let mut tx = state.store.begin().await?;
    let link = tx
        .take_email_verification(&hash.0)
        .await?
        .ok_or(Error::InvalidToken)?;
    // On the transaction's own connection: asking the pool for another while this one holds
    // the link would starve a small pool under many clicks at once (issue 16).
    let user = tx
        .user_by_id(link.user_id)
        .await?
        .ok_or(Error::InvalidToken)?;
    let done = if link.expires_at <= now {
        false
    } else if link.purpose == Purpose::Change.as_str() {
        let email = Email::parse(&link.email).map_err(Error::invalid)?;
        tx.set_email(user.id, email.as_str(), &email.normalized(), now)
            .await?;
        tx.delete_pending_email_changes(user.id).await?;
        let detail = format!(
            "Your Latchkey account now uses {}. If you did not ask for this, use the undo link we sent to this address when the change was requested.",
            email.as_str()
        );
        let what = What {
            subject: "Your email address was changed",
            headline: "The email address of your Latchkey account was changed.",
            detail: &detail,
        };
        notices::queue(&mut tx, state, &user, client, &what).await?;
        true
    } else {
        tx.mark_email_verified(link.user_id, &link.email, now)
            .await?
    };
    // A dead link is consumed either way; committing the delete keeps it from being retried.
    tx.commit().await?;
    if !done {
        return Err(Error::InvalidToken);
    }
    state.mail_queued.notify_one();
    tracing::info!(user = %link.user_id, purpose = %link.purpose, "email confirmed");
    let purpose = if link.purpose == Purpose::Change.as_str() {
        Purpose::Change
    } else {
        Purpose::Signup
    };
    Ok(Confirmed {
        purpose,
        user_id: link.user_id,
    })
}

pub async fn resend(state: &AppState, me: &Current) -> Result<()> {
    if me.user.email_verified_at.is_some() {
        return Err(Error::AlreadyVerified);
    }
    let key = format!("verify-resend:{}", me.user.id);
    throttle::check(state, &key, RESEND).await?;
    throttle::hit(state, &key, RESEND).await?;
    let mut tx = state.store.begin().await?;
    queue_confirmation(&mut tx, state, &me.user, &me.user.email, Purpose::Signup).await?;
    tx.commit().await?;
    state.mail_queued.notify_one();
    Ok(())
}
