//! The server's own secret, generated on first run into a file only its owner can read
//! (mode 0600). Several servers sharing a PostgreSQL database must share it too: point
//! `secret_key_file` at the same file.

use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;

use anyhow::{Context, bail};
use hkdf::Hkdf;
use sha2::Sha256;

pub struct MasterKey([u8; 32]);

impl MasterKey {
    pub fn load_or_create(path: &Path) -> anyhow::Result<Self> {
        if path.exists() {
            let mode = std::fs::metadata(path)?.permissions().mode();
            if mode & 0o077 != 0 {
                tracing::warn!(path = %path.display(), "secret key file is readable by others; chmod 600 it");
            }
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?;
            let bytes = hex::decode(text.trim()).context("secret key file is not hex")?;
            let Ok(key) = <[u8; 32]>::try_from(bytes.as_slice()) else {
                bail!("secret key file must hold 32 bytes as hex");
            };
            return Ok(Self(key));
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

    /// A key for one purpose, so no two uses ever share key material.
    pub fn derive(&self, purpose: &str) -> [u8; 32] {
        let mut out = [0u8; 32];
        Hkdf::<Sha256>::new(None, &self.0)
            .expand(purpose.as_bytes(), &mut out)
            .expect("32 bytes is a valid HKDF-SHA256 output length");
        out
    }
}

/// Authenticated encryption for secrets we must be able to read back (TOTP seeds):
/// XChaCha20-Poly1305 with a random nonce, bound to the row it belongs to by `aad`.
#[derive(Clone)]
pub struct Sealer {
    cipher: chacha20poly1305::XChaCha20Poly1305,
}

const NONCE_LEN: usize = 24;

impl Sealer {
    pub fn new(key: &[u8; 32]) -> Self {
        use chacha20poly1305::KeyInit;
        Self {
            cipher: chacha20poly1305::XChaCha20Poly1305::new(key.into()),
        }
    }

    pub fn seal(&self, plaintext: &[u8], aad: &[u8]) -> Vec<u8> {
        use chacha20poly1305::aead::{Aead, Payload};
        let mut nonce = [0u8; NONCE_LEN];
        rand::fill(&mut nonce);
        let sealed = self
            .cipher
            .encrypt(
                &nonce.into(),
                Payload {
                    msg: plaintext,
                    aad,
                },
            )
            .expect("XChaCha20-Poly1305 encryption cannot fail for in-memory buffers");
        [nonce.as_slice(), &sealed].concat()
    }

    /// None if the data was altered, moved to another row, or sealed with another key.
    pub fn open(&self, sealed: &[u8], aad: &[u8]) -> Option<Vec<u8>> {
        use chacha20poly1305::aead::{Aead, Payload};
        let (nonce, body) = sealed.split_at_checked(NONCE_LEN)?;
        let nonce: [u8; NONCE_LEN] = nonce.try_into().ok()?;
        self.cipher
            .decrypt(&nonce.into(), Payload { msg: body, aad })
            .ok()
    }
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
}
