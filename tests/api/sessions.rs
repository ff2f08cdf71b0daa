//! Active sessions: list, revoke one, revoke others, revoke all, and their end. ASVS 4.0.3
//! V3.3.4 (users can see and end their sessions, after a recent sign-in), V3.3.1 (revoked and
//! expired tokens stop working), V3.3.2 (idle and absolute limits).

use reqwest::Method;
use serde_json::Value;

use crate::helpers::{assert_problem, plain_client, spawn_app};

mod recent;

const CHROME_MAC: &str = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36";

async fn sessions(app: &crate::helpers::TestApp, token: &str) -> Vec<Value> {
    let res = app.get_bearer("/api/v1/me/sessions", token).await;
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

#[tokio::test]
async fn sessions_are_listed_with_device_address_and_which_is_current() {
    let app = spawn_app().await;
    app.signup("lister").await;
    let res = plain_client()
        .post(app.at("/api/v1/login"))
        .header("user-agent", CHROME_MAC)
        .json(&serde_json::json!({"login": "lister", "password": crate::helpers::PASSWORD}))
        .send()
        .await
        .unwrap();
    let chrome: Value = res.json().await.unwrap();
    let chrome_token = chrome["token"].as_str().unwrap();

    let list = sessions(&app, chrome_token).await;
    assert_eq!(list.len(), 2, "the sign-up session and the Chrome one");
    let current: Vec<&Value> = list.iter().filter(|s| s["current"] == true).collect();
    assert_eq!(current.len(), 1);
    assert_eq!(current[0]["device"], "Chrome on macOS");
    assert_eq!(current[0]["ip"], "127.0.0.1");
    assert_eq!(current[0]["kind"], "api");
    for field in ["id", "created_at", "last_seen_at", "expires_at"] {
        assert!(current[0][field].is_string(), "{field}");
    }
}

#[tokio::test]
async fn last_seen_is_not_rewritten_on_every_request() {
    let app = spawn_app().await;
    app.signup("quiet").await;
    let token = app.login_token("quiet", false).await;
    let seen = async || {
        let list = sessions(&app, &token).await;
        list.iter().find(|s| s["current"] == true).unwrap()["last_seen_at"].clone()
    };
    let first = seen().await;
    // Within a minute of the last write, use is not written down again...
    for _ in 0..3 {
        app.pass_time(15);
        app.get_bearer("/api/v1/me", &token).await;
    }
    assert_eq!(seen().await, first);
    // ...and once a minute has passed, it is.
    app.pass_time(15);
    app.get_bearer("/api/v1/me", &token).await;
    assert_ne!(seen().await, first);
}

#[tokio::test]
async fn revoking_one_session_signs_out_that_device_only() {
    let app = spawn_app().await;
    app.signup("owner").await;
    let laptop = app.login_token("owner", false).await;
    let phone = app.login_token("owner", true).await;
    let list = sessions(&app, &laptop).await;
    let phone_id = list.iter().find(|s| s["remember"] == true).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();

    // Both devices are in use (and so in the session cache) before one is revoked.
    assert_eq!(app.get_bearer("/api/v1/me", &phone).await.status(), 200);
    let res = app
        .api(
            Method::DELETE,
            &format!("/api/v1/me/sessions/{phone_id}"),
            Some(&laptop),
            None,
        )
        .await;
    assert_eq!(res.status(), 204);
    assert_problem(
        app.get_bearer("/api/v1/me", &phone).await,
        401,
        "unauthenticated",
    )
    .await;
    assert_eq!(app.get_bearer("/api/v1/me", &laptop).await.status(), 200);
}

#[tokio::test]
async fn another_accounts_session_cannot_be_revoked() {
    let app = spawn_app().await;
    app.signup("alice").await;
    app.signup("mallory").await;
    let alice = app.login_token("alice", false).await;
    let mallory = app.login_token("mallory", false).await;
    let alice_id = sessions(&app, &alice).await[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let res = app
        .api(
            Method::DELETE,
            &format!("/api/v1/me/sessions/{alice_id}"),
            Some(&mallory),
            None,
        )
        .await;
    assert_problem(res, 404, "not_found").await;
    assert_eq!(app.get_bearer("/api/v1/me", &alice).await.status(), 200);
    let res = app
        .api(
            Method::DELETE,
            "/api/v1/me/sessions/not-a-uuid",
            Some(&mallory),
            None,
        )
        .await;
    assert_problem(res, 404, "not_found").await;
}

#[tokio::test]
async fn revoking_others_keeps_this_session_and_all_ends_it_too() {
    let app = spawn_app().await;
    app.signup("many").await;
    let a = app.login_token("many", false).await;
    let b = app.login_token("many", false).await;
    let c = app.login_token("many", true).await;

    let res = app
        .api(
            Method::DELETE,
            "/api/v1/me/sessions?scope=others",
            Some(&a),
            None,
        )
        .await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["revoked"], 3, "b, c and the sign-up session");
    assert_eq!(app.get_bearer("/api/v1/me", &a).await.status(), 200);
    for gone in [&b, &c] {
        assert_eq!(app.get_bearer("/api/v1/me", gone).await.status(), 401);
    }

    let res = app
        .api(
            Method::DELETE,
            "/api/v1/me/sessions?scope=all",
            Some(&a),
            None,
        )
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(app.get_bearer("/api/v1/me", &a).await.status(), 401);

    let d = app.login_token("many", false).await;
    let res = app
        .api(
            Method::DELETE,
            "/api/v1/me/sessions?scope=everything",
            Some(&d),
            None,
        )
        .await;
    assert_problem(res, 400, "invalid_query").await;
}

/// Several servers share one PostgreSQL database; each caches session lookups, and a revoke on
/// one must end the session on all of them (they hear of it through LISTEN/NOTIFY).
#[tokio::test]
async fn a_session_revoked_on_one_server_ends_on_the_others() {
    let a = spawn_app().await;
    let Some(shared) = a.database_url.clone().filter(|_| a.engine == "postgres") else {
        crate::helpers::skip("servers share a database only on PostgreSQL");
        return;
    };
    // Servers sharing a database share the key too (README): it opens the sealed accounts.
    let key = a.dir.path().join("data/secret.key");
    let b = crate::helpers::spawn_app_with(|c| {
        c.database_url = Some(shared.into());
        c.secret_key_file = Some(key);
    })
    .await;
    a.signup("roamer").await;
    let token = a.login_token("roamer", false).await;
    assert_eq!(
        b.get_bearer("/api/v1/me", &token).await.status(),
        200,
        "b has it cached now"
    );
    let id = sessions(&a, &token)
        .await
        .iter()
        .find(|s| s["current"] == true)
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let res = a
        .api(
            Method::DELETE,
            "/api/v1/me/sessions?scope=all",
            Some(&token),
            None,
        )
        .await;
    assert_eq!(res.status(), 200, "{id}");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(2);
    loop {
        let status = b.get_bearer("/api/v1/me", &token).await.status();
        if status == 401 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "b still accepts a revoked session"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// Signs `login` in over the API from a client naming itself `device`; returns the token.
async fn sign_in_from(
    app: &crate::helpers::TestApp,
    login: &str,
    device: &str,
    remember: bool,
) -> String {
    let res = plain_client()
        .post(app.at("/api/v1/login"))
        .header("user-agent", device)
        .json(&serde_json::json!({
            "login": login,
            "password": crate::helpers::PASSWORD,
            "remember_me": remember,
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    body["token"].as_str().unwrap().to_owned()
}

/// ASVS 4.0.3 V3.3.1 (expiry invalidates the token, and authenticated answers are never cached,
/// so the back button cannot bring them back) and V3.3.2 (re-authentication after 30 minutes
/// idle, after 12 hours in any case, and after 30 days with "stay signed in"). Time passes on
/// the server's clock.
#[tokio::test]
async fn an_idle_or_old_session_must_sign_in_again() {
    let app = spawn_app().await;
    app.signup("sleepy").await;
    let idle = sign_in_from(&app, "sleepy", "idle", false).await;
    let nearly_idle = sign_in_from(&app, "sleepy", "nearly-idle", false).await;
    let old = sign_in_from(&app, "sleepy", "old", false).await;
    let remembered = sign_in_from(&app, "sleepy", "remembered", true).await;
    let status = async |token: &str| app.get_bearer("/api/v1/me", token).await.status();

    app.pass_time(29 * 60);
    let res = app.get_bearer("/api/v1/me", &nearly_idle).await;
    assert_eq!(res.status(), 200, "29 minutes idle is not yet too long");
    assert_eq!(res.headers()["cache-control"], "no-store");
    assert_eq!(status(&old).await, 200);
    app.pass_time(61);
    assert_problem(
        app.get_bearer("/api/v1/me", &idle).await,
        401,
        "unauthenticated",
    )
    .await;
    assert_eq!(
        status(&nearly_idle).await,
        200,
        "its use a minute ago counts"
    );

    // Used every 25 minutes, a session still ends 12 hours after it began.
    let mut elapsed = 30 * 60;
    while elapsed + 25 * 60 < 12 * 3600 {
        app.pass_time(25 * 60);
        elapsed += 25 * 60;
        assert_eq!(status(&old).await, 200, "{elapsed} s in");
    }
    app.pass_time(12 * 3600 + 1 - elapsed);
    assert_problem(
        app.get_bearer("/api/v1/me", &old).await,
        401,
        "unauthenticated",
    )
    .await;
    assert_eq!(status(&remembered).await, 200, "remembered, 12 hours on");
    app.pass_time(30 * 24 * 3600 - 12 * 3600);
    assert_problem(
        app.get_bearer("/api/v1/me", &remembered).await,
        401,
        "unauthenticated",
    )
    .await;

    let browser = crate::helpers::signed_in_browser(&app, "sleepy").await;
    let res = browser
        .get(app.at("/settings/sessions"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["cache-control"], "no-store");
}

/// The sessions page says when as people do ("5 minutes ago", "in 12 hours"), with the exact
/// time in the `<time>` element for hover and for machines.
#[tokio::test]
async fn the_sessions_page_gives_times_as_people_say_them() {
    let app = spawn_app().await;
    app.signup("timely").await;
    let browser = crate::helpers::signed_in_browser(&app, "timely").await;
    let (_, html) = crate::helpers::page(&browser, &app, "/settings/sessions").await;
    assert!(html.contains("last active <time datetime=\""), "{html}");
    assert!(html.contains(">just now</time>"), "{html}");
    // A browser session without "stay signed in" ends after 30 idle minutes.
    assert!(html.contains(">in 30 minutes</time>") || html.contains(">in 29 minutes</time>"));
    app.pass_time(5 * 60);
    let (_, html) = crate::helpers::page(&browser, &app, "/settings/sessions").await;
    assert!(html.contains("signed in <time"), "{html}");
    assert!(html.contains(">5 minutes ago</time>"), "{html}");
}
