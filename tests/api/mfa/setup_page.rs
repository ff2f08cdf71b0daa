//! Setting up 2FA on the pages: the password form stores a fresh secret to scan and leads to a
//! page that shows it, so a reload shows the same secret and the code of the app that scanned
//! it turns 2FA on.

use reqwest::Client;

use super::oathtool;
use crate::helpers::{PASSWORD, TestApp, page, post_form, signed_in_browser, spawn_app, submit};

/// Where the set-up waiting for its first code is shown.
const SETUP: &str = "/settings/account/2fa/setup";

/// Starts 2FA set-up as `c`'s person from `/settings/account`: the form leads to the set-up
/// page. Returns that page and the secret it shows.
pub async fn start_setup(c: &Client, app: &TestApp) -> (String, String) {
    let res = submit(
        c,
        app,
        "/settings/account",
        SETUP,
        &[("password", PASSWORD)],
    )
    .await;
    assert_eq!(res.status(), 303, "the password form redirects");
    assert_eq!(res.headers()["location"], SETUP);
    shown(c, app).await
}

/// The set-up page and the secret it shows.
async fn shown(c: &Client, app: &TestApp) -> (String, String) {
    let (status, html) = page(c, app, SETUP).await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("<svg"), "the QR code is inline");
    let grouped = html
        .split("<code id=\"secret\">")
        .nth(1)
        .expect("the key is shown")
        .split('<')
        .next()
        .unwrap()
        .to_owned();
    let secret = grouped.replace(' ', "");
    assert_eq!(secret.len(), 32);
    (html, secret)
}

#[tokio::test]
async fn reloading_the_setup_page_keeps_the_secret_the_app_scanned() {
    let app = spawn_app().await;
    app.signup("reloader").await;
    let c = signed_in_browser(&app, "reloader").await;

    let (_, scanned) = start_setup(&c, &app).await;
    let (_, reloaded) = shown(&c, &app).await;
    assert_eq!(reloaded, scanned, "a reload shows the same secret");
    let (html, _) = shown(&c, &app).await;

    let code = oathtool(&scanned, 0);
    let res = post_form(
        &c,
        &app,
        "/settings/account/2fa/enable",
        &html,
        &[("code", code.as_str())],
    )
    .await;
    assert_eq!(res.status(), 200);
    let html = res.text().await.unwrap();
    assert!(html.contains("Two-factor authentication is on"), "{html}");

    // Once it is on there is nothing to set up: the page leads back to the account.
    let res = c.get(app.at(SETUP)).send().await.unwrap();
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], "/settings/account");
}

/// A set-up left waiting (say, started through the API by someone who has the password and a
/// token) is never what the page shows: the page's own set-up makes a fresh secret, so nobody
/// else knows the secret 2FA is turned on with.
#[tokio::test]
async fn the_page_never_shows_a_secret_someone_else_set_up() {
    let app = spawn_app().await;
    let token = app.signup("owner").await["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let theirs = super::totp_setup(&app, &token).await;
    let c = signed_in_browser(&app, "owner").await;
    let (_, shown_to_owner) = start_setup(&c, &app).await;
    assert_ne!(shown_to_owner, theirs);
}
