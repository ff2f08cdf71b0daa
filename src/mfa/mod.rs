//! Two-factor authentication: setting up an authenticator app, recovery codes, turning it off.
//! The sign-in step that asks for a code lives in `second_step`; checking codes, which deleting
//! an account needs too, is `auth::second_factor`'s, and their pure parts are `auth::codes`.

pub mod second_step;
pub mod security_keys;

use anyhow::anyhow;
use totp_rs::Totp;

use crate::auth::reauth::confirm_password;
use crate::auth::second_factor::open_totp;
use crate::auth::sessions::{self, Issued};
use crate::auth::{ClientInfo, Current};
use crate::error::{Error, Result};
use crate::mail::notices::{self, What};
use crate::state::AppState;
use crate::store::User;

pub use crate::auth::codes::{self, LOW_CODES};

pub struct Setup {
    pub secret_base32: String,
    pub otpauth_uri: String,
    pub qr_svg: String,
}

/// Step one: after the password, a fresh secret for the app to scan. Nothing is on yet.
pub async fn setup(state: &AppState, me: &Current, password: &str) -> Result<Setup> {
    if me.user.mfa_enabled {
        return Err(Error::MfaAlreadyEnabled);
    }
    confirm_password(state, &me.user, password).await?;
    describe(&new_pending(state, me).await?)
}

/// Step one for the pages: after the password, a fresh secret for the app to scan, which the
/// set-up page (a GET, so a reload shows the same secret) keeps showing until its first code
/// turns 2FA on. Never a secret left waiting from before: whoever started that set-up (with
/// the password, from any session or the API) knows it, and 2FA on a secret someone else
/// knows protects nothing.
pub async fn start(state: &AppState, me: &Current, password: &str) -> Result<()> {
    if me.user.mfa_enabled {
        return Err(Error::MfaAlreadyEnabled);
    }
    confirm_password(state, &me.user, password).await?;
    new_pending(state, me).await?;
    Ok(())
}

/// Stores a fresh secret as the one waiting for its first code.
async fn new_pending(state: &AppState, me: &Current) -> Result<Totp> {
    let secret = codes::new_secret();
    let sealed = state.settings.sealer.seal(&secret, me.user.id.as_bytes());
    if !state
        .store
        .put_pending_totp(me.user.id, &sealed, state.clock.now())
        .await?
    {
        return Err(Error::MfaAlreadyEnabled);
    }
    Ok(codes::authenticator(&secret, &me.user.username)?)
}

/// The set-up still waiting for its first code, to show (again, after a mistyped code).
pub async fn pending_setup(state: &AppState, me: &Current) -> Result<Option<Setup>> {
    match state.store.totp_of(me.user.id).await? {
        Some(cred) if cred.enabled_at.is_none() => Ok(Some(describe(&open_totp(
            state,
            &me.user,
            &cred.secret_sealed,
        )?)?)),
        _ => Ok(None),
    }
}

fn describe(totp: &Totp) -> Result<Setup> {
    let otpauth_uri = totp.to_url().map_err(|e| anyhow!("otpauth URI: {e:?}"))?;
    Ok(Setup {
        secret_base32: totp.secret().to_base32(),
        qr_svg: codes::qr_svg(&otpauth_uri)?,
        otpauth_uri,
    })
}

pub struct Enabled {
    pub recovery_codes: Vec<String>,
    pub session: Issued,
}

/// Step two: the first code proves the app has the secret. 2FA goes on, recovery codes are
/// issued, every other session ends and this one gets a new token.
pub async fn enable(
    state: &AppState,
    me: &Current,
    code: &str,
    client: &ClientInfo,
) -> Result<Enabled> {
    if me.user.mfa_enabled {
        return Err(Error::MfaAlreadyEnabled);
    }
    let code = codes::parse_totp(code).map_err(Error::invalid)?;
    let cred = state
        .store
        .totp_of(me.user.id)
        .await?
        .ok_or(Error::MfaSetupRequired)?;
    let totp = open_totp(state, &me.user, &cred.secret_sealed)?;
    let now = state.clock.now();
    let step = codes::matching_step(&totp, &code, now.unsigned_abs()).ok_or(Error::InvalidCode)?;

    let recovery_codes = new_recovery_codes();
    let hashes = hash_codes(state, &me.user, &recovery_codes);
    let mut tx = state.store.begin().await?;
    if !tx.enable_totp(me.user.id, step, now).await? {
        return Err(Error::MfaAlreadyEnabled);
    }
    tx.replace_recovery_codes(me.user.id, &hashes, now).await?;
    tx.delete_sessions_except(me.user.id, None).await?;
    let remember = me.remember;
    let session = sessions::issue(
        &mut tx,
        me.user.id,
        &me.kind,
        remember,
        client,
        state.clock.now(),
    )
    .await?;
    let what = What {
        subject: "Two-factor authentication is on",
        headline: "Two-factor authentication was turned on for your Latchkey account.",
        detail: "Every other session was signed out. Keep your recovery codes somewhere safe.",
    };
    notices::queue(&mut tx, state, &me.user, client, &what).await?;
    tx.commit().await?;
    state.mail_queued.notify_one();
    tracing::info!(user = %me.user.id, "two-factor authentication enabled");
    Ok(Enabled {
        recovery_codes,
        session,
    })
}

/// A new set of recovery codes; the old set stops working.
pub async fn regenerate_codes(
    state: &AppState,
    me: &Current,
    password: &str,
    client: &ClientInfo,
) -> Result<Vec<String>> {
    if !me.user.mfa_enabled {
        return Err(Error::MfaNotEnabled);
    }
    confirm_password(state, &me.user, password).await?;
    let codes = new_recovery_codes();
    let hashes = hash_codes(state, &me.user, &codes);
    let mut tx = state.store.begin().await?;
    tx.replace_recovery_codes(me.user.id, &hashes, state.clock.now())
        .await?;
    let what = What {
        subject: "New recovery codes",
        headline: "New two-factor recovery codes were generated for your Latchkey account.",
        detail: "The previous codes no longer work.",
    };
    notices::queue(&mut tx, state, &me.user, client, &what).await?;
    tx.commit().await?;
    state.mail_queued.notify_one();
    Ok(codes)
}

pub async fn disable(
    state: &AppState,
    me: &Current,
    password: &str,
    client: &ClientInfo,
) -> Result<()> {
    if !me.user.mfa_enabled {
        return Err(Error::MfaNotEnabled);
    }
    confirm_password(state, &me.user, password).await?;
    let mut tx = state.store.begin().await?;
    if !tx.disable_mfa(me.user.id).await? {
        return Err(Error::MfaNotEnabled);
    }
    let what = What {
        subject: "Two-factor authentication is off",
        headline: "Two-factor authentication was turned off for your Latchkey account.",
        detail: "Signing in now needs only your password.",
    };
    notices::queue(&mut tx, state, &me.user, client, &what).await?;
    tx.commit().await?;
    state.mail_queued.notify_one();
    tracing::info!(user = %me.user.id, "two-factor authentication disabled");
    Ok(())
}

/// Unused recovery codes, for settings and the "running low" banner.
pub async fn codes_left(state: &AppState, user: &User) -> Result<i64> {
    if !user.mfa_enabled {
        return Ok(0);
    }
    Ok(state.store.recovery_codes_left(user.id).await?)
}

fn new_recovery_codes() -> Vec<String> {
    (0..codes::RECOVERY_CODE_COUNT)
        .map(|_| codes::new_recovery_code())
        .collect()
}

fn hash_codes(state: &AppState, user: &User, codes: &[String]) -> Vec<Vec<u8>> {
    codes
        .iter()
        .map(|c| {
            let key = &state.settings.recovery_keys[0];
            codes::stored_recovery_code(key, user.id, &c.replace('-', ""))
        })
        .collect()
}
