//! Failed sign-ins are throttled per account and per address. ASVS 4.0.3 V2.2.1: no more than
//! 100 failed attempts per hour on one account (here at most 10 at once plus 40 an hour per
//! name, and an account has two: its username and its address).

use std::time::Instant;

use reqwest::Method;
use serde_json::json;

use crate::helpers::{PASSWORD, TestApp, assert_problem, plain_client, spawn_app, spawn_app_with};

async fn attempt(app: &TestApp, login: &str, password: &str) -> reqwest::Response {
    app.api(
        Method::POST,
        "/api/v1/login",
        None,
        Some(&json!({"login": login, "password": password})),
    )
    .await
}

/// ASVS 4.0.3 V2.2.1: after a burst of 10 the next failure is allowed 90 s later, the interval
/// that holds one name to 10 + 40 failures an hour.
#[tokio::test]
async fn an_account_is_throttled_after_ten_failures_even_for_the_right_password() {
    let app = spawn_app().await;
    app.signup("target").await;
    let first_failure = Instant::now();
    for _ in 0..10 {
        assert_eq!(
            attempt(&app, "target", "guess guess guess").await.status(),
            401
        );
    }
    let res = attempt(&app, "TARGET", PASSWORD).await;
    let retry: u64 = res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    // The wait counts from the first failure, so it is 90 s less however long the ten took.
    let spent = first_failure.elapsed().as_secs();
    assert!(
        retry <= 90 && retry + spent + 1 >= 90,
        "retry after {retry}s, {spent}s after the first failure: one failure per 90 s"
    );
    assert_problem(res, 429, "rate_limited").await;
    // Failures count per name typed: the address is its own name, so a 429 on one never
    // reveals which address belongs to which username.
    assert_eq!(
        attempt(&app, "target@example.com", PASSWORD).await.status(),
        200
    );
}

/// ASVS 4.0.3 V2.2.1: re-entering the password inside a session (here for 2FA setup) spends
/// the same allowance as signing in with the username, so someone holding a stolen session gets
/// no extra guesses.
#[tokio::test]
async fn password_re_entry_shares_the_sign_in_allowance() {
    let app = spawn_app().await;
    let token = app.signup("target").await["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let re_enter = async |password: &'static str| {
        let body = json!({"password": password});
        app.api(
            Method::POST,
            "/api/v1/me/mfa/totp/setup",
            Some(&token),
            Some(&body),
        )
        .await
    };
    for _ in 0..5 {
        assert_eq!(
            attempt(&app, "target", "guess guess guess").await.status(),
            401
        );
    }
    for _ in 0..5 {
        assert_problem(re_enter("guess guess guess").await, 403, "invalid_password").await;
    }
    assert_problem(re_enter(PASSWORD).await, 429, "rate_limited").await;
    assert_problem(attempt(&app, "target", PASSWORD).await, 429, "rate_limited").await;
    // The address is its own name, as at sign-in.
    assert_eq!(
        attempt(&app, "target@example.com", PASSWORD).await.status(),
        200
    );
}

#[tokio::test]
async fn unknown_accounts_are_throttled_exactly_like_real_ones() {
    let app = spawn_app().await;
    for _ in 0..10 {
        assert_eq!(
            attempt(&app, "ghost", "guess guess guess").await.status(),
            401
        );
    }
    assert_problem(
        attempt(&app, "ghost", "guess guess guess").await,
        429,
        "rate_limited",
    )
    .await;
}

#[tokio::test]
async fn one_address_failing_across_many_accounts_is_throttled() {
    let app = spawn_app_with(|c| c.throttle.ip_burst = 4).await;
    for i in 0..4 {
        assert_eq!(
            attempt(&app, &format!("user{i}"), "guess guess guess")
                .await
                .status(),
            401
        );
    }
    assert_problem(
        attempt(&app, "user9", "guess guess guess").await,
        429,
        "rate_limited",
    )
    .await;
}

#[tokio::test]
async fn a_successful_sign_in_resets_the_account_allowance() {
    let app = spawn_app().await;
    app.signup("forgetful").await;
    for _ in 0..9 {
        assert_eq!(
            attempt(&app, "forgetful", "not it at all").await.status(),
            401
        );
    }
    assert_eq!(attempt(&app, "forgetful", PASSWORD).await.status(), 200);
    for _ in 0..9 {
        assert_eq!(
            attempt(&app, "forgetful", "not it at all").await.status(),
            401
        );
    }
}

/// When more sign-ins arrive than the hashing threads and their short queue can hold, the
/// surplus gets a fast 503 `overloaded` with `Retry-After` instead of waiting in memory.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_full_hashing_queue_answers_overloaded_at_once() {
    // At production cost, so 24 sign-ins outlast one worker and a queue of one.
    let app = spawn_app_with(|c| {
        crate::helpers::production_argon2(c);
        c.argon2.workers = Some(1);
        c.argon2.queue = 1;
    })
    .await;
    app.signup("popular").await;
    let attempts: Vec<_> = (0..24)
        .map(|_| {
            let url = app.at("/api/v1/login");
            tokio::spawn(async move {
                let res = plain_client()
                    .post(url)
                    .json(&json!({"login": "popular", "password": PASSWORD}))
                    .send()
                    .await
                    .unwrap();
                (
                    res.status().as_u16(),
                    res.headers().get("retry-after").is_some(),
                )
            })
        })
        .collect();
    let mut outcomes = Vec::new();
    for a in attempts {
        outcomes.push(a.await.unwrap());
    }
    assert!(outcomes.iter().any(|(s, _)| *s == 200), "{outcomes:?}");
    assert!(outcomes.contains(&(503, true)), "{outcomes:?}");
    assert!(
        outcomes.iter().all(|(s, _)| *s == 200 || *s == 503),
        "{outcomes:?}"
    );
}
