//! The ALTCHA v1 payload read from the "Trouble signing in?" form. Whatever `Captcha::check`
//! accepts is recomputed independently (with `ring`): the challenge really is SHA-256 of salt
//! and number, the signature really is our HMAC of it, the salt has not expired and it is no
//! test payload. On payloads shaped as our server issues them, the verdict must also agree with
//! an outside implementation of the protocol, `altcha-lib-rs`.
#![no_main]

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use latchkey::captcha::{Captcha, MAX_NUMBER};
use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;
use serde_json::{Value, json};

const NOW: i64 = 1_700_000_000;

#[derive(Debug, Arbitrary)]
struct Input<'a> {
    /// Any text in the form field.
    raw: &'a str,
    /// A payload built the way the widget builds one, then changed as `change` says.
    key: [u8; 32],
    nonce: [u8; 12],
    expires_in: i16,
    number: u32,
    test: bool,
    change: Change<'a>,
}

#[derive(Debug, Arbitrary)]
enum Change<'a> {
    None,
    Algorithm(&'a str),
    Number(u64),
    Challenge(u8, u8),
    Signature(u8, u8),
    Salt(u8, u8),
    /// Signed by another server.
    Key([u8; 32]),
    /// Moves leading digits of the number to the end of the salt: the same concatenation.
    Resplit(u8),
    /// Adds a field, or replaces one with any JSON value.
    Field(&'a str, FieldValue<'a>),
}

#[derive(Debug, Arbitrary)]
enum FieldValue<'a> {
    Text(&'a str),
    Int(i64),
    Float(f64),
    Bool(bool),
    Null,
}

fuzz_target!(|input: Input<'_>| {
    let captcha = Captcha::new(&input.key);
    sound(&captcha, &input.key, input.raw, NOW);
    // The same text as JSON, encoded as the widget would.
    sound(&captcha, &input.key, &STANDARD.encode(input.raw), NOW);

    let key_text = hex::encode(input.key);
    let salt = format!(
        "{}?expires={}&",
        hex::encode(input.nonce),
        NOW + i64::from(input.expires_in)
    );
    let number = u64::from(input.number) % (MAX_NUMBER + 1);
    let challenge = sha256_hex(&format!("{salt}{number}"));
    let signature = hmac_hex(&key_text, &challenge);
    let mut payload = json!({
        "algorithm": "SHA-256", "challenge": challenge, "number": number,
        "salt": salt, "signature": signature,
    });
    if input.test {
        payload["test"] = Value::Bool(true);
    }
    let mut canonical = true;
    match input.change {
        Change::None => {}
        Change::Algorithm(a) => payload["algorithm"] = a.into(),
        Change::Number(n) => payload["number"] = n.into(),
        Change::Challenge(at, to) => payload["challenge"] = flip(&challenge, at, to).into(),
        Change::Signature(at, to) => payload["signature"] = flip(&signature, at, to).into(),
        Change::Salt(at, to) => payload["salt"] = flip(&salt, at, to).into(),
        Change::Key(other) => {
            payload["signature"] = hmac_hex(&hex::encode(other), &challenge).into()
        }
        Change::Resplit(n) => {
            let digits = number.to_string();
            let moved = usize::from(n) % digits.len();
            if let Ok(rest) = digits[moved..].parse::<u64>()
                && rest.to_string() == digits[moved..]
            {
                payload["salt"] = format!("{salt}{}", &digits[..moved]).into();
                payload["number"] = rest.into();
            }
            canonical = false;
        }
        Change::Field(name, value) => {
            payload[name] = match value {
                FieldValue::Text(t) => t.into(),
                FieldValue::Int(i) => i.into(),
                FieldValue::Float(f) => f.into(),
                FieldValue::Bool(b) => b.into(),
                FieldValue::Null => Value::Null,
            };
            canonical = false;
        }
    }
    let text = payload.to_string();
    let encoded = STANDARD.encode(&text);
    let ours = sound(&captcha, &input.key, &encoded, NOW);
    if canonical {
        let theirs = altcha_lib_rs::verify_json_solution(&text, &key_text, false).is_ok();
        let fresh = input.expires_in > 0;
        let expected = theirs && fresh && !input.test && payload["algorithm"] == "SHA-256";
        assert_eq!(ours.is_some(), expected, "{text}");
    } else if ours.is_some() {
        // Another spelling of a valid solution is fine only if it spends the same signature,
        // so it cannot be replayed.
        assert_eq!(payload["signature"], signature, "{text}");
    }
    // A solution stops working once its salt's expiry has passed.
    if let Some(expires) = ours {
        assert!(captcha.check(&encoded, expires).is_none(), "{text}");
    }
});

/// The salt's expiry when `check` accepts `payload`, after recomputing every condition
/// independently.
fn sound(captcha: &Captcha, key: &[u8; 32], payload: &str, now: i64) -> Option<i64> {
    captcha.check(payload, now)?;
    let json: Value = serde_json::from_slice(&STANDARD.decode(payload).expect("base64"))
        .expect("accepted payloads are JSON");
    let field = |name: &str| json[name].as_str().expect("text field");
    let number = json["number"].as_u64().expect("a number");
    assert_eq!(field("algorithm"), "SHA-256");
    assert_ne!(
        json["test"],
        Value::Bool(true),
        "test payloads prove nothing"
    );
    assert_eq!(
        sha256_hex(&format!("{}{number}", field("salt"))),
        field("challenge"),
        "unsolved"
    );
    assert_eq!(
        hmac_hex(&hex::encode(key), field("challenge")),
        field("signature"),
        "not signed by us"
    );
    let expires: i64 = field("salt")
        .split_once('?')
        .and_then(|(_, q)| q.split('&').find_map(|kv| kv.strip_prefix("expires=")))
        .and_then(|e| e.parse().ok())
        .expect("an expiry");
    assert!(expires > now, "expired");
    Some(expires)
}

fn sha256_hex(input: &str) -> String {
    hex::encode(ring::digest::digest(
        &ring::digest::SHA256,
        input.as_bytes(),
    ))
}

fn hmac_hex(key: &str, message: &str) -> String {
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, key.as_bytes());
    hex::encode(ring::hmac::sign(&key, message.as_bytes()))
}

/// `s` with the byte at `at` (modulo its length) replaced by an ASCII character.
fn flip(s: &str, at: u8, to: u8) -> String {
    let mut bytes = s.as_bytes().to_vec();
    let i = usize::from(at) % bytes.len();
    bytes[i] = to % 0x5f + 0x20;
    String::from_utf8(bytes).expect("ASCII")
}
