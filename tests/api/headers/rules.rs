//! What every response must carry, what every cookie must say, and what no page may contain.

use super::Seen;

/// Everything wrong with one response; empty when it is right.
pub(super) fn faults(s: &Seen, secure: bool) -> Vec<String> {
    let mut f = Vec::new();
    let h = |name: &str| s.headers.get(name).and_then(|v| v.to_str().ok());
    if s.status >= 500 {
        f.push(format!("answered {}", s.status));
    }
    match h("content-security-policy") {
        None => f.push("no Content-Security-Policy".to_owned()),
        Some(csp) => {
            for source in ["'unsafe-inline'", "'unsafe-eval'"] {
                if csp.contains(source) {
                    f.push(format!("the policy allows {source}"));
                }
            }
            if !csp.split(';').any(|d| d.trim() == "frame-ancestors 'none'") {
                f.push(format!("no frame-ancestors 'none' in {csp}"));
            }
        }
    }
    for (name, value) in [
        ("x-content-type-options", "nosniff"),
        ("referrer-policy", "no-referrer"),
        ("x-frame-options", "DENY"),
    ] {
        if h(name) != Some(value) {
            f.push(format!("{name} is {:?}, not {value}", h(name)));
        }
    }
    let hsts = h("strict-transport-security");
    if secure != hsts.is_some_and(|v| v.starts_with("max-age=63072000")) {
        f.push(format!("Strict-Transport-Security is {hsts:?}"));
    }
    for cookie in s.headers.get_all("set-cookie") {
        let cookie = cookie.to_str().unwrap_or_default();
        for why in cookie_faults(cookie, secure) {
            f.push(format!("{why}: {cookie}"));
        }
    }
    if h("content-type").is_some_and(|t| t.starts_with("text/html")) {
        f.extend(inline_code(&s.body));
    }
    f
}

/// HttpOnly, SameSite, `Path=/`, no `Domain`; over HTTPS `Secure` and the `__Host-` prefix
/// (which browsers refuse to store without `Secure`, so plain HTTP must not use it).
fn cookie_faults(cookie: &str, secure: bool) -> Vec<&'static str> {
    let mut parts = cookie.split(';').map(str::trim);
    let name = parts.next().unwrap_or_default().split('=').next();
    let host_prefixed = name.unwrap_or_default().starts_with("__Host-");
    let attrs: Vec<String> = parts.map(str::to_ascii_lowercase).collect();
    let has = |a: &str| attrs.iter().any(|x| x == a);
    let mut f = Vec::new();
    if !has("httponly") {
        f.push("not HttpOnly");
    }
    if !has("samesite=lax") && !has("samesite=strict") {
        f.push("no SameSite=Lax or Strict");
    }
    if !has("path=/") {
        f.push("not Path=/");
    }
    if attrs.iter().any(|a| a.starts_with("domain=")) {
        f.push("a Domain");
    }
    if secure && !has("secure") {
        f.push("not Secure over HTTPS");
    }
    if secure && !host_prefixed {
        f.push("no __Host- prefix over HTTPS");
    }
    if !secure && host_prefixed {
        f.push("__Host- over plain HTTP");
    }
    f
}

/// Inline scripts, `<style>` elements, `style` attributes, `on…` handlers and `javascript:`
/// URLs: what the Content Security Policy blocks, so a page using them would be broken.
fn inline_code(html: &str) -> Vec<String> {
    let mut f = Vec::new();
    let lower = html.to_ascii_lowercase();
    let mut rest = lower.as_str();
    while let Some(at) = rest.find('<') {
        rest = &rest[at + 1..];
        if !rest.starts_with(|c: char| c.is_ascii_alphabetic()) {
            continue;
        }
        let (name, attrs, end) = start_tag(rest);
        rest = &rest[end..];
        if name == "style" {
            f.push("a <style> element".to_owned());
        }
        if name == "script" && !attrs.iter().any(|(a, _)| a == "src") {
            f.push("an inline <script>".to_owned());
        }
        for (attr, value) in &attrs {
            if attr == "style" {
                f.push(format!("a style attribute on <{name}>"));
            }
            if attr.len() > 2 && attr.starts_with("on") {
                f.push(format!("an {attr} attribute on <{name}>"));
            }
            if value.trim_start().starts_with("javascript:") {
                f.push(format!("a javascript: URL in <{name} {attr}>"));
            }
        }
    }
    f
}

/// Reads a start tag from just after its `<`: its name, its attributes with their values, and
/// where it ends.
fn start_tag(s: &str) -> (String, Vec<(String, String)>, usize) {
    let b = s.as_bytes();
    // Names end at `=`, `>` or `/`; unquoted values only at a space or `>`.
    let word = |i: usize, value: bool| {
        let stop = |c: char| c.is_whitespace() || c == '>' || (!value && matches!(c, '=' | '/'));
        let len = s[i..].find(stop).unwrap_or(s.len() - i);
        (s[i..i + len].to_owned(), i + len)
    };
    let (name, mut i) = word(0, false);
    let mut attrs = Vec::new();
    while i < b.len() && b[i] != b'>' {
        if b[i].is_ascii_whitespace() || b[i] == b'/' {
            i += 1;
            continue;
        }
        let (attr, next) = word(i, false);
        i = next.max(i + 1);
        let mut value = String::new();
        if b.get(i) == Some(&b'=') {
            i += 1;
            if let Some(&q @ (b'"' | b'\'')) = b.get(i) {
                let len = s[i + 1..].find(q as char).unwrap_or(s.len() - i - 1);
                value = s[i + 1..i + 1 + len].to_owned();
                i += len + 2;
            } else {
                (value, i) = word(i, true);
            }
        }
        attrs.push((attr, value));
    }
    (name, attrs, i.min(s.len()))
}

#[test]
fn the_page_checks_find_inline_code_and_only_that() {
    let clean = r#"<!doctype html><p class="a">1 < 2</p><script src="/static/app.js"></script>
        <a href="/x" data-on="onclick=">ok</a><img alt='style="x"' src=/i.png>"#;
    assert_eq!(inline_code(clean), Vec::<String>::new());
    let dirty = r#"<style>p{}</style><script>alert(1)</script><p style="color:red">
        <button type=submit onClick="go()">x</button><a href=" javascript:go()">y</a>"#;
    assert_eq!(inline_code(dirty).len(), 5, "{:?}", inline_code(dirty));
}

#[test]
fn cookies_need_every_attribute() {
    let good = "__Host-latchkey_session=x; HttpOnly; SameSite=Lax; Secure; Path=/";
    assert!(cookie_faults(good, true).is_empty());
    assert!(cookie_faults("latchkey_csrf=x; HttpOnly; SameSite=Lax; Path=/", false).is_empty());
    let bad = "latchkey_flash=x; Path=/; Domain=example.com";
    assert_eq!(
        cookie_faults(bad, true).len(),
        5,
        "{:?}",
        cookie_faults(bad, true)
    );
}
