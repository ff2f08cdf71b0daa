//! Device authorization (RFC 8628) for a CLI on a machine without a browser: it shows a short
//! code, the person enters it at `/device` on any signed-in browser and approves, and the CLI,
//! polling, receives its tokens.

use serde::Serialize;

use super::{OauthError, TokenResponse, grant};
use crate::auth::{ClientInfo, Current};
use crate::domain::{SecretToken, TokenHash, TokenKind};
use crate::error::{Error, Result};
use crate::state::AppState;
use crate::store::DeviceCode;

pub const TTL_SECS: i64 = 300;
pub const INTERVAL_SECS: i64 = 5;
/// Consonants without look-alikes: no words, nothing to misread (RFC 8628 §6.1).
const ALPHABET: &[u8; 20] = b"BCDFGHJKLMNPQRSTVWXZ";

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DeviceStart {
    pub device_code: String,
    /// `XXXX-XXXX`, for the person to type at `verification_uri`.
    pub user_code: String,
    pub verification_uri: String,
    pub verification_uri_complete: String,
    pub expires_in: i64,
    pub interval: i64,
}

fn new_user_code() -> String {
    let mut raw = [0u8; 8];
    rand::fill(&mut raw);
    let letters: String = raw
        .iter()
        .map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char)
        .collect();
    format!("{}-{}", &letters[..4], &letters[4..])
}

/// What a person typed, as the code it means: case and separators do not matter.
pub fn normalize_user_code(raw: &str) -> Option<String> {
    let letters: String = raw
        .chars()
        .filter(char::is_ascii_alphabetic)
        .map(|c| c.to_ascii_uppercase())
        .collect();
    (letters.len() == 8 && letters.bytes().all(|b| ALPHABET.contains(&b)))
        .then(|| format!("{}-{}", &letters[..4], &letters[4..]))
}

pub async fn start(state: &AppState, device_name: Option<&str>) -> Result<DeviceStart> {
    let now = state.clock.now();
    let device_code = SecretToken::generate(TokenKind::DeviceCode);
    let record = DeviceCode {
        user_code: new_user_code(),
        device_name: super::clean_device_name(device_name),
        expires_at: now + TTL_SECS,
        interval_secs: INTERVAL_SECS,
        last_poll_at: None,
        user_id: None,
        approved: None,
        authenticated_at: None,
    };
    state
        .store
        .insert_device_code(&device_code.hash().0, &record, now)
        .await?;
    let verification_uri = state.settings.link("/device");
    Ok(DeviceStart {
        verification_uri_complete: format!("{verification_uri}?user_code={}", record.user_code),
        verification_uri,
        user_code: record.user_code,
        device_code: device_code.into_string(),
        expires_in: TTL_SECS,
        interval: INTERVAL_SECS,
    })
}

/// A pending device code by what the person typed.
pub async fn lookup(state: &AppState, typed: &str) -> Result<DeviceCode> {
    let code = normalize_user_code(typed).ok_or(Error::InvalidToken)?;
    state
        .store
        .device_by_user_code(&code)
        .await?
        .filter(|d| d.expires_at > state.clock.now() && d.approved.is_none())
        .ok_or(Error::InvalidToken)
}

pub async fn decide(state: &AppState, me: &Current, typed: &str, approve: bool) -> Result<()> {
    let device = lookup(state, typed).await?;
    if state
        .store
        .decide_device(
            &device.user_code,
            me.user.id,
            approve,
            state.store.credentials_entered_at(me.session_id).await?,
        )
        .await?
    {
        Ok(())
    } else {
        Err(Error::InvalidToken)
    }
}

/// The CLI's poll (`grant_type=urn:ietf:params:oauth:grant-type:device_code`).
pub async fn poll(
    state: &AppState,
    device_code: &str,
    client: &ClientInfo,
) -> std::result::Result<TokenResponse, OauthError> {
    const UNKNOWN: OauthError = OauthError::new("invalid_grant", "Unknown device code.");
    let hash = TokenHash::of_kind(device_code, TokenKind::DeviceCode).ok_or(UNKNOWN)?;
    let record = state.store.device_by_hash(&hash.0).await?.ok_or(UNKNOWN)?;
    let now = state.clock.now();
    if record.expires_at <= now {
        return Err(OauthError::new(
            "expired_token",
            "The code expired; start again.",
        ));
    }
    let too_soon = record
        .last_poll_at
        .is_some_and(|last| now - last < record.interval_secs);
    let interval = if too_soon {
        record.interval_secs + 5
    } else {
        record.interval_secs
    };
    state.store.device_polled(&hash.0, now, interval).await?;
    if too_soon {
        return Err(OauthError::new(
            "slow_down",
            "Polling too often; wait the interval.",
        ));
    }
    match (record.approved, record.user_id) {
        (None, _) => Err(OauthError::new(
            "authorization_pending",
            "Waiting for the person to approve.",
        )),
        (Some(false), _) | (Some(true), None) => Err(OauthError::new(
            "access_denied",
            "The sign-in was declined.",
        )),
        (Some(true), Some(user_id)) => {
            let mut tx = state.store.begin().await?;
            if !tx.take_device_code(&hash.0).await? {
                return Err(UNKNOWN);
            }
            let (_, tokens) = grant(
                &mut tx,
                state,
                user_id,
                &record.device_name,
                record.authenticated_at,
                client,
            )
            .await?;
            tx.commit().await?;
            state.mail_queued.notify_one();
            Ok(tokens)
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn user_codes_read_back_however_typed() {
        let code = super::new_user_code();
        assert_eq!(code.len(), 9);
        assert_eq!(
            super::normalize_user_code(&code.to_lowercase().replace('-', " ")),
            Some(code)
        );
        assert_eq!(
            super::normalize_user_code("ABCD-EFGH"),
            None,
            "vowels are not in the alphabet"
        );
        assert_eq!(super::normalize_user_code("BCD"), None);
    }
}
