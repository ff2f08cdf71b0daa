//! The second factor, as far as signing in needs it (ASVS V2.8). A correct password for an
//! account with 2FA yields an `mfa_token` (`begin`: 5 minutes, bound to that password step),
//! which `mfa::second_step` finishes with a TOTP code or a recovery code (both checked here) or
//! a security key (`mfa::security_keys`). Each TOTP time step works once per account (V2.8.4);
//! a replay is refused, logged and, unless the same browser signed in with it a moment ago,
//! reported to the owner (V2.8.5). Five wrong answers end the
//! token, and failures across tokens throttle the account's second step, which also guards the
//! code asked for outside sign-in (`verify_factor`, deleting the account).
//!
//! A code is spent on the transaction of what it allows (the session, the deletion), never on
//! its own: of answers racing for one step only the one that signs in spends anything
//! (issue 16), and a refusal commits only what it must (`refused`).

use totp_rs::Totp;
use uuid::Uuid;

use crate::auth::ClientInfo;
use crate::auth::codes::{self, LOW_CODES};
use crate::auth::throttle::{self, Rule};
use crate::domain::{SecretToken, TokenHash, TokenKind};
use crate::error::{Error, Result};
use crate::mail::notices::{self, What};
use crate::state::AppState;
use crate::store::{MfaChallenge, Tx, User};

pub const CHALLENGE_SECS: i64 = 5 * 60;
pub const MAX_FAILURES: i32 = 5;
/// Across tokens: 10 wrong codes at once, then one a minute.
pub(crate) const SECOND_STEP: Rule = Rule {
    burst: 10,
    interval_secs: 60,
};

/// The ways this account can finish the step, for the client to offer.
pub async fn methods(state: &AppState, user: &User) -> Result<Vec<&'static str>> {
    let mut methods = vec!["totp", "recovery_code"];
    if state.settings.webauthn.is_some() && !state.store.security_keys_of(user.id).await?.is_empty()
    {
        methods.push("security_key");
    }
    Ok(methods)
}

/// Called after a correct password: records the pending sign-in and returns its token.
pub async fn begin(
    state: &AppState,
    user: &User,
    remember: bool,
    kind: &str,
) -> Result<SecretToken> {
    let token = SecretToken::generate(TokenKind::MfaChallenge);
    let now = state.clock.now();
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
    let now = state.clock.now();
    let challenge = state
        .store
        .mfa_challenge(&hash.0)
        .await?
        .filter(|c| c.expires_at > now && c.failures < MAX_FAILURES)
        .ok_or(Error::MfaTokenInvalid)?;
    Ok((hash, challenge))
}

/// The account's authenticator. A seed that does not open (altered, or sealed under a key this
/// server lacks) fails closed: nobody passes a check that cannot be made (ASVS V4.1.5).
pub(crate) fn open_totp(state: &AppState, user: &User, sealed: &[u8]) -> Result<Totp> {
    let Some(secret) = state.settings.sealer.open(sealed, user.id.as_bytes()) else {
        tracing::error!(
            user = %user.id,
            "the TOTP secret opens with none of this server's keys: check secret_key_file and \
             previous_secret_key_files"
        );
        return Err(Error::SecondFactorUnavailable);
    };
    Ok(codes::authenticator(&secret, &user.username)?)
}

/// The allowance of wrong answers the account's second step has left, across attempts (and
/// deleting the account): `RateLimited` once it is spent, else whether it had any failures
/// lately (for the caller to clear after a success).
pub(crate) async fn check_allowance(state: &AppState, user_id: Uuid) -> Result<bool> {
    throttle::check(state, &allowance_key(user_id), SECOND_STEP).await
}

fn allowance_key(user_id: Uuid) -> String {
    format!("mfa-account:{user_id}")
}

/// A success clears the failures of the account's second step.
pub(crate) async fn clear_allowance(state: &AppState, user_id: Uuid) -> Result<()> {
    throttle::clear(&state.store, &allowance_key(user_id)).await
}

/// Whether `e` refuses the answer itself (a wrong code, a replayed one, a key's answer that
/// does not verify): it counts against the attempt and the account's allowance. Other errors
/// (a malformed code, a server fault) count for nothing.
pub(crate) fn is_refusal(e: &Error) -> bool {
    matches!(
        e,
        Error::InvalidCode | Error::CodeReplayed | Error::SecurityKeyRejected
    )
}

/// Ends `tx`, in which a second factor failed with `e`. A refusal commits what it left there (a
/// replay's notice, the attempt's failure count, a key's spent challenge) and counts against
/// the account's allowance; any other error rolls it all back.
pub(crate) async fn refused<T>(state: &AppState, tx: Tx, user_id: Uuid, e: Error) -> Result<T> {
    if is_refusal(&e) {
        tx.commit().await?;
        state.mail_queued.notify_one();
        throttle::hit(state, &allowance_key(user_id), SECOND_STEP).await?;
    }
    Err(e)
}

/// A code from the account's authenticator app, spent on `tx`: each time step works once. A
/// replay is refused, logged, and its notice to the owner queued on `tx` (see `refused`).
pub(crate) async fn check_totp(
    tx: &mut Tx,
    state: &AppState,
    user: &User,
    raw: &str,
    client: &ClientInfo,
) -> Result<()> {
    let code = codes::parse_totp(raw).map_err(Error::invalid)?;
    let cred = tx.hold_totp(user.id).await?.ok_or(Error::InvalidCode)?;
    let totp = open_totp(state, user, &cred.secret_sealed)?;
    let step = codes::matching_step(&totp, &code, state.clock.now().unsigned_abs())
        .ok_or(Error::InvalidCode)?;
    if tx.claim_totp_step(user.id, step).await? {
        return Ok(());
    }
    tracing::warn!(user = %user.id, ip = %client.ip, "reused two-factor code refused");
    // Signing in twice within one code's life from the same browser (a second tab, a script
    // run again) is the owner waiting for the next code, not a stolen password.
    if signed_in_here_just_now(tx, state, user, client).await? {
        return Err(Error::CodeReplayed);
    }
    let what = What {
        subject: "A used sign-in code was tried again",
        headline: "Someone entered your correct password and a two-factor code that had already been used.",
        detail: "The sign-in was refused. If this was not you, your password is known to someone else: change it now.",
    };
    notices::queue(tx, state, user, client, &what).await?;
    Err(Error::CodeReplayed)
}

/// How long a TOTP code is accepted (its step and the next, with the clock skew allowed), and
/// so how recent a sign-in must be to explain a code seen twice.
const CODE_LIFE_SECS: i64 = 120;

/// Whether this device (same address, same browser) signed in to the account within a code's
/// life. Only a sign-in counts, not use of an older session: the address and the browser's
/// name are shared behind one router and easily copied, so browsing must not silence the
/// alarm for a replay from the next desk.
async fn signed_in_here_just_now(
    tx: &mut Tx,
    state: &AppState,
    user: &User,
    client: &ClientInfo,
) -> Result<bool> {
    let since = state.clock.now() - CODE_LIFE_SECS;
    let agent: String = client.user_agent.chars().take(512).collect();
    let sessions = tx.sessions_started_since(user.id, since).await?;
    Ok(sessions
        .iter()
        .any(|s| s.ip == client.ip && s.user_agent == agent))
}

/// One of the account's unused recovery codes, spent on `tx`; the notice telling the owner how
/// many are left is queued there too, so it goes out exactly when the code is spent.
pub(crate) async fn check_recovery_code(
    tx: &mut Tx,
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
    let left = tx
        .use_recovery_code(user.id, &candidates, state.clock.now())
        .await?
        .ok_or(Error::InvalidCode)?;
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
    notices::queue(tx, state, user, client, &what).await
}

/// A second factor outside sign-in (deleting the account), spent on `tx`, the transaction of
/// what it allows: six digits are a TOTP code, anything else a recovery code. The caller checks
/// the allowance first and ends `tx` with `refused` when this fails.
pub async fn verify_factor(
    tx: &mut Tx,
    state: &AppState,
    user: &User,
    code: &str,
    client: &ClientInfo,
) -> Result<()> {
    if codes::parse_totp(code).is_ok() {
        check_totp(tx, state, user, code, client).await
    } else {
        check_recovery_code(tx, state, user, code, client).await
    }
}
