//! Recovery links (ASVS V2.5): a mail with the username and a 30-minute link to choose a new
//! password, which `accounts::password::reset` takes. "Trouble signing in?"
//! (`accounts::password::request_recovery`) sends one, and so do sign-in when the password is
//! a common one (`login`) and undoing an email change (`accounts::email::undo`).

use crate::auth::throttle::{self, Rule};
use crate::domain::{Email, SecretToken, TokenKind};
use crate::error::Result;
use crate::mail::{self, Plain, greeting};
use crate::state::AppState;
use crate::store::{Tx, User};

pub const RESET_TTL_SECS: i64 = 30 * 60;
/// Per address: 3 recovery mails at once, then one per 10 minutes.
const PER_ADDRESS: Rule = Rule {
    burst: 3,
    interval_secs: 600,
};

/// Mails the account with address `email` its username and a reset link (a managed account:
/// whom to ask instead). Nothing happens for an address no account has, or once the address
/// has had its allowance of recovery mails.
pub(crate) async fn send_recovery(state: &AppState, email: &str) -> Result<()> {
    let Ok(email) = Email::parse(email) else {
        return Ok(());
    };
    let key = format!("recovery-address:{}", email.normalized());
    if throttle::check(state, &key, PER_ADDRESS).await.is_err() {
        tracing::info!("recovery mail skipped: address throttled");
        return Ok(());
    }
    throttle::hit(state, &key, PER_ADDRESS).await?;
    let Some(user) = state.store.user_by_email(&email.normalized()).await? else {
        return Ok(());
    };
    let mut tx = state.store.begin().await?;
    if user.managed_by.is_some() {
        let message = mail::plain(&Plain {
            to: &user.email,
            greeting: greeting(&user),
            subject: "Signing in to Latchkey",
            paragraphs: vec![
                format!("Your Latchkey username is {}.", user.username),
                "Your account is managed by your organization, so its password cannot be reset here: contact your Team Admin.".to_owned(),
            ],
            action: None,
        })?;
        tx.enqueue_mail(&message, state.clock.now()).await?;
    } else {
        queue_reset(&mut tx, state, &user).await?;
    }
    tx.commit().await?;
    state.mail_queued.notify_one();
    Ok(())
}

/// Creates a reset link for `user` and queues the mail carrying it (with the username).
pub(crate) async fn queue_reset(tx: &mut Tx, state: &AppState, user: &User) -> Result<()> {
    let now = state.clock.now();
    let token = SecretToken::generate(TokenKind::PasswordReset);
    tx.insert_password_reset(&token.hash().0, user.id, now, now + RESET_TTL_SECS)
        .await?;
    let message = mail::plain(&Plain {
        to: &user.email,
        greeting: greeting(user),
        subject: "Reset your Latchkey password",
        paragraphs: vec![
            format!("Your Latchkey username is {}.", user.username),
            "To choose a new password, open the link below within 30 minutes. It works once. If you did not ask for this, ignore this message: your password stays as it is.".to_owned(),
        ],
        action: Some(("Choose a new password", state.settings.link(&format!("/reset/{}", token.as_str())))),
    })?;
    tx.enqueue_mail(&message, now).await?;
    Ok(())
}
