//! How pages fail: an HTML page with the normal header of whoever is signed in, worded as the
//! API words the same refusal (one table), never problem+json to a browser.

use reqwest::Method;
use serde_json::json;

use crate::helpers::{PASSWORD, assert_problem, signed_in_browser, spawn_app, submit};

/// The header of a signed-in page names the person and offers "Sign out".
pub fn has_signed_in_header(html: &str, username: &str) -> bool {
    html.contains(&format!("class=\"who\">{username}<")) && html.contains("Sign out")
}

#[tokio::test]
async fn a_refused_page_is_html_with_the_header_of_the_person_signed_in() {
    let app = spawn_app().await;
    app.signup("erin").await;
    let c = signed_in_browser(&app, "erin").await;

    let res = c
        .get(app.at("/teams/no-such-team/members"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let html = res.text().await.unwrap();
    assert!(
        html.contains("There is no such team, or you are not in it."),
        "{html}"
    );
    assert!(has_signed_in_header(&html, "erin"), "{html}");

    // A form post refused by its handler: the same page shape, the session's header.
    let res = submit(
        &c,
        &app,
        "/settings/sessions",
        &format!("/settings/sessions/{}/revoke", uuid::Uuid::new_v4()),
        &[],
    )
    .await;
    assert_eq!(res.status(), 404);
    let html = res.text().await.unwrap();
    assert!(html.contains("No such session"), "{html}");
    assert!(has_signed_in_header(&html, "erin"), "{html}");
}

#[tokio::test]
async fn an_unknown_address_is_a_page_for_browsers_and_problem_json_for_scripts() {
    let app = spawn_app().await;
    app.signup("fred").await;
    let c = signed_in_browser(&app, "fred").await;
    let res = c
        .get(app.at("/no/such/page"))
        .header("accept", "text/html,application/xhtml+xml")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    let html = res.text().await.unwrap();
    assert!(html.contains("There is nothing at this address."), "{html}");
    assert!(has_signed_in_header(&html, "fred"), "{html}");

    let res = app.api(Method::GET, "/no/such/page", None, None).await;
    assert_problem(res, 404, "not_found").await;
}

#[tokio::test]
async fn a_page_and_the_api_word_a_wrong_password_the_same() {
    let app = spawn_app().await;
    app.signup("gina").await;
    let token = app.login_token("gina", false).await;
    let res = app
        .api(
            Method::POST,
            "/api/v1/me/password",
            Some(&token),
            Some(&json!({"current_password": "not my password", "new_password": PASSWORD})),
        )
        .await;
    let body = assert_problem(res, 403, "invalid_password").await;
    let detail = body["detail"].as_str().unwrap().to_owned();

    let c = signed_in_browser(&app, "gina").await;
    let res = submit(
        &c,
        &app,
        "/settings/account",
        "/settings/account/password",
        &[
            ("current_password", "not my password"),
            ("new_password", "a brand new passphrase 42"),
        ],
    )
    .await;
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert!(html.contains(&detail), "the page says {detail:?}: {html}");
}

#[tokio::test]
async fn a_missing_field_is_answered_in_words_and_a_missing_captcha_by_its_own_code() {
    let app = spawn_app().await;
    let res = app
        .post_json(
            "/api/v1/account-recovery",
            &json!({"email": "who@example.com"}),
        )
        .await;
    let body = assert_problem(res, 400, "captcha_required").await;
    assert_eq!(body["detail"], "Solve the CAPTCHA first.");

    let res = app
        .post_json("/api/v1/login", &json!({"login": "who"}))
        .await;
    let body = assert_problem(res, 422, "invalid_body").await;
    assert_eq!(body["detail"], "The field \"password\" is missing.");
}
