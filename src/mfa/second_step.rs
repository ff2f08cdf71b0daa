//! The second sign-in step. A correct password for an account with 2FA yields an `mfa_token`
//! (5 minutes, bound to that password step); a TOTP code, a recovery code or a security key's
//! answer to a challenge (`security_keys`) then finishes the sign-in. Each TOTP time step works
//! once per account (ASVS V2.8.4); a replay is refused, logged and reported to the owner
//! (V2.8.5). Five wrong answers end the token, and failures across tokens throttle the
//! account's second step.

use crate::auth::ClientInfo;
use crate::auth::login::SignedIn;
use crate::auth::sessions;
use crate::auth::throttle::{self, Rule};
use crate::domain::{SecretToken, TokenHash, TokenKind};
use crate::error::{Error, Result};
use crate::mail::notices::{self, What};
use crate::mfa::{LOW_CODES, codes, open_totp, security_keys};
use crate::state::AppState;
use crate::store::{MfaChallenge, User};

pub const CHALLENGE_SECS: i64 = 5 * 60;
pub const MAX_FAILURES: i32 = 5;
/// Across tokens: 10 wrong codes at once, then one a minute.
const SECOND_STEP: Rule = Rule {
    burst: 10,
    interval_secs: 60,
};

/// What the person offers as their second factor.
pub enum Proof<'a> {
    Totp(&'a str),
    RecoveryCode(&'a str),
    /// The key's answer to the challenge `security_keys::begin_sign_in` made for this step.
    SecurityKey(&'a webauthn_rs::prelude::PublicKeyCredential),
}

/// The ways this account can finish the step, for the client to offer.
pub async fn methods(state: &AppState, user: &User) -> Result<Vec<&'static str>> {
    let mut methods = vec!["totp", "recovery_code"];
    if state.settings.webauthn.is_some() && !state.store.security_keys_of(user.id).await?.is_empty()
    {
        methods.push("security_key");
    }
    Ok(methods)
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

/// Called after a correct password: records the pending sign-in and returns its token.
pub async fn begin(
    state: &AppState,
    user: &User,
    remember: bool,
    kind: &str,
) -> Result<SecretToken> {
    let token = SecretToken::generate(TokenKind::MfaChallenge);
    let now = crate::clock::now();
    state
        .store
        .insert_mfa_challenge(
            &token.hash().0,
            user.id,
            remember,
            kind,
            now,
            now + CHALLENGE_SECS,
        )
        .await?;
    Ok(token)
}

/// The pending step `mfa_token` names, unless it expired or had too many wrong answers.
pub async fn pending(state: &AppState, mfa_token: &str) -> Result<(TokenHash, MfaChallenge)> {
    let hash =
        TokenHash::of_kind(mfa_token, TokenKind::MfaChallenge).ok_or(Error::MfaTokenInvalid)?;
    let now = crate::clock::now();
    let challenge = state
        .store
        .mfa_challenge(&hash.0)
        .await?
        .filter(|c| c.expires_at > now && c.failures < MAX_FAILURES)
        .ok_or(Error::MfaTokenInvalid)?;
    Ok((hash, challenge))
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
    let had_failures = throttle::check(&state.store, &key, SECOND_STEP).await?;

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
            throttle::hit(&state.store, &key, SECOND_STEP).await?;
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

async fn check_totp(state: &AppState, user: &User, raw: &str, client: &ClientInfo) -> Result<()> {
    let code = codes::parse_totp(raw).map_err(Error::invalid)?;
    let cred = state
        .store
        .totp_of(user.id)
        .await?
        .ok_or(Error::InvalidCode)?;
    let totp = open_totp(state, user, &cred.secret_sealed)?;
    let step = codes::matching_step(&totp, &code, crate::clock::now().unsigned_abs())
        .ok_or(Error::InvalidCode)?;
    if state.store.claim_totp_step(user.id, step).await? {
        return Ok(());
    }
    tracing::warn!(user = %user.id, ip = %client.ip, "reused two-factor code refused");
    let what = What {
        subject: "A used sign-in code was tried again",
        headline: "Someone entered your correct password and a two-factor code that had already been used.",
        detail: "The sign-in was refused. If this was not you, your password is known to someone else: change it now.",
    };
    notices::send(state, user, client, &what).await?;
    Err(Error::CodeReplayed)
}

async fn check_recovery_code(
    state: &AppState,
    user: &User,
    raw: &str,
    client: &ClientInfo,
) -> Result<()> {
    let code = codes::normalize_recovery_code(raw).map_err(Error::invalid)?;
    // Codes made before a key change still work while their key is listed as previous: they
    // cannot be rehashed without the code, and a lost authenticator must not lock anyone out.
    let keys = &state.settings.recovery_keys;
    let candidates = codes::recovery_code_candidates(keys, user.id, &code);
    if !state
        .store
        .use_recovery_code(user.id, &candidates, crate::clock::now())
        .await?
    {
        return Err(Error::InvalidCode);
    }
    let left = state.store.recovery_codes_left(user.id).await?;
    tracing::info!(user = %user.id, left, "recovery code used");
    let detail = if left <= LOW_CODES {
        format!("You have {left} recovery codes left. Generate a new set in your account settings.")
    } else {
        format!("You have {left} recovery codes left.")
    };
    let what = What {
        subject: "A recovery code was used to sign in",
        headline: "A two-factor recovery code was used to sign in to your Latchkey account.",
        detail: &detail,
    };
    notices::send(state, user, client, &what).await?;
    Ok(())
}

/// A second factor outside sign-in (deleting the account): six digits are a TOTP code,
/// anything else a recovery code. Wrong codes count against the same allowance.
pub async fn verify_factor(
    state: &AppState,
    user: &User,
    code: &str,
    client: &ClientInfo,
) -> Result<()> {
    let key = format!("mfa-account:{}", user.id);
    throttle::check(&state.store, &key, SECOND_STEP).await?;
    let verdict = if codes::parse_totp(code).is_ok() {
        check_totp(state, user, code, client).await
    } else {
        check_recovery_code(state, user, code, client).await
    };
    if matches!(verdict, Err(Error::InvalidCode | Error::CodeReplayed)) {
        throttle::hit(&state.store, &key, SECOND_STEP).await?;
    }
    verdict
}
