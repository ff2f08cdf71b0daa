//! The session cookie: HttpOnly, SameSite=Lax, and over HTTPS `Secure` with the `__Host-`
//! prefix (ASVS V3.4). "Stay signed in" makes it persistent; otherwise it ends with the browser.

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
