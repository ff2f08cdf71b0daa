//! How pages fail: an HTML page with the normal header of whoever is signed in, worded as the
//! API words the same refusal (one table), never problem+json to a browser.

use reqwest::Method;
use serde_json::json;

use crate::helpers::{PASSWORD, assert_problem, create_team, signed_in_browser, spawn_app, submit};
use crate::routes;

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

/// A browser's navigation: it asks for HTML.
const HTML: &str = "text/html,application/xhtml+xml";

#[tokio::test]
async fn a_form_address_opened_in_the_browser_leads_to_its_page_never_to_a_bare_405() {
    let app = spawn_app().await;
    let token = crate::teams::verified(&app, "hana", "hana@example.com").await;
    let created = create_team(&app, &token, "Acme", "acme").await;
    assert_eq!(created.status(), 201);
    let c = signed_in_browser(&app, "hana").await;
    let routes = routes::pages();
    let post_only = routes
        .iter()
        .filter(|r| r.method == "POST" && routes::serving(&routes, "GET", &r.path).is_none());
    let mut seen = 0;
    for route in post_only {
        let path = route
            .path
            .replace("{slug}", "acme")
            .replace("{username}", "hana")
            .replace("{decision}", "approve")
            .replace("{token}", "lki_x")
            .replace("{id}", &uuid::Uuid::new_v4().to_string());
        // Going back to a failed form's answer, or Enter in the address bar: a GET.
        let mut at = path.clone();
        let mut status = 0;
        for _ in 0..3 {
            let res = c
                .get(app.at(&at))
                .header("accept", HTML)
                .send()
                .await
                .unwrap();
            status = res.status().as_u16();
            assert_ne!(status, 405, "GET {at} (from {path})");
            match res.headers().get("location") {
                Some(to) if res.status().is_redirection() => at = to.to_str().unwrap().to_owned(),
                _ => break,
            }
        }
        // A made-up invitation token ends on the page saying the invitation cannot be used.
        let dead_link = at.starts_with("/invitations/") && status == 400;
        assert!(
            status == 200 || dead_link,
            "GET {path} ends on a page, at {at}: {status}"
        );
        seen += 1;
    }
    assert!(seen >= 20, "only {seen} form addresses");
}

#[tokio::test]
async fn a_wrong_method_is_a_page_with_the_header_for_browsers_and_problem_json_for_scripts() {
    let app = spawn_app().await;
    app.signup("ivan").await;
    let c = signed_in_browser(&app, "ivan").await;
    for (method, path) in [
        (Method::DELETE, "/settings/account"),
        (Method::PUT, "/settings/account/email"),
        (Method::PATCH, "/terms"),
    ] {
        let res = c
            .request(method.clone(), app.at(path))
            .header("accept", HTML)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 405, "{method} {path}");
        let ctype = res.headers()["content-type"].to_str().unwrap().to_owned();
        assert!(ctype.starts_with("text/html"), "{method} {path}: {ctype}");
        let html = res.text().await.unwrap();
        assert!(html.contains("Not allowed"), "{html}");
        assert!(has_signed_in_header(&html, "ivan"), "{html}");

        let res = app.api(method.clone(), path, None, None).await;
        assert_problem(res, 405, "method_not_allowed").await;
    }
}
