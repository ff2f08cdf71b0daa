//! Two-factor authentication, checked against an independent authenticator: Debian's
//! `oathtool` computes every code from the secret the server hands out. ASVS 4.0.3 V2.8.1
//! (time-based OTPs have a defined lifetime), V2.8.3 (approved algorithms: HMAC-SHA1 TOTP),
//! V2.8.4 (each code used once), V2.8.5 (reuse is logged and the owner told), V2.6.1/V2.6.2
//! (lookup secrets work once and carry ≥ 20 bits), V6.4.1 (secrets encrypted at rest).

mod hsm;
mod keys;
mod setup_page;

pub use setup_page::start_setup;

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{
    PASSWORD, TestApp, assert_problem, post_form, spawn_app, submit, submit_here,
};

/// The code an authenticator app shows `offset` seconds from now, from `oathtool`.
pub fn oathtool(secret: &str, offset: i64) -> String {
    let out = std::process::Command::new("oathtool")
        .args([
            "--totp",
            "-b",
            "-N",
            &format!("now + {offset} seconds"),
            secret,
        ])
        .output()
        .expect("oathtool (apt install oathtool)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

/// Signs up `name`, turns 2FA on with an oathtool code; returns (secret, new token, codes).
pub async fn with_2fa(app: &TestApp, name: &str) -> (String, String, Vec<String>) {
    let token = app.signup(name).await["token"].as_str().unwrap().to_owned();
    enable_2fa(app, &token).await
}

/// Starts 2FA set-up over the API for the account of `token`; returns the secret to scan.
pub async fn totp_setup(app: &TestApp, token: &str) -> String {
    let setup: Value = app
        .api(
            Method::POST,
            "/api/v1/me/mfa/totp/setup",
            Some(token),
            Some(&json!({"password": PASSWORD})),
        )
        .await
        .json()
        .await
        .unwrap();
    setup["secret"].as_str().unwrap().to_owned()
}

/// Turns 2FA on for the account of `token` with an oathtool code; returns (secret, the
/// session's new token, recovery codes).
pub async fn enable_2fa(app: &TestApp, token: &str) -> (String, String, Vec<String>) {
    let token = token.to_owned();
    let secret = totp_setup(app, &token).await;
    let res = app
        .api(
            Method::POST,
            "/api/v1/me/mfa/totp/enable",
            Some(&token),
            Some(&json!({"code": oathtool(&secret, 0)})),
        )
        .await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    let codes = body["recovery_codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_owned())
        .collect();
    (secret, body["token"].as_str().unwrap().to_owned(), codes)
}

pub async fn password_step(app: &TestApp, login: &str) -> String {
    let res = app
        .api(
            Method::POST,
            "/api/v1/login",
            None,
            Some(&json!({"login": login, "password": PASSWORD})),
        )
        .await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["status"], "mfa_required", "{body}");
    assert!(
        body.get("token").is_none(),
        "no session before the second step"
    );
    body["mfa_token"].as_str().unwrap().to_owned()
}

pub async fn second_step(app: &TestApp, body: &Value) -> reqwest::Response {
    app.api(Method::POST, "/api/v1/login/mfa", None, Some(body))
        .await
}

#[tokio::test]
async fn setting_up_with_an_authenticator_app_then_signing_in_with_its_codes() {
    let app = spawn_app().await;
    let token = app.signup("twofa").await["token"]
        .as_str()
        .unwrap()
        .to_owned();

    let res = app
        .api(
            Method::POST,
            "/api/v1/me/mfa/totp/setup",
            Some(&token),
            Some(&json!({"password": "not my password"})),
        )
        .await;
    assert_problem(res, 403, "invalid_password").await;
    let setup: Value = app
        .api(
            Method::POST,
            "/api/v1/me/mfa/totp/setup",
            Some(&token),
            Some(&json!({"password": PASSWORD})),
        )
        .await
        .json()
        .await
        .unwrap();
    let secret = setup["secret"].as_str().unwrap().to_owned();
    assert_eq!(secret.len(), 32, "160 bits in base32");
    let uri = setup["otpauth_uri"].as_str().unwrap();
    assert!(
        uri.starts_with(&format!("otpauth://totp/Latchkey:twofa?secret={secret}")),
        "{uri}"
    );
    assert!(uri.contains("issuer=Latchkey"));
    assert!(setup["qr_svg"].as_str().unwrap().contains("<svg"));

    let res = app
        .api(
            Method::POST,
            "/api/v1/me/mfa/totp/enable",
            Some(&token),
            Some(&json!({"code": oathtool(&secret, 0)})),
        )
        .await;
    assert_eq!(res.status(), 200);
    let enabled: Value = res.json().await.unwrap();
    let codes = enabled["recovery_codes"].as_array().unwrap();
    assert_eq!(codes.len(), 10);
    let new_token = enabled["token"].as_str().unwrap();
    assert_ne!(new_token, token);
    assert_problem(
        app.get_bearer("/api/v1/me", &token).await,
        401,
        "unauthenticated",
    )
    .await;
    let me: Value = app
        .get_bearer("/api/v1/me", new_token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["mfa_enabled"], true);
    let notices = app.smtp.wait_for("twofa@example.com", 2).await;
    assert_eq!(notices[1].subject, "Two-factor authentication is on");
    assert!(notices[1].text.contains("IP:") && !notices[1].text.contains(&secret));

    // Sign in: password, then the app's next code (the current step was spent enabling).
    let mfa_token = password_step(&app, "twofa").await;
    let next = oathtool(&secret, 30);
    let res = second_step(&app, &json!({"mfa_token": mfa_token, "code": next})).await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["status"], "signed_in");
    assert_eq!(
        app.get_bearer("/api/v1/me", body["token"].as_str().unwrap())
            .await
            .status(),
        200
    );

    // The same code again, even after a fresh password step, is a replay and refused. From
    // the browser that just signed in with it, that is someone signing in twice within one
    // code's 30 seconds: they are told to wait for the next code, and nobody is alarmed.
    let mfa_token = password_step(&app, "twofa").await;
    let res = second_step(&app, &json!({"mfa_token": mfa_token, "code": next})).await;
    let body = assert_problem(res, 401, "code_already_used").await;
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains("Wait for the next one")
    );
    // From another device, it means the password is known to someone else: reported.
    let elsewhere = reqwest::Client::builder()
        .user_agent("Mozilla/5.0 (Windows NT 10.0) Firefox/133.0")
        .build()
        .unwrap();
    let res = app
        .api_as(
            &elsewhere,
            Method::POST,
            "/api/v1/login",
            None,
            Some(&json!({"login": "twofa", "password": PASSWORD})),
        )
        .await;
    let mfa_token = res.json::<Value>().await.unwrap()["mfa_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let body = json!({"mfa_token": mfa_token, "code": next});
    let res = app
        .api_as(
            &elsewhere,
            Method::POST,
            "/api/v1/login/mfa",
            None,
            Some(&body),
        )
        .await;
    assert_problem(res, 401, "code_already_used").await;
    let mails = app.smtp.wait_for("twofa@example.com", 3).await;
    assert_eq!(mails[2].subject, "A used sign-in code was tried again");
    assert!(mails[2].text.contains("Windows"), "names the other device");
    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    assert_eq!(
        app.smtp.all().len(),
        3,
        "one alarm, for the other device only"
    );
}

#[tokio::test]
async fn a_recovery_code_signs_in_once() {
    let app = spawn_app().await;
    let (_, token, codes) = with_2fa(&app, "recover").await;
    for c in &codes {
        assert_eq!(c.len(), 14, "xxxx-xxxx-xxxx: 60 bits");
    }
    let mfa_token = password_step(&app, "recover").await;
    let typed = codes[0].to_uppercase().replace('-', " ");
    let res = second_step(
        &app,
        &json!({"mfa_token": mfa_token, "recovery_code": typed}),
    )
    .await;
    assert_eq!(res.status(), 200);

    let mfa_token = password_step(&app, "recover").await;
    let res = second_step(
        &app,
        &json!({"mfa_token": mfa_token, "recovery_code": codes[0]}),
    )
    .await;
    assert_problem(res, 401, "invalid_code").await;
    let status: Value = app
        .get_bearer("/api/v1/me/mfa", &token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(status, json!({"enabled": true, "recovery_codes_left": 9}));
}

#[tokio::test]
async fn five_wrong_codes_end_the_sign_in_attempt() {
    let app = spawn_app().await;
    let (secret, _, _) = with_2fa(&app, "fumble").await;
    let mfa_token = password_step(&app, "fumble").await;
    let right = oathtool(&secret, 30);
    let wrong = if right == "000000" {
        "111111"
    } else {
        "000000"
    };
    for _ in 0..5 {
        let res = second_step(&app, &json!({"mfa_token": mfa_token, "code": wrong})).await;
        assert_problem(res, 401, "invalid_code").await;
    }
    let res = second_step(&app, &json!({"mfa_token": mfa_token, "code": right})).await;
    assert_problem(res, 401, "mfa_token_invalid").await;
}

#[tokio::test]
async fn wrong_codes_across_attempts_throttle_the_second_step() {
    let app = spawn_app().await;
    with_2fa(&app, "hammered").await;
    let mut limited = false;
    for _ in 0..3 {
        let mfa_token = password_step(&app, "hammered").await;
        for _ in 0..5 {
            let res = second_step(
                &app,
                &json!({"mfa_token": mfa_token, "recovery_code": "0000-0000-0000"}),
            )
            .await;
            if res.status() == 429 {
                limited = true;
                break;
            }
            assert_problem(res, 401, "invalid_code").await;
        }
    }
    assert!(limited, "the eleventh wrong code is throttled");
}

#[tokio::test]
async fn malformed_codes_and_out_of_order_requests_are_clear_errors() {
    let app = spawn_app().await;
    let token = app.signup("orderly").await["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let res = app
        .api(
            Method::POST,
            "/api/v1/me/mfa/totp/enable",
            Some(&token),
            Some(&json!({"code": "123456"})),
        )
        .await;
    assert_problem(res, 409, "mfa_setup_required").await;
    let res = app
        .api(
            Method::DELETE,
            "/api/v1/me/mfa",
            Some(&token),
            Some(&json!({"password": PASSWORD})),
        )
        .await;
    assert_problem(res, 409, "mfa_not_enabled").await;
    let res = app
        .api(
            Method::POST,
            "/api/v1/me/mfa/recovery-codes",
            Some(&token),
            Some(&json!({"password": PASSWORD})),
        )
        .await;
    assert_problem(res, 409, "mfa_not_enabled").await;
    app.api(
        Method::POST,
        "/api/v1/me/mfa/totp/setup",
        Some(&token),
        Some(&json!({"password": PASSWORD})),
    )
    .await;
    for bad in ["12345", "12a456", "1234567"] {
        let res = app
            .api(
                Method::POST,
                "/api/v1/me/mfa/totp/enable",
                Some(&token),
                Some(&json!({"code": bad})),
            )
            .await;
        assert_problem(res, 422, "invalid_code_format").await;
    }

    let (_, token, _) = with_2fa(&app, "already").await;
    let res = app
        .api(
            Method::POST,
            "/api/v1/me/mfa/totp/setup",
            Some(&token),
            Some(&json!({"password": PASSWORD})),
        )
        .await;
    assert_problem(res, 409, "mfa_already_enabled").await;
    let mfa_token = password_step(&app, "already").await;
    let res = second_step(&app, &json!({"mfa_token": mfa_token, "code": "12ab56"})).await;
    assert_problem(res, 422, "invalid_code_format").await;
    let res = second_step(&app, &json!({"mfa_token": mfa_token})).await;
    assert_problem(res, 422, "code_required").await;
    let res = second_step(&app, &json!({"mfa_token": "lkm_made-up", "code": "123456"})).await;
    assert_problem(res, 401, "mfa_token_invalid").await;
}

#[tokio::test]
async fn regenerating_codes_voids_the_old_set_and_disabling_needs_the_password() {
    let app = spawn_app().await;
    let (_, token, old) = with_2fa(&app, "renewer").await;
    let res = app
        .api(
            Method::POST,
            "/api/v1/me/mfa/recovery-codes",
            Some(&token),
            Some(&json!({"password": PASSWORD})),
        )
        .await;
    assert_eq!(res.status(), 200);
    let new: Value = res.json().await.unwrap();
    let new: Vec<String> = new["recovery_codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(new.len(), 10);

    let mfa_token = password_step(&app, "renewer").await;
    assert_problem(
        second_step(
            &app,
            &json!({"mfa_token": mfa_token, "recovery_code": old[1]}),
        )
        .await,
        401,
        "invalid_code",
    )
    .await;
    let res = second_step(
        &app,
        &json!({"mfa_token": mfa_token, "recovery_code": new[1]}),
    )
    .await;
    assert_eq!(res.status(), 200);

    let res = app
        .api(
            Method::DELETE,
            "/api/v1/me/mfa",
            Some(&token),
            Some(&json!({"password": "wrong one"})),
        )
        .await;
    assert_problem(res, 403, "invalid_password").await;
    let res = app
        .api(
            Method::DELETE,
            "/api/v1/me/mfa",
            Some(&token),
            Some(&json!({"password": PASSWORD})),
        )
        .await;
    assert_eq!(res.status(), 204);
    let body: Value = app
        .api(
            Method::POST,
            "/api/v1/login",
            None,
            Some(&json!({"login": "renewer", "password": PASSWORD})),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(body["status"], "signed_in");
    let subjects: Vec<String> = app
        .smtp
        .wait_for("renewer@example.com", 5)
        .await
        .into_iter()
        .map(|m| m.subject)
        .collect();
    assert_eq!(
        subjects[1..],
        [
            "Two-factor authentication is on",
            "New recovery codes",
            "A recovery code was used to sign in",
            "Two-factor authentication is off"
        ]
    );
}

#[tokio::test]
async fn the_totp_secret_is_not_stored_in_the_clear() {
    let app = spawn_app().await;
    if app.engine != "sqlite" {
        crate::helpers::skip("reads the SQLite database files directly");
        return;
    }
    let (secret, _, codes) = with_2fa(&app, "sealed").await;
    let mut bytes = Vec::new();
    for entry in std::fs::read_dir(app.dir.path().join("data")).unwrap() {
        let path = entry.unwrap().path();
        if path.to_string_lossy().contains("latchkey.db") {
            bytes.extend(std::fs::read(path).unwrap());
        }
    }
    let text = String::from_utf8_lossy(&bytes);
    // The address is sealed too (ASVS V6.1.1); the hash shows the scan reads the files.
    assert!(text.contains("$latchkey-argon2id$"));
    assert!(!text.contains(&secret));
    assert!(!text.contains(&codes[0]) && !text.contains(&codes[0].replace('-', "")));
}

#[tokio::test]
async fn the_pages_set_up_2fa_and_ask_for_a_code_at_sign_in() {
    let app = spawn_app().await;
    app.signup("paged").await;
    let c = &app.client;
    let (html, secret) = setup_page::start_setup(c, &app).await;

    let res = post_form(
        c,
        &app,
        "/settings/account/2fa/enable",
        &html,
        &[("code", "000000")],
    )
    .await;
    let html = res.text().await.unwrap();
    assert!(html.contains("did not match") || oathtool(&secret, 0) == "000000");
    let res = post_form(
        c,
        &app,
        "/settings/account/2fa/enable",
        &html,
        &[("code", oathtool(&secret, 0).as_str())],
    )
    .await;
    assert_eq!(res.status(), 200);
    let html = res.text().await.unwrap();
    assert!(html.contains("download=\"latchkey-recovery-codes.txt\""));
    assert_eq!(html.matches("<li><code>").count(), 10);

    // Sign out, then in: the password step leads to /login/2fa.
    let page = c
        .get(app.at("/settings/account"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("Recovery codes left: <strong>10</strong>"));
    post_form(c, &app, "/logout", &page, &[]).await;
    let res = submit_here(
        c,
        &app,
        "/login",
        &[("login", "paged"), ("password", PASSWORD)],
    )
    .await;
    assert_eq!(res.headers()["location"], "/login/2fa");
    let html = c
        .get(app.at("/login/2fa"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("Use a recovery code"));
    let res = post_form(
        c,
        &app,
        "/login/2fa",
        &html,
        &[("code", oathtool(&secret, 30).as_str())],
    )
    .await;
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], "/");
    let me: Value = c
        .get(app.at("/api/v1/me"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["mfa_enabled"], true);
}

#[tokio::test]
async fn few_recovery_codes_left_brings_a_banner_and_a_mail() {
    let app = spawn_app().await;
    let (_, _, codes) = with_2fa(&app, "spender").await;
    for code in &codes[..7] {
        let mfa_token = password_step(&app, "spender").await;
        let res = second_step(
            &app,
            &json!({"mfa_token": mfa_token, "recovery_code": code}),
        )
        .await;
        assert_eq!(res.status(), 200);
    }
    let mail = app
        .smtp
        .wait_for("spender@example.com", 2 + 7)
        .await
        .pop()
        .unwrap();
    assert!(
        mail.text
            .contains("You have 3 recovery codes left. Generate a new set"),
        "{}",
        mail.text
    );
    let res = submit_here(
        &app.client,
        &app,
        "/login",
        &[("login", "spender"), ("password", PASSWORD)],
    )
    .await;
    assert_eq!(res.status(), 303);
    submit(
        &app.client,
        &app,
        "/login/2fa?method=recovery",
        "/login/2fa",
        &[("recovery_code", codes[8].as_str())],
    )
    .await;
    let home = app
        .client
        .get(app.at("/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        home.contains("Only 2 two-factor recovery codes left"),
        "{home}"
    );
}
