//! Presented bearer secrets: a token is recognised only as its own kind, only in the shape we
//! mint, and hashes to SHA-256 of exactly what was presented (checked with `ring`).
#![no_main]

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use latchkey::domain::{TokenHash, TokenKind};
use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;

/// Every kind with the prefix the README documents for it.
const KINDS: [(TokenKind, &str); 11] = [
    (TokenKind::Session, "lks_"),
    (TokenKind::EmailVerification, "lkv_"),
    (TokenKind::MfaChallenge, "lkm_"),
    (TokenKind::PasswordReset, "lkp_"),
    (TokenKind::EmailChangeUndo, "lku_"),
    (TokenKind::Invitation, "lki_"),
    (TokenKind::AccessToken, "lka_"),
    (TokenKind::RefreshToken, "lkr_"),
    (TokenKind::AuthCode, "lkc_"),
    (TokenKind::DeviceCode, "lkd_"),
    (TokenKind::ConsentBrowser, "lkb_"),
];

#[derive(Debug, Arbitrary)]
struct Input<'a> {
    /// Any text, as presented in a header, cookie or form.
    raw: &'a str,
    /// A well-formed token of one kind, built the way `SecretToken::generate` builds one.
    kind: u8,
    secret: [u8; 32],
}

fuzz_target!(|input: Input<'_>| {
    check(input.raw);
    let (kind, prefix) = KINDS[usize::from(input.kind) % KINDS.len()];
    let minted = format!("{prefix}{}", URL_SAFE_NO_PAD.encode(input.secret));
    assert_eq!(
        TokenHash::of_kind(&minted, kind),
        Some(TokenHash::of(&minted)),
        "a minted {kind:?} token is recognised"
    );
    check(&minted);
});

fn check(presented: &str) {
    let accepted: Vec<_> = KINDS
        .iter()
        .filter_map(|&(kind, prefix)| Some((kind, prefix, TokenHash::of_kind(presented, kind)?)))
        .collect();
    assert!(
        accepted.len() <= 1,
        "{presented:?} is taken for {accepted:?}"
    );
    let Some((kind, prefix, hash)) = accepted.into_iter().next() else {
        return;
    };
    let body = presented
        .strip_prefix(prefix)
        .unwrap_or_else(|| panic!("{presented:?} accepted as {kind:?} without {prefix}"));
    assert_eq!(body.len(), 43, "{presented:?}");
    assert!(
        body.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
        "{presented:?}"
    );
    let expected = ring::digest::digest(&ring::digest::SHA256, presented.as_bytes());
    assert_eq!(hash.0, expected.as_ref(), "hash of {presented:?}");
    assert_eq!(hash, TokenHash::of(presented));
}
