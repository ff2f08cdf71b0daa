//! Single-use links raced: the same link followed many times at once. One request does what
//! the link is for; every other one is refused as a used link (never a 500 or a 503), and the
//! link is never used up without its effect.

use futures_util::future::join_all;
use reqwest::Method;
use serde_json::{Value, json};

use super::{one_of, outcomes};
use crate::helpers::{PASSWORD, TestApp, create_team, invite, link_token};
use crate::recovery::{login_status, recover, solved};
use crate::teams::verified;

/// POST `path` with `body` as a script, `n` times at once, as the bearer of `token` if given.
async fn at_once(
    app: &TestApp,
    n: usize,
    path: &str,
    token: Option<&str>,
    body: Option<&Value>,
) -> Vec<reqwest::Response> {
    join_all((0..n).map(|_| app.api(Method::POST, path, token, body))).await
}

/// ASVS 4.0.3 V2.5.6: a reset link works once. Ten resets from one link, each choosing its own
/// password: the one that wins sets its password, and no other does.
#[tokio::test]
async fn of_ten_resets_from_one_link_one_sets_its_password() {
    let app = super::smallest_pool().await;
    app.signup("forgetful").await;
    recover(&app, "forgetful@example.com", &solved(&app).await).await;
    let mail = app.smtp.wait_for("forgetful@example.com", 2).await;
    let link = link_token(&mail[1].text, "/reset/");
    let new = |i: usize| format!("a brand new passphrase number {i}");
    let answers = join_all((0..10).map(|i| {
        let body = json!({"token": link, "new_password": new(i)});
        let app = &app;
        async move {
            app.api(Method::POST, "/api/v1/password-resets", None, Some(&body))
                .await
        }
    }))
    .await;
    let won = answers.iter().position(|r| r.status() == 204);
    assert_eq!(
        outcomes(answers).await,
        one_of(10, "204", "400 invalid_token")
    );
    let won = won.unwrap();
    assert_eq!(login_status(&app, "forgetful", &new(won)).await, 200);
    assert_eq!(login_status(&app, "forgetful", PASSWORD).await, 401);
    let lost = (won + 1) % 10;
    assert_eq!(login_status(&app, "forgetful", &new(lost)).await, 401);
}

#[tokio::test]
async fn a_confirmation_link_followed_twenty_times_at_once_confirms_once() {
    let app = super::smallest_pool().await;
    let token = app.signup("ada").await["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let link = app.verification_token("ada@example.com").await;
    let body = json!({"token": link});
    let answers = at_once(&app, 20, "/api/v1/email-verifications", None, Some(&body)).await;
    assert_eq!(
        outcomes(answers).await,
        one_of(20, "200", "400 invalid_token")
    );
    let me = app.get_json("/api/v1/me", &token).await;
    assert_eq!(me["email_verified"], true);
}

/// An email change: its confirmation link and the undo link the old address gets, each
/// followed twenty times at once.
#[tokio::test]
async fn an_email_change_is_confirmed_once_and_undone_once() {
    let app = super::smallest_pool().await;
    let token = app.signup("mover").await["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let body = json!({"new_email": "new@example.org", "password": PASSWORD});
    let res = app
        .api(Method::POST, "/api/v1/me/email", Some(&token), Some(&body))
        .await;
    assert_eq!(res.status(), 202);
    let link = app.verification_token("new@example.org").await;
    let body = json!({"token": link});
    let answers = at_once(&app, 20, "/api/v1/email-verifications", None, Some(&body)).await;
    assert_eq!(
        outcomes(answers).await,
        one_of(20, "200", "400 invalid_token")
    );
    assert_eq!(
        app.get_json("/api/v1/me", &token).await["email"],
        "new@example.org"
    );
    let told = app
        .smtp
        .wait_for_subject("mover@example.com", "Your email address was changed")
        .await;
    assert!(
        told.text.contains("now uses new@example.org"),
        "{}",
        told.text
    );

    let notice = app
        .smtp
        .wait_for_subject("mover@example.com", "Your email address is being changed")
        .await;
    let undo = json!({"token": link_token(&notice.text, "/email-change/undo/")});
    let answers = at_once(&app, 20, "/api/v1/email-changes/undo", None, Some(&undo)).await;
    assert_eq!(
        outcomes(answers).await,
        one_of(20, "204", "400 invalid_token")
    );
    assert_eq!(
        app.get_bearer("/api/v1/me", &token).await.status(),
        401,
        "the undo signed every session out"
    );
    assert_eq!(login_status(&app, "mover@example.com", PASSWORD).await, 200);
}

#[tokio::test]
async fn an_invitation_accepted_ten_times_at_once_joins_once() {
    let app = super::smallest_pool().await;
    let ada = verified(&app, "ada", "ada@acme.test").await;
    let dan = verified(&app, "dan", "dan@acme.test").await;
    create_team(&app, &ada, "Acme", "acme").await;
    let res = invite(&app, &ada, "acme", "dan@acme.test", "billing").await;
    assert_eq!(res.status(), 201);
    let mail = app
        .smtp
        .wait_for_subject("dan@acme.test", "ada invited you to Acme on Latchkey")
        .await;
    let path = format!(
        "/api/v1/invitations/{}/accept",
        link_token(&mail.text, "/invitations/")
    );
    let answers = at_once(&app, 10, &path, Some(&dan), None).await;
    assert_eq!(
        outcomes(answers).await,
        one_of(10, "200", "400 invalid_token")
    );
    let members = app.get_json("/api/v1/teams/acme/members", &ada).await;
    let roles: Vec<(&str, &str)> = members
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["username"].as_str().unwrap(), m["role"].as_str().unwrap()))
        .collect();
    assert_eq!(roles, [("ada", "admin"), ("dan", "billing")]);
}
