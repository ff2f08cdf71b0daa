//! Email confirmation: single-use, expiring links sent through a real SMTP server.
//! Links carry 256 random bits (ASVS 4.0.3 V3.2.2 asks 64 of session tokens), work once, and
//! are stored only as hashes.

use serde_json::{Value, json};

use crate::helpers::{
    PASSWORD, assert_problem, browser_like_client, page, post_form, spawn_app, submit_here,
};

#[tokio::test]
async fn the_link_in_the_confirmation_mail_confirms_the_address_once() {
    let app = spawn_app().await;
    let token = app.signup("ada").await["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let mail = app.smtp.wait_for("ada@example.com", 1).await.pop().unwrap();
    assert_eq!(mail.subject, "Confirm your email address");
    assert!(
        mail.html.contains("/verify/lkv_"),
        "HTML part carries the link too"
    );
    let link = crate::helpers::link_token(&mail.text, "/verify/");
    assert!(mail.text.contains(&format!("{}/verify/{link}", app.url)));

    let res = app
        .post_json("/api/v1/email-verifications", &json!({"token": link}))
        .await;
    assert_eq!(res.status(), 200);
    let me: Value = app
        .get_bearer("/api/v1/me", &token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["email_verified"], true);

    let again = app
        .post_json("/api/v1/email-verifications", &json!({"token": link}))
        .await;
    assert_problem(again, 400, "invalid_token").await;
}

#[tokio::test]
async fn made_up_links_are_refused() {
    let app = spawn_app().await;
    for token in [
        "",
        "lkv_nope",
        &format!("lkv_{}", "A".repeat(43)),
        &format!("lks_{}", "A".repeat(43)),
    ] {
        let res = app
            .post_json("/api/v1/email-verifications", &json!({ "token": token }))
            .await;
        assert_problem(res, 400, "invalid_token").await;
    }
}

#[tokio::test]
async fn a_new_link_can_be_requested_until_the_address_is_confirmed() {
    let app = spawn_app().await;
    app.signup("lin").await;
    let res = app
        .client
        .post(app.at("/api/v1/email-verifications/resend"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 202);
    let mails = app.smtp.wait_for("lin@example.com", 2).await;
    let second = crate::helpers::link_token(&mails[1].text, "/verify/");
    assert_ne!(
        second,
        crate::helpers::link_token(&mails[0].text, "/verify/")
    );
    let res = app
        .post_json("/api/v1/email-verifications", &json!({"token": second}))
        .await;
    assert_eq!(res.status(), 200);
    let res = app
        .client
        .post(app.at("/api/v1/email-verifications/resend"))
        .send()
        .await
        .unwrap();
    assert_problem(res, 409, "already_verified").await;
}

#[tokio::test]
async fn resending_needs_a_session() {
    let app = spawn_app().await;
    let res = app
        .client
        .post(app.at("/api/v1/email-verifications/resend"))
        .send()
        .await
        .unwrap();
    assert_problem(res, 401, "unauthenticated").await;
}

#[tokio::test]
async fn the_verify_page_confirms_only_when_its_button_is_pressed() {
    let app = spawn_app().await;
    app.signup("pia").await;
    let link = app.verification_token("pia@example.com").await;

    // Opening the link (as a mail scanner would) changes nothing.
    let page = app
        .client
        .get(app.at(&format!("/verify/{link}")))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    let me: Value = app
        .client
        .get(app.at("/api/v1/me"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["email_verified"], false);

    let res = post_form(&app.client, &app, &format!("/verify/{link}"), &html, &[]).await;
    assert_eq!(res.status(), 303);
    let me: Value = app
        .client
        .get(app.at("/api/v1/me"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["email_verified"], true);
}

#[tokio::test]
async fn confirming_the_address_before_the_name_step_returns_to_it() {
    let app = spawn_app().await;
    let c = browser_like_client();
    let res = submit_here(
        &c,
        &app,
        "/signup",
        &[
            ("email", "dave@example.com"),
            ("username", "dave"),
            ("password", PASSWORD),
            ("accept_terms", "on"),
        ],
    )
    .await;
    assert_eq!(res.headers()["location"], "/welcome");

    // The mail comes first: the link is followed before the name and role step.
    let link = app.verification_token("dave@example.com").await;
    let res = submit_here(&c, &app, &format!("/verify/{link}"), &[]).await;
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], "/welcome", "back to the step");
    let (status, html) = page(&c, &app, "/welcome").await;
    assert_eq!(status, 200);
    assert!(html.contains("Your email address is confirmed."), "{html}");
    assert!(html.contains("href=\"/welcome/team\""), "skipping leads on");

    let res = post_form(
        &c,
        &app,
        "/welcome",
        &html,
        &[("name", "Dave Example"), ("role", "developer")],
    )
    .await;
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], "/welcome/team", "then the team");
    let (_, home) = page(&c, &app, "/").await;
    assert!(home.contains("Hello, Dave Example"), "{home}");
}
