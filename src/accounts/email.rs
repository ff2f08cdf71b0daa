//! Changing the email address. The password is required; the new address gets a confirmation
//! link and the account moves only once it is used. The old address is told at once, with a
//! link that for 7 days undoes the change, signs every session out and starts a password reset.
//! An address another account uses is never revealed to the requester: its owner's inbox gets
//! a note instead of a link.

use super::{Purpose, queue_confirmation, refuse_managed};
use crate::auth::reauth::confirm_password;
use crate::auth::recovery::queue_reset;
use crate::auth::{ClientInfo, Current};
use crate::domain::{Email, Invalid, SecretToken, TokenHash, TokenKind};
use crate::error::{Error, Result};
use crate::mail::notices::{self, What};
use crate::mail::{self, Plain, greeting};
use crate::state::AppState;

pub const UNDO_TTL_SECS: i64 = 7 * 24 * 3600;

pub async fn request_change(
    state: &AppState,
    me: &Current,
    new_email: &str,
    password: &str,
    client: &ClientInfo,
) -> Result<()> {
    refuse_managed(&me.user)?;
    let email = Email::parse(new_email).map_err(|mut e| {
        e.field = "new_email";
        Error::invalid(e)
    })?;
    if email.normalized() == me.user.email.to_lowercase() {
        return Err(Error::invalid(Invalid::new(
            "new_email",
            "email_unchanged",
            "That is already your email address.",
        )));
    }
    confirm_password(state, &me.user, password).await?;
    let taken = state
        .store
        .user_by_email(&email.normalized())
        .await?
        .is_some();
    let now = state.clock.now();

    let mut tx = state.store.begin().await?;
    tx.delete_pending_email_changes(me.user.id).await?;
    if taken {
        let message = mail::plain(&Plain {
            to: email.as_str(),
            greeting: "there",
            subject: "Someone tried to use this address",
            paragraphs: vec![
                "Someone asked to move a Latchkey account to this email address, but it already belongs to a Latchkey account, so nothing was changed.".to_owned(),
                "If that was you, sign in with this address instead, or use \"Trouble signing in?\" if you have forgotten the password.".to_owned(),
            ],
            action: Some(("Trouble signing in?", state.settings.link("/forgot"))),
        })?;
        tx.enqueue_mail(&message, now).await?;
    } else {
        queue_confirmation(&mut tx, state, &me.user, email.as_str(), Purpose::Change).await?;
    }
    let undo = SecretToken::generate(TokenKind::EmailChangeUndo);
    tx.insert_email_change_undo(
        &undo.hash().0,
        me.user.id,
        &me.user.email,
        now,
        now + UNDO_TTL_SECS,
    )
    .await?;
    let notice = mail::plain(&Plain {
        to: &me.user.email,
        greeting: greeting(&me.user),
        subject: "Your email address is being changed",
        paragraphs: vec![
            format!(
                "Someone signed in to your Latchkey account asked to change its email address to {}. The change happens once the new address is confirmed.",
                email.as_str()
            ),
            format!(
                "If this was not you, open the link below within 7 days: it puts your account back on this address, signs out every session and lets you choose a new password. (Requested from {} at {}.)",
                client.ip,
                crate::clock::rfc3339(now)
            ),
        ],
        action: Some((
            "This wasn't me: undo the change",
            state
                .settings
                .link(&format!("/email-change/undo/{}", undo.as_str())),
        )),
    })?;
    tx.enqueue_mail(&notice, now).await?;
    tx.commit().await?;
    state.mail_queued.notify_one();
    tracing::info!(user = %me.user.id, "email change requested");
    Ok(())
}

/// The "this wasn't me" link: back to the old address, every session out, a reset link sent.
pub async fn undo(state: &AppState, presented: &str, client: &ClientInfo) -> Result<()> {
    let hash =
        TokenHash::of_kind(presented, TokenKind::EmailChangeUndo).ok_or(Error::InvalidToken)?;
    let now = state.clock.now();
    let mut tx = state.store.begin().await?;
    let link = tx
        .take_email_change_undo(&hash.0)
        .await?
        .ok_or(Error::InvalidToken)?;
    if link.expires_at <= now {
        tx.commit().await?;
        return Err(Error::InvalidToken);
    }
    // On the transaction's connection, as everything until it commits (issue 16).
    let mut user = tx
        .user_by_id(link.user_id)
        .await?
        .ok_or(Error::InvalidToken)?;
    tx.delete_pending_email_changes(user.id).await?;
    let old = Email::parse(&link.old_email).map_err(Error::invalid)?;
    if user.email != old.as_str() {
        tx.set_email(user.id, old.as_str(), &old.normalized(), now)
            .await?;
        user.email = old.as_str().to_owned();
    }
    tx.delete_sessions_except(user.id, None).await?;
    tx.delete_password_resets(user.id).await?;
    queue_reset(&mut tx, state, &user).await?;
    let what = What {
        subject: "Your email change was undone",
        headline: "Your Latchkey account is back on this address and every session was signed out.",
        detail: "Choose a new password with the link we just sent: whoever changed your address may know your current one.",
    };
    notices::queue(&mut tx, state, &user, client, &what).await?;
    tx.commit().await?;
    state.mail_queued.notify_one();
    tracing::warn!(user = %user.id, "email change undone from the old address");
    Ok(())
}
