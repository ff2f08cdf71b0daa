//! The domain newtypes and the codes people type: whatever parses is what the type promises,
//! and parses again to itself.
#![no_main]

use latchkey::domain::{Email, Password, PasswordPolicy, TeamSlug, Username};
use latchkey::mfa::codes::{normalize_recovery_code, parse_totp};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &str| {
    // The same text as each kind of input; the password also meets identity parts cut from it.
    email(data);
    username(data);
    team_slug(data);
    password(data);
    totp(data);
    recovery_code(data);
});

fn email(raw: &str) {
    let Ok(e) = Email::parse(raw) else { return };
    let s = e.as_str();
    assert_eq!(s, raw.trim(), "kept as typed, less surrounding space");
    assert!(!s.is_empty() && s.len() <= 254, "{s:?}");
    assert!(
        !s.chars().any(|c| c.is_whitespace() || c.is_control()),
        "{s:?}"
    );
    let (local, domain) = s.rsplit_once('@').expect("an @");
    assert!(!local.is_empty() && local.len() <= 64, "{s:?}");
    assert_eq!(e.domain(), domain);
    assert!(
        domain.contains('.') && !domain.starts_with('.') && !domain.ends_with('.'),
        "{s:?}"
    );
    assert!(
        !domain.split('.').any(str::is_empty),
        "empty label in {s:?}"
    );
    assert_eq!(Email::parse(s).as_ref(), Ok(&e), "re-parses to itself");
    // The uniqueness key: case-blind, stable, and still free of spaces and control characters.
    let norm = e.normalized();
    assert_eq!(norm, s.to_lowercase());
    assert_eq!(
        norm.to_lowercase(),
        norm,
        "normalizing twice changes nothing"
    );
    assert!(!norm.chars().any(|c| c.is_whitespace() || c.is_control()));
    if let Ok(again) = Email::parse(&norm) {
        assert_eq!(again.normalized(), norm);
    }
}

fn username(raw: &str) {
    let Ok(u) = Username::parse(raw) else { return };
    let s = u.as_str();
    assert_eq!(s, raw.trim());
    assert!((1..=39).contains(&s.len()), "{s:?}");
    assert!(s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'));
    assert!(!s.starts_with('-') && !s.ends_with('-') && !s.contains("--"));
    assert_eq!(Username::parse(s).as_ref(), Ok(&u));
    // Reserved names are refused in any case, so the normalized name parses too.
    let norm = u.normalized();
    assert_eq!(norm, s.to_ascii_lowercase());
    assert_eq!(Username::parse(&norm).map(|n| n.normalized()), Ok(norm));
}

fn team_slug(raw: &str) {
    let Ok(t) = TeamSlug::parse(raw) else { return };
    let s = t.as_str();
    assert_eq!(s, raw.trim());
    assert!((2..=40).contains(&s.len()), "{s:?}");
    assert!(
        s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    );
    assert!(!s.starts_with('-') && !s.ends_with('-') && !s.contains("--"));
    assert_eq!(TeamSlug::parse(s).as_ref(), Ok(&t));
}

fn password(raw: &str) {
    // Identity parts taken from the input itself, so "password equals username" is reachable.
    let half = raw
        .char_indices()
        .nth(raw.chars().count() / 2)
        .map_or(0, |(i, _)| i);
    let (a, b) = raw.split_at(half);
    for policy in [
        PasswordPolicy {
            username: None,
            email: None,
        },
        PasswordPolicy {
            username: Some(raw),
            email: None,
        },
        PasswordPolicy {
            username: Some(a),
            email: Some(b),
        },
    ] {
        let Ok(p) = Password::parse(raw, &policy) else {
            continue;
        };
        assert_eq!(p.expose(), raw, "never trimmed or truncated");
        let chars = raw.chars().count();
        assert!((8..=128).contains(&chars), "{chars} characters accepted");
        let lower = raw.to_lowercase();
        for identity in [policy.username, policy.email].into_iter().flatten() {
            assert_ne!(identity.to_lowercase(), lower, "matches an identity");
        }
    }
}

fn totp(raw: &str) {
    let Ok(code) = parse_totp(raw) else { return };
    assert!(
        code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit()),
        "{code:?}"
    );
    let typed: String = raw.chars().filter(|c| !c.is_whitespace()).collect();
    assert_eq!(code, typed);
}

fn recovery_code(raw: &str) {
    const ALPHABET: &[u8] = b"0123456789abcdefghjkmnpqrstvwxyz";
    let Ok(code) = normalize_recovery_code(raw) else {
        return;
    };
    assert_eq!(code.len(), 12, "{code:?}");
    assert!(code.bytes().all(|b| ALPHABET.contains(&b)), "{code:?}");
    // However it was typed, the normalized code reads back as itself, also in the shown form.
    assert_eq!(normalize_recovery_code(&code).as_deref(), Ok(code.as_str()));
    let shown = format!("{}-{}-{}", &code[..4], &code[4..8], &code[8..]);
    assert_eq!(
        normalize_recovery_code(&shown.to_uppercase()).as_deref(),
        Ok(code.as_str())
    );
}
