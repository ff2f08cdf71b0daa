//! Request headers and small bits of text the pages read by hand: `X-Forwarded-For` behind a
//! proxy, the bearer token or session cookie, `Sec-Fetch-Site` / `Origin` against `Host`, the
//! `next` address after sign-in, the CSRF form token, secrets redacted from logged paths and
//! the user agent shown in the session list.
#![no_main]

use std::sync::LazyLock;

use axum::body::Body;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Request, header};
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::Cookie;
use latchkey::auth::sessions::describe_device;
use latchkey::captcha::Captcha;
use latchkey::config::Config;
use latchkey::http::cookies::drop_encoded_names;
use latchkey::http::extract::{Via, forwarded_for, presented_token};
use latchkey::http::middleware::{redact, same_origin};
use latchkey::keys::Sealer;
use latchkey::state::Settings;
use latchkey::web::{csrf, safe_next};
use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;

#[derive(Debug, Arbitrary)]
struct Input<'a> {
    forwarded_for: Vec<&'a [u8]>,
    authorization: Option<&'a [u8]>,
    cookies: Vec<&'a [u8]>,
    sec_fetch_site: Option<&'a [u8]>,
    origin: Option<&'a [u8]>,
    host: Option<&'a [u8]>,
    next: &'a str,
    csrf_cookie: &'a str,
    csrf_presented: &'a str,
    route: u8,
    token: &'a str,
    user_agent: &'a str,
}

static SETTINGS: LazyLock<Settings> = LazyLock::new(|| Settings {
    public_url: "https://id.example.com".to_owned(),
    secure: true,
    behind_proxy: true,
    dev_mail: false,
    throttle: Config::default().throttle,
    csrf_key: [7; 32],
    captcha: Captcha::new(&[8; 32]),
    sealer: Sealer::new(&[9; 32]),
    recovery_keys: vec![[10; 32]],
    webauthn: None,
});

fuzz_target!(|input: Input<'_>| {
    let mut headers = HeaderMap::new();
    let mut add = |name: HeaderName, value: &[u8]| {
        if let Ok(v) = HeaderValue::from_bytes(value) {
            headers.append(name, v);
        }
    };
    for line in &input.forwarded_for {
        add(HeaderName::from_static("x-forwarded-for"), line);
    }
    if let Some(v) = input.authorization {
        add(header::AUTHORIZATION, v);
    }
    for line in &input.cookies {
        add(header::COOKIE, line);
    }
    if let Some(v) = input.sec_fetch_site {
        add(HeaderName::from_static("sec-fetch-site"), v);
    }
    if let Some(v) = input.origin {
        add(header::ORIGIN, v);
    }
    if let Some(v) = input.host {
        add(header::HOST, v);
    }

    client_address(&headers);
    session_token(&headers);
    origin_check(&headers);
    next_address(input.next);
    csrf_token(input.csrf_cookie, input.csrf_presented);
    redacted_path(input.route, input.token);
    assert!(!describe_device(input.user_agent).is_empty());
});

/// The client is the address our proxy appended: the last element of the last
/// `X-Forwarded-For` line (RFC 9110 §5.3: several lines are one comma-separated list), and only
/// if it is an IP address. Anything before it came from the client and proves nothing.
fn client_address(headers: &HeaderMap) {
    let expected = headers
        .get_all("x-forwarded-for")
        .iter()
        .next_back()
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.rsplit(',').next())
        .map(str::trim)
        .filter(|v| v.parse::<std::net::IpAddr>().is_ok());
    assert_eq!(forwarded_for(headers).as_deref(), expected, "{headers:?}");
}

/// The session token as the router sees it, after `plain_cookie_names` ran.
fn session_token(headers: &HeaderMap) {
    let mut req = Request::new(());
    *req.headers_mut() = headers.clone();
    drop_encoded_names(req.headers_mut());
    let (parts, ()) = req.into_parts();
    let name = SETTINGS.session_cookie();
    match presented_token(&parts, name) {
        Some((token, Via::Bearer)) => {
            let value = headers[header::AUTHORIZATION]
                .to_str()
                .expect("visible ASCII");
            let (scheme, rest) = value.split_once(' ').expect("scheme and token");
            assert!(scheme.eq_ignore_ascii_case("bearer"), "{value:?}");
            assert_eq!(token, rest.trim());
        }
        Some((_, Via::Cookie)) => {
            // A request carrying Authorization is judged by it alone, never by a cookie.
            assert!(!headers.contains_key(header::AUTHORIZATION), "{headers:?}");
            // Only a cookie of exactly our name: a browser enforces the `__Host-` prefix on
            // the name as sent, so `__%48ost-…`, which a sibling site may set, is not ours.
            let exact = headers
                .get_all(header::COOKIE)
                .iter()
                .filter_map(|v| v.to_str().ok())
                .flat_map(|v| v.split(';'))
                .any(|pair| pair.split_once('=').is_some_and(|(n, _)| n.trim() == name));
            assert!(exact, "{headers:?}");
        }
        None => {}
    }
    // The same token under the name spelt with percent-escapes is never the session.
    let disguised = name.replacen('H', "%48", 1).replacen('l', "%6C", 1);
    let token = headers
        .get(header::COOKIE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("lks_x")
        .replace([';', '\r', '\n'], "");
    if let Ok(value) = HeaderValue::from_str(&format!("{disguised}={token}")) {
        let mut req = Request::new(());
        req.headers_mut().insert(header::COOKIE, value);
        drop_encoded_names(req.headers_mut());
        let (parts, ()) = req.into_parts();
        assert_eq!(presented_token(&parts, name), None, "{disguised}={token}");
    }
}

fn origin_check(headers: &HeaderMap) {
    let request = |headers: &HeaderMap| {
        let mut req = Request::new(Body::empty());
        *req.headers_mut() = headers.clone();
        req
    };
    let verdict = same_origin(&request(headers));
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        assert_eq!(
            verdict,
            Some(matches!(site, "same-origin" | "none")),
            "{site:?}"
        );
        return;
    }
    // Saying nothing is not saying "same origin": the caller decides by the cookies.
    if !headers.contains_key("sec-fetch-site") && !headers.contains_key(header::ORIGIN) {
        assert_eq!(verdict, None, "{headers:?}");
    }
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    // Another site, and the opaque origin of sandboxed frames, are refused.
    let mut forged = headers.clone();
    for other in ["https://evil.example", "null"] {
        if host.is_some_and(|h| h.eq_ignore_ascii_case("evil.example")) {
            continue;
        }
        forged.insert(header::ORIGIN, HeaderValue::from_static(other));
        let forged_verdict = same_origin(&request(&forged));
        assert_eq!(forged_verdict, Some(false), "{other} with {host:?}");
    }
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return;
    };
    if verdict == Some(true) {
        let host = host.expect("a Host to compare with");
        assert!(!host.is_empty());
        let (_, origin_host) = origin.split_once("://").expect("scheme://host");
        assert!(
            origin_host.eq_ignore_ascii_case(host),
            "{origin:?} vs {host:?}"
        );
    }
}

/// Where to go after signing in: only a path on this site, and one that is safe in a
/// `Location` header (axum's `Redirect::to` panics on an invalid one).
fn next_address(next: &str) {
    let to = safe_next(Some(next));
    assert!(to == next || to == "/", "{next:?} became {to:?}");
    assert!(HeaderValue::from_str(to).is_ok(), "{to:?}");
    let here = url::Url::parse("https://id.example.com/login").expect("base");
    let there = here.join(to).expect("a relative reference");
    assert_eq!(there.origin(), here.origin(), "{next:?} leaves the site");
    if let Ok(uri) = to.parse::<axum::http::Uri>() {
        assert!(
            uri.authority().is_none() && uri.scheme().is_none(),
            "{to:?}"
        );
    }
}

/// A token is good for its CSRF cookie and the session cookie beside it only: signed out, or
/// the session it was shown to, never another.
fn csrf_token(cookie_value: &str, presented: &str) {
    let settings = &*SETTINGS;
    assert!(
        !csrf::check(settings, &CookieJar::new(), presented),
        "no cookie, no form"
    );
    let signed_out =
        CookieJar::new().add(Cookie::new(settings.csrf_cookie(), cookie_value.to_owned()));
    let jars = [None, Some("lks_a"), Some("lks_b")].map(|session| match session {
        Some(token) => signed_out
            .clone()
            .add(Cookie::new(settings.session_cookie(), token)),
        None => signed_out.clone(),
    });
    for (made, jar) in jars.iter().enumerate() {
        let (jar, token) = csrf::ensure(settings, jar.clone());
        for (used, other) in jars.iter().enumerate() {
            assert_eq!(csrf::check(settings, other, &token), made == used);
        }
        if csrf::check(settings, &jar, presented) {
            assert_eq!(presented, token, "another spelling of the token passed");
        }
    }
}

/// Paths with a secret in them are logged without it.
fn redacted_path(route: u8, token: &str) {
    const ROUTES: [(&str, &str); 6] = [
        ("/verify/", ""),
        ("/reset/", ""),
        ("/invitations/", ""),
        ("/invitations/", "/accept"),
        ("/api/v1/invitations/", "/accept"),
        ("/email-change/undo/", ""),
    ];
    let (head, tail) = ROUTES[usize::from(route) % ROUTES.len()];
    // Every secret we mint starts `lk`; what follows is anything one path segment can hold.
    if token.contains('/') {
        return;
    }
    let token = format!("lk{token}");
    let token = token.as_str();
    let path = format!("{head}{token}{tail}");
    let logged = redact(&path);
    assert!(
        logged.starts_with(head) && logged.ends_with(tail),
        "{logged:?}"
    );
    if !format!("{head}[redacted]{tail}").contains(token) {
        assert!(!logged.contains(token), "{path:?} logged as {logged:?}");
    }
}
