//! The pages, driven as a browser without JavaScript would: GET a form, POST it with its token.

use serde_json::Value;

use crate::helpers::{PASSWORD, browser_like_client, csrf_from, spawn_app};

#[tokio::test]
async fn signing_up_through_the_pages_leads_to_onboarding_and_a_banner() {
    let app = spawn_app().await;
    let c = &app.client;
    let html = c
        .get(app.at("/signup"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("<label for=\"username\">"),
        "fields are labelled"
    );
    let res = c
        .post(app.at("/signup"))
        .form(&[
            ("csrf", csrf_from(&html).as_str()),
            ("email", "page@example.com"),
            ("username", "page-user"),
            ("password", PASSWORD),
            ("accept_terms", "on"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], "/welcome");

    let html = c
        .get(app.at("/welcome"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("What&#39;s your role?") || html.contains("What's your role?"));
    let res = c
        .post(app.at("/welcome"))
        .form(&[
            ("csrf", csrf_from(&html).as_str()),
            ("name", "Page <User>"),
            ("role", "qa_engineer"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let me: Value = c
        .get(app.at("/api/v1/me"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["name"], "Page <User>");
    assert_eq!(me["role"], "qa_engineer");

    let home = c
        .get(app.at("/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        home.contains("Page ") && !home.contains("Page <User>"),
        "names are escaped"
    );
    assert!(
        home.contains("Confirm your email address"),
        "unconfirmed accounts see a banner"
    );
    assert!(
        home.contains("Your profile is saved."),
        "the flash message shows once"
    );
    let again = c
        .get(app.at("/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!again.contains("Your profile is saved."));
}

#[tokio::test]
async fn a_failed_sign_up_form_shows_what_to_fix_and_keeps_the_input() {
    let app = spawn_app().await;
    let c = &app.client;
    let html = c
        .get(app.at("/signup"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let res = c
        .post(app.at("/signup"))
        .form(&[
            ("csrf", csrf_from(&html).as_str()),
            ("email", "keep@example.com"),
            ("username", "ok-name"),
            ("password", "password"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert!(html.contains("most commonly used"));
    assert!(html.contains("Accept the terms"));
    assert!(html.contains("value=\"keep@example.com\""));
}

#[tokio::test]
async fn signing_in_through_the_page_and_revoking_a_session() {
    let app = spawn_app().await;
    app.signup("webby").await; // the harness client now holds the sign-up session
    let browser = browser_like_client();
    let html = browser
        .get(app.at("/login"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let res = browser
        .post(app.at("/login"))
        .form(&[
            ("csrf", csrf_from(&html).as_str()),
            ("login", "webby"),
            ("password", PASSWORD),
            ("remember", "on"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    assert!(crate::helpers::session_set_cookie(&res).contains("Max-Age=2592000"));

    let html = browser
        .get(app.at("/settings/sessions"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("this device"));
    let other = html
        .split("/settings/sessions/")
        .nth(1)
        .unwrap()
        .split('/')
        .next()
        .unwrap()
        .to_owned();
    let res = browser
        .post(app.at(&format!("/settings/sessions/{other}/revoke")))
        .form(&[("csrf", csrf_from(&html))])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    // The harness client's sign-up session was the other one.
    assert_eq!(
        app.client
            .get(app.at("/api/v1/me"))
            .send()
            .await
            .unwrap()
            .status(),
        401
    );
    let html = browser
        .get(app.at("/settings/sessions"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("The session was revoked."));
}

#[tokio::test]
async fn signed_out_visitors_are_sent_to_the_sign_in_page() {
    let app = spawn_app().await;
    for page in ["/", "/welcome", "/settings/sessions"] {
        let res = app.client.get(app.at(page)).send().await.unwrap();
        assert_eq!(res.status(), 303, "{page}");
        assert_eq!(res.headers()["location"], "/login");
    }
}
