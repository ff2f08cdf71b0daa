//! Sealing inside a PKCS#11 token (an HSM, or SoftHSM2 for testing), ASVS 4.0.3 V6.4.2: the
//! keys that seal stored data are AES-256 keys generated in the token as sensitive and
//! non-extractable, so this process hands the token plaintext and gets ciphertext back, and
//! never holds the key. Anyone who copies the database, `secret.key` and this process's
//! memory still cannot open what the token sealed without the token itself.
//!
//! One key per purpose (`<prefix>/<purpose>`, the same purposes `KeyRing::derive` separates):
//! a token can then show, limit or destroy each use on its own (the outbox key can go without
//! touching the password pepper), and each key's count of random-IV encryptions, which GCM
//! bounds, covers one use only.
//!
//! Sessions: each key keeps one logged-in session behind a mutex. PKCS#11 forbids using a
//! session from two threads at once; SoftHSM and local HSMs answer in microseconds, so a
//! request waits no longer on the mutex than on the call. A session the token dropped (a
//! restart, an unplugged device) is reopened once and the call tried again. A network HSM
//! with millisecond round trips would want a pool of sessions per key instead.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use anyhow::{Context, bail};
use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::error::{Error, RvError};
use cryptoki::mechanism::aead::GcmParams;
use cryptoki::mechanism::{Mechanism, MechanismType};
use cryptoki::object::{Attribute, AttributeType, KeyType, ObjectClass, ObjectHandle};
use cryptoki::session::{Session, UserType};
use cryptoki::slot::Slot;
use secrecy::SecretString;
use sha2::{Digest, Sha256};

use crate::config::KeysConfig;

/// The first byte of data the token sealed: `2 || key id (4) || IV (12) || ciphertext || tag
/// (16)`. Version 1 is sealed in this process (`super::Sealer`), so both can be told apart and
/// opened side by side while `rotate-key` moves one to the other.
pub const VERSION: u8 = 2;
const IV_LEN: usize = 12;

/// A token, logged in. Shared by the keys of every purpose.
pub struct Hsm {
    pkcs11: Pkcs11,
    slot: Slot,
    token_label: String,
    key_prefix: String,
    pin: SecretString,
}

impl Hsm {
    /// None without `pkcs11_module`. Checks the module, token and PIN now, so a mistake stops
    /// the server at start rather than at the first sign-in.
    pub fn connect(config: &KeysConfig) -> anyhow::Result<Option<Arc<Self>>> {
        let Some(module) = &config.pkcs11_module else {
            if config.pkcs11_token_label.is_some() || config.pkcs11_pin_file.is_some() {
                bail!("[keys] pkcs11_token_label and pkcs11_pin_file need pkcs11_module");
            }
            return Ok(None);
        };
        let (Some(token_label), Some(pin_file)) =
            (&config.pkcs11_token_label, &config.pkcs11_pin_file)
        else {
            bail!("[keys] pkcs11_module needs pkcs11_token_label and pkcs11_pin_file");
        };
        let pin = read_pin(pin_file)?;
        let pkcs11 = Pkcs11::new(module)
            .with_context(|| format!("loading the PKCS#11 module {}", module.display()))?;
        match pkcs11.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK)) {
            // Loaded already in this process (a second server in one test process).
            Ok(()) | Err(Error::Pkcs11(RvError::CryptokiAlreadyInitialized, _)) => {}
            Err(e) => return Err(e).context("initialising the PKCS#11 module"),
        }
        let slot = find_slot(&pkcs11, token_label)?;
        let hsm = Self {
            pkcs11,
            slot,
            token_label: token_label.clone(),
            key_prefix: config
                .pkcs11_key_label
                .clone()
                .unwrap_or_else(|| "latchkey".into()),
            pin,
        };
        hsm.session()
            .with_context(|| format!("signing in to the PKCS#11 token \"{token_label}\""))?;
        tracing::info!(token = %token_label, "sealing stored data in a PKCS#11 token");
        Ok(Some(Arc::new(hsm)))
    }

    /// The key sealing `purpose`, found (or made) now if the token answers, else at first use.
    pub fn key(self: &Arc<Self>, purpose: &str) -> HsmKey {
        let label = format!("{}/{purpose}", self.key_prefix);
        let key = HsmKey {
            hsm: Arc::clone(self),
            id: key_id(&label),
            live: Mutex::new(None),
            found: AtomicBool::new(false),
            label,
        };
        // A failure is logged there, and tried again at first use.
        let _ = key.with_session(|_, _| Ok(()));
        key
    }

    /// How `rotate-key` names where data is sealed now.
    pub fn describe(&self) -> String {
        format!(
            "\"{}/…\" in PKCS#11 token \"{}\"",
            self.key_prefix, self.token_label
        )
    }

    fn session(&self) -> anyhow::Result<Session> {
        let session = self.pkcs11.open_rw_session(self.slot)?;
        match session.login(UserType::User, Some(&self.pin)) {
            // PKCS#11 logs in the whole process, not a session: another key did it already.
            Ok(()) | Err(Error::Pkcs11(RvError::UserAlreadyLoggedIn, _)) => Ok(session),
            Err(e) => Err(e.into()),
        }
    }

    /// The key labelled `label`, made in the token if missing and `make` allows: AES-256,
    /// sensitive and never extractable, for AES-GCM encryption and decryption only.
    fn find_or_make(
        &self,
        session: &Session,
        label: &str,
        make: bool,
    ) -> anyhow::Result<ObjectHandle> {
        let template = [
            Attribute::Class(ObjectClass::SECRET_KEY),
            Attribute::KeyType(KeyType::AES),
            Attribute::Label(label.as_bytes().to_vec()),
        ];
        let found = session.find_objects(&template)?;
        let key = match found.as_slice() {
            // A key that was there and is gone (deleted, or another token under the label)
            // must not be replaced silently: new data would carry the old key id, and the
            // data the old key sealed would stop opening without a word.
            [] if !make => {
                bail!("the PKCS#11 key \"{label}\" this server used is no longer in the token")
            }
            [] => {
                let key = session.generate_key(
                    &Mechanism::AesKeyGen,
                    &[
                        &template[..],
                        &[
                            Attribute::ValueLen(32.into()),
                            Attribute::Token(true),
                            Attribute::Private(true),
                            Attribute::Sensitive(true),
                            Attribute::Extractable(false),
                            Attribute::Encrypt(true),
                            Attribute::Decrypt(true),
                            Attribute::Sign(false),
                            Attribute::Verify(false),
                            Attribute::Wrap(false),
                            Attribute::Unwrap(false),
                            Attribute::Derive(false),
                            Attribute::AllowedMechanisms(vec![MechanismType::AES_GCM]),
                        ],
                    ]
                    .concat(),
                )?;
                tracing::info!(key = %label, "generated a key in the PKCS#11 token");
                key
            }
            [key] => *key,
            _ => bail!(
                "several keys in the PKCS#11 token are labelled \"{label}\": keep the one that \
                 sealed the data (pkcs11-tool --list-objects) and delete the others"
            ),
        };
        refuse_if_extractable(session, key, label)?;
        Ok(key)
    }
}

/// A key made elsewhere (by an operator, say) must be as locked in as one we make: private
/// (no use without the PIN), sensitive and never extractable since it was made, and 256 bits.
fn refuse_if_extractable(session: &Session, key: ObjectHandle, label: &str) -> anyhow::Result<()> {
    let wanted = [
        AttributeType::Private,
        AttributeType::Sensitive,
        AttributeType::AlwaysSensitive,
        AttributeType::Extractable,
        AttributeType::NeverExtractable,
        AttributeType::ValueLen,
    ];
    let attributes = session.get_attributes(key, &wanted)?;
    let locked = attributes.iter().all(|a| match a {
        Attribute::Private(yes)
        | Attribute::Sensitive(yes)
        | Attribute::AlwaysSensitive(yes)
        | Attribute::NeverExtractable(yes) => *yes,
        Attribute::Extractable(extractable) => !*extractable,
        Attribute::ValueLen(len) => u64::from(*len) == 32,
        _ => false,
    });
    if !locked || attributes.len() != wanted.len() {
        bail!(
            "the PKCS#11 key \"{label}\" could be read out of the token, or used without the PIN, \
             or is not AES-256 (it must be private, sensitive and never extractable since it was \
             made): refusing to use it"
        );
    }
    Ok(())
}

fn read_pin(path: &Path) -> anyhow::Result<SecretString> {
    crate::config::refuse_if_exposed(path)?;
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    Ok(SecretString::from(text.trim().to_owned()))
}

fn find_slot(pkcs11: &Pkcs11, label: &str) -> anyhow::Result<Slot> {
    for slot in pkcs11.get_slots_with_token()? {
        if pkcs11.get_token_info(slot)?.label() == label {
            return Ok(slot);
        }
    }
    bail!("no PKCS#11 token is labelled \"{label}\"")
}

/// Four bytes naming a token key in sealed data. From the label, since the token will not
/// tell us anything derived from the key itself.
fn key_id(label: &str) -> [u8; 4] {
    let digest = Sha256::new()
        .chain_update(b"latchkey pkcs11 key id\0")
        .chain_update(label.as_bytes())
        .finalize();
    [digest[0], digest[1], digest[2], digest[3]]
}

/// One purpose's key in the token.
pub struct HsmKey {
    hsm: Arc<Hsm>,
    label: String,
    id: [u8; 4],
    live: Mutex<Option<(Session, ObjectHandle)>>,
    /// Set once the key was found or made: reopening a session only finds it again.
    found: AtomicBool,
}

impl HsmKey {
    pub fn id(&self) -> [u8; 4] {
        self.id
    }

    /// `VERSION || key id || IV || AES-256-GCM(plaintext)` with a 128-bit tag; the header and
    /// `aad` are authenticated.
    pub fn seal(&self, plaintext: &[u8], aad: &[u8]) -> anyhow::Result<Vec<u8>> {
        let header = [&[VERSION][..], &self.id].concat();
        let mut iv = [0u8; IV_LEN];
        rand::fill(&mut iv);
        let full_aad = [&header[..], aad].concat();
        let sealed = self.with_session(|session, key| {
            let mut iv = iv;
            let params = GcmParams::new(&mut iv, &full_aad, 128.into())?;
            session.encrypt(&Mechanism::AesGcm(params), key, plaintext)
        })?;
        Ok([&header[..], &iv, &sealed].concat())
    }

    /// The plaintext of data this key sealed; None if it was altered or sealed elsewhere.
    pub fn open(&self, sealed: &[u8], aad: &[u8]) -> Option<Vec<u8>> {
        let (header, rest) = sealed.split_at_checked(1 + 4)?;
        if header[0] != VERSION || header[1..] != self.id {
            return None;
        }
        let (iv, body) = rest.split_at_checked(IV_LEN)?;
        let full_aad = [header, aad].concat();
        let opened = self.with_session(|session, key| {
            let mut iv: [u8; IV_LEN] = iv.try_into().expect("split at IV_LEN");
            let params = GcmParams::new(&mut iv, &full_aad, 128.into())?;
            session.decrypt(&Mechanism::AesGcm(params), key, body)
        });
        match opened {
            Ok(plain) => Some(plain),
            // A failed tag check is an error too (SoftHSM calls it a general error): altered
            // data, another row's data, or a key that replaced the one that sealed it.
            Err(e) => {
                tracing::debug!(key = %self.label, error = %e, "the PKCS#11 token opened nothing");
                None
            }
        }
    }

    /// Runs `op` on this key's session, opening it (and the key) first if needed, and once
    /// more after the token dropped the session.
    fn with_session<T>(
        &self,
        op: impl Fn(&Session, ObjectHandle) -> cryptoki::error::Result<T>,
    ) -> anyhow::Result<T> {
        let mut live = self.live.lock().unwrap_or_else(PoisonError::into_inner);
        let mut retried = false;
        loop {
            if live.is_none() {
                let opened = self.hsm.session().and_then(|session| {
                    let make = !self.found.load(Ordering::Relaxed);
                    let key = self.hsm.find_or_make(&session, &self.label, make)?;
                    self.found.store(true, Ordering::Relaxed);
                    Ok((session, key))
                });
                match opened {
                    Ok(opened) => *live = Some(opened),
                    Err(e) => {
                        tracing::error!(key = %self.label, error = %format!("{e:#}"),
                            "the PKCS#11 key cannot be used");
                        return Err(e);
                    }
                }
            }
            let (session, key) = live.as_ref().expect("set above");
            match op(session, *key) {
                Ok(out) => return Ok(out),
                Err(e) if !retried && session_lost(&e) => {
                    tracing::warn!(key = %self.label, error = %e, "reopening the PKCS#11 session");
                    *live = None;
                    retried = true;
                }
                Err(e) => return Err(e.into()),
            }
        }
    }
}

fn session_lost(e: &Error) -> bool {
    matches!(
        e,
        Error::Pkcs11(
            RvError::SessionHandleInvalid
                | RvError::SessionClosed
                | RvError::DeviceRemoved
                | RvError::DeviceError
                | RvError::TokenNotPresent
                | RvError::UserNotLoggedIn
                | RvError::KeyHandleInvalid
                | RvError::ObjectHandleInvalid,
            _
        )
    )
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::{Hsm, key_id};
    use crate::config::KeysConfig;

    fn refused(config: &KeysConfig) -> String {
        match Hsm::connect(config) {
            Ok(_) => panic!("accepted"),
            Err(e) => format!("{e:#}"),
        }
    }

    /// Half a configuration is a mistake, not a reason to seal outside the token.
    #[test]
    fn incomplete_or_exposed_token_settings_stop_the_server() {
        assert!(Hsm::connect(&KeysConfig::default()).unwrap().is_none());
        let module = Some("/nonexistent/libpkcs11.so".into());
        let only_module = KeysConfig {
            pkcs11_module: module.clone(),
            ..KeysConfig::default()
        };
        assert!(refused(&only_module).contains("needs pkcs11_token_label"));
        let dir = tempfile::tempdir().unwrap();
        let pin = dir.path().join("pin");
        std::fs::write(&pin, "1234").unwrap();
        let no_module = KeysConfig {
            pkcs11_pin_file: Some(pin.clone()),
            ..KeysConfig::default()
        };
        assert!(refused(&no_module).contains("need pkcs11_module"));

        std::fs::set_permissions(&pin, std::fs::Permissions::from_mode(0o644)).unwrap();
        let exposed = KeysConfig {
            pkcs11_module: module,
            pkcs11_token_label: Some("latchkey".into()),
            pkcs11_pin_file: Some(pin),
            pkcs11_key_label: None,
        };
        assert!(refused(&exposed).contains("chmod 600"));
    }

    #[test]
    fn each_label_has_its_own_key_id() {
        assert_ne!(key_id("latchkey/a"), key_id("latchkey/b"));
        assert_eq!(key_id("latchkey/a"), key_id("latchkey/a"));
    }
}
