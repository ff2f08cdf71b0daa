//! CSRF tokens for forms: the signed double-submit pattern (OWASP CSRF cheat sheet). A random
//! value lives in an HttpOnly cookie; forms carry HMAC(server key, value), which a cross-site
//! attacker can neither read nor compute, even if they manage to plant a cookie.

use axum_extra::extract::CookieJar;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use crate::state::Settings;

/// Returns the jar (with a new CSRF cookie if there was none) and the token for forms.
pub fn ensure(settings: &Settings, jar: CookieJar) -> (CookieJar, String) {
    if let Some(c) = jar.get(settings.csrf_cookie()) {
        let token = sign(settings, c.value());
        return (jar, token);
    }
    let mut raw = [0u8; 32];
    rand::fill(&mut raw);
    let value = URL_SAFE_NO_PAD.encode(raw);
    let token = sign(settings, &value);
    let cookie = crate::http::cookies::base(settings.csrf_cookie(), value, settings.secure);
    (jar.add(cookie), token)
}

/// True when the form's token matches this browser's cookie.
pub fn check(settings: &Settings, jar: &CookieJar, presented: &str) -> bool {
    let Some(c) = jar.get(settings.csrf_cookie()) else {
        return false;
    };
    let Ok(presented) = URL_SAFE_NO_PAD.decode(presented) else {
        return false;
    };
    mac(settings, c.value()).verify_slice(&presented).is_ok()
}

fn mac(settings: &Settings, value: &str) -> Hmac<Sha256> {
    let mut m = <Hmac<Sha256> as KeyInit>::new_from_slice(&settings.csrf_key)
        .expect("HMAC accepts keys of any length");
    m.update(b"latchkey-csrf:");
    m.update(value.as_bytes());
    m
}

fn sign(settings: &Settings, value: &str) -> String {
    URL_SAFE_NO_PAD.encode(mac(settings, value).finalize().into_bytes())
}
