//! Issue 16: requests that race. Each test sends the same kind of request many times at once
//! and checks that exactly what should happen once happened once, and that every other answer
//! says why it lost. One-time secrets race in `second_step` (codes and security keys at
//! sign-in) and `links` (the links mail carries).

mod links;
mod second_step;

use futures_util::future::join_all;
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{PASSWORD, spawn_app};

/// The `code` of each answer, or its status when it has none (a success), sorted; and the
/// bodies of the successes, in the order the requests were made.
async fn outcomes_and_wins(answers: Vec<reqwest::Response>) -> (Vec<String>, Vec<Value>) {
    let (mut out, mut wins) = (Vec::new(), Vec::new());
    for res in answers {
        let status = res.status().as_u16();
        let body: Value = res.json().await.unwrap_or(Value::Null);
        match body["code"].as_str() {
            Some(code) => out.push(format!("{status} {code}")),
            None => {
                out.push(status.to_string());
                wins.push(body);
            }
        }
    }
    out.sort();
    (out, wins)
}

/// The `code` of each answer, or its status when it has none (a success), sorted.
async fn outcomes(answers: Vec<reqwest::Response>) -> Vec<String> {
    outcomes_and_wins(answers).await.0
}

/// What `outcomes` reads when one of `n` requests won with `won` and every other lost with
/// `lost`.
fn one_of(n: usize, won: &str, lost: &str) -> Vec<String> {
    let mut expected = vec![lost.to_owned(); n - 1];
    expected.push(won.to_owned());
    expected.sort();
    expected
}

/// ASVS 4.0.3 V2.1.5 (changing the password needs the current one): ten changes at once, each
/// naming the right current password and a different new one. One wins; the other nine named
/// a password that stopped being current while they waited, and are refused rather than
/// silently overwritten.
#[tokio::test]
async fn of_ten_concurrent_password_changes_one_wins_and_nine_are_refused() {
    let app = spawn_app().await;
    let token = app.signup("racer").await["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let new = |i: usize| format!("a brand new passphrase number {i}");
    let answers = join_all((0..10).map(|i| {
        let body = json!({"current_password": PASSWORD, "new_password": new(i)});
        let (app, token) = (&app, &token);
        async move {
            app.api(
                Method::POST,
                "/api/v1/me/password",
                Some(token),
                Some(&body),
            )
            .await
        }
    }))
    .await;
    assert_eq!(
        outcomes(answers).await,
        one_of(10, "200", "403 invalid_password")
    );

    let mut working = 0;
    for i in 0..10 {
        let login = json!({"login": "racer", "password": new(i)});
        if app.post_json("/api/v1/login", &login).await.status() == 200 {
            working += 1;
        }
    }
    assert_eq!(working, 1, "the password that won is the one that works");
}
