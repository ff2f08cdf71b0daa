//! What the CLI's side of OAuth sends: the `/oauth/token` form, PKCE verifiers and the device
//! user codes people type. A verifier matches exactly when RFC 7636 §4.1 allows it and its
//! S256 challenge (computed with `ring`) is the one given; codes and refresh/device tokens are
//! taken only with their own prefix; a typed user code normalizes to one canonical code.
#![no_main]

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use latchkey::domain::{TokenHash, TokenKind};
use latchkey::http::TokenRequest;
use latchkey::oauth::device::normalize_user_code;
use latchkey::oauth::pkce_matches;
use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;

const USER_CODE_ALPHABET: &[u8] = b"BCDFGHJKLMNPQRSTVWXZ";

#[derive(Debug, Arbitrary)]
struct Input<'a> {
    /// The form body as it arrives.
    form: &'a [u8],
    /// Any text as a verifier, and a challenge to hold it against.
    verifier: &'a str,
    challenge: &'a str,
    /// Any text as a typed user code, and a real code typed with some noise.
    typed: &'a str,
    code: [u8; 8],
    noise: Vec<(u8, char)>,
    lowercase: bool,
}

fuzz_target!(|input: Input<'_>| {
    // What axum's `Form` does with the body.
    if let Ok(req) = serde_urlencoded::from_bytes::<TokenRequest>(input.form) {
        token_request(&req);
    }
    pkce(input.verifier, input.challenge);
    user_code(input.typed);
    typed_user_code(input.code, &input.noise, input.lowercase);
});

fn token_request(req: &TokenRequest) {
    for (field, kind, prefix) in [
        (&req.code, TokenKind::AuthCode, "lkc_"),
        (&req.refresh_token, TokenKind::RefreshToken, "lkr_"),
        (&req.device_code, TokenKind::DeviceCode, "lkd_"),
    ] {
        let Some(value) = field else { continue };
        if TokenHash::of_kind(value, kind).is_some() {
            assert!(value.starts_with(prefix) && value.len() == 47, "{value:?}");
        }
    }
    if let Some(verifier) = &req.code_verifier {
        pkce(verifier, "");
    }
}

fn pkce(verifier: &str, challenge: &str) {
    // RFC 7636 §4.1: 43–128 characters of [A-Z] / [a-z] / [0-9] / "-" / "." / "_" / "~".
    let well_formed = (43..=128).contains(&verifier.len())
        && verifier
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b));
    let s256 = URL_SAFE_NO_PAD.encode(ring::digest::digest(
        &ring::digest::SHA256,
        verifier.as_bytes(),
    ));
    assert_eq!(pkce_matches(verifier, &s256), well_formed, "{verifier:?}");
    if pkce_matches(verifier, challenge) {
        assert_eq!(
            challenge, s256,
            "{verifier:?} matched a challenge not its own"
        );
    }
}

fn user_code(typed: &str) {
    let Some(code) = normalize_user_code(typed) else {
        return;
    };
    let (a, b) = code.split_once('-').expect("XXXX-XXXX");
    assert!(a.len() == 4 && b.len() == 4, "{code:?}");
    assert!(
        a.bytes()
            .chain(b.bytes())
            .all(|c| USER_CODE_ALPHABET.contains(&c)),
        "{code:?}"
    );
    let letters: String = typed
        .chars()
        .filter(char::is_ascii_alphabetic)
        .map(|c| c.to_ascii_uppercase())
        .collect();
    assert_eq!(format!("{a}{b}"), letters, "{typed:?}");
    assert_eq!(normalize_user_code(&code).as_deref(), Some(code.as_str()));
}

/// A real code, typed in any case with spaces, dashes or digits between its letters.
fn typed_user_code(raw: [u8; 8], noise: &[(u8, char)], lowercase: bool) {
    let letters: Vec<char> = raw
        .iter()
        .map(|b| char::from(USER_CODE_ALPHABET[usize::from(*b) % USER_CODE_ALPHABET.len()]))
        .collect();
    let code = format!(
        "{}-{}",
        letters[..4].iter().collect::<String>(),
        letters[4..].iter().collect::<String>()
    );
    let mut typed: Vec<char> = letters
        .iter()
        .map(|c| {
            if lowercase {
                c.to_ascii_lowercase()
            } else {
                *c
            }
        })
        .collect();
    for &(at, c) in noise {
        if !c.is_ascii_alphabetic() {
            typed.insert(usize::from(at) % (typed.len() + 1), c);
        }
    }
    let typed: String = typed.into_iter().collect();
    assert_eq!(normalize_user_code(&typed), Some(code), "{typed:?}");
}
