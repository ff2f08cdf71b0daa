//! Email addresses as people type them, with the lower-cased form that makes them unique.

use std::net::IpAddr;

use unicode_security::MixedScript;

use super::{Invalid, text};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    /// RFC 5321's limit on a whole address, in bytes.
    pub const MAX_LEN: usize = 254;

    /// Accepts what a mail server delivers to: one `@`; a local part of at most 64 bytes in
    /// one script (UTS #39: a Cyrillic `а` among Latin letters is a disguise, not a name);
    /// a dotted domain name, internationalised or not, never an address literal (`[127.0.0.1]`)
    /// or a bare IP address; no spaces, control or invisible characters; at most 254 bytes
    /// (RFC 5321). The syntax of each part is lettre's (RFC 5322 local parts, UTS #46 domains),
    /// the parser the mail goes out through. Deliverability itself is proven by the
    /// confirmation email, not by a parser.
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let bad = |msg: &str| Invalid::new("email", "invalid_email", msg);
        let like = "Enter an email address like name@example.com.";
        let s = raw.trim();
        if s.is_empty() {
            return Err(bad("Enter an email address."));
        }
        if s.len() > Self::MAX_LEN {
            return Err(bad("Email addresses are at most 254 characters."));
        }
        if s.chars().any(char::is_whitespace) {
            return Err(bad("Email addresses cannot contain spaces."));
        }
        if s.chars().any(text::is_invisible) {
            return Err(bad("Email addresses cannot contain invisible characters."));
        }
        let Some((local, domain)) = s.split_once('@') else {
            return Err(bad(like));
        };
        let literal = domain.starts_with('[') || domain.parse::<IpAddr>().is_ok();
        let dotted = domain.contains('.') && !domain.starts_with('.') && !domain.ends_with('.');
        if domain.contains('@') || literal || !dotted || local.len() > 64 {
            return Err(bad(like));
        }
        if lettre::Address::new(local, domain).is_err() {
            return Err(bad(like));
        }
        if !local.is_single_script() {
            return Err(bad(
                "The part before the @ mixes alphabets. Type it as your mail provider gave it.",
            ));
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
            "a@b@example.com",
            "\"a@b\"@example.com",
            "a@[127.0.0.1]",
            "a@[IPv6:::1]",
            "a@192.0.2.1",
            "a@example.com.",
            "a.@example.com",
            "a\u{200B}b@example.com",
            "a@exa\u{200D}mple.com",
            "a\u{2028}b@example.com",
            "p\u{430}ypal@example.com",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?} should be refused");
        }
        assert!(Email::parse(&format!("{}@example.com", "a".repeat(250))).is_err());
        assert!(Email::parse(&format!("{}@example.com", "a".repeat(65))).is_err());
    }

    #[test]
    fn internationalised_and_tagged_addresses_parse() {
        for ok in [
            "o'brien+news@example.com",
            "first.last@sub.example.co.uk",
            "kate@bücher.example",
            "δοκιμή@παράδειγμα.example",
            "用户@例子.example",
            "\"quoted\"@example.com",
        ] {
            assert!(Email::parse(ok).is_ok(), "{ok:?} should parse");
        }
    }
}
