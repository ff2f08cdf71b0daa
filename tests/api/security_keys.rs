//! Security keys, with a real browser as the outside party: Chromium's virtual authenticator
//! (CTAP2 on a virtual USB port), added through ChromeDriver's WebAuthn extension commands,
//! makes and signs every credential, and the server checks them with webauthn-rs. The server
//! is reached as `localhost`: WebAuthn needs a domain name.
//!
//! ASVS 4.0.3 V2.3.2 (user-provided authenticators such as FIDO keys), V2.9.1 (the verifier's
//! private key stays on the device; the server keeps the public key), V2.9.2 (each challenge
//! is a fresh nonce, answered once), V2.9.3 (approved algorithms: ECDSA, RSA-SHA256, EdDSA).

use std::time::Duration;

use axum::http::Method;
use fantoccini::{Client, Locator};
use serde_json::{Value, json};

pub mod authenticator;

use authenticator::{ask_key, plug_in_key, webauthn};

use crate::browser::{browser, fill, page_text, wait_for_path};
use crate::helpers::{
    PASSWORD, TestApp, assert_problem, free_port, page, post_form, signed_in_browser, spawn_app,
    spawn_app_with,
};
use crate::mfa::{enable_2fa, oathtool, with_2fa};

/// A server whose public URL is `http://localhost:<port>`.
pub async fn spawn_on_localhost() -> TestApp {
    let port = free_port();
    spawn_app_with(|c| {
        c.listen = format!("127.0.0.1:{port}").parse().unwrap();
        c.public_url = Some(format!("http://localhost:{port}"));
    })
    .await
}

/// Registers a key for the account of `token` through the API; returns its id.
pub async fn register(app: &TestApp, b: &Client, token: &str, name: &str) -> String {
    let begun = app
        .api(
            Method::POST,
            "/api/v1/me/mfa/security-keys/registration",
            Some(token),
            Some(&json!({"password": PASSWORD, "name": name})),
        )
        .await;
    assert_eq!(begun.status(), 200);
    let options: Value = begun.json().await.unwrap();
    // V2.9.3: only approved signature algorithms (ECDSA P-256/384/521, RSA PKCS#1 v1.5 with
    // SHA-256, EdDSA) are offered.
    for param in options["public_key"]["pubKeyCredParams"]
        .as_array()
        .unwrap()
    {
        let alg = param["alg"].as_i64().unwrap();
        assert!([-7, -35, -36, -257, -8].contains(&alg), "algorithm {alg}");
    }
    assert!(challenge_bits(&options["public_key"]) >= 64);
    let credential = ask_key(b, "create", &options["public_key"]).await;
    let added = app
        .api(
            Method::POST,
            "/api/v1/me/mfa/security-keys",
            Some(token),
            Some(&json!({"credential": credential})),
        )
        .await;
    assert_eq!(added.status(), 201);
    let added: Value = added.json().await.unwrap();
    assert_eq!(added["name"], name);
    added["id"].as_str().unwrap().to_owned()
}

/// The password step over the API; returns the `mfa_token` and the methods offered.
pub async fn password_step(app: &TestApp, login: &str) -> (String, Value) {
    let res = app
        .api(
            Method::POST,
            "/api/v1/login",
            None,
            Some(&json!({"login": login, "password": PASSWORD})),
        )
        .await;
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["status"], "mfa_required", "{body}");
    (
        body["mfa_token"].as_str().unwrap().to_owned(),
        body["methods"].clone(),
    )
}

/// V2.9.2: the length of the challenge nonce.
fn challenge_bits(options: &Value) -> usize {
    use base64::Engine;
    let text = options["challenge"].as_str().unwrap();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(text)
        .unwrap();
    bytes.len() * 8
}

async fn ask_challenge(app: &TestApp, mfa_token: &str) -> reqwest::Response {
    app.api(
        Method::POST,
        "/api/v1/login/mfa/security-key",
        None,
        Some(&json!({"mfa_token": mfa_token})),
    )
    .await
}

pub async fn challenge(app: &TestApp, mfa_token: &str) -> Value {
    let res = ask_challenge(app, mfa_token).await;
    assert_eq!(res.status(), 200);
    res.json::<Value>().await.unwrap()["public_key"].clone()
}

/// The whole sign-in of `login` with the key plugged into `b`: password, challenge, answer.
async fn sign_in_with_key(app: &TestApp, b: &Client, login: &str) -> reqwest::Response {
    let (mfa_token, _) = password_step(app, login).await;
    let answer = ask_key(b, "get", &challenge(app, &mfa_token).await).await;
    answer_step(app, &mfa_token, &answer).await
}

pub async fn answer_step(app: &TestApp, mfa_token: &str, answer: &Value) -> reqwest::Response {
    app.api(
        Method::POST,
        "/api/v1/login/mfa",
        None,
        Some(&json!({"mfa_token": mfa_token, "security_key": answer})),
    )
    .await
}

#[tokio::test]
async fn a_security_key_is_added_and_signs_in_through_the_pages() {
    let app = spawn_on_localhost().await;
    let (secret, token, _) = with_2fa(&app, "ada").await;
    let (_driver, b) = browser().await;

    // Signed in with the app's code: no key yet, so no key is offered.
    b.goto(&app.at("/login")).await.unwrap();
    fill(&b, "login", "ada").await;
    fill(&b, "password", PASSWORD).await;
    click(&b, "main form button[type=submit]").await;
    wait_for_path(&b, "/login/2fa").await;
    assert!(!page_text(&b).await.contains("Use a security key"));
    // The next time step: enabling used this one, and each works once.
    fill(&b, "code", &oathtool(&secret, 30)).await;
    click(&b, "main form button[type=submit]").await;
    wait_for_path(&b, "/").await;

    plug_in_key(&b).await;
    b.goto(&app.at("/settings/account")).await.unwrap();
    fill(&b, "key-name", "Blue key").await;
    fill(&b, "key-password", PASSWORD).await;
    click(
        &b,
        "form[action='/settings/account/security-keys/begin'] button[type=submit]",
    )
    .await;
    wait_for_path(&b, "/settings/account/security-keys/begin").await;
    click(&b, "form[data-webauthn] button").await;
    wait_for_path(&b, "/settings/account").await;
    let text = page_text(&b).await;
    assert!(text.contains("Your security key is added"), "{text}");
    assert!(text.contains("Blue key"), "{text}");
    let mail = app
        .smtp
        .wait_for_subject("ada@example.com", "A security key was added")
        .await;
    assert!(mail.text.contains("Blue key"), "{}", mail.text);

    // Signed out, the second step asks for the key first, and the key alone finishes it.
    b.delete_all_cookies().await.unwrap();
    b.goto(&app.at("/login")).await.unwrap();
    fill(&b, "login", "ada").await;
    fill(&b, "password", PASSWORD).await;
    click(&b, "main form button[type=submit]").await;
    wait_for_path(&b, "/login/2fa").await;
    let text = page_text(&b).await;
    assert!(
        text.contains("Use your authenticator app instead"),
        "{text}"
    );
    click(&b, "form[data-webauthn] button").await;
    wait_for_path(&b, "/").await;
    assert!(page_text(&b).await.contains("ada"));

    let keys: Value = app.get_json("/api/v1/me/mfa/security-keys", &token).await;
    assert_eq!(keys.as_array().unwrap().len(), 1, "{keys}");
    assert!(keys[0]["last_used_at"].is_string(), "{keys}");

    // Keys come on top of the app: turning 2FA off takes them away too.
    let password = json!({"password": PASSWORD});
    let off = app.api(
        Method::DELETE,
        "/api/v1/me/mfa",
        Some(&token),
        Some(&password),
    );
    assert_eq!(off.await.status(), 204);
    let keys = app.get_json("/api/v1/me/mfa/security-keys", &token).await;
    assert_eq!(keys, json!([]));
    b.close().await.unwrap();
}

async fn click(b: &Client, css: &str) {
    let button = b
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css(css));
    button.await.unwrap().click().await.unwrap();
}

#[tokio::test]
async fn each_challenge_is_answered_once_and_a_removed_key_no_longer_signs_in() {
    let app = spawn_on_localhost().await;
    let (_, token, _) = with_2fa(&app, "ada").await;
    let (_driver, b) = browser().await;
    b.goto(&app.at("/login")).await.unwrap();
    plug_in_key(&b).await;
    let key = register(&app, &b, &token, "Blue key").await;

    let (mfa_token, methods) = password_step(&app, "ada").await;
    assert_eq!(methods, json!(["totp", "recovery_code", "security_key"]));
    let answer = ask_key(&b, "get", &challenge(&app, &mfa_token).await).await;
    let done = answer_step(&app, &mfa_token, &answer).await;
    assert_eq!(done.status(), 200);
    let done: Value = done.json().await.unwrap();
    assert_eq!(done["status"], "signed_in");

    // The same answer for a later step: its challenge was another nonce.
    let (mfa_token, _) = password_step(&app, "ada").await;
    let fresh = challenge(&app, &mfa_token).await;
    assert!(challenge_bits(&fresh) >= 64);
    assert_ne!(
        fresh["challenge"],
        challenge(&app, &mfa_token).await["challenge"]
    );
    let fresh = challenge(&app, &mfa_token).await;
    let replayed = answer_step(&app, &mfa_token, &answer).await;
    assert_problem(replayed, 401, "security_key_invalid").await;
    // That try spent the challenge: even a right answer to it is refused now…
    let late = ask_key(&b, "get", &fresh).await;
    let res = answer_step(&app, &mfa_token, &late).await;
    assert_problem(res, 401, "security_key_invalid").await;
    // …and a new challenge works.
    let answer = ask_key(&b, "get", &challenge(&app, &mfa_token).await).await;
    assert_eq!(answer_step(&app, &mfa_token, &answer).await.status(), 200);

    // Someone else cannot remove the key by its id: the same 404 as for no key at all
    // (ASVS V4.2.1), over the API and through the settings page.
    let eve = app.signup("eve").await["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("/api/v1/me/mfa/security-keys/{key}");
    let body = json!({"password": PASSWORD});
    let res = app
        .api(Method::DELETE, &path, Some(&eve), Some(&body))
        .await;
    assert_problem(res, 404, "not_found").await;
    let made_up = format!("/api/v1/me/mfa/security-keys/{}", uuid::Uuid::new_v4());
    let res = app
        .api(Method::DELETE, &made_up, Some(&eve), Some(&body))
        .await;
    assert_problem(res, 404, "not_found").await;
    let eve_browser = signed_in_browser(&app, "eve").await;
    let (_, html) = page(&eve_browser, &app, "/settings/account").await;
    for id in [key.clone(), uuid::Uuid::new_v4().to_string()] {
        let remove = format!("/settings/account/security-keys/{id}/remove");
        let fields = [("password", PASSWORD)];
        let res = post_form(&eve_browser, &app, &remove, &html, &fields).await;
        assert_eq!(res.status(), 404);
    }
    let (_, methods) = password_step(&app, "ada").await;
    assert_eq!(methods[2], "security_key", "the key is still there");

    let wrong = json!({"password": "not the password"});
    let res = app
        .api(Method::DELETE, &path, Some(&token), Some(&wrong))
        .await;
    assert_problem(res, 403, "invalid_password").await;
    let res = app
        .api(Method::DELETE, &path, Some(&token), Some(&body))
        .await;
    assert_eq!(res.status(), 204);
    let (mfa_token, methods) = password_step(&app, "ada").await;
    assert_eq!(methods, json!(["totp", "recovery_code"]));
    let res = ask_challenge(&app, &mfa_token).await;
    assert_problem(res, 409, "no_security_keys").await;
    let res = answer_step(&app, &mfa_token, &answer).await;
    assert_problem(res, 401, "security_key_invalid").await;
    b.close().await.unwrap();
}

/// A copy of a key (its private key extracted and loaded elsewhere) betrays itself when its
/// signature counter runs behind the one the server saw last (WebAuthn §6.1.1).
#[tokio::test]
async fn a_cloned_key_whose_counter_goes_back_is_refused() {
    let app = spawn_on_localhost().await;
    let (_, token, _) = with_2fa(&app, "ada").await;
    let (_driver, b) = browser().await;
    b.goto(&app.at("/login")).await.unwrap();
    let original = plug_in_key(&b).await;
    register(&app, &b, &token, "Blue key").await;
    for _ in 0..2 {
        assert_eq!(sign_in_with_key(&app, &b, "ada").await.status(), 200);
    }

    let listed = format!("authenticator/{original}/credentials");
    let creds = webauthn(&b, Method::GET, &listed, None).await;
    let mut copy = creds[0].clone();
    assert!(copy["signCount"].as_u64().unwrap() >= 3, "{copy}");
    // V2.9.1: the private key lives on the key; the server keeps only the public half.
    let stored = app.query_text("SELECT credential FROM security_keys").await;
    let private = copy["privateKey"].as_str().unwrap();
    assert!(!stored.contains(private), "{stored}");
    let stored: Value = serde_json::from_str(&stored).unwrap();
    let key = &stored["cred"]["cred"]["key"]["EC_EC2"];
    assert!(key["x"].is_string() && key["y"].is_string(), "{stored}");
    assert_eq!(
        key.as_object().unwrap().len(),
        3,
        "curve, x and y only: {stored}"
    );
    copy["signCount"] = json!(1);
    webauthn(
        &b,
        Method::DELETE,
        &format!("authenticator/{original}"),
        None,
    )
    .await;
    let clone = plug_in_key(&b).await;
    let add = format!("authenticator/{clone}/credential");
    webauthn(&b, Method::POST, &add, Some(copy)).await;

    let res = sign_in_with_key(&app, &b, "ada").await;
    assert_problem(res, 401, "security_key_invalid").await;
    b.close().await.unwrap();
}

#[tokio::test]
async fn security_keys_need_two_factor_a_name_and_a_domain_name() {
    let app = spawn_on_localhost().await;
    let token = app.signup("ada").await["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let begin = async |body: Value| {
        app.api(
            Method::POST,
            "/api/v1/me/mfa/security-keys/registration",
            Some(&token),
            Some(&body),
        )
        .await
    };
    let named = json!({"password": PASSWORD, "name": "Blue key"});
    assert_problem(begin(named.clone()).await, 409, "mfa_not_enabled").await;

    let (_, token, _) = enable_2fa(&app, &token).await;
    let begin = async |body: Value| {
        app.api(
            Method::POST,
            "/api/v1/me/mfa/security-keys/registration",
            Some(&token),
            Some(&body),
        )
        .await
    };
    let long = "k".repeat(65);
    for (name, code) in [
        ("", "name_required"),
        ("   ", "name_required"),
        (long.as_str(), "name_invalid"),
        ("two\nlines", "name_invalid"),
    ] {
        let res = begin(json!({"password": PASSWORD, "name": name})).await;
        let body = assert_problem(res, 422, code).await;
        assert_eq!(body["errors"][0]["field"], "name", "{body}");
    }
    let res = begin(json!({"password": "wrong", "name": "Blue key"})).await;
    assert_problem(res, 403, "invalid_password").await;

    let finish = async |credential: Value| {
        let body = json!({"credential": credential});
        app.api(
            Method::POST,
            "/api/v1/me/mfa/security-keys",
            Some(&token),
            Some(&body),
        )
        .await
    };
    let res = finish(json!({"id": "x"})).await;
    let body = assert_problem(res, 422, "webauthn_malformed").await;
    assert_eq!(body["errors"][0]["field"], "credential", "{body}");
    // A forged answer spends the registration: it cannot be tried again.
    let res = begin(json!({"password": PASSWORD, "name": "Blue key"})).await;
    assert_eq!(res.status(), 200);
    let forged = json!({
        "id": "AAAA", "rawId": "AAAA", "type": "public-key",
        "response": {"attestationObject": "AAAA", "clientDataJSON": "e30"},
    });
    assert_problem(finish(forged.clone()).await, 401, "security_key_invalid").await;
    let res = finish(forged).await;
    assert_problem(res, 409, "security_key_registration_expired").await;
    let (mfa_token, _) = password_step(&app, "ada").await;
    let res = answer_step(&app, &mfa_token, &json!("not a credential")).await;
    assert_problem(res, 422, "webauthn_malformed").await;

    // Reached by IP address, as `latchkey serve` is by default: browsers refuse WebAuthn there.
    let by_ip = spawn_app().await;
    let (_, token, _) = with_2fa(&by_ip, "bob").await;
    let res = by_ip
        .api(
            Method::POST,
            "/api/v1/me/mfa/security-keys/registration",
            Some(&token),
            Some(&named),
        )
        .await;
    assert_problem(res, 409, "security_keys_unavailable").await;
}
