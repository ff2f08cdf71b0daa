//! Email addresses as people type them, with the lower-cased form that makes them unique.

use super::Invalid;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    /// RFC 5321's limit on a whole address, in bytes.
    pub const MAX_LEN: usize = 254;

    /// Accepts what a mail server would plausibly deliver to: one `@`, a non-empty local part,
    /// a dotted domain, no whitespace or control characters, at most 254 bytes (RFC 5321).
    /// Deliverability itself is proven by the confirmation email, not by a regex.
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let bad = |msg: &str| Invalid::new("email", "invalid_email", msg);
        let s = raw.trim();
        if s.is_empty() {
            return Err(bad("Enter an email address."));
        }
        if s.len() > Self::MAX_LEN {
            return Err(bad("Email addresses are at most 254 characters."));
        }
        if s.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(bad("Email addresses cannot contain spaces."));
        }
        let Some((local, domain)) = s.rsplit_once('@') else {
            return Err(bad("Enter an email address like name@example.com."));
        };
        let domain_ok = domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains("..")
            && !domain.contains('@');
        if local.is_empty() || local.len() > 64 || !domain_ok {
            return Err(bad("Enter an email address like name@example.com."));
        }
        Ok(Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The uniqueness key: addresses differing only in case are the same account.
    pub fn normalized(&self) -> String {
        self.0.to_lowercase()
    }

    pub fn domain(&self) -> &str {
        self.0.rsplit_once('@').map_or("", |(_, d)| d)
    }
}

#[cfg(test)]
mod tests {
    use super::Email;

    #[test]
    fn ordinary_addresses_parse_and_normalize() {
        let e = Email::parse("  Ada.Lovelace@Example.COM ").unwrap();
        assert_eq!(e.as_str(), "Ada.Lovelace@Example.COM");
        assert_eq!(e.normalized(), "ada.lovelace@example.com");
        assert_eq!(e.domain(), "Example.COM");
    }

    #[test]
    fn malformed_addresses_are_refused() {
        for bad in [
            "",
            "no-at-sign",
            "@example.com",
            "a@b",
            "a@.com",
            "a b@example.com",
            "a@example..com",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?} should be refused");
        }
        assert!(Email::parse(&format!("{}@example.com", "a".repeat(250))).is_err());
    }
}
