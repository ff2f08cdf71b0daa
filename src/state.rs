//! What every request handler and use-case is given: the store, the password hasher and the
//! settings derived from configuration. Passed in, never global, so two servers can share a
//! process (the tests run many).

use std::sync::Arc;

use tokio::sync::Notify;

use crate::auth::Hasher;
use crate::config::ThrottleConfig;
use crate::store::Store;

#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub hasher: Hasher,
    pub settings: Arc<Settings>,
    /// Wakes the mail worker when a transaction has queued mail.
    pub mail_queued: Arc<Notify>,
    /// The time every use-case reads; tests move it forward.
    pub clock: crate::clock::Clock,
}

pub struct Settings {
    /// Where people reach us, without a trailing slash; used in links in mail.
    pub public_url: String,
    /// True when served over HTTPS (directly or behind a TLS-terminating proxy).
    pub secure: bool,
    pub behind_proxy: bool,
    /// `/_dev/mail` shows the outbox: only on loopback without SMTP.
    pub dev_mail: bool,
    pub throttle: ThrottleConfig,
    /// Key for CSRF tokens, from the secret generated on first run.
    pub csrf_key: [u8; 32],
    /// Issues and checks the proof-of-work CAPTCHA.
    pub captcha: crate::captcha::Captcha,
    /// Seals TOTP secrets at rest.
    pub sealer: crate::keys::Sealer,
    /// Key the hashes of recovery codes, so a database dump alone cannot brute-force them:
    /// the current key first, then previous keys for codes made before a key change.
    pub recovery_keys: Vec<[u8; 32]>,
    /// The WebAuthn relying party for security keys; none when the public URL is an IP address.
    pub webauthn: Option<Arc<webauthn_rs::Webauthn>>,
}

impl Settings {
    pub fn session_cookie(&self) -> &'static str {
        if self.secure {
            "__Host-latchkey_session"
        } else {
            "latchkey_session"
        }
    }

    /// The other accounts signed in in this browser (their session tokens).
    pub fn accounts_cookie(&self) -> &'static str {
        if self.secure {
            "__Host-latchkey_accounts"
        } else {
            "latchkey_accounts"
        }
    }

    pub fn csrf_cookie(&self) -> &'static str {
        if self.secure {
            "__Host-latchkey_csrf"
        } else {
            "latchkey_csrf"
        }
    }

    pub fn link(&self, path: &str) -> String {
        format!("{}{path}", self.public_url)
    }
}
