//! CSRF tokens for forms: the signed double-submit pattern (OWASP CSRF cheat sheet). A random
//! value lives in an HttpOnly cookie; forms carry HMAC(server key, value), which a cross-site
//! attacker can neither read nor compute. When the browser is signed in, the session cookie's
//! token goes into the HMAC as well, so a planted CSRF cookie does not help either: the token
//! of the attacker's own session, cookie and all, is worth nothing in the victim's. Signed-out
//! forms are bound to the CSRF cookie alone.
//!
//! Both sides read the session from the cookie jar, not from who the handler says is signed in:
//! a page rendered just after signing in (or out) binds its forms to the cookie the response
//! sets (or removes), which is the one the browser sends with them.

use axum_extra::extract::CookieJar;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use crate::state::Settings;

/// Returns the jar (with a new CSRF cookie if there was none) and the token for forms.
pub fn ensure(settings: &Settings, jar: CookieJar) -> (CookieJar, String) {
    if let Some(c) = jar.get(settings.csrf_cookie()) {
        let token = sign(settings, c.value(), session(settings, &jar));
        return (jar, token);
    }
    let mut raw = [0u8; 32];
    rand::fill(&mut raw);
    let value = URL_SAFE_NO_PAD.encode(raw);
    let token = sign(settings, &value, session(settings, &jar));
    let cookie = crate::http::cookies::base(settings.csrf_cookie(), value, settings.secure);
    (jar.add(cookie), token)
}

/// True when the form's token matches this browser's CSRF cookie and its session cookie.
pub fn check(settings: &Settings, jar: &CookieJar, presented: &str) -> bool {
    let Some(c) = jar.get(settings.csrf_cookie()) else {
        return false;
    };
    let Ok(presented) = URL_SAFE_NO_PAD.decode(presented) else {
        return false;
    };
    mac(settings, c.value(), session(settings, jar))
        .verify_slice(&presented)
        .is_ok()
}

/// The session token the browser presents, if it is signed in.
fn session<'a>(settings: &Settings, jar: &'a CookieJar) -> Option<&'a str> {
    jar.get(settings.session_cookie())
        .map(|c| c.value())
        .filter(|v| !v.is_empty())
}

fn mac(settings: &Settings, value: &str, session: Option<&str>) -> Hmac<Sha256> {
    let mut m = <Hmac<Sha256> as KeyInit>::new_from_slice(&settings.csrf_key)
        .expect("HMAC accepts keys of any length");
    match session {
        None => m.update(b"latchkey-csrf:"),
        Some(session) => {
            // Length first, so that no two pairs of cookies make the same message.
            m.update(b"latchkey-csrf-session:");
            m.update(&(session.len() as u64).to_be_bytes());
            m.update(session.as_bytes());
        }
    }
    m.update(value.as_bytes());
    m
}

fn sign(settings: &Settings, value: &str, session: Option<&str>) -> String {
    URL_SAFE_NO_PAD.encode(mac(settings, value, session).finalize().into_bytes())
}
