//! Security keys (WebAuthn / FIDO2) as a second factor beside the authenticator app (ASVS
//! V2.3.2). As on GitHub, they are added once 2FA is on: the authenticator app and the recovery
//! codes stay the way back in when a key is lost. Turning 2FA off removes them.
//!
//! webauthn-rs does the protocol. A registration and a sign-in challenge each live in the
//! database between their two requests (several servers may share it), and each is used once.

use std::sync::Arc;

use uuid::Uuid;
use webauthn_rs::prelude::{
    CreationChallengeResponse, PublicKeyCredential, RegisterPublicKeyCredential,
    RequestChallengeResponse, SecurityKey, SecurityKeyAuthentication, SecurityKeyRegistration, Url,
    Webauthn, WebauthnBuilder,
};

use crate::auth::reauth::confirm_password;
use crate::auth::{ClientInfo, Current};
use crate::domain::Invalid;
use crate::error::{Error, Result};
use crate::mail::notices::{self, What};
use crate::state::AppState;
use crate::store::{StoredSecurityKey, Tx, User};

/// Enough for a key on the keyring, one in the drawer and a few spares.
pub const MAX_KEYS: i64 = 10;
/// How long the browser has to answer a registration.
const REGISTRATION_SECS: i64 = 5 * 60;
pub const NAME_MAX_CHARS: usize = 64;

/// The relying party is the public URL. WebAuthn needs a domain name (browsers refuse IP
/// addresses), so a server reached only by IP address offers no security keys.
///
/// Keys prove presence (a touch), not a PIN: they follow a password, as on GitHub. It is also
/// what Chromium accepts: webauthn-rs's default asks a non-discoverable key for credProtect
/// "userVerificationRequired", which Chromium refuses as inconsistent (kanidm/webauthn-rs#490).
pub fn relying_party(public_url: &str) -> Option<Arc<Webauthn>> {
    let url = Url::parse(public_url).ok()?;
    let Some(url::Host::Domain(host)) = url.host() else {
        return None;
    };
    let built = WebauthnBuilder::new(host, &url)
        .map(|b| {
            b.rp_name("Latchkey")
                .danger_set_user_presence_only_security_keys(true)
        })
        .and_then(|b| b.build())
        .inspect_err(|e| tracing::warn!(error = %e, "security keys are off"))
        .ok()?;
    Some(Arc::new(built))
}

fn relying_party_of(state: &AppState) -> Result<&Webauthn> {
    state
        .settings
        .webauthn
        .as_deref()
        .ok_or(Error::SecurityKeysUnavailable)
}

pub struct KeyInfo {
    pub id: Uuid,
    pub name: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
}

impl From<StoredSecurityKey> for KeyInfo {
    fn from(k: StoredSecurityKey) -> Self {
        Self {
            id: k.id,
            name: k.name,
            created_at: k.created_at,
            last_used_at: k.last_used_at,
        }
    }
}

pub async fn list(state: &AppState, user: &User) -> Result<Vec<KeyInfo>> {
    Ok(state
        .store
        .security_keys_of(user.id)
        .await?
        .into_iter()
        .map(KeyInfo::from)
        .collect())
}

/// webauthn-rs wraps options as `{"publicKey": …}`, the shape `navigator.credentials` takes;
/// clients want the inner object for `PublicKeyCredential.parse…OptionsFromJSON`.
pub fn public_key_options(wrapped: impl serde::Serialize) -> Result<serde_json::Value> {
    let mut value = serde_json::to_value(wrapped).map_err(anyhow::Error::from)?;
    value
        .get_mut("publicKey")
        .map(serde_json::Value::take)
        .ok_or_else(|| anyhow::anyhow!("WebAuthn options without publicKey").into())
}

/// Reads WebAuthn JSON a browser made (`credential.toJSON()`) into webauthn-rs's type, or says
/// which field is wrong.
pub fn parse_answer_value<T: serde::de::DeserializeOwned>(
    field: &'static str,
    value: serde_json::Value,
) -> Result<T> {
    serde_json::from_value(value).map_err(|_| malformed(field))
}

/// The same, from the text a form carried.
pub fn parse_answer<T: serde::de::DeserializeOwned>(field: &'static str, text: &str) -> Result<T> {
    serde_json::from_str(text).map_err(|_| malformed(field))
}

fn malformed(field: &'static str) -> Error {
    Error::invalid(Invalid::new(
        field,
        "webauthn_malformed",
        "The security key's answer did not arrive whole. Try again.",
    ))
}

pub(crate) fn parse_name(raw: &str) -> Result<String> {
    let name = raw.trim();
    if name.is_empty() {
        return Err(Error::invalid(Invalid::new(
            "name",
            "name_required",
            "Give the key a name, such as \"Blue YubiKey\".",
        )));
    }
    if name.chars().count() > NAME_MAX_CHARS || name.chars().any(char::is_control) {
        return Err(Error::invalid(Invalid::new(
            "name",
            "name_invalid",
            format!("A key's name is at most {NAME_MAX_CHARS} characters, on one line."),
        )));
    }
    Ok(name.to_owned())
}

/// Step one, after the password: the options for `navigator.credentials.create`.
pub async fn begin_registration(
    state: &AppState,
    me: &Current,
    password: &str,
    name: &str,
) -> Result<CreationChallengeResponse> {
    let rp = relying_party_of(state)?;
    if !me.user.mfa_enabled {
        return Err(Error::MfaNotEnabled);
    }
    let name = parse_name(name)?;
    confirm_password(state, &me.user, password).await?;
    let keys = state.store.security_keys_of(me.user.id).await?;
    if keys.len() as i64 >= MAX_KEYS {
        return Err(Error::TooManySecurityKeys);
    }
    // Asking the browser to refuse keys already registered spares a confusing second entry.
    let exclude = keys
        .iter()
        .filter_map(|k| open_key(k).map(|sk| sk.cred_id().clone()))
        .collect();
    let display = if me.user.name.is_empty() {
        &me.user.username
    } else {
        &me.user.name
    };
    let (options, registration) = rp
        .start_securitykey_registration(
            me.user.id,
            &me.user.username,
            display,
            Some(exclude),
            None,
            None,
        )
        .map_err(|e| anyhow::anyhow!("starting a security key registration: {e}"))?;
    let saved = serde_json::to_string(&registration).map_err(anyhow::Error::from)?;
    state
        .store
        .put_security_key_registration(
            me.user.id,
            &name,
            &saved,
            state.clock.now() + REGISTRATION_SECS,
        )
        .await?;
    Ok(options)
}

/// Step two: the browser's answer. The key is added and the owner told by mail.
pub async fn finish_registration(
    state: &AppState,
    me: &Current,
    credential: &RegisterPublicKeyCredential,
    client: &ClientInfo,
) -> Result<KeyInfo> {
    let rp = relying_party_of(state)?;
    let now = state.clock.now();
    let pending = state
        .store
        .take_security_key_registration(me.user.id)
        .await?
        .filter(|p| p.expires_at > now)
        .ok_or(Error::SecurityKeyRegistrationExpired)?;
    let registration: SecurityKeyRegistration =
        serde_json::from_str(&pending.state).map_err(anyhow::Error::from)?;
    let key = rp
        .finish_securitykey_registration(credential, &registration)
        .map_err(|e| {
            tracing::info!(user = %me.user.id, error = %e, "security key registration refused");
            Error::SecurityKeyRejected
        })?;
    let mut tx = state.store.begin().await?;
    if tx.count_security_keys(me.user.id).await? >= MAX_KEYS {
        return Err(Error::TooManySecurityKeys);
    }
    let stored = StoredSecurityKey {
        id: Uuid::now_v7(),
        name: pending.name,
        credential: serde_json::to_string(&key).map_err(anyhow::Error::from)?,
        created_at: now,
        last_used_at: None,
    };
    if !tx
        .insert_security_key(me.user.id, &stored, key.cred_id().as_slice())
        .await?
    {
        return Err(Error::SecurityKeyAlreadyRegistered);
    }
    let detail = format!("The key is named \"{}\".", stored.name);
    let what = What {
        subject: "A security key was added",
        headline: "A security key was added to your Latchkey account for two-factor authentication.",
        detail: &detail,
    };
    notices::queue(&mut tx, state, &me.user, client, &what).await?;
    tx.commit().await?;
    state.mail_queued.notify_one();
    tracing::info!(user = %me.user.id, key = %stored.id, "security key added");
    Ok(stored.into())
}

pub async fn remove(
    state: &AppState,
    me: &Current,
    id: Uuid,
    password: &str,
    client: &ClientInfo,
) -> Result<()> {
    confirm_password(state, &me.user, password).await?;
    let mut tx = state.store.begin().await?;
    if !tx.delete_security_key(me.user.id, id).await? {
        return Err(Error::NotFound("security key"));
    }
    let what = What {
        subject: "A security key was removed",
        headline: "A security key was removed from your Latchkey account.",
        detail: "It can no longer be used to sign in.",
    };
    notices::queue(&mut tx, state, &me.user, client, &what).await?;
    tx.commit().await?;
    state.mail_queued.notify_one();
    tracing::info!(user = %me.user.id, key = %id, "security key removed");
    Ok(())
}

/// During sign-in, after the password: the options for `navigator.credentials.get`. A new
/// call replaces the previous challenge.
pub async fn begin_sign_in(state: &AppState, mfa_token: &str) -> Result<RequestChallengeResponse> {
    let rp = relying_party_of(state)?;
    let (hash, challenge) = crate::auth::second_factor::pending(state, mfa_token).await?;
    let keys: Vec<SecurityKey> = state
        .store
        .security_keys_of(challenge.user_id)
        .await?
        .iter()
        .filter_map(open_key)
        .collect();
    if keys.is_empty() {
        return Err(Error::NoSecurityKeys);
    }
    let (options, authentication) = rp
        .start_securitykey_authentication(&keys)
        .map_err(|e| anyhow::anyhow!("starting a security key sign-in: {e}"))?;
    let saved = serde_json::to_string(&authentication).map_err(anyhow::Error::from)?;
    if !state
        .store
        .set_security_key_challenge(&hash.0, &saved)
        .await?
    {
        return Err(Error::MfaTokenInvalid);
    }
    Ok(options)
}

/// Checks the key's answer to this step's challenge, on `tx`, which holds the step
/// (`second_step::complete`). The challenge is taken there and spent when `tx` commits, as it
/// does on a refusal too: each is answered once. The key's signature counter is kept so a
/// cloned key shows itself by going backwards.
pub(crate) async fn check(
    tx: &mut Tx,
    state: &AppState,
    user: &User,
    challenge_hash: &[u8],
    credential: &PublicKeyCredential,
) -> Result<()> {
    let rp = relying_party_of(state)?;
    let Some(saved) = tx.take_security_key_challenge(challenge_hash).await? else {
        return Err(Error::SecurityKeyRejected);
    };
    let authentication: SecurityKeyAuthentication =
        serde_json::from_str(&saved).map_err(anyhow::Error::from)?;
    let result = rp
        .finish_securitykey_authentication(credential, &authentication)
        .map_err(|e| {
            tracing::warn!(user = %user.id, error = %e, "security key answer refused");
            Error::SecurityKeyRejected
        })?;
    let stored = tx.security_keys_of(user.id).await?;
    let Some((row, mut key)) = stored
        .iter()
        .filter_map(|row| open_key(row).map(|key| (row, key)))
        .find(|(_, key)| key.cred_id() == result.cred_id())
    else {
        // Removed between the challenge and the answer.
        return Err(Error::SecurityKeyRejected);
    };
    key.update_credential(&result);
    let credential = serde_json::to_string(&key).map_err(anyhow::Error::from)?;
    // webauthn-rs compared the counter with the one saved when the challenge was made; this
    // compares it with the newest stored, which a sign-in since may have raised.
    let counter = result.counter();
    if !tx
        .security_key_used(user.id, row.id, &credential, counter, state.clock.now())
        .await?
    {
        tracing::warn!(user = %user.id, key = %row.id, counter, "security key counter went back: a cloned key?");
        return Err(Error::SecurityKeyRejected);
    }
    Ok(())
}

fn open_key(row: &StoredSecurityKey) -> Option<SecurityKey> {
    serde_json::from_str(&row.credential)
        .inspect_err(|e| tracing::error!(key = %row.id, error = %e, "unreadable security key"))
        .ok()
}
