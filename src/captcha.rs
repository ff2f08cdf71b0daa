//! The CAPTCHA in front of "Trouble signing in?": an ALTCHA v1 proof of work. The server hands
//! out `{algorithm, challenge, maxnumber, salt, signature}` where `challenge = SHA-256(salt ||
//! n)` for a secret `n` and `signature = HMAC-SHA256(key, challenge)`; the browser finds `n` by
//! trying numbers and sends back base64(JSON) of the challenge plus `number`. The salt carries
//! the expiry (`?expires=<unix>&`), so a signed challenge cannot be kept for later, and each
//! accepted solution is recorded until then so it cannot be replayed.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, KeyInit, Mac};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::store::Store;

/// Numbers to try at most: about a second of hashing in a browser, nothing for the server.
pub const MAX_NUMBER: u64 = 100_000;
pub const TTL_SECS: i64 = 10 * 60;

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Challenge {
    pub algorithm: String,
    pub challenge: String,
    pub maxnumber: u64,
    pub salt: String,
    pub signature: String,
}

/// What the widget sends back, base64-encoded JSON.
#[derive(Debug, Deserialize)]
pub struct Solution {
    algorithm: String,
    challenge: String,
    number: u64,
    salt: String,
    signature: String,
    /// The ALTCHA widget's test mode marks its payloads; they prove nothing.
    #[serde(default)]
    test: bool,
}

pub struct Captcha {
    /// The HMAC key as altcha-lib uses it: the UTF-8 bytes of this string.
    key: String,
}

impl Captcha {
    pub fn new(key: &[u8; 32]) -> Self {
        Self {
            key: hex::encode(key),
        }
    }

    pub fn challenge(&self, now: i64) -> Challenge {
        let mut nonce = [0u8; 12];
        rand::fill(&mut nonce);
        let salt = format!("{}?expires={}&", hex::encode(nonce), now + TTL_SECS);
        let mut n = [0u8; 8];
        rand::fill(&mut n);
        let number = u64::from_le_bytes(n) % (MAX_NUMBER + 1);
        let challenge = sha256_hex(&format!("{salt}{number}"));
        Challenge {
            algorithm: "SHA-256".to_owned(),
            signature: self.sign(&challenge),
            challenge,
            maxnumber: MAX_NUMBER,
            salt,
        }
    }

    fn sign(&self, challenge: &str) -> String {
        let mut mac =
            <Hmac<Sha256> as KeyInit>::new_from_slice(self.key.as_bytes()).expect("any key length");
        mac.update(challenge.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }

    /// Checks a solution and spends it. Every way of failing is `CaptchaInvalid`, except an
    /// empty payload, which is `CaptchaRequired`.
    pub async fn verify(&self, store: &Store, payload: &str, now: i64) -> Result<()> {
        let payload = payload.trim();
        if payload.is_empty() {
            return Err(Error::CaptchaRequired);
        }
        let s = self.check(payload, now).ok_or(Error::CaptchaInvalid)?;
        if store
            .spend_captcha(&s.signature, expires(&s.salt).unwrap_or(now))
            .await?
        {
            Ok(())
        } else {
            Err(Error::CaptchaInvalid)
        }
    }

    /// The solution a payload carries if it is valid now; `verify` also spends it.
    pub fn check(&self, payload: &str, now: i64) -> Option<Solution> {
        let json = STANDARD.decode(payload).ok()?;
        let s: Solution = serde_json::from_slice(&json).ok()?;
        let fresh = expires(&s.salt).is_some_and(|e| e > now);
        let solved = sha256_hex(&format!("{}{}", s.salt, s.number)) == s.challenge;
        let ours = subtle::ConstantTimeEq::ct_eq(
            self.sign(&s.challenge).as_bytes(),
            s.signature.as_bytes(),
        )
        .into();
        (!s.test && s.algorithm == "SHA-256" && fresh && solved && ours).then_some(s)
    }
}

fn sha256_hex(input: &str) -> String {
    hex::encode(Sha256::digest(input.as_bytes()))
}

/// The `expires` parameter of a salt like `abc?expires=1700000000&`.
fn expires(salt: &str) -> Option<i64> {
    let (_, params) = salt.split_once('?')?;
    params
        .split('&')
        .find_map(|kv| kv.strip_prefix("expires="))
        .and_then(|v| v.parse().ok())
}

/// Solves a challenge the slow way, as a browser does (for tests and `latchkey` clients).
pub fn solve(c: &Challenge) -> Option<String> {
    let number =
        (0..=c.maxnumber).find(|n| sha256_hex(&format!("{}{n}", c.salt)) == c.challenge)?;
    let json = serde_json::json!({
        "algorithm": c.algorithm, "challenge": c.challenge, "number": number,
        "salt": c.salt, "signature": c.signature,
    });
    Some(STANDARD.encode(json.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_solved_challenge_checks_and_tampering_does_not() {
        let captcha = Captcha::new(&[3; 32]);
        let c = captcha.challenge(1_000);
        let payload = solve(&c).unwrap();
        assert!(captcha.check(&payload, 1_000).is_some());
        assert!(
            captcha.check(&payload, 1_000 + TTL_SECS).is_none(),
            "expired"
        );
        assert!(
            Captcha::new(&[4; 32]).check(&payload, 1_000).is_none(),
            "another key"
        );
        let mut forged = c.clone();
        forged.salt = forged.salt.replace("expires=", "expires=9");
        assert!(solve(&forged).is_none_or(|p| captcha.check(&p, 1_000).is_none()));
    }

    #[test]
    fn the_widgets_test_payloads_are_refused() {
        let captcha = Captcha::new(&[3; 32]);
        let c = captcha.challenge(1_000);
        let json: serde_json::Value =
            serde_json::from_slice(&STANDARD.decode(solve(&c).unwrap()).unwrap()).unwrap();
        let mut test = json.clone();
        test["test"] = serde_json::Value::Bool(true);
        assert!(
            captcha
                .check(&STANDARD.encode(test.to_string()), 1_000)
                .is_none()
        );
    }
}
