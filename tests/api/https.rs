//! HTTPS served directly, and plain HTTP only where it is safe. ASVS 4.0.3 V9.1.1 (TLS),
//! V3.4.1 (Secure cookies), V3.4.4 (`__Host-` prefix), V14.4.5 (HSTS).

use serde_json::json;

use crate::helpers::{PASSWORD, csrf_from, spawn_app_with, spawn_https_app};

#[tokio::test]
async fn over_https_cookies_are_host_prefixed_and_secure_and_hsts_is_sent() {
    let (app, pem) = spawn_https_app().await;
    assert!(app.url.starts_with("https://"));
    let client = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(pem.as_bytes()).unwrap())
        .resolve("localhost", ([127, 0, 0, 1], app.port).into())
        .build()
        .unwrap();
    let url = format!("https://localhost:{}/api/v1/signup", app.port);
    let res = client
        .post(url)
        .json(&json!({"email": "tls@example.com", "username": "tls", "password": PASSWORD, "accept_terms": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let cookie = res.headers()["set-cookie"].to_str().unwrap();
    assert!(cookie.starts_with("__Host-latchkey_session="), "{cookie}");
    assert!(cookie.contains("Secure") && cookie.contains("HttpOnly") && cookie.contains("Path=/"));
    assert!(
        res.headers()["strict-transport-security"]
            .to_str()
            .unwrap()
            .contains("max-age=")
    );
}

#[tokio::test]
async fn plain_http_is_refused_off_loopback_unless_behind_a_proxy() {
    let refused = latchkey::app::Application::build(latchkey::config::Config {
        listen: "0.0.0.0:0".parse().unwrap(),
        data_dir: tempfile::tempdir().unwrap().path().join("data"),
        ..Default::default()
    })
    .await;
    let err = refused.err().expect("must refuse").to_string();
    assert!(err.contains("--tls-cert"), "{err}");

    let app = spawn_app_with(|c| {
        c.listen = "0.0.0.0:0".parse().unwrap();
        c.behind_proxy = true;
        c.smtp_url = None;
        c.public_url = Some("https://accounts.example.com".into());
    })
    .await;
    let client = reqwest::Client::new();
    let url = format!("http://127.0.0.1:{}/api/v1/signup", app.port);
    let res = client
        .post(url)
        .header("x-forwarded-for", "198.51.100.7, 203.0.113.9")
        .header("x-forwarded-proto", "https")
        .json(&json!({"email": "px@example.com", "username": "proxied", "password": PASSWORD, "accept_terms": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    assert!(
        res.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .starts_with("__Host-")
    );
    let token = res.json::<serde_json::Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let sessions: Vec<serde_json::Value> = client
        .get(format!("http://127.0.0.1:{}/api/v1/me/sessions", app.port))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        sessions[0]["ip"], "203.0.113.9",
        "the address our proxy saw"
    );

    // What reached the proxy over plain HTTP is sent to HTTPS, not served.
    let res = crate::helpers::plain_client()
        .get(format!("http://127.0.0.1:{}/login?x=1", app.port))
        .header("x-forwarded-proto", "http")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 308);
    assert_eq!(
        res.headers()["location"],
        "https://accounts.example.com/login?x=1"
    );
    // Loopback behind a proxy is reachable from anywhere: the dev outbox (reset links!) is off.
    let res = crate::helpers::plain_client()
        .get(format!("http://127.0.0.1:{}/_dev/mail", app.port))
        .header("x-forwarded-proto", "https")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
}

/// ASVS 4.0.3 V3.2.3: every cookie that carries a token is locked down, not only the session
/// cookie: the list of other signed-in accounts (their session tokens) and the pending
/// second step of a 2FA sign-in. Over HTTPS each is `__Host-`, Secure, HttpOnly, SameSite=Lax.
#[tokio::test]
async fn every_cookie_holding_a_token_is_locked_down() {
    let (app, pem) = spawn_https_app().await;
    let base = format!("https://localhost:{}", app.port);
    let client = |cookies: bool| {
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert("sec-fetch-site", "same-origin".parse().unwrap());
        reqwest::Client::builder()
            .add_root_certificate(reqwest::Certificate::from_pem(pem.as_bytes()).unwrap())
            .resolve("localhost", ([127, 0, 0, 1], app.port).into())
            .cookie_store(cookies)
            .default_headers(headers)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap()
    };
    let script = client(false);
    let mut tokens = Vec::new();
    for name in ["first", "second"] {
        let res = script
            .post(format!("{base}/api/v1/signup"))
            .json(&json!({"email": format!("{name}@example.com"), "username": name, "password": PASSWORD, "accept_terms": true}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 201);
        let body: serde_json::Value = res.json().await.unwrap();
        tokens.push(body["token"].as_str().unwrap().to_owned());
    }

    let browser = client(true);
    let sign_in = async |path: &str, login: &str| {
        let page = browser.get(format!("{base}{path}")).send().await.unwrap();
        let csrf = csrf_from(&page.text().await.unwrap());
        browser
            .post(format!("{base}/login"))
            .form(&[
                ("csrf", csrf.as_str()),
                ("login", login),
                ("password", PASSWORD),
            ])
            .send()
            .await
            .unwrap()
    };
    assert_eq!(sign_in("/login", "first").await.status(), 303);
    let added = sign_in("/login?add=1", "second").await;
    assert_eq!(added.status(), 303);
    assert_locked_down(&added, "__Host-latchkey_accounts=");

    // Turn 2FA on for "first" (with oathtool, as an authenticator app would), then sign in.
    let setup: serde_json::Value = script
        .post(format!("{base}/api/v1/me/mfa/totp/setup"))
        .bearer_auth(&tokens[0])
        .json(&json!({"password": PASSWORD}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let code = crate::mfa::oathtool(setup["secret"].as_str().unwrap(), 0);
    let res = script
        .post(format!("{base}/api/v1/me/mfa/totp/enable"))
        .bearer_auth(&tokens[0])
        .json(&json!({"code": code}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let fresh = client(true);
    let page = fresh.get(format!("{base}/login")).send().await.unwrap();
    let csrf = csrf_from(&page.text().await.unwrap());
    let step = fresh
        .post(format!("{base}/login"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("login", "first"),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(step.headers()["location"], "/login/2fa");
    assert_locked_down(&step, "__Host-latchkey_mfa=");
}

fn assert_locked_down(res: &reqwest::Response, prefix: &str) {
    let cookie = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|c| c.to_str().ok())
        .find(|c| c.starts_with(prefix))
        .unwrap_or_else(|| panic!("no {prefix} cookie set"));
    let attrs: Vec<String> = cookie
        .split(';')
        .skip(1)
        .map(|a| a.trim().to_ascii_lowercase())
        .collect();
    for needed in ["secure", "httponly", "samesite=lax", "path=/"] {
        assert!(
            attrs.iter().any(|a| a == needed),
            "{needed} missing: {cookie}"
        );
    }
    assert!(!attrs.iter().any(|a| a.starts_with("domain=")), "{cookie}");
}
