//! Issue 16: faults from outside. The database goes away and comes back while the server runs:
//! requests are answered 503 `unavailable` at once (not after a ten-second hang, not 500), and
//! the server recovers without a restart. PostgreSQL only: SQLite is a file in the process.

use std::time::{Duration, Instant};

use reqwest::Method;
use secrecy::ExposeSecret;
use serde_json::json;

use crate::helpers::{PASSWORD, Relay, assert_problem, skip, spawn_app_with};

/// How long an answer may take while the database is away: the acquire timeout is a second.
const PROMPTLY: Duration = Duration::from_secs(3);

#[tokio::test]
async fn a_database_outage_is_answered_503_at_once_and_mended_without_a_restart() {
    let admin = std::env::var("LATCHKEY_TEST_DATABASE_URL").unwrap_or_default();
    if admin.is_empty() {
        skip("an outage of a database server: PostgreSQL only");
        return;
    }
    let admin = reqwest::Url::parse(&admin).unwrap();
    let target = format!(
        "{}:{}",
        admin.host_str().unwrap(),
        admin.port().unwrap_or(5432)
    );
    let relay = Relay::start(target).await;
    let app = spawn_app_with(|config| {
        let direct = config.database_url.as_ref().unwrap().expose_secret();
        let mut relayed = reqwest::Url::parse(direct).unwrap();
        relayed.set_port(Some(relay.port)).unwrap();
        config.database_url = Some(relayed.to_string().into());
    })
    .await;
    let token = app.signup("steady").await["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let login = json!({"login": "steady", "password": PASSWORD});
    let sessions = async || {
        app.api(Method::GET, "/api/v1/me/sessions", Some(&token), None)
            .await
    };
    assert_eq!(sessions().await.status(), 200);

    relay.cut();
    let started = Instant::now();
    let ready = app.client.get(app.at("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 503);
    assert!(started.elapsed() < PROMPTLY, "{:?}", started.elapsed());

    let started = Instant::now();
    let answers = futures_util::future::join_all((0..8).map(|_| async {
        app.api(Method::POST, "/api/v1/login", None, Some(&login))
            .await
    }))
    .await;
    assert!(started.elapsed() < PROMPTLY, "{:?}", started.elapsed());
    for res in answers {
        assert!(res.headers().contains_key("retry-after"));
        assert_problem(res, 503, "unavailable").await;
    }
    assert_problem(sessions().await, 503, "unavailable").await;
    let page = app
        .client
        .get(app.at("/settings/account"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        page.status(),
        503,
        "a page too says the server is unavailable"
    );
    assert!(page.headers().contains_key("retry-after"));
    let words = page.text().await.unwrap();
    assert!(words.contains("cannot reach its database"), "{words}");

    relay.mend();
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let ready = app.client.get(app.at("/readyz")).send().await.unwrap();
        if ready.status() == 200 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "not ready again after the outage"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(sessions().await.status(), 200);
    assert_eq!(
        app.api(Method::POST, "/api/v1/login", None, Some(&login))
            .await
            .status(),
        200
    );
}
