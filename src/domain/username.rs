//! Usernames follow GitHub's rules: 1–39 characters, ASCII letters, digits and single hyphens,
//! not starting or ending with a hyphen.

use super::Invalid;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Username(String);

/// Names that would collide with our own paths or read as official.
const RESERVED: &[&str] = &[
    "admin",
    "administrator",
    "api",
    "docs",
    "help",
    "latchkey",
    "login",
    "logout",
    "me",
    "root",
    "settings",
    "signup",
    "support",
    "system",
    "teams",
];

impl Username {
    pub const MAX_CHARS: usize = 39;
    /// The shape `parse` accepts once the value is trimmed, as a JSON Schema `pattern`;
    /// reserved names are left to `parse`.
    pub const PATTERN: &str = "^[A-Za-z0-9](?:-?[A-Za-z0-9])*$";

    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let s = raw.trim();
        let bad = |code, msg: &str| Invalid::new("username", code, msg);
        if s.is_empty() {
            return Err(bad("invalid_username", "Choose a username."));
        }
        if s.chars().count() > Self::MAX_CHARS {
            return Err(bad(
                "username_too_long",
                "Usernames are at most 39 characters.",
            ));
        }
        let charset_ok = s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
        if !charset_ok || s.starts_with('-') || s.ends_with('-') || s.contains("--") {
            return Err(bad(
                "invalid_username",
                "Usernames may only contain letters, digits and single hyphens, and cannot begin or end with a hyphen.",
            ));
        }
        if RESERVED.contains(&s.to_ascii_lowercase().as_str()) {
            return Err(bad("username_reserved", "That username is reserved."));
        }
        Ok(Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The uniqueness key: `Octocat` and `octocat` are one account.
    pub fn normalized(&self) -> String {
        self.0.to_ascii_lowercase()
    }
}

#[cfg(test)]
mod tests {
    use super::Username;

    #[test]
    fn github_style_names_parse() {
        for ok in ["a", "octo-cat", "Ada99", &"x".repeat(39)] {
            assert!(Username::parse(ok).is_ok(), "{ok:?} should parse");
        }
    }

    #[test]
    fn names_outside_the_rules_are_refused() {
        for bad in [
            "",
            "-lead",
            "trail-",
            "dou--ble",
            "sp ace",
            "ünï",
            "a_b",
            "admin",
            &"x".repeat(40),
        ] {
            assert!(Username::parse(bad).is_err(), "{bad:?} should be refused");
        }
    }
}
