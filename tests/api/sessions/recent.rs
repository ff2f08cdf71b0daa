//! Ending other sessions needs a recent sign-in ("sudo mode"): ASVS 4.0.3 V3.3.4, with the
//! password re-entered on the API, on the sessions page, and for CLI grants.

use reqwest::Method;

use super::sessions;
use crate::helpers::{assert_problem, page, post_form, spawn_app};

/// Lets 16 minutes pass: every sign-in so far is no longer recent, and no session has been
/// idle long enough to end.
async fn sign_ins_a_while_ago(app: &crate::helpers::TestApp) {
    app.pass_time(16 * 60);
}

/// ASVS 4.0.3 V3.3.4: ending other sessions needs credentials entered again, unless this
/// session signed in within 15 minutes ("sudo mode"), so a stolen session cannot lock its
/// owner out. Signing oneself out never needs it.
#[tokio::test]
async fn ending_other_sessions_needs_a_recent_sign_in() {
    let app = spawn_app().await;
    app.signup("sudoer").await;
    let laptop = app.login_token("sudoer", false).await;
    let phone = app.login_token("sudoer", true).await;
    let list = sessions(&app, &laptop).await;
    let id_of = |remember: bool, current: bool| {
        list.iter()
            .find(|s| s["remember"] == remember && s["current"] == current)
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let (phone_id, laptop_id) = (id_of(true, false), id_of(false, true));
    sign_ins_a_while_ago(&app).await;

    let phone_path = format!("/api/v1/me/sessions/{phone_id}");
    let revoke_phone = async || {
        app.api(Method::DELETE, &phone_path, Some(&laptop), None)
            .await
    };
    assert_problem(revoke_phone().await, 403, "reauthentication_required").await;
    let others = app
        .api(
            Method::DELETE,
            "/api/v1/me/sessions?scope=others",
            Some(&laptop),
            None,
        )
        .await;
    assert_problem(others, 403, "reauthentication_required").await;
    assert_eq!(app.get_bearer("/api/v1/me", &phone).await.status(), 200);

    let reauthenticate = async |password: &'static str| {
        let body = serde_json::json!({"password": password});
        app.api(
            Method::POST,
            "/api/v1/me/reauthenticate",
            Some(&laptop),
            Some(&body),
        )
        .await
    };
    assert_problem(
        reauthenticate("not my password").await,
        403,
        "invalid_password",
    )
    .await;
    assert_eq!(reauthenticate(crate::helpers::PASSWORD).await.status(), 204);
    assert_eq!(revoke_phone().await.status(), 204);
    assert_problem(
        app.get_bearer("/api/v1/me", &phone).await,
        401,
        "unauthenticated",
    )
    .await;

    // Fifteen minutes on, the re-entry has worn off too; signing oneself out still works.
    app.pass_time(901);
    let others = app
        .api(
            Method::DELETE,
            "/api/v1/me/sessions?scope=all",
            Some(&laptop),
            None,
        )
        .await;
    assert_problem(others, 403, "reauthentication_required").await;
    let own = app
        .api(
            Method::DELETE,
            &format!("/api/v1/me/sessions/{laptop_id}"),
            Some(&laptop),
            None,
        )
        .await;
    assert_eq!(own.status(), 204);
}

/// The sessions page offers "Revoke" only after a recent sign-in, and otherwise asks for the
/// password first.
#[tokio::test]
async fn the_sessions_page_asks_for_the_password_when_the_sign_in_is_old() {
    let app = spawn_app().await;
    app.signup("pager").await;
    let other = app.login_token("pager", true).await;
    let browser = crate::helpers::signed_in_browser(&app, "pager").await;
    let sessions_page = || async { page(&browser, &app, "/settings/sessions").await.1 };
    let html = sessions_page().await;
    assert!(html.contains("/settings/sessions/revoke-others"));
    assert!(!html.contains("/settings/sessions/confirm"));

    sign_ins_a_while_ago(&app).await;
    let html = sessions_page().await;
    assert!(!html.contains("/settings/sessions/revoke-others"));
    assert!(html.contains("/settings/sessions/confirm"));
    let post = async |path: &'static str, password: Option<&'static str>| {
        let fields: Vec<(&str, &str)> = password.map(|p| ("password", p)).into_iter().collect();
        post_form(&browser, &app, path, &html, &fields).await
    };
    let res = post("/settings/sessions/revoke-others", None).await;
    assert_eq!(res.status(), 403);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("Enter your password again")
    );
    let res = post("/settings/sessions/confirm", Some("wrong password")).await;
    assert_eq!(res.status(), 422);
    assert_eq!(app.get_bearer("/api/v1/me", &other).await.status(), 200);

    let res = post("/settings/sessions/confirm", Some(crate::helpers::PASSWORD)).await;
    assert_eq!(res.status(), 303);
    assert!(
        sessions_page()
            .await
            .contains("/settings/sessions/revoke-others")
    );
    let res = post("/settings/sessions/revoke-others", None).await;
    assert_eq!(res.status(), 303);
    assert_problem(
        app.get_bearer("/api/v1/me", &other).await,
        401,
        "unauthenticated",
    )
    .await;
}

/// A CLI grant is approved in the browser without a password, so it is no fresh sign-in: its
/// credentials are as old as the approving session's. Someone holding an old stolen session
/// cannot mint a fresh one this way and sign the owner out everywhere.
#[tokio::test]
async fn a_cli_grant_approved_from_an_old_session_cannot_end_other_sessions() {
    let app = spawn_app().await;
    app.signup("thief").await;
    let owner = app.login_token("thief", true).await;
    let stolen = crate::helpers::signed_in_browser(&app, "thief").await;
    sign_ins_a_while_ago(&app).await;
    let app = &app;
    let end_others = |token: String| async move {
        app.api(
            Method::DELETE,
            "/api/v1/me/sessions?scope=others",
            Some(&token),
            None,
        )
        .await
    };

    let grant = crate::oauth::cli_grant(app, &stolen).await;
    let cli = grant["access_token"].as_str().unwrap().to_owned();
    assert_problem(end_others(cli).await, 403, "reauthentication_required").await;
    assert_eq!(app.get_bearer("/api/v1/me", &owner).await.status(), 200);

    // Approved right after signing in, the grant may.
    let fresh = crate::helpers::signed_in_browser(app, "thief").await;
    let grant = crate::oauth::cli_grant(app, &fresh).await;
    let cli = grant["access_token"].as_str().unwrap().to_owned();
    assert_eq!(end_others(cli).await.status(), 200);
    assert_problem(
        app.get_bearer("/api/v1/me", &owner).await,
        401,
        "unauthenticated",
    )
    .await;
}

/// Wrong passwords re-entered on the sessions page spend the sign-in allowance of the account
/// (ASVS V2.2.1), and the page says so with a 429 once it is spent.
#[tokio::test]
async fn password_re_entry_on_the_sessions_page_is_throttled_like_sign_in() {
    let app = crate::helpers::spawn_app_with(|c| c.throttle.account_burst = 2).await;
    app.signup("hasty").await;
    let browser = crate::helpers::signed_in_browser(&app, "hasty").await;
    sign_ins_a_while_ago(&app).await;
    let (_, html) = page(&browser, &app, "/settings/sessions").await;
    let mut statuses = Vec::new();
    for _ in 0..4 {
        let fields = [("password", "not it")];
        let res = post_form(&browser, &app, "/settings/sessions/confirm", &html, &fields).await;
        statuses.push(res.status().as_u16());
    }
    assert_eq!(statuses[0], 422, "{statuses:?}");
    assert_eq!(statuses[3], 429, "{statuses:?}");
}
