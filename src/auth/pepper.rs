//! The pepper (ASVS V2.4.5): each Argon2id hash is stored encrypted under a key derived from
//! `secret.key`, so a copy of the database alone cannot be attacked offline. OWASP's Password
//! Storage Cheat Sheet names this form ("hash, then encrypt the hash with the pepper key")
//! beside an HMAC; we take it because a hash can then move to a new key without its password
//! (`rotate-key`), where an HMAC would keep the old key alive until every account signed in.
//!
//! Stored form: `$latchkey-argon2id$v=19$m=…,t=…,p=…$<salt>$<sealed hash>`. Parameters and
//! salt stay readable and are bound to the sealed hash as associated data. Hashes stored
//! before the pepper (`$argon2id$…`) still verify and are peppered at the next sign-in, or by
//! `rotate-key`.

use base64::Engine;
use base64::engine::general_purpose::STANDARD_NO_PAD;

use crate::keys::Sealer;

const PEPPERED: &str = "$latchkey-argon2id$";
const PLAIN: &str = "$argon2id$";

/// The plain PHC string inside `stored`: `stored` itself when it was made before the pepper;
/// None when it is peppered under a key `pepper` lacks, or was altered.
pub fn unpeppered(pepper: &Sealer, stored: &str) -> Option<String> {
    let Some(rest) = stored.strip_prefix(PEPPERED) else {
        return Some(stored.to_owned());
    };
    let (front, sealed) = rest.rsplit_once('$')?;
    let sealed = STANDARD_NO_PAD.decode(sealed).ok()?;
    let hash = pepper.open(&sealed, front.as_bytes())?;
    Some(format!("{PLAIN}{front}${}", STANDARD_NO_PAD.encode(hash)))
}

/// `plain`, an Argon2id PHC string, with its hash sealed under the current pepper key.
pub fn peppered(pepper: &Sealer, plain: &str) -> Option<String> {
    let rest = plain.strip_prefix(PLAIN)?;
    let (front, hash) = rest.rsplit_once('$')?;
    let hash = STANDARD_NO_PAD.decode(hash).ok()?;
    let sealed = pepper.seal(&hash, front.as_bytes());
    Some(format!(
        "{PEPPERED}{front}${}",
        STANDARD_NO_PAD.encode(sealed)
    ))
}

/// Whether `stored` is peppered under the current key (what `rotate-key` leaves alone).
pub fn is_current(pepper: &Sealer, stored: &str) -> bool {
    stored
        .strip_prefix(PEPPERED)
        .and_then(|rest| rest.rsplit_once('$'))
        .and_then(|(_, sealed)| STANDARD_NO_PAD.decode(sealed).ok())
        .is_some_and(|sealed| pepper.is_current(&sealed))
}

/// What `rotate-key` does with a stored hash.
#[derive(Debug, PartialEq, Eq)]
pub enum Reseal {
    /// Peppered under the current key already.
    Current,
    /// Peppered under a key that was not given, or not a hash we make.
    Unreadable,
    /// The same hash, peppered under the current key.
    New(String),
}

/// Moves a stored hash under the current pepper key without the password.
pub fn reseal(pepper: &Sealer, stored: &str) -> Reseal {
    if is_current(pepper, stored) {
        return Reseal::Current;
    }
    match unpeppered(pepper, stored).and_then(|plain| peppered(pepper, &plain)) {
        Some(new) => Reseal::New(new),
        None => Reseal::Unreadable,
    }
}

#[cfg(test)]
mod tests {
    use super::{Reseal, is_current, peppered, reseal, unpeppered};
    use crate::keys::Sealer;

    const PLAIN: &str = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g";

    #[test]
    fn a_peppered_hash_opens_only_with_its_key_and_parameters() {
        let (old, new) = ([1; 32], [2; 32]);
        let pepper = Sealer::new(&old);
        let stored = peppered(&pepper, PLAIN).unwrap();
        assert!(stored.starts_with("$latchkey-argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(!stored.contains("aGFzaGhhc2g"), "the hash is not readable");
        assert_eq!(unpeppered(&pepper, &stored).as_deref(), Some(PLAIN));
        assert_eq!(unpeppered(&Sealer::new(&new), &stored), None);
        // Lowering the cost written in front breaks the seal, not just the check.
        let cheaper = stored.replace("m=19456", "m=8");
        assert_eq!(unpeppered(&pepper, &cheaper), None);
        // Hashes from before the pepper pass through.
        assert_eq!(unpeppered(&pepper, PLAIN).as_deref(), Some(PLAIN));

        let rotated = Sealer::with_previous(&new, &[old]);
        assert!(is_current(&pepper, &stored));
        assert!(!is_current(&rotated, &stored));
        let Reseal::New(moved) = reseal(&rotated, &stored) else {
            panic!("not resealed");
        };
        assert_eq!(
            unpeppered(&Sealer::new(&new), &moved).as_deref(),
            Some(PLAIN)
        );
        assert_eq!(reseal(&rotated, &moved), Reseal::Current);
        assert!(matches!(reseal(&pepper, PLAIN), Reseal::New(_)));
        assert_eq!(reseal(&Sealer::new(&[3; 32]), &stored), Reseal::Unreadable);
    }
}
