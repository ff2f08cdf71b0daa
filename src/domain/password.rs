//! New passwords, checked the way NIST SP 800-63B and ASVS V2.1 ask: length only, no composition
//! rules, no truncation, and never one of the most common passwords. The minimum is 12, as ASVS
//! 4.0.3 V2.1.1 asks; it applies to passwords being set, so accounts whose password was set
//! under the earlier minimum of 8 still sign in, and meet it at their next change or reset.

use std::collections::HashSet;
use std::sync::LazyLock;

use secrecy::{ExposeSecret, SecretString};

use super::Invalid;

static COMMON: LazyLock<HashSet<&'static str>> = LazyLock::new(|| {
    include_str!("../../data/common-passwords.txt")
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .collect()
});

/// A password that passed the policy for new passwords. Existing passwords are checked against
/// their hash as typed, so they never go through this type.
#[derive(Debug)]
pub struct Password(SecretString);

/// What a new password must not equal (compared case-insensitively).
pub struct PasswordPolicy<'a> {
    pub username: Option<&'a str>,
    pub email: Option<&'a str>,
}

impl Password {
    pub const MIN_CHARS: usize = 12;
    pub const MAX_CHARS: usize = 128;

    pub fn parse(raw: &str, policy: &PasswordPolicy<'_>) -> Result<Self, Invalid> {
        let chars = raw.chars().count();
        if chars < Self::MIN_CHARS {
            return Err(Invalid::new(
                "password",
                "password_too_short",
                format!("Passwords need at least {} characters.", Self::MIN_CHARS),
            ));
        }
        if chars > Self::MAX_CHARS {
            return Err(Invalid::new(
                "password",
                "password_too_long",
                format!("Passwords are at most {} characters.", Self::MAX_CHARS),
            ));
        }
        let lower = raw.to_lowercase();
        if COMMON.contains(lower.as_str()) {
            return Err(Invalid::new(
                "password",
                "password_too_common",
                "That password is among the most commonly used, so attackers try it first; choose \
                 another. A few unrelated words make a strong one.",
            ));
        }
        let same_as = |other: Option<&str>| other.is_some_and(|o| o.to_lowercase() == lower);
        if same_as(policy.username) || same_as(policy.email) {
            return Err(Invalid::new(
                "password",
                "password_matches_identity",
                "Your password cannot be your username or email address.",
            ));
        }
        Ok(Self(SecretString::from(raw)))
    }

    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }

    /// Whether `raw` is on the list of breached passwords, as typed in any case. Sign-in asks
    /// this of passwords that were set before the list caught up with them.
    pub fn is_common(raw: &str) -> bool {
        COMMON.contains(raw.to_lowercase().as_str())
    }

    pub fn common_list_len() -> usize {
        COMMON.len()
    }
}

#[cfg(test)]
mod tests {
    use super::{Password, PasswordPolicy};

    const NONE: PasswordPolicy<'static> = PasswordPolicy {
        username: None,
        email: None,
    };

    #[test]
    fn the_shipped_list_holds_at_least_ten_thousand_passwords() {
        assert!(Password::common_list_len() >= 10_000);
    }

    #[test]
    fn length_counts_characters_not_bytes() {
        assert!(Password::parse(&"é".repeat(11), &NONE).is_err());
        assert!(Password::parse("éèêëēėęéèêëa", &NONE).is_ok());
        assert!(Password::parse(&"ž".repeat(128), &NONE).is_ok());
        assert!(Password::parse(&"ž".repeat(129), &NONE).is_err());
    }

    #[test]
    fn common_and_identity_passwords_are_refused() {
        let err = Password::parse("1qaz2WSX3edc", &NONE).unwrap_err();
        assert_eq!(err.code, "password_too_common");
        assert!(
            err.message.contains("attackers try it first"),
            "{}",
            err.message
        );
        let policy = PasswordPolicy {
            username: Some("ada-lovelace"),
            email: Some("ada@example.com"),
        };
        let err = Password::parse("Ada-Lovelace", &policy).unwrap_err();
        assert_eq!(err.code, "password_matches_identity");
        assert!(Password::parse("correct horse battery staple", &policy).is_ok());
    }
}
