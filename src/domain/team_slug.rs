//! Team URL slugs: 2–40 lowercase letters, digits and single hyphens, not at either end, and
//! not one of the words our own paths use.

use super::Invalid;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TeamSlug(String);

const RESERVED: &[&str] = &[
    "admin",
    "api",
    "app",
    "auth",
    "discoverable",
    "docs",
    "help",
    "invitations",
    "login",
    "logout",
    "new",
    "oauth",
    "settings",
    "signup",
    "static",
    "support",
    "teams",
    "www",
];

impl TeamSlug {
    pub const MIN_LEN: usize = 2;
    pub const MAX_LEN: usize = 40;
    /// The shape `parse` accepts once the value is trimmed, as a JSON Schema `pattern`;
    /// reserved words are left to `parse`.
    pub const PATTERN: &str = "^[a-z0-9](?:-?[a-z0-9])*$";

    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let s = raw.trim();
        let bad = |code, msg: &str| Invalid::new("slug", code, msg);
        let shape_ok = (Self::MIN_LEN..=Self::MAX_LEN).contains(&s.len())
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !s.starts_with('-')
            && !s.ends_with('-')
            && !s.contains("--");
        if !shape_ok {
            return Err(bad(
                "invalid_slug",
                "Team URLs are 2–40 lowercase letters, digits and single hyphens.",
            ));
        }
        if RESERVED.contains(&s) {
            return Err(bad("slug_reserved", "That team URL is reserved."));
        }
        Ok(Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::TeamSlug;

    #[test]
    fn slugs_follow_the_rules() {
        for ok in ["ab", "acme-qa", "team42", &"a".repeat(40)] {
            assert!(TeamSlug::parse(ok).is_ok(), "{ok:?}");
        }
        for bad in [
            "a",
            "Acme",
            "-acme",
            "acme-",
            "ac--me",
            "ac me",
            "api",
            "settings",
            &"a".repeat(41),
        ] {
            assert!(TeamSlug::parse(bad).is_err(), "{bad:?}");
        }
    }
}
