//! Deleting the account: irreversible, so the password, the username typed out and (with 2FA)
//! a code are all required, and the person must have left every team. The account and
//! everything hanging off it go in one transaction; only the goodbye notice is sent after.

use super::refuse_managed;
use crate::auth::reauth::confirm_password;
use crate::auth::second_factor::{check_allowance, refused, verify_factor};
use crate::auth::{ClientInfo, Current};
use crate::domain::{Invalid, Username};
use crate::error::{Error, Result};
use crate::mail::notices::{self, What};
use crate::state::AppState;
use crate::store::StoreError;

/// A deleted account's username stays reserved as long as a renamed one's.
pub use super::profile::USERNAME_COOLDOWN_SECS;

pub struct Confirmation<'a> {
    pub password: &'a str,
    pub confirm_username: &'a str,
    pub code: Option<&'a str>,
}

pub async fn delete(
    state: &AppState,
    me: &Current,
    c: &Confirmation<'_>,
    client: &ClientInfo,
) -> Result<()> {
    refuse_managed(&me.user)?;
    if !c
        .confirm_username
        .trim()
        .eq_ignore_ascii_case(&me.user.username)
    {
        return Err(Error::invalid(Invalid::new(
            "confirm_username",
            "confirmation_mismatch",
            "Type your username to confirm.",
        )));
    }
    // Before any code is spent: a recovery code used on a refused deletion would be lost.
    let teams = state.store.team_slugs_of(me.user.id).await?;
    if !teams.is_empty() {
        return Err(Error::LeaveTeamsFirst(teams));
    }
    confirm_password(state, &me.user, c.password).await?;
    let code = if me.user.mfa_enabled {
        let code = c.code.filter(|c| !c.trim().is_empty()).ok_or_else(|| {
            Error::invalid(Invalid::new(
                "code",
                "code_required",
                "Enter a two-factor code or a recovery code.",
            ))
        })?;
        check_allowance(state, me.user.id).await?;
        Some(code)
    } else {
        None
    };

    let now = state.clock.now();
    let username = Username::parse(&me.user.username).map_err(Error::invalid)?;
    let mut tx = state.store.begin().await?;
    // The code is spent with the account, or not at all.
    if let Some(code) = code
        && let Err(e) = verify_factor(&mut tx, state, &me.user, code, client).await
    {
        return refused(state, tx, me.user.id, e).await;
    }
    match tx.delete_user(me.user.id, &me.user.email).await {
        // A team created or joined since the check above still holds the account.
        Err(StoreError::ForeignKey(_)) => {
            drop(tx);
            let teams = state.store.team_slugs_of(me.user.id).await?;
            return Err(Error::LeaveTeamsFirst(teams));
        }
        done => done?,
    }
    tx.retire_username(
        &username.normalized(),
        me.user.id,
        now + USERNAME_COOLDOWN_SECS,
    )
    .await?;
    let what = What {
        subject: "Your Latchkey account was deleted",
        headline: "Your Latchkey account and everything in it were deleted.",
        detail: "This cannot be undone. You can create a new account at any time.",
    };
    notices::queue_farewell(&mut tx, state, &me.user, client, &what).await?;
    tx.commit().await?;
    state.mail_queued.notify_one();
    tracing::info!(user = %me.user.id, "account deleted");
    Ok(())
}
