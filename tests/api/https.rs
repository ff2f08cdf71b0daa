//! HTTPS served directly, and plain HTTP only where it is safe. ASVS 4.0.3 V9.1.1 (TLS),
//! V3.4.1 (Secure cookies), V3.4.4 (`__Host-` prefix), V14.4.5 (HSTS).

use serde_json::json;

use crate::helpers::{PASSWORD, spawn_app_with};

#[tokio::test]
async fn over_https_cookies_are_host_prefixed_and_secure_and_hsts_is_sent() {
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let cert_path = dir.path().join("cert.pem");
    let key_path = dir.path().join("key.pem");
    std::fs::write(&cert_path, cert.cert.pem()).unwrap();
    std::fs::write(&key_path, cert.signing_key.serialize_pem()).unwrap();

    let app = spawn_app_with(|c| {
        c.tls_cert = Some(cert_path.clone());
        c.tls_key = Some(key_path.clone());
    })
    .await;
    assert!(app.url.starts_with("https://"));
    let client = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(cert.cert.pem().as_bytes()).unwrap())
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
