//! Accounts: sign-up, email confirmation and changes, passwords and recovery, the profile,
//! deletion. The security notices they send are `mail::notices`.

pub mod delete;
pub mod email;
pub mod password;
pub mod profile;
pub mod signup;
pub mod verify;

use crate::domain::{SecretToken, TokenKind};
use crate::error::{Error, Result};
use crate::mail::Confirming;
use crate::state::AppState;
use crate::store::{Tx, User};

/// Confirmation links last a day (GitHub's and Google's also expire within a day or two).
pub const VERIFY_TTL_SECS: i64 = 24 * 3600;

/// Why a confirmation link is sent.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// Confirms the account's current address.
    Signup,
    /// Moves the account to a new address once confirmed.
    Change,
}

impl Purpose {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Signup => "signup",
            Self::Change => "change",
        }
    }
}

/// Creates a confirmation link for `address` and queues the mail, inside the caller's
/// transaction: the mail exists exactly when the change does.
pub(crate) async fn queue_confirmation(
    tx: &mut Tx,
    state: &AppState,
    user: &User,
    address: &str,
    purpose: Purpose,
) -> Result<()> {
    let now = state.clock.now();
    let token = SecretToken::generate(TokenKind::EmailVerification);
    tx.insert_email_verification(
        &token.hash().0,
        user.id,
        address,
        purpose.as_str(),
        now,
        now + VERIFY_TTL_SECS,
    )
    .await?;
    let link = state.settings.link(&format!("/verify/{}", token.as_str()));
    let confirming = match purpose {
        Purpose::Signup => Confirming::NewAccount,
        Purpose::Change => Confirming::AddressChange,
    };
    let message =
        crate::mail::verify_email(crate::mail::greeting(user), address, &link, confirming)?;
    tx.enqueue_mail(&message, now).await?;
    Ok(())
}

/// Enterprise-managed accounts change sign-in details through their Team Admin, not here.
pub(crate) fn refuse_managed(user: &User) -> Result<()> {
    if user.managed_by.is_some() {
        Err(Error::ManagedAccount)
    } else {
        Ok(())
    }
}
