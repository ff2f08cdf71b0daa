//! `/oauth/authorize`: the query as the browser sends it, and `redirect_uri` alone. A request is
//! recorded only for our CLI, a loopback redirect, `response_type=code` and an S256 challenge;
//! errors go back by redirect only to a loopback address; every redirect we emit is a valid
//! `Location` that an RFC 3986 parser (`http::Uri`) also reads as `http://127.0.0.1:<port>` or
//! `http://[::1]:<port>`.
#![no_main]

use axum::http::{HeaderValue, Uri};
use latchkey::oauth::{
    AuthorizeError, AuthorizeParams, CLIENT_ID, REQUEST_TTL_SECS, authorize_request,
    is_loopback_redirect,
};
use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;

const NOW: i64 = 1_700_000_000;

#[derive(Debug, Arbitrary)]
struct Input<'a> {
    /// The query string as it arrives.
    query: &'a str,
    /// The same fields set one by one: missing, a value that passes, or any text.
    response_type: Field<'a>,
    client_id: Field<'a>,
    redirect_uri: Field<'a>,
    code_challenge: Field<'a>,
    code_challenge_method: Field<'a>,
    state: Field<'a>,
    device_name: Field<'a>,
}

#[derive(Debug, Arbitrary)]
enum Field<'a> {
    Missing,
    Good,
    Text(&'a str),
}

impl Field<'_> {
    fn value(&self, good: &str) -> Option<String> {
        match self {
            Field::Missing => None,
            Field::Good => Some(good.to_owned()),
            Field::Text(t) => Some((*t).to_owned()),
        }
    }
}

fuzz_target!(|input: Input<'_>| {
    // What axum's `Query` does with the query string.
    if let Ok(p) = serde_urlencoded::from_str::<AuthorizeParams>(input.query) {
        check(&p);
    }
    let p = AuthorizeParams {
        response_type: input.response_type.value("code"),
        client_id: input.client_id.value(CLIENT_ID),
        redirect_uri: input.redirect_uri.value("http://127.0.0.1:53682/callback"),
        code_challenge: input
            .code_challenge
            .value("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"),
        code_challenge_method: input.code_challenge_method.value("S256"),
        state: input.state.value("af0ifjsldkj"),
        device_name: input.device_name.value("ada-laptop"),
    };
    check(&p);
});

fn check(p: &AuthorizeParams) {
    let redirect = p.redirect_uri.as_deref().unwrap_or("");
    let trusted = p.client_id.as_deref() == Some(CLIENT_ID) && is_loopback_redirect(redirect);
    let state: String = p
        .state
        .as_deref()
        .unwrap_or("")
        .chars()
        .filter(|c| !c.is_control())
        .take(512)
        .collect();
    redirect_uri(redirect);
    match authorize_request(p, NOW) {
        Ok(r) => {
            assert!(trusted, "{p:?}");
            assert_eq!(p.response_type.as_deref(), Some("code"));
            assert_eq!(p.code_challenge_method.as_deref(), Some("S256"));
            assert_eq!(r.redirect_uri, redirect);
            assert_eq!(p.code_challenge.as_deref(), Some(r.code_challenge.as_str()));
            assert_eq!(r.code_challenge.len(), 43, "{p:?}");
            assert!(
                r.code_challenge
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            );
            assert_eq!(r.state, state);
            let name = &r.device_name;
            assert!(!name.is_empty() && name.chars().count() <= 64, "{name:?}");
            assert_eq!(name.trim(), name);
            assert!(!name.chars().any(char::is_control), "{name:?}");
            assert_eq!(r.expires_at, NOW + REQUEST_TTL_SECS);
        }
        Err(AuthorizeError::Page(_)) => assert!(!trusted, "{p:?}"),
        Err(AuthorizeError::Redirect(location)) => {
            assert!(trusted, "error redirected to an untrusted place: {p:?}");
            let url = loopback_location(&location);
            let pairs: Vec<_> = url.query_pairs().collect();
            let get = |k: &str| pairs.iter().rev().find(|(n, _)| n == k).map(|(_, v)| v);
            assert!(get("error").is_some(), "{location}");
            assert_eq!(get("state").map(|s| s.as_ref()), Some(state.as_str()));
        }
    }
}

/// Any text as `redirect_uri`: accepted only if it is plain `http` to 127.0.0.1 or [::1] with a
/// port, and then errors are sent back there.
fn redirect_uri(raw: &str) {
    if !is_loopback_redirect(raw) {
        return;
    }
    assert!(!raw.chars().any(char::is_control), "{raw:?}");
    let url = url::Url::parse(raw).expect("accepted URIs parse");
    assert_eq!(url.scheme(), "http");
    assert!(
        matches!(url.host_str(), Some("127.0.0.1" | "[::1]")),
        "{raw:?}"
    );
    assert!(url.port().is_some() && url.username().is_empty() && url.password().is_none());
    assert!(url.fragment().is_none());
    let p = AuthorizeParams {
        client_id: Some(CLIENT_ID.to_owned()),
        redirect_uri: Some(raw.to_owned()),
        ..AuthorizeParams::default()
    };
    match authorize_request(&p, NOW) {
        Err(AuthorizeError::Redirect(location)) => {
            loopback_location(&location);
        }
        _ => panic!("a request without response_type must be answered by redirect: {raw:?}"),
    }
}

/// A `Location` we may send: a valid header value that both the WHATWG parser (as browsers) and
/// an RFC 3986 parser read as plain HTTP to a loopback address with an explicit port.
fn loopback_location(location: &str) -> url::Url {
    assert!(HeaderValue::from_str(location).is_ok(), "{location:?}");
    let uri: Uri = location
        .parse()
        .unwrap_or_else(|e| panic!("{location:?} is no RFC 3986 URI: {e}"));
    assert_eq!(uri.scheme_str(), Some("http"), "{location:?}");
    assert!(
        matches!(uri.host(), Some("127.0.0.1" | "[::1]")),
        "{location:?} goes to {:?}",
        uri.host()
    );
    assert!(uri.port_u16().is_some(), "{location:?}");
    let url = url::Url::parse(location).expect("WHATWG URL");
    assert!(
        matches!(url.host_str(), Some("127.0.0.1" | "[::1]")),
        "{location:?}"
    );
    assert_eq!(url.scheme(), "http");
    url
}
