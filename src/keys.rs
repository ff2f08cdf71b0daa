//! The server's own secret, generated on first run into a file only its owner can read
//! (mode 0600), and the keys derived from it. Several servers sharing a PostgreSQL database
//! must share it too: point `secret_key_file` at the same file.
//!
//! Keys can be replaced (ASVS V6.2.4): `previous_secret_key_files` lists keys that still open
//! what they sealed, everything new is sealed under the current key, and `latchkey rotate-key`
//! reseals what the previous keys sealed so they can be dropped.
//!
//! With `[keys] pkcs11_module` set, stored data is sealed inside a PKCS#11 token instead
//! (`hsm`, ASVS V6.4.2); what the keys here sealed earlier still opens, and `rotate-key` moves
//! it into the token. Keys that check at once what they made minutes before (CSRF, CAPTCHA)
//! and the recovery-code HMAC key stay derived from `secret.key` in this process.

pub mod hsm;

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, bail};
use hkdf::Hkdf;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

// The purposes the other modules' keys are derived from (`KeyRing::sealer`, `derive_all`): one
// per use, so no two uses share key material. They live here, below every module that seals,
// so the store and `rotate-key` can name them without reaching up.

/// What the TOTP seeds are sealed under, derived from the server key.
pub const TOTP_SEAL: &str = "latchkey totp seal v1";
/// What recovery-code hashes are keyed with, derived from the server key.
pub const RECOVERY_KEY: &str = "latchkey recovery codes v1";
/// What `KeyRing::sealer` derives the key sealing mail bodies in the outbox from.
pub const OUTBOX_SEAL: &str = "latchkey outbox v1";
/// What `KeyRing::sealer` derives the pepper key from (`auth::pepper`).
pub const PEPPER: &str = "latchkey password pepper v1";

pub struct MasterKey([u8; 32]);

impl MasterKey {
    pub fn load_or_create(path: &Path) -> anyhow::Result<Self> {
        if path.exists() {
            return Self::load(path);
        }
        let mut key = [0u8; 32];
        rand::fill(&mut key);
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path)
            .with_context(|| format!("creating {}", path.display()))?;
        writeln!(file, "{}", hex::encode(key))?;
        tracing::info!(path = %path.display(), "generated a new secret key");
        Ok(Self(key))
    }

    /// An existing key; never creates one (a previous key that is missing is a mistake).
    pub fn load(path: &Path) -> anyhow::Result<Self> {
        crate::config::refuse_if_exposed(path)?;
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let bytes =
            hex::decode(text.trim()).with_context(|| format!("{} is not hex", path.display()))?;
        let Ok(key) = <[u8; 32]>::try_from(bytes.as_slice()) else {
            bail!("{} must hold 32 bytes as hex", path.display());
        };
        Ok(Self(key))
    }

    /// A key for one purpose, so no two uses ever share key material.
    pub fn derive(&self, purpose: &str) -> [u8; 32] {
        let mut out = [0u8; 32];
        Hkdf::<Sha256>::new(None, &self.0)
            .expand(purpose.as_bytes(), &mut out)
            .expect("32 bytes is a valid HKDF-SHA256 output length");
        out
    }

    /// Names this key in messages to the operator without revealing anything usable.
    pub fn id(&self) -> String {
        hex::encode(key_id(&self.derive("latchkey key id v1")))
    }
}

/// The current key and the previous ones that may still be needed to open older data, and
/// the PKCS#11 token that seals stored data when one is configured.
pub struct KeyRing {
    current: MasterKey,
    previous: Vec<MasterKey>,
    hsm: Option<Arc<hsm::Hsm>>,
}

impl KeyRing {
    /// The current key (created on first run) and the previous keys, which must exist.
    pub fn load(current: &Path, previous: &[PathBuf]) -> anyhow::Result<Self> {
        Ok(Self {
            current: MasterKey::load_or_create(current)?,
            previous: previous
                .iter()
                .map(|p| MasterKey::load(p))
                .collect::<anyhow::Result<_>>()?,
            hsm: None,
        })
    }

    /// The keys `config` names: its key files, and its PKCS#11 token if any.
    pub fn from_config(config: &crate::config::Config) -> anyhow::Result<Self> {
        let mut ring = Self::load(&config.secret_key_path(), &config.previous_secret_key_files)?;
        ring.hsm = hsm::Hsm::connect(&config.keys)?;
        Ok(ring)
    }

    /// Where new data is sealed, for messages to the operator.
    pub fn sealing_key_name(&self) -> String {
        self.hsm
            .as_ref()
            .map_or_else(|| self.current.id(), |hsm| hsm.describe())
    }

    pub fn current(&self) -> &MasterKey {
        &self.current
    }

    /// The current key's purpose key: for what is made and checked at once (CSRF, CAPTCHA).
    pub fn derive(&self, purpose: &str) -> [u8; 32] {
        self.current.derive(purpose)
    }

    /// Every key's purpose key, the current one first: for checking what was stored earlier.
    pub fn derive_all(&self, purpose: &str) -> Vec<[u8; 32]> {
        std::iter::once(&self.current)
            .chain(&self.previous)
            .map(|k| k.derive(purpose))
            .collect()
    }

    /// Seals under the current key (the token's key for `purpose` when there is a token) and
    /// opens under any of them.
    pub fn sealer(&self, purpose: &str) -> Sealer {
        let keys = self.derive_all(purpose);
        let mut sealer = Sealer::with_previous(&keys[0], &keys[1..]);
        sealer.hsm = self.hsm.as_ref().map(|hsm| Arc::new(hsm.key(purpose)));
        sealer
    }
}

/// Four bytes that tell keys apart in stored data. An HMAC output, so it says nothing about the
/// key, and 32 bits are plenty to tell a handful of keys apart (a clash only costs a retry).
pub fn key_id(key: &[u8; 32]) -> [u8; 4] {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(key).expect("HMAC takes any key");
    mac.update(b"latchkey key id");
    let out = mac.finalize().into_bytes();
    [out[0], out[1], out[2], out[3]]
}

/// Authenticated encryption for secrets we must be able to read back (TOTP seeds, password
/// hashes under the pepper): XChaCha20-Poly1305 with a random nonce, bound to the row it
/// belongs to by `aad`.
///
/// Sealed data is `1 || key id (4) || nonce (24) || ciphertext`. Data sealed before keys could
/// be rotated is `nonce || ciphertext` with no prefix ("version 0"); it was sealed under
/// whatever key was current then, so it is tried with every key. With a PKCS#11 token, new
/// data is sealed there instead (`2 || …`, see `hsm`) and the keys here only open older data.
#[derive(Clone)]
pub struct Sealer {
    /// The current key first.
    keys: Arc<[SealKey]>,
    /// When set, seals everything new; `keys` then only open what was sealed before.
    hsm: Option<Arc<hsm::HsmKey>>,
}

#[derive(Clone)]
struct SealKey {
    id: [u8; 4],
    cipher: chacha20poly1305::XChaCha20Poly1305,
}

const NONCE_LEN: usize = 24;
const VERSION: u8 = 1;
const HEADER_LEN: usize = 1 + 4;

impl Sealer {
    /// One key, nothing older to open.
    pub fn new(key: &[u8; 32]) -> Self {
        Self::with_previous(key, &[])
    }

    pub fn with_previous(current: &[u8; 32], previous: &[[u8; 32]]) -> Self {
        use chacha20poly1305::KeyInit;
        let keys = std::iter::once(current)
            .chain(previous)
            .map(|k| SealKey {
                id: key_id(k),
                cipher: chacha20poly1305::XChaCha20Poly1305::new(k.into()),
            })
            .collect();
        Self { keys, hsm: None }
    }

    /// Panics if a PKCS#11 token is configured and cannot seal: the request fails (the panic
    /// layer answers 500, a transaction rolls back) rather than storing anything unsealed or
    /// sealed outside the token. The error is logged first.
    pub fn seal(&self, plaintext: &[u8], aad: &[u8]) -> Vec<u8> {
        use chacha20poly1305::aead::{Aead, Payload};
        if let Some(hsm) = &self.hsm {
            return hsm.seal(plaintext, aad).unwrap_or_else(|e| {
                tracing::error!(error = %e, "the PKCS#11 token could not seal");
                panic!("the PKCS#11 token could not seal: {e}")
            });
        }
        let key = &self.keys[0];
        let mut nonce = [0u8; NONCE_LEN];
        rand::fill(&mut nonce);
        let sealed = key
            .cipher
            .encrypt(
                &nonce.into(),
                Payload {
                    msg: plaintext,
                    aad,
                },
            )
            .expect("XChaCha20-Poly1305 encryption cannot fail for in-memory buffers");
        [&[VERSION][..], &key.id, &nonce, &sealed].concat()
    }

    /// None if the data was altered, moved to another row, or sealed with a key we lack.
    pub fn open(&self, sealed: &[u8], aad: &[u8]) -> Option<Vec<u8>> {
        if let Some(hsm) = &self.hsm
            && sealed.first() == Some(&hsm::VERSION)
            && let Some(plain) = hsm.open(sealed, aad)
        {
            return Some(plain);
        }
        if let Some((id, body)) = split_header(sealed) {
            let mut named = self.keys.iter().filter(|k| k.id == id);
            if let Some(plain) = named.find_map(|k| decrypt(k, body, aad)) {
                return Some(plain);
            }
        }
        // Version 0, or a version-0 nonce that happens to start like a header.
        self.keys.iter().find_map(|k| decrypt(k, sealed, aad))
    }

    /// Whether `sealed` names the current key; anything else is for `rotate-key` to reseal.
    pub fn is_current(&self, sealed: &[u8]) -> bool {
        match &self.hsm {
            Some(hsm) => sealed.len() > 5 && sealed[0] == hsm::VERSION && sealed[1..5] == hsm.id(),
            None => split_header(sealed).is_some_and(|(id, _)| id == self.keys[0].id),
        }
    }
}

fn split_header(sealed: &[u8]) -> Option<([u8; 4], &[u8])> {
    let (header, body) = sealed.split_at_checked(HEADER_LEN)?;
    (header[0] == VERSION).then(|| ([header[1], header[2], header[3], header[4]], body))
}

fn decrypt(key: &SealKey, nonce_and_body: &[u8], aad: &[u8]) -> Option<Vec<u8>> {
    use chacha20poly1305::aead::{Aead, Payload};
    let (nonce, body) = nonce_and_body.split_at_checked(NONCE_LEN)?;
    let nonce: [u8; NONCE_LEN] = nonce.try_into().ok()?;
    key.cipher
        .decrypt(&nonce.into(), Payload { msg: body, aad })
        .ok()
}

#[cfg(test)]
mod tests {
    use super::Sealer;

    #[test]
    fn sealed_data_opens_only_with_its_key_and_row() {
        let sealer = Sealer::new(&[7; 32]);
        let sealed = sealer.seal(b"seed", b"row-1");
        assert_eq!(
            sealer.open(&sealed, b"row-1").as_deref(),
            Some(&b"seed"[..])
        );
        assert_eq!(sealer.open(&sealed, b"row-2"), None);
        assert_eq!(Sealer::new(&[8; 32]).open(&sealed, b"row-1"), None);
        assert_ne!(
            sealer.seal(b"seed", b"row-1"),
            sealed,
            "fresh nonce every time"
        );
    }

    /// ASVS 4.0.3 V6.2.4: a new key seals from now on, the old one still opens what it sealed,
    /// including data from before sealed data named its key.
    #[test]
    fn a_previous_key_still_opens_what_it_sealed() {
        use chacha20poly1305::KeyInit;
        use chacha20poly1305::aead::{Aead, Payload};

        let (old, new) = ([7; 32], [8; 32]);
        let by_old = Sealer::new(&old).seal(b"seed", b"row-1");
        let nonce = [3u8; 24];
        let version_0 = [
            &nonce[..],
            &chacha20poly1305::XChaCha20Poly1305::new(&old.into())
                .encrypt(
                    &nonce.into(),
                    Payload {
                        msg: b"seed",
                        aad: b"row-1",
                    },
                )
                .unwrap(),
        ]
        .concat();

        let rotated = Sealer::with_previous(&new, &[old]);
        for sealed in [&by_old, &version_0] {
            assert_eq!(
                rotated.open(sealed, b"row-1").as_deref(),
                Some(&b"seed"[..])
            );
            assert!(!rotated.is_current(sealed));
            assert_eq!(Sealer::new(&new).open(sealed, b"row-1"), None);
        }
        let by_new = rotated.seal(b"seed", b"row-1");
        assert!(rotated.is_current(&by_new));
        assert_eq!(
            Sealer::new(&new).open(&by_new, b"row-1").as_deref(),
            Some(&b"seed"[..])
        );
        assert_eq!(Sealer::new(&old).open(&by_new, b"row-1"), None);
    }
}
