//! Issue 16: requests that race. Each test sends the same kind of request many times at once
//! and checks that exactly what should happen once happened once, and that every other answer
//! says why it lost. Every server here has the smallest pool (two connections, on SQLite
//! too), so a request that holds a transaction and asks the pool for a second connection
//! deadlocks here instead of passing by luck (the security-key race alone runs on a default
//! pool: it needs a server reached as localhost). One-time secrets race in `second_step` (codes
//! and security keys at sign-in) and `links` (the links mail carries).

mod links;
mod second_step;

use futures_util::future::join_all;
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{PASSWORD, TestApp, spawn_app_with};

pub(crate) async fn smallest_pool() -> TestApp {
    spawn_app_with(|c| c.database_max_connections = 2).await
}

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
    let app = smallest_pool().await;
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

/// Deleting an account while it signs in and creates a team: whichever way each race goes, no
/// answer is a server error, and the outcome is whole. Either the account is gone (and signs in
/// no more) or deletion was refused with `leave_teams_first` because the team came first.
#[tokio::test]
async fn deleting_an_account_while_it_signs_in_and_creates_a_team_never_fails_halfway() {
    let app = smallest_pool().await;
    for round in 0..4 {
        let name = format!("leaver{round}");
        let token = crate::teams::verified(&app, &name, &format!("{name}@acme.test")).await;
        let delete = json!({"password": PASSWORD, "confirm_username": name});
        let login = json!({"login": name, "password": PASSWORD});
        let slug = format!("leavers-{round}");
        let (deleted, team, logins) = tokio::join!(
            app.api(Method::DELETE, "/api/v1/me", Some(&token), Some(&delete)),
            crate::helpers::create_team(&app, &token, "Leavers", &slug),
            join_all((0..3).map(|_| app.post_json("/api/v1/login", &login))),
        );
        let mut answers = vec![team];
        answers.extend(logins);
        let others = outcomes(answers).await;
        assert!(
            others.iter().all(|o| !o.starts_with('5')),
            "round {round}: {others:?}"
        );
        let deleted = outcomes(vec![deleted]).await.remove(0);
        let signs_in = app.post_json("/api/v1/login", &login).await.status();
        match deleted.as_str() {
            "204" => assert_eq!(signs_in, 401, "round {round}: deleted, yet signs in"),
            "409 leave_teams_first" => assert_eq!(signs_in, 200, "round {round}"),
            other => panic!("round {round}: deletion answered {other}; the rest {others:?}"),
        }
    }
}

/// Five renames of one account at once. A rename that started from a name the account no
/// longer has is refused (`changed_meanwhile`); one that started after another finished may
/// go through. Either way no name the account held escapes its 30-day reservation: before,
/// all five answered 200 and the names overwritten in between were free for anyone.
#[tokio::test]
async fn concurrent_renames_never_let_a_held_name_escape_its_reservation() {
    let app = smallest_pool().await;
    let token = app.signup("renamer").await["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let answers = join_all((0..5).map(|i| {
        let body = json!({"username": format!("renamed{i}")});
        let (app, token) = (&app, &token);
        async move {
            app.api(
                Method::PATCH,
                "/api/v1/me/profile",
                Some(token),
                Some(&body),
            )
            .await
        }
    }))
    .await;
    let statuses: Vec<u16> = answers.iter().map(|r| r.status().as_u16()).collect();
    let outcomes = outcomes(answers).await;
    assert!(
        outcomes
            .iter()
            .all(|o| o == "200" || o == "409 changed_meanwhile"),
        "{outcomes:?}"
    );
    assert!(outcomes.contains(&"200".to_owned()), "{outcomes:?}");
    let me = app.get_json("/api/v1/me", &token).await;
    let current = me["username"].as_str().unwrap().to_owned();
    let held = statuses
        .into_iter()
        .enumerate()
        .filter(|(_, status)| *status == 200)
        .map(|(i, _)| format!("renamed{i}"))
        .chain(["renamer".to_owned()])
        .filter(|name| *name != current);
    for name in held {
        let res = app
            .post_json(
                "/api/v1/signup",
                &json!({"email": format!("{name}@example.com"), "username": name,
                        "password": PASSWORD, "accept_terms": true}),
            )
            .await;
        crate::helpers::assert_problem(res, 409, "username_unavailable").await;
    }
}

/// Turning 2FA on twice at once, with this step's code and the next one's: one wins and hands
/// out recovery codes; the other is told 2FA is already on, so no set of codes shown to the
/// person is silently replaced by another.
#[tokio::test]
async fn of_two_concurrent_2fa_enables_one_wins() {
    let app = smallest_pool().await;
    let token = app.signup("doubled").await["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let secret = crate::mfa::totp_setup(&app, &token).await;
    let answers = join_all([0, 30].map(|offset| {
        let body = json!({"code": crate::mfa::oathtool(&secret, offset)});
        let (app, token) = (&app, &token);
        async move {
            app.api(
                Method::POST,
                "/api/v1/me/mfa/totp/enable",
                Some(token),
                Some(&body),
            )
            .await
        }
    }))
    .await;
    // The loser finds 2FA on, or (if it arrives after the winner committed) its session
    // ended by the winner, as enabling ends every session.
    let outcomes = outcomes(answers).await;
    assert!(
        outcomes == one_of(2, "200", "409 mfa_already_enabled")
            || outcomes == one_of(2, "200", "401 unauthenticated"),
        "{outcomes:?}"
    );
}
