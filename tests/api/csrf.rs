//! Cross-site request forgery. ASVS 4.0.3 V4.2.2 (anti-CSRF for cookie sessions), V3.4.3
//! (SameSite cookies).

use crate::helpers::{assert_problem, browser_like_client, csrf_from, spawn_app};

#[tokio::test]
async fn cookie_requests_from_another_site_are_refused() {
    let app = spawn_app().await;
    app.signup("victim").await;
    // The victim's browser, sent by evil.example to our API.
    let res = app
        .client
        .post(app.at("/api/v1/logout"))
        .header("sec-fetch-site", "cross-site")
        .send()
        .await
        .unwrap();
    assert_problem(res, 403, "csrf_failed").await;
    // An older browser without Sec-Fetch-* still sends Origin.
    let old = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    let res = old
        .post(app.at("/api/v1/logout"))
        .header("origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert_problem(res, 403, "csrf_failed").await;
    // Still signed in.
    assert_eq!(
        app.client
            .get(app.at("/api/v1/me"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
}

#[tokio::test]
async fn forms_without_the_right_token_are_refused() {
    let app = spawn_app().await;
    let client = browser_like_client();
    let html = client
        .get(app.at("/login"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let token = csrf_from(&html);
    for bad in ["", "forged", &token[1..]] {
        let res = client
            .post(app.at("/login"))
            .form(&[("csrf", bad), ("login", "x"), ("password", "y")])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 403, "token {bad:?}");
    }
    // A browser that never loaded our page has no CSRF cookie; the right-looking token fails.
    let stranger = browser_like_client();
    let res = stranger
        .post(app.at("/login"))
        .form(&[("csrf", token.as_str()), ("login", "x"), ("password", "y")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    // With the token, the form is processed (and the credentials judged).
    let res = client
        .post(app.at("/login"))
        .form(&[("csrf", token.as_str()), ("login", "x"), ("password", "y")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
}
