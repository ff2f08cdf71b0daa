//! The session cookie: HttpOnly, SameSite=Lax, and over HTTPS `Secure` with the `__Host-`
//! prefix (ASVS V3.4). "Stay signed in" makes it persistent; otherwise it ends with the browser.

use axum::http::{HeaderMap, HeaderValue, header};
use axum_extra::extract::cookie::{Cookie, SameSite};
use time::Duration;

use crate::auth::sessions::{Issued, REMEMBER_SECS};
use crate::state::Settings;

pub fn session(settings: &Settings, issued: &Issued) -> Cookie<'static> {
    session_token(settings, issued.token.as_str().to_owned(), issued.remember)
}

/// The session cookie for a token already issued (switching between signed-in accounts).
pub fn session_token(settings: &Settings, token: String, remember: bool) -> Cookie<'static> {
    let mut c = base(settings.session_cookie(), token, settings.secure);
    if remember {
        c.set_max_age(Duration::seconds(REMEMBER_SECS));
    }
    c
}

pub fn clear_session(settings: &Settings) -> Cookie<'static> {
    let mut c = base(settings.session_cookie(), String::new(), settings.secure);
    c.set_max_age(Duration::ZERO);
    c
}

/// Makes the browser forget `name`, with the attributes it was set with: browsers ignore a
/// `__Host-` cookie without `Secure` and `Path=/`, removals included.
pub fn removal(name: &'static str, secure: bool) -> Cookie<'static> {
    base(name, String::new(), secure)
}

pub fn base(name: &'static str, value: String, secure: bool) -> Cookie<'static> {
    Cookie::build((name, value))
        .path("/")
        .http_only(true)
        .secure(secure)
        .same_site(SameSite::Lax)
        .build()
}

/// Drops cookies whose name holds a `%` before anything reads them. The cookie jar
/// percent-decodes names, so `__%48ost-latchkey_session` would read as our session cookie, yet
/// browsers hold only the name as written to the `__Host-` rules (set by this very host, over
/// HTTPS): a sibling subdomain could plant a session of its choosing. None of our names has a `%`.
pub fn drop_encoded_names(headers: &mut HeaderMap) {
    if !headers
        .get_all(header::COOKIE)
        .iter()
        .any(|v| v.as_bytes().contains(&b'%'))
    {
        return;
    }
    let lines: Vec<HeaderValue> = headers.get_all(header::COOKIE).iter().cloned().collect();
    headers.remove(header::COOKIE);
    for line in lines {
        // Lines that are not visible ASCII are skipped by the jar anyway.
        let Ok(text) = line.to_str() else { continue };
        let kept: Vec<&str> = text
            .split(';')
            .filter(|pair| {
                !pair
                    .split_once('=')
                    .map_or(*pair, |(name, _)| name)
                    .contains('%')
            })
            .collect();
        if let Ok(v) = HeaderValue::from_str(&kept.join(";"))
            && !kept.is_empty()
        {
            headers.append(header::COOKIE, v);
        }
    }
}

#[cfg(test)]
mod tests {
    use axum::http::{HeaderMap, HeaderValue, header};
    use axum_extra::extract::CookieJar;

    use super::drop_encoded_names;

    #[test]
    fn a_percent_encoded_name_is_not_taken_for_our_cookie() {
        let mut headers = HeaderMap::new();
        for line in [
            "theme=dark; __%48ost-latchkey_session=lks_planted",
            "__Host-latchkey_csrf=abc%3D",
        ] {
            headers.append(header::COOKIE, HeaderValue::from_static(line));
        }
        let value = |h: &HeaderMap, name: &str| {
            CookieJar::from_headers(h)
                .get(name)
                .map(|c| c.value().to_owned())
        };
        assert_eq!(
            value(&headers, "__Host-latchkey_session").as_deref(),
            Some("lks_planted"),
            "the jar decodes names"
        );
        drop_encoded_names(&mut headers);
        assert_eq!(value(&headers, "__Host-latchkey_session"), None);
        assert_eq!(value(&headers, "theme").as_deref(), Some("dark"));
        assert_eq!(
            value(&headers, "__Host-latchkey_csrf").as_deref(),
            Some("abc="),
            "values may still be encoded"
        );
    }
}
