//! The second sign-in step: the `mfa_token` a correct password yielded
//! (`auth::second_factor::begin`) and a TOTP code, a recovery code or a security key's answer
//! to a challenge (`security_keys`) finish the sign-in. The codes are checked, and the step
//! throttled, in `auth::second_factor`.

use crate::auth::ClientInfo;
use crate::auth::login::SignedIn;
use crate::auth::second_factor::{
    MAX_FAILURES, SECOND_STEP, check_recovery_code, check_totp, methods, pending,
};
use crate::auth::sessions;
use crate::auth::throttle;
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

pub async fn complete(
    state: &AppState,
    mfa_token: &str,
    proof: Proof<'_>,
    client: &ClientInfo,
) -> Result<SignedIn> {
    let (hash, challenge) = pending(state, mfa_token).await?;
    let user = state
        .store
        .user_by_id(challenge.user_id)
        .await?
        .ok_or(Error::MfaTokenInvalid)?;
    let key = format!("mfa-account:{}", user.id);
    let had_failures = throttle::check(state, &key, SECOND_STEP).await?;

    let verdict = match proof {
        Proof::Totp(raw) => check_totp(state, &user, raw, client).await,
        Proof::RecoveryCode(raw) => check_recovery_code(state, &user, raw, client).await,
        Proof::SecurityKey(answer) => security_keys::check(state, &user, &hash.0, answer).await,
    };
    match verdict {
        Ok(()) => {}
        Err(e @ (Error::InvalidCode | Error::CodeReplayed | Error::SecurityKeyRejected)) => {
            state
                .store
                .mfa_challenge_failed(&hash.0, MAX_FAILURES)
                .await?;
            throttle::hit(state, &key, SECOND_STEP).await?;
            return Err(e);
        }
        Err(other) => return Err(other),
    }

    let mut tx = state.store.begin().await?;
    if !tx.take_mfa_challenge(&hash.0).await? {
        return Err(Error::MfaTokenInvalid);
    }
    let session = sessions::issue(
        &mut tx,
        user.id,
        &challenge.kind,
        challenge.remember,
        client,
        state.clock.now(),
    )
    .await?;
    if session.new_device {
        notices::new_sign_in(&mut tx, state, &user, client).await?;
    }
    tx.commit().await?;
    if session.new_device {
        state.mail_queued.notify_one();
    }
    if had_failures {
        throttle::clear(&state.store, &key).await?;
    }
    tracing::info!(user = %user.id, session = %session.session_id, "signed in with a second factor");
    Ok(SignedIn { user, session })
}
