//! The second sign-in step raced: many answers at once for one `mfa_token`. One signs in; the
//! others find the step finished, and spend nothing. A code is used up only by the sign-in it
//! made (ASVS 4.0.3 V2.6.1, V2.8.4, V2.9.2).

use futures_util::future::join_all;
use reqwest::Method;
use serde_json::{Value, json};

use super::{one_of, outcomes, outcomes_and_wins};
use crate::browser::browser;
use crate::helpers::TestApp;
use crate::mfa::{oathtool, password_step, second_step, with_2fa};
use crate::security_keys::authenticator::{ask_key, plug_in_key};
use crate::security_keys::{self as keys, answer_step, register, spawn_on_localhost};

/// The recovery codes the account of `token` has not used.
async fn codes_left(app: &TestApp, token: &str) -> i64 {
    let status = app.get_json("/api/v1/me/mfa", token).await;
    status["recovery_codes_left"].as_i64().unwrap()
}

/// `body` sent `n` times at once to POST /api/v1/login/mfa.
async fn at_once(app: &TestApp, n: usize, body: &Value) -> Vec<reqwest::Response> {
    join_all((0..n).map(|_| second_step(app, body))).await
}

/// Each success carried a session that works.
async fn assert_sessions_work(app: &TestApp, wins: &[Value]) {
    for win in wins {
        let token = win["token"].as_str().expect("a session token");
        assert_eq!(app.get_bearer("/api/v1/me", token).await.status(), 200);
    }
}

#[tokio::test]
async fn of_eight_recovery_codes_sent_at_once_one_signs_in_and_seven_stay_unused() {
    let app = super::smallest_pool().await;
    let (_, token, codes) = with_2fa(&app, "racer").await;
    let mfa_token = password_step(&app, "racer").await;
    let answers = join_all(codes[..8].iter().map(|code| {
        let body = json!({"mfa_token": mfa_token, "recovery_code": code});
        let app = &app;
        async move { second_step(app, &body).await }
    }))
    .await;
    let (outcomes, wins) = outcomes_and_wins(answers).await;
    assert_eq!(outcomes, one_of(8, "200", "401 mfa_token_invalid"));
    assert_sessions_work(&app, &wins).await;
    assert_eq!(
        codes_left(&app, &token).await,
        9,
        "only the winning code is spent"
    );

    // A code that lost the race signs in later.
    let mfa_token = password_step(&app, "racer").await;
    let mut signed_in = 0;
    for code in &codes[..8] {
        let body = json!({"mfa_token": mfa_token, "recovery_code": code});
        if second_step(&app, &body).await.status() == 200 {
            signed_in += 1;
            break;
        }
    }
    assert_eq!(signed_in, 1);
    assert_eq!(codes_left(&app, &token).await, 8);
}

#[tokio::test]
async fn one_recovery_code_sent_twenty_times_at_once_signs_in_once_and_is_spent_once() {
    let app = super::smallest_pool().await;
    let (_, token, codes) = with_2fa(&app, "racer").await;
    let mfa_token = password_step(&app, "racer").await;
    let body = json!({"mfa_token": mfa_token, "recovery_code": codes[0]});
    let (outcomes, wins) = outcomes_and_wins(at_once(&app, 20, &body).await).await;
    assert_eq!(outcomes, one_of(20, "200", "401 mfa_token_invalid"));
    assert_sessions_work(&app, &wins).await;
    assert_eq!(codes_left(&app, &token).await, 9);
    let mail = app
        .smtp
        .wait_for_subject("racer@example.com", "A recovery code was used to sign in")
        .await;
    assert!(
        mail.text.contains("You have 9 recovery codes left."),
        "{}",
        mail.text
    );
}

#[tokio::test]
async fn one_totp_code_sent_twenty_times_at_once_signs_in_once() {
    let app = super::smallest_pool().await;
    let (secret, _, _) = with_2fa(&app, "racer").await;
    let mfa_token = password_step(&app, "racer").await;
    // The next time step: enabling used this one.
    let body = json!({"mfa_token": mfa_token, "code": oathtool(&secret, 30)});
    let (outcomes, wins) = outcomes_and_wins(at_once(&app, 20, &body).await).await;
    assert_eq!(outcomes, one_of(20, "200", "401 mfa_token_invalid"));
    assert_sessions_work(&app, &wins).await;
}

/// The same code on ten sign-in attempts at once: each time step works once (V2.8.4), so one
/// attempt signs in and the nine others are replays, refused as such.
#[tokio::test]
async fn one_totp_code_on_ten_sign_in_attempts_at_once_signs_in_once() {
    let app = super::smallest_pool().await;
    let (secret, _, _) = with_2fa(&app, "racer").await;
    let mut steps = Vec::new();
    for _ in 0..10 {
        steps.push(password_step(&app, "racer").await);
    }
    let code = oathtool(&secret, 30);
    let answers = join_all(steps.iter().map(|mfa_token| {
        let body = json!({"mfa_token": mfa_token, "code": code});
        let app = &app;
        async move { second_step(app, &body).await }
    }))
    .await;
    assert_eq!(
        outcomes(answers).await,
        one_of(10, "200", "401 code_already_used")
    );
}

/// One answer of a security key (Chromium's virtual authenticator) sent ten times at once.
#[tokio::test]
async fn one_security_key_answer_sent_ten_times_at_once_signs_in_once() {
    let app = spawn_on_localhost().await;
    let (_, token, _) = with_2fa(&app, "ada").await;
    let (_driver, b) = browser().await;
    b.goto(&app.at("/login")).await.unwrap();
    plug_in_key(&b).await;
    register(&app, &b, &token, "Blue key").await;
    let (mfa_token, _) = keys::password_step(&app, "ada").await;
    let answer = ask_key(&b, "get", &keys::challenge(&app, &mfa_token).await).await;
    let answers = join_all((0..10).map(|_| answer_step(&app, &mfa_token, &answer))).await;
    let (outcomes, wins) = outcomes_and_wins(answers).await;
    assert_eq!(outcomes, one_of(10, "200", "401 mfa_token_invalid"));
    assert_sessions_work(&app, &wins).await;
    let listed = app
        .api(
            Method::GET,
            "/api/v1/me/mfa/security-keys",
            Some(&token),
            None,
        )
        .await;
    let listed: Value = listed.json().await.unwrap();
    assert!(listed[0]["last_used_at"].is_string(), "{listed}");
    b.close().await.unwrap();
}
