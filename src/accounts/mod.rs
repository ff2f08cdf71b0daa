//! Accounts: sign-up, email confirmation and the profile a person fills in at onboarding.

pub mod notices;
pub mod profile;
pub mod signup;
pub mod verify;

use crate::domain::{SecretToken, TokenKind};
use crate::error::Result;
use crate::state::AppState;
use crate::store::{Tx, User};

/// Confirmation links last a day (GitHub's and Google's also expire within a day or two).
pub const VERIFY_TTL_SECS: i64 = 24 * 3600;

/// Creates a confirmation link for the account's current address and queues the mail, inside
/// the caller's transaction: the mail exists exactly when the change does.
pub(crate) async fn queue_verification(tx: &mut Tx, state: &AppState, user: &User) -> Result<()> {
    let now = crate::clock::now();
    let token = SecretToken::generate(TokenKind::EmailVerification);
    tx.insert_email_verification(
        &token.hash().0,
        user.id,
        &user.email,
        now,
        now + VERIFY_TTL_SECS,
    )
    .await?;
    let link = state.settings.link(&format!("/verify/{}", token.as_str()));
    let greeting = if user.name.is_empty() {
        &user.username
    } else {
        &user.name
    };
    let message = crate::mail::verify_email(greeting, &user.email, &link)?;
    tx.enqueue_mail(&message, now).await?;
    Ok(())
}
