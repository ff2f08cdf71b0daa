//! Fields whose strings have a shape: each one's rule, as far as JSON Schema can say it, so a
//! client (and schemathesis) knows what will be accepted. The limits come from the constants
//! beside the code that checks them. What no schema can say stays with that code: reserved
//! names, the common-password list, whether the server issued a token.

use utoipa::Modify;
use utoipa::openapi::OpenApi;
use utoipa::openapi::schema::{KnownFormat, SchemaFormat};

use super::property;
use crate::accounts::signup;
use crate::auth::codes;
use crate::domain::{Email, Password, TeamSlug, TokenKind, Username};
use crate::mfa::security_keys;
use crate::teams;

pub struct Rules;

impl Modify for Rules {
    fn modify(&self, doc: &mut OpenApi) {
        for (schema, field, rule) in rules() {
            let property = property(doc, schema, field);
            property.min_length = rule.min_length;
            property.max_length = rule.max_length;
            property.pattern = rule.pattern;
            property.format = rule.format.map(SchemaFormat::KnownFormat);
        }
    }
}

#[derive(Default)]
struct Rule {
    min_length: Option<usize>,
    max_length: Option<usize>,
    pattern: Option<String>,
    format: Option<KnownFormat>,
}

fn rules() -> Vec<(&'static str, &'static str, Rule)> {
    use TokenKind::{EmailChangeUndo, EmailVerification, MfaChallenge, PasswordReset};
    vec![
        ("SignupRequest", "email", email()),
        ("SignupRequest", "username", username()),
        ("SignupRequest", "password", new_password()),
        (
            "SignupRequest",
            "name",
            visible_line(0, signup::NAME_MAX_CHARS),
        ),
        (
            "ProfileRequest",
            "name",
            visible_line(0, signup::NAME_MAX_CHARS),
        ),
        ("ProfileRequest", "username", username()),
        ("EmailChangeRequest", "new_email", email()),
        ("PasswordChangeRequest", "new_password", new_password()),
        ("ResetRequest", "token", token(PasswordReset)),
        ("ResetRequest", "new_password", new_password()),
        ("TokenRequest", "token", token(EmailChangeUndo)),
        ("ConfirmEmailRequest", "token", token(EmailVerification)),
        ("MfaLoginRequest", "mfa_token", token(MfaChallenge)),
        ("MfaLoginRequest", "code", pattern(codes::TOTP_PATTERN)),
        (
            "MfaLoginRequest",
            "recovery_code",
            pattern(codes::RECOVERY_CODE_PATTERN),
        ),
        (
            "SecurityKeyChallengeRequest",
            "mfa_token",
            token(MfaChallenge),
        ),
        ("CodeRequest", "code", pattern(codes::TOTP_PATTERN)),
        (
            "RegistrationRequest",
            "name",
            line(1, security_keys::NAME_MAX_CHARS),
        ),
        (
            "CreateTeamRequest",
            "name",
            visible_line(1, teams::NAME_MAX_CHARS),
        ),
        ("CreateTeamRequest", "slug", team_slug()),
        (
            "UpdateTeamRequest",
            "name",
            visible_line(1, teams::NAME_MAX_CHARS),
        ),
        ("InviteRequest", "email", email()),
    ]
}

/// The format checkers schemathesis uses accept only ASCII addresses, so the characters
/// `maxLength` counts are the bytes the server counts. They also accept a few the server
/// refuses (`a@localhost`, a quoted local part with a space), which no generator writes.
fn email() -> Rule {
    Rule {
        max_length: Some(Email::MAX_LEN),
        format: Some(KnownFormat::Email),
        ..Rule::default()
    }
}

/// Usernames and team URLs are described once trimmed: `maxLength` would count the whitespace
/// the server trims, and no plain pattern counts the length of this shape. (So the schema
/// refuses ` ada`, which the server takes.)
fn username() -> Rule {
    Rule {
        min_length: Some(1),
        max_length: Some(Username::MAX_CHARS),
        ..pattern(Username::PATTERN)
    }
}

fn team_slug() -> Rule {
    Rule {
        min_length: Some(TeamSlug::MIN_LEN),
        max_length: Some(TeamSlug::MAX_LEN),
        ..pattern(TeamSlug::PATTERN)
    }
}

/// A password being set; one being checked against its hash may be anything.
fn new_password() -> Rule {
    Rule {
        min_length: Some(Password::MIN_CHARS),
        max_length: Some(Password::MAX_CHARS),
        ..Rule::default()
    }
}

fn token(kind: TokenKind) -> Rule {
    pattern(&kind.pattern())
}

fn pattern(pattern: &str) -> Rule {
    Rule {
        pattern: Some(pattern.to_owned()),
        ..Rule::default()
    }
}

/// What `str::trim` removes (Unicode's White_Space) and what names refuse (control characters,
/// Cc), spelled out: `\s` means something different in each regex engine that reads the document.
const SPACE: &str = r"[\t-\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]";
const NOT_CONTROL: &str = r"[^\u0000-\u001f\u007f-\u009f]";
/// Neither: what a trimmed name begins and ends with.
const NEITHER: &str =
    r"[^\u0000-\u0020\u007f-\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]";
/// What people's and teams' names refuse besides (`domain::text::is_invisible`): the Basic
/// Multilingual Plane's default-ignorable code points and the line and paragraph separators.
/// Stricter than the server in two corners, which keeps schema-valid input valid: a joiner or
/// variation selector inside an emoji sequence (allowed there) is refused here, and the
/// ignorables beyond the BMP (tags, U+E0000 on) are left to the server, since a pattern
/// cannot name them the same way in every regex engine that reads the document.
const INVISIBLE: &str = r"\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u2028-\u202e\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0\ufff0-\ufff8";

/// A name on one line: `min..=max` characters once trimmed (`min` is 0 or 1), none of them a
/// control character. The whitespace the server trims is allowed around it, so that a value
/// the schema refuses is one the server refuses too; the length is counted inside the pattern
/// for the same reason, as `maxLength` would count the whitespace.
fn line(min: usize, max: usize) -> Rule {
    line_of(min, max, NOT_CONTROL, NEITHER)
}

/// A name as `line` describes it, with no invisible character either (people and teams).
fn visible_line(min: usize, max: usize) -> Rule {
    let inner = format!("[^\\u0000-\\u001f\\u007f-\\u009f{INVISIBLE}]");
    let edge = format!("{}{INVISIBLE}]", NEITHER.trim_end_matches(']'));
    line_of(min, max, &inner, &edge)
}

fn line_of(min: usize, max: usize, inner: &str, edge: &str) -> Rule {
    assert!(min <= 1 && max >= 2, "line({min}, {max})");
    let name = format!("{edge}(?:{inner}{{0,{}}}{edge})?", max - 2);
    let name = if min == 0 {
        format!("(?:{name})?")
    } else {
        name
    };
    pattern(&format!("^{SPACE}*{name}{SPACE}*$"))
}

#[cfg(test)]
mod tests {
    //! The document's patterns against the parsers they describe. The `regex` crate is the
    //! engine under jsonschema-rs (through fancy-regex, for patterns without look-around), the
    //! validator schemathesis judges with, and it reads these patterns as ECMA-262 does.

    use regex::Regex;

    use super::*;
    use crate::domain::TokenHash;

    fn compiled(rule: &Rule) -> Regex {
        Regex::new(rule.pattern.as_deref().unwrap()).unwrap()
    }

    /// Whether JSON Schema accepts `s`: the pattern and the lengths, in characters.
    fn schema_accepts(rule: &Rule, s: &str) -> bool {
        let chars = s.chars().count();
        compiled(rule).is_match(s)
            && rule.min_length.is_none_or(|min| chars >= min)
            && rule.max_length.is_none_or(|max| chars <= max)
    }

    const SAMPLES: &[&str] = &[
        "",
        " ",
        "\t\n",
        "a",
        "ab",
        "Ada",
        "ada-l",
        "-ada",
        "ada-",
        "ad--a",
        "a_b",
        "ünï",
        "Acme Inc.",
        " Acme ",
        "\u{3000}Acme\u{a0}",
        "Ac\u{0}me",
        "Ac\nme",
        "Acme\n",
        "\u{85}Acme",
        "Ac\u{85}me",
        "Ac\u{feff}me",
        "\u{feff}",
        "Blue YubiKey 🔑",
        "123456",
        "12345",
        "1234567",
        "123 456",
        "abcd-efgh-jkmn",
        "ABCD-EFGH-JKMN",
        "abcd-efgh-jkmu",
    ];

    fn lengths() -> Vec<String> {
        let mut out = Vec::new();
        for n in [
            1, 2, 38, 39, 40, 41, 59, 60, 61, 62, 63, 64, 65, 99, 100, 101,
        ] {
            out.push("a".repeat(n));
            out.push("é".repeat(n));
            out.push(format!(" {} ", "x".repeat(n)));
            out.push(format!("a{}a", " ".repeat(n.saturating_sub(2))));
        }
        out
    }

    fn samples() -> impl Iterator<Item = String> {
        SAMPLES.iter().map(|s| (*s).to_owned()).chain(lengths())
    }

    #[test]
    fn names_match_their_parsers_exactly() {
        let team = visible_line(1, teams::NAME_MAX_CHARS);
        let key = line(1, security_keys::NAME_MAX_CHARS);
        let person = visible_line(0, signup::NAME_MAX_CHARS);
        for s in samples() {
            assert_eq!(
                schema_accepts(&team, &s),
                teams::parse_name(&s).is_ok(),
                "team name {s:?}"
            );
            assert_eq!(
                schema_accepts(&key, &s),
                security_keys::parse_name(&s).is_ok(),
                "key name {s:?}"
            );
            assert_eq!(
                schema_accepts(&person, &s),
                signup::name_problem(s.trim()).is_none(),
                "display name {s:?}"
            );
        }
    }

    /// Usernames and slugs are described without the whitespace the server trims (a pattern
    /// cannot count their length around it), and reserved words are the parser's alone.
    #[test]
    fn usernames_and_slugs_match_their_parsers_once_trimmed() {
        for s in samples() {
            let trimmed = s.trim();
            if s == trimmed {
                assert!(
                    !schema_accepts(&username(), &s)
                        || Username::parse(&s).is_ok_and(|u| u.as_str() == s),
                    "username {s:?}"
                );
                assert!(
                    !schema_accepts(&team_slug(), &s)
                        || TeamSlug::parse(&s).is_ok_and(|t| t.as_str() == s),
                    "slug {s:?}"
                );
            }
            let parsed = Username::parse(&s).is_ok();
            assert_eq!(
                schema_accepts(&username(), trimmed),
                parsed,
                "username {s:?}"
            );
            let parsed = TeamSlug::parse(&s).is_ok();
            assert_eq!(schema_accepts(&team_slug(), trimmed), parsed, "slug {s:?}");
        }
        assert!(schema_accepts(&username(), "admin") && Username::parse("admin").is_err());
        assert!(schema_accepts(&team_slug(), "api") && TeamSlug::parse("api").is_err());
    }

    #[test]
    fn codes_the_schema_accepts_are_accepted() {
        let totp = pattern(codes::TOTP_PATTERN);
        let recovery = pattern(codes::RECOVERY_CODE_PATTERN);
        for s in samples() {
            if schema_accepts(&totp, &s) {
                assert!(codes::parse_totp(&s).is_ok(), "{s:?}");
            }
            if schema_accepts(&recovery, &s) {
                assert!(codes::normalize_recovery_code(&s).is_ok(), "{s:?}");
            }
        }
        let issued = codes::new_recovery_code();
        assert!(schema_accepts(&recovery, &issued), "{issued}");
        assert!(schema_accepts(&totp, "012345"));
    }

    #[test]
    fn token_patterns_accept_issued_tokens_of_their_kind_only() {
        let minted = crate::domain::SecretToken::generate(TokenKind::PasswordReset);
        let reset = token(TokenKind::PasswordReset);
        assert!(schema_accepts(&reset, minted.as_str()));
        assert!(TokenHash::of_kind(minted.as_str(), TokenKind::PasswordReset).is_some());
        assert!(!schema_accepts(
            &token(TokenKind::EmailVerification),
            minted.as_str()
        ));
        let short = &minted.as_str()[..minted.as_str().len() - 1];
        assert!(!schema_accepts(&reset, short));
        assert!(TokenHash::of_kind(short, TokenKind::PasswordReset).is_none());
    }
}
