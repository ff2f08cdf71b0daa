//! The second sign-in step: the `mfa_token` a correct password yielded
//! (`auth::second_factor::begin`) and a TOTP code, a recovery code or a security key's answer
//! to a challenge (`security_keys`) finish the sign-in. The codes are checked, and the step
//! throttled, in `auth::second_factor`.

use crate::auth::ClientInfo;
use crate::auth::login::SignedIn;
use crate::auth::second_factor::{
    MAX_FAILURES, check_allowance, check_recovery_code, check_totp, clear_allowance, is_refusal,
    methods, pending, refused,
};
use crate::auth::sessions;
use crate::error::{Error, Result};
use crate::mail::notices;
use crate::mfa::security_keys;
use crate::state::AppState;

/// How long an `mfa_token` lasts.
pub use crate::auth::second_factor::CHALLENGE_SECS;

/// What the person offers as their second factor.
pub enum Proof<'a> {
    Totp(&'a str),
    RecoveryCode(&'a str),
    /// The key's answer to the challenge `security_keys::begin_sign_in` made for this step.
    SecurityKey(&'a webauthn_rs::prelude::PublicKeyCredential),
}

/// The methods of the account a pending step belongs to; none when the step is gone.
pub async fn pending_methods(state: &AppState, mfa_token: &str) -> Result<Vec<&'static str>> {
    let challenge = match pending(state, mfa_token).await {
        Ok((_, challenge)) => challenge,
        Err(Error::MfaTokenInvalid) => return Ok(vec![]),
        Err(e) => return Err(e),
    };
    match state.store.user_by_id(challenge.user_id).await? {
        Some(user) => methods(state, &user).await,
        None => Ok(vec![]),
    }
}

/// Finishes the step `mfa_token` names with `proof`. Everything happens on one transaction
/// that first holds the step: answers to the same step take turns, the one that signs in spends
/// its code (or key challenge) with the session it gets, and the others find the step gone and
/// spend nothing.
pub async fn complete(
    state: &AppState,
    mfa_token: &str,
    proof: Proof<'_>,
    client: &ClientInfo,
) -> Result<SignedIn> {
    let (hash, waiting) = pending(state, mfa_token).await?;
    let had_failures = check_allowance(state, waiting.user_id).await?;
    let now = state.clock.now();
    let mut tx = state.store.begin().await?;
    let challenge = tx
        .hold_mfa_challenge(&hash.0, now, MAX_FAILURES)
        .await?
        .ok_or(Error::MfaTokenInvalid)?;
    let user = tx
        .user_by_id(challenge.user_id)
        .await?
        .ok_or(Error::MfaTokenInvalid)?;
    let verdict = match proof {
        Proof::Totp(raw) => check_totp(&mut tx, state, &user, raw, client).await,
        Proof::RecoveryCode(raw) => check_recovery_code(&mut tx, state, &user, raw, client).await,
        Proof::SecurityKey(answer) => {
            security_keys::check(&mut tx, state, &user, &hash.0, answer).await
        }
    };
    if let Err(e) = verdict {
        if is_refusal(&e) {
            tx.mfa_challenge_failed(&hash.0, MAX_FAILURES).await?;
        }
        return refused(state, tx, user.id, e).await;
    }

    if !tx.take_mfa_challenge(&hash.0).await? {
        return Err(Error::MfaTokenInvalid);
    }
    let session = sessions::issue(
        &mut tx,
        user.id,
        &challenge.kind,
        challenge.remember,
        client,
        now,
    )
    .await?;
    if session.new_device {
        notices::new_sign_in(&mut tx, state, &user, client).await?;
    }
    tx.commit().await?;
    // Mail may wait: a recovery code's notice, a new device's.
    state.mail_queued.notify_one();
    if had_failures {
        clear_allowance(state, user.id).await?;
    }
    tracing::info!(user = %user.id, session = %session.session_id, "signed in with a second factor");
    Ok(SignedIn { user, session })
}
