//! The pure parts of two-factor authentication: TOTP (RFC 6238 through `totp-rs`), recovery
//! codes, and what people type for either.

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use totp_rs::{Builder, Totp};

use crate::domain::Invalid;

pub const ISSUER: &str = "Latchkey";
/// 160 bits, as RFC 4226 recommends and authenticator apps expect.
pub const SECRET_BYTES: usize = 20;
pub const RECOVERY_CODE_COUNT: usize = 10;
/// At or below this many unused recovery codes we suggest regenerating.
pub const LOW_CODES: i64 = 3;

/// SHA-1, 6 digits, 30-second steps, one step of clock drift either way: what every
/// authenticator app speaks.
pub fn authenticator(secret: &[u8], username: &str) -> anyhow::Result<Totp> {
    Builder::new()
        .with_secret(secret.to_vec())
        .with_account_name(username)
        .with_issuer(Some(ISSUER))
        .build()
        .map_err(|e| anyhow::anyhow!("TOTP: {e:?}"))
}

pub fn new_secret() -> [u8; SECRET_BYTES] {
    let mut secret = [0u8; SECRET_BYTES];
    rand::fill(&mut secret);
    secret
}

/// The time step a correct code belongs to, within ±1 step of `now`.
pub fn matching_step(totp: &Totp, code: &str, now: u64) -> Option<i64> {
    totp.check(code, now)
        .and_then(|step| i64::try_from(step).ok())
}

/// What `parse_totp` accepts as the app shows it, as a JSON Schema `pattern` (the spaces it
/// forgives are left out).
pub const TOTP_PATTERN: &str = "^[0-9]{6}$";

/// Six digits; spaces people copy along are ignored.
pub fn parse_totp(raw: &str) -> Result<String, Invalid> {
    let code: String = raw.chars().filter(|c| !c.is_whitespace()).collect();
    if code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit()) {
        Ok(code)
    } else {
        Err(Invalid::new(
            "code",
            "invalid_code_format",
            "Enter the 6-digit code from your authenticator app.",
        ))
    }
}

/// The QR code of an `otpauth://` URI, as inline SVG.
pub fn qr_svg(uri: &str) -> anyhow::Result<String> {
    let code = qrcode::QrCode::new(uri.as_bytes())?;
    Ok(code
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(200, 200)
        .quiet_zone(true)
        .build())
}

/// The secret in groups of four, for typing into an app by hand.
pub fn grouped(base32: &str) -> String {
    base32
        .as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Crockford's base32 without I, L, O, U: nothing to confuse when read aloud or copied by hand.
const ALPHABET: &[u8; 32] = b"0123456789abcdefghjkmnpqrstvwxyz";

/// A recovery code: 12 characters of 5 bits (60 bits), shown as `xxxx-xxxx-xxxx`.
pub fn new_recovery_code() -> String {
    let mut raw = [0u8; 12];
    rand::fill(&mut raw);
    let chars: Vec<char> = raw
        .iter()
        .map(|b| ALPHABET[usize::from(b & 31)] as char)
        .collect();
    chars
        .chunks(4)
        .map(|c| c.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join("-")
}

/// A recovery code as `new_recovery_code` writes it, as a JSON Schema `pattern`;
/// `normalize_recovery_code` forgives more (case, spaces, the letters that look like digits).
pub const RECOVERY_CODE_PATTERN: &str =
    "^[0-9a-hjkmnp-tv-z]{4}-[0-9a-hjkmnp-tv-z]{4}-[0-9a-hjkmnp-tv-z]{4}$";

/// What a typed recovery code means: case, spaces and hyphens do not matter, and the letters
/// Crockford's alphabet leaves out read as the digits they resemble.
pub fn normalize_recovery_code(raw: &str) -> Result<String, Invalid> {
    let code: String = raw
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| match c.to_ascii_lowercase() {
            'i' | 'l' => '1',
            'o' => '0',
            other => other,
        })
        .collect();
    if code.len() == 12 && code.bytes().all(|b| ALPHABET.contains(&b)) {
        Ok(code)
    } else {
        Err(Invalid::new(
            "recovery_code",
            "invalid_code_format",
            "Recovery codes look like xxxx-xxxx-xxxx.",
        ))
    }
}

/// What is stored for a new recovery code: the id of the key that made it, then its keyed hash.
/// The id lets `rotate-key` count the accounts whose codes still need a previous key.
pub fn stored_recovery_code(key: &[u8; 32], user_id: uuid::Uuid, normalized: &str) -> Vec<u8> {
    [
        &crate::keys::key_id(key)[..],
        &recovery_code_hash(key, user_id, normalized),
    ]
    .concat()
}

/// Every stored form a typed code may have: under each key (the current one first), with its
/// key id and, as codes were stored before keys could be rotated, without.
pub fn recovery_code_candidates(
    keys: &[[u8; 32]],
    user_id: uuid::Uuid,
    normalized: &str,
) -> Vec<Vec<u8>> {
    keys.iter()
        .flat_map(|k| {
            [
                stored_recovery_code(k, user_id, normalized),
                recovery_code_hash(k, user_id, normalized),
            ]
        })
        .collect()
}

/// Keyed hash of a normalized recovery code, bound to its account.
pub fn recovery_code_hash(key: &[u8; 32], user_id: uuid::Uuid, normalized: &str) -> Vec<u8> {
    let mut mac =
        <Hmac<Sha256> as KeyInit>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(user_id.as_bytes());
    mac.update(normalized.as_bytes());
    mac.finalize().into_bytes().to_vec()
}

#[cfg(test)]
mod tests {
    use totp_rs::{Algorithm, Builder};

    use super::*;

    /// RFC 6238 Appendix B, via `../shared/reference/README.md`: the crate we rely on computes
    /// the published values.
    #[test]
    fn rfc_6238_appendix_b_vectors() {
        let cases: [(Algorithm, &[u8], [&str; 6]); 3] = [
            (
                Algorithm::SHA1,
                b"12345678901234567890",
                [
                    "94287082", "07081804", "14050471", "89005924", "69279037", "65353130",
                ],
            ),
            (
                Algorithm::SHA256,
                b"12345678901234567890123456789012",
                [
                    "46119246", "68084774", "67062674", "91819424", "90698825", "77737706",
                ],
            ),
            (
                Algorithm::SHA512,
                b"1234567890123456789012345678901234567890123456789012345678901234",
                [
                    "90693936", "25091201", "99943326", "93441116", "38618901", "47863826",
                ],
            ),
        ];
        let times = [
            59,
            1_111_111_109,
            1_111_111_111,
            1_234_567_890,
            2_000_000_000,
            20_000_000_000,
        ];
        for (alg, secret, expected) in cases {
            let totp = Builder::new()
                .with_algorithm(alg)
                .with_digits(8)
                .with_secret(secret.to_vec())
                .build_noncompliant();
            for (t, want) in times.iter().zip(expected) {
                assert_eq!(totp.generate(*t).to_string(), want, "{alg:?} at {t}");
            }
        }
    }

    #[test]
    fn codes_are_accepted_one_step_either_side_and_no_further() {
        let totp = authenticator(&[42; 20], "ada").unwrap();
        let now = 1_800_000_015;
        let code = totp.generate(now).to_string();
        assert_eq!(matching_step(&totp, &code, now), Some(60_000_000));
        assert_eq!(matching_step(&totp, &code, now + 30), Some(60_000_000));
        assert_eq!(matching_step(&totp, &code, now - 30), Some(60_000_000));
        assert_eq!(matching_step(&totp, &code, now + 60), None);
    }

    #[test]
    fn the_otpauth_uri_names_issuer_and_account() {
        let totp = authenticator(&[1; 20], "ada-l").unwrap();
        let uri = totp.to_url().unwrap();
        assert!(
            uri.starts_with("otpauth://totp/Latchkey:ada-l?secret="),
            "{uri}"
        );
        assert!(uri.contains("issuer=Latchkey"));
    }

    #[test]
    fn recovery_codes_carry_sixty_bits_and_read_back_however_typed() {
        let code = new_recovery_code();
        assert_eq!(code.len(), 14);
        assert_eq!(code.matches('-').count(), 2);
        let typed = code.to_uppercase().replace('-', " ");
        assert_eq!(
            normalize_recovery_code(&typed).unwrap(),
            code.replace('-', "")
        );
        assert_eq!(
            normalize_recovery_code("ILO0-aaaa-bbbb").unwrap(),
            "1100aaaabbbb"
        );
        assert!(normalize_recovery_code("short").is_err());
        assert!(normalize_recovery_code("uuuu-uuuu-uuuu").is_err());
    }

    /// ASVS 4.0.3 V2.6.2 (lookup secrets of under 112 bits are salted and hashed) and V2.6.3
    /// (they resist offline attack): codes are random and distinct, and their stored form is an
    /// HMAC-SHA256 under a server key that is not in the database, salted with the account id,
    /// so neither a plain hash of the code nor another account's or key's hash matches it.
    #[test]
    fn recovery_code_hashes_are_keyed_and_bound_to_the_account() {
        use sha2::Digest;

        let codes: std::collections::HashSet<String> =
            (0..1000).map(|_| new_recovery_code()).collect();
        assert_eq!(codes.len(), 1000, "no repeats in 1,000 codes");

        let code = normalize_recovery_code(&new_recovery_code()).unwrap();
        let (key, other_key) = ([7u8; 32], [8u8; 32]);
        let (ada, bob) = (uuid::Uuid::now_v7(), uuid::Uuid::now_v7());
        let stored = recovery_code_hash(&key, ada, &code);
        assert_eq!(stored.len(), 32);
        assert_eq!(stored, recovery_code_hash(&key, ada, &code), "verifiable");
        assert_ne!(
            stored,
            recovery_code_hash(&key, bob, &code),
            "salted per account"
        );
        assert_ne!(stored, recovery_code_hash(&other_key, ada, &code), "keyed");

        let unkeyed = sha2::Sha256::digest(code.as_bytes()).to_vec();
        let mut salted = ada.as_bytes().to_vec();
        salted.extend_from_slice(code.as_bytes());
        let salted_unkeyed = sha2::Sha256::digest(&salted).to_vec();
        assert_ne!(stored, unkeyed);
        assert_ne!(stored, salted_unkeyed, "useless without the server key");
    }

    #[test]
    fn totp_codes_must_be_six_digits() {
        assert_eq!(parse_totp(" 123 456 ").unwrap(), "123456");
        for bad in ["12345", "1234567", "12a456", ""] {
            assert!(parse_totp(bad).is_err(), "{bad:?}");
        }
    }
}
