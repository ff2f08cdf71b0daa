//! Bad input gets a 4xx problem+json with a stable code: never a 500, a panic or a half-made
//! account. ASVS 4.0.3 V5.1.3 (input validated), V7.4.1 (generic errors with an id), V4.3.2
//! (no directory listings or hidden files).

use reqwest::Method;
use serde_json::json;

use crate::helpers::{PASSWORD, assert_problem, plain_client, spawn_app};

#[tokio::test]
async fn malformed_json_missing_fields_and_wrong_types_are_client_errors() {
    let app = spawn_app().await;
    let c = plain_client();
    let send = |body: &'static [u8]| {
        c.post(app.at("/api/v1/signup"))
            .header("content-type", "application/json")
            .body(body)
            .send()
    };
    assert_problem(send(b"{\"email\": ").await.unwrap(), 400, "invalid_json").await;
    assert_problem(
        send(b"{\"email\": \"a@example.com\"}").await.unwrap(),
        422,
        "invalid_body",
    )
    .await;
    assert_problem(
        send(
            b"{\"email\": 5, \"username\": \"x\", \"password\": \"y\", \"accept_terms\": \"yes\"}",
        )
        .await
        .unwrap(),
        422,
        "invalid_body",
    )
    .await;
    assert_problem(
        send(b"{\"email\": \"\xff\xfe\"}").await.unwrap(),
        400,
        "invalid_json",
    )
    .await;
    let res = c
        .post(app.at("/api/v1/signup"))
        .body("email=a")
        .send()
        .await
        .unwrap();
    assert_problem(res, 415, "unsupported_media_type").await;
}

#[tokio::test]
async fn bodies_over_64_kib_are_refused() {
    let app = spawn_app().await;
    let huge = json!({"email": "a@example.com", "username": "big", "password": "x".repeat(70_000), "accept_terms": true});
    let res = app
        .api(Method::POST, "/api/v1/signup", None, Some(&huge))
        .await;
    assert_problem(res, 413, "payload_too_large").await;
}

#[tokio::test]
async fn overlong_usernames_are_refused_and_nothing_is_created() {
    let app = spawn_app().await;
    let res = app
        .post_json(
            "/api/v1/signup",
            &json!({"email": "long@example.com", "username": "a".repeat(40), "password": PASSWORD, "accept_terms": true}),
        )
        .await;
    assert_problem(res, 422, "username_too_long").await;
    // The email is still free: nothing was half-written.
    let res = app
        .post_json(
            "/api/v1/signup",
            &json!({"email": "long@example.com", "username": "a".repeat(39), "password": PASSWORD, "accept_terms": true}),
        )
        .await;
    assert_eq!(res.status(), 201);
}

#[tokio::test]
async fn unknown_routes_and_methods_are_problems() {
    let app = spawn_app().await;
    let c = plain_client();
    assert_problem(
        c.get(app.at("/api/v1/nothing-here")).send().await.unwrap(),
        404,
        "not_found",
    )
    .await;
    assert_problem(
        c.get(app.at("/no/such/page")).send().await.unwrap(),
        404,
        "not_found",
    )
    .await;
    assert_problem(
        c.put(app.at("/api/v1/login")).send().await.unwrap(),
        405,
        "method_not_allowed",
    )
    .await;
    let page = c
        .get(app.at("/no/such/page"))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 404);
    assert!(page.text().await.unwrap().contains("Not found"));
}

/// ASVS 4.0.3 V4.3.2: no directory is listed and no file is served from disk, so neither
/// metadata (`.git`, `.DS_Store`, `.env`) nor the server's own files (`secret.key`, the
/// database, `Cargo.toml`) can be fetched. The three static files are compiled in.
#[tokio::test]
async fn no_directory_listing_or_hidden_file_is_served() {
    let app = spawn_app().await;
    let c = plain_client();
    for path in [
        "/static/",
        "/static",
        "/.git/config",
        "/.git/HEAD",
        "/.env",
        "/.DS_Store",
        "/static/.DS_Store",
        "/secret.key",
        "/data/secret.key",
        "/latchkey-data/secret.key",
        "/latchkey.db",
        "/data/latchkey.db",
        "/Cargo.toml",
        "/static/..%2FCargo.toml",
        "/static/%2e%2e/Cargo.toml",
        "/static/app.js.map",
    ] {
        let res = c.get(app.at(path)).send().await.unwrap();
        assert_eq!(res.status(), 404, "{path}");
        assert_problem(res, 404, "not_found").await;
    }
    let res = c.get(app.at("/static/app.js")).send().await.unwrap();
    assert_eq!(res.status(), 200);
}

/// PostgreSQL cannot store NUL and nothing legitimate contains control characters: such input
/// is refused before it reaches the database, never a 500.
#[tokio::test]
async fn control_characters_are_refused_before_the_database() {
    let app = spawn_app().await;
    let token = app.signup("nul-tester").await["token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_problem(
        app.api(Method::GET, "/api/v1/users/a%00b", None, None)
            .await,
        404,
        "not_found",
    )
    .await;
    let body = json!({"login": "a\u{0}b", "password": "whatever123"});
    let res = app
        .api(Method::POST, "/api/v1/login", None, Some(&body))
        .await;
    assert_problem(res, 401, "invalid_credentials").await;
    let body = json!({"name": "bad\u{0}name"});
    let res = app
        .api(
            Method::PATCH,
            "/api/v1/me/profile",
            Some(&token),
            Some(&body),
        )
        .await;
    assert_problem(res, 422, "invalid_name").await;
    let res = app
        .api(Method::GET, "/api/v1/teams/x%00y", Some(&token), None)
        .await;
    assert_problem(res, 404, "not_found").await;
    let res = app
        .post_json("/api/v1/signup", &json!({"email": "n@example.com", "username": "n-user", "password": PASSWORD, "accept_terms": true, "name": "a\u{7}b"}))
        .await;
    assert_problem(res, 422, "invalid_name").await;
}
