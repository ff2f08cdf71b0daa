//! Links from mails that cannot work any more (made up, expired, spent) say so as soon as they
//! are opened, with the way to a new one, instead of showing a form that fails only after the
//! person has filled it in.

use reqwest::Client;

use crate::helpers::{
    TestApp, browser_like_client, link_token, page, signed_in_browser, spawn_app, submit_here,
};
use crate::recovery::{recover, solved};

/// Asserts that `path` is the "cannot be used" page, without a form, linking to `href`.
async fn assert_dead(c: &Client, app: &TestApp, path: &str, href: &str) -> String {
    let (status, html) = page(c, app, path).await;
    assert_eq!(status, 400, "{path}");
    assert!(html.contains("This link cannot be used"), "{path}: {html}");
    assert!(html.contains(&format!("href=\"{href}\"")), "{path}: {html}");
    for form in ["action=\"/reset/", "action=\"/verify/lk"] {
        assert!(!html.contains(form), "{path} shows no form: {html}");
    }
    html
}

#[tokio::test]
async fn a_dead_reset_link_says_so_when_opened_and_offers_a_new_one() {
    let app = spawn_app().await;
    app.signup("reta").await;
    let c = browser_like_client();
    for nonsense in [
        "/reset/nonsense",
        "/reset/lkp_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    ] {
        let html = assert_dead(&c, &app, nonsense, "/forgot").await;
        assert!(html.contains("Request a new link"), "{html}");
    }

    recover(&app, "reta@example.com", &solved(&app).await).await;
    let mails = app.smtp.wait_for("reta@example.com", 2).await;
    let stale = format!("/reset/{}", link_token(&mails[1].text, "/reset/"));
    let (status, html) = page(&c, &app, &stale).await;
    assert_eq!(status, 200);
    assert!(
        html.contains("action=\"/reset/"),
        "a live link shows its form"
    );
    app.pass_time(1801);
    assert_dead(&c, &app, &stale, "/forgot").await;

    // Spent: used once, the link says so when opened again.
    recover(&app, "reta@example.com", &solved(&app).await).await;
    let mails = app.smtp.wait_for("reta@example.com", 3).await;
    let spent = format!("/reset/{}", link_token(&mails[2].text, "/reset/"));
    let fields = [("new_password", "a whole new passphrase")];
    assert_eq!(submit_here(&c, &app, &spent, &fields).await.status(), 303);
    assert_dead(&c, &app, &spent, "/forgot").await;
}

#[tokio::test]
async fn a_dead_confirmation_link_says_so_when_opened_and_how_to_get_another() {
    let app = spawn_app().await;
    app.signup("vera").await;
    let signed_out = browser_like_client();
    assert_dead(&signed_out, &app, "/verify/lkv_nonsense", "/login").await;

    let link = format!(
        "/verify/{}",
        app.verification_token("vera@example.com").await
    );
    let (status, html) = page(&signed_out, &app, &link).await;
    assert_eq!(status, 200);
    assert!(
        html.contains("action=\"/verify/lkv_"),
        "a live link shows its button"
    );

    app.pass_time(24 * 3600 + 1);
    assert_dead(&signed_out, &app, &link, "/login").await;
    // Signed in, the banner above offers a new link.
    let c = signed_in_browser(&app, "vera").await;
    let html = assert_dead(&c, &app, &link, "/settings/account").await;
    assert!(html.contains("Resend the email"), "{html}");
}
