//! Several accounts in one browser: add, switch, sign one out, at most five.

use serde_json::Value;

use crate::helpers::{PASSWORD, TestApp, browser_like_client, post_form, spawn_app, submit};

async fn add_account(
    app: &TestApp,
    browser: &reqwest::Client,
    path: &str,
    login: &str,
) -> reqwest::Response {
    submit(
        browser,
        app,
        path,
        "/login",
        &[("login", login), ("password", PASSWORD)],
    )
    .await
}

async fn whoami(app: &TestApp, browser: &reqwest::Client) -> String {
    let me: Value = browser
        .get(app.at("/api/v1/me"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    me["username"].as_str().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn a_browser_holds_several_accounts_and_switches_between_them() {
    let app = spawn_app().await;
    for name in ["work", "home"] {
        app.signup(name).await;
    }
    let browser = browser_like_client();
    assert_eq!(
        add_account(&app, &browser, "/login", "work").await.status(),
        303
    );
    let html = browser
        .get(app.at("/login?add=1"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("Add another account"));
    assert_eq!(
        add_account(&app, &browser, "/login?add=1", "home")
            .await
            .status(),
        303
    );
    assert_eq!(whoami(&app, &browser).await, "home");

    let page = browser
        .get(app.at("/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("Switch to work") && page.contains("+ Add account"));
    let res = post_form(
        &browser,
        &app,
        "/accounts/switch",
        &page,
        &[("username", "work")],
    )
    .await;
    assert_eq!(res.status(), 303);
    assert_eq!(whoami(&app, &browser).await, "work");

    // Each account has its own session row for this browser.
    for name in ["work", "home"] {
        let token = app.login_token(name, false).await;
        let sessions: Vec<Value> = app
            .get_bearer("/api/v1/me/sessions", &token)
            .await
            .json()
            .await
            .unwrap();
        assert!(
            sessions.iter().any(|s| s["kind"] == "web"),
            "{name}: {sessions:?}"
        );
    }

    // Signing out of one leaves the other signed in, and active.
    submit(&browser, &app, "/", "/logout", &[]).await;
    assert_eq!(whoami(&app, &browser).await, "home");
    let page = browser
        .get(app.at("/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!page.contains("Switch to work"));
}

#[tokio::test]
async fn at_most_five_accounts_share_a_browser() {
    let app = spawn_app().await;
    let browser = browser_like_client();
    for i in 0..5 {
        let name = format!("acct{i}");
        app.signup(&name).await;
        let path = if i == 0 { "/login" } else { "/login?add=1" };
        assert_eq!(
            add_account(&app, &browser, path, &name).await.status(),
            303,
            "{name}"
        );
    }
    let res = browser.get(app.at("/login?add=1")).send().await.unwrap();
    assert_eq!(res.status(), 409);
    let page = browser
        .get(app.at("/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!page.contains("+ Add account"));
    assert_eq!(page.matches("Switch to acct").count(), 4);
}

#[tokio::test]
async fn signing_in_twice_to_one_account_then_out_really_signs_out() {
    let app = spawn_app().await;
    app.signup("twice").await;
    let browser = browser_like_client();
    assert_eq!(
        add_account(&app, &browser, "/login", "twice")
            .await
            .status(),
        303
    );
    assert_eq!(
        add_account(&app, &browser, "/login?add=1", "twice")
            .await
            .status(),
        303
    );
    submit(&browser, &app, "/", "/logout", &[]).await;
    assert_eq!(
        browser
            .get(app.at("/api/v1/me"))
            .send()
            .await
            .unwrap()
            .status(),
        401
    );
}
