//! Every page a signed-in person can reach keeps their header (their name, "Sign out"): the
//! message pages (recovery codes, "Device connected", links that cannot be used, refusals) and
//! the forms shown again with an error, not only the pages their extractor builds.

use crate::helpers::{
    PASSWORD, TestApp, browser_like_client, page, post_form, signed_in_browser, spawn_app,
    spawn_app_with, submit, submit_here,
};

fn assert_signed_in_header(what: &str, html: &str, username: &str) {
    assert!(
        crate::page_errors::has_signed_in_header(html, username),
        "{what} keeps {username}'s header:\n{html}"
    );
}

async fn text(res: reqwest::Response, status: u16, what: &str) -> String {
    assert_eq!(
        res.status(),
        status,
        "{what}: {:?}",
        res.headers().get("location")
    );
    res.text().await.unwrap()
}

/// Turns 2FA on through the account page: the page that shows the recovery codes.
async fn enable_2fa_in(c: &reqwest::Client, app: &TestApp) -> String {
    let res = submit(
        c,
        app,
        "/settings/account",
        "/settings/account/2fa/setup",
        &[("password", PASSWORD)],
    )
    .await;
    // The set-up answers with the page that shows the waiting secret (POST-redirect-GET).
    text(res, 303, "setting 2FA up").await;
    let setup = c
        .get(app.at("/settings/account/2fa/setup"))
        .send()
        .await
        .unwrap();
    let html = text(setup, 200, "the set-up page").await;
    let secret = html
        .split("<code id=\"secret\">")
        .nth(1)
        .unwrap_or_else(|| panic!("a 2FA set-up page:\n{html}"))
        .split('<')
        .next()
        .unwrap()
        .replace(' ', "");
    let code = crate::mfa::oathtool(&secret, 0);
    let res = post_form(
        c,
        app,
        "/settings/account/2fa/enable",
        &html,
        &[("code", code.as_str())],
    )
    .await;
    text(res, 200, "enabling 2FA").await
}

#[tokio::test]
async fn message_pages_keep_the_header_of_the_person_signed_in() {
    let app = spawn_app().await;
    app.signup("sam").await;
    let c = signed_in_browser(&app, "sam").await;

    let html = enable_2fa_in(&c, &app).await;
    assert!(html.contains("<li><code>"), "{html}");
    assert_signed_in_header("the recovery codes after turning 2FA on", &html, "sam");

    let start = crate::oauth::start_device_flow(&app, "box").await;
    let user_code = start["user_code"].as_str().unwrap();
    let res = submit(
        &c,
        &app,
        &format!("/device?user_code={user_code}"),
        "/device",
        &[("user_code", user_code), ("decision", "approve")],
    )
    .await;
    let html = text(res, 200, "approving a device").await;
    assert!(html.contains("Device connected"), "{html}");
    assert_signed_in_header("\"Device connected\"", &html, "sam");

    let (status, html) = page(&c, &app, "/invitations/lki_nosuchinvitation").await;
    assert_eq!(status, 400);
    assert_signed_in_header("an invitation that cannot be used", &html, "sam");

    let (status, html) = page(&c, &app, "/oauth/authorize?client_id=someone-else").await;
    assert_eq!(status, 400);
    assert_signed_in_header("a refused OAuth sign-in link", &html, "sam");

    let res = submit_here(&c, &app, "/verify/lkv_nosuchlink", &[]).await;
    let html = text(res, 400, "a used confirmation link").await;
    assert!(html.contains("This link cannot be used"), "{html}");
    assert_signed_in_header("a used confirmation link", &html, "sam");

    let res = submit_here(
        &c,
        &app,
        "/reset/lkp_nosuchlink",
        &[("new_password", "a whole new passphrase")],
    )
    .await;
    let html = text(res, 400, "a used reset link").await;
    assert_signed_in_header("a used reset link", &html, "sam");

    let captcha = crate::recovery::solved(&app).await;
    let res = submit_here(
        &c,
        &app,
        "/forgot",
        &[("email", "sam@example.com"), ("captcha", captcha.as_str())],
    )
    .await;
    let html = text(res, 202, "asking for a reset link").await;
    assert!(html.contains("Check your email"), "{html}");
    assert_signed_in_header("\"Check your email\"", &html, "sam");

    // A sign-up form left open from before signing in, sent with a mistake.
    let (_, home) = page(&c, &app, "/").await;
    let res = post_form(
        &c,
        &app,
        "/signup",
        &home,
        &[
            ("email", "not an address"),
            ("username", "sam2"),
            ("password", PASSWORD),
        ],
    )
    .await;
    let html = text(res, 422, "a refused sign-up").await;
    assert_signed_in_header("a refused sign-up", &html, "sam");
}

#[tokio::test]
async fn a_throttled_resend_keeps_the_header() {
    let app = spawn_app().await;
    app.signup("una").await;
    let c = signed_in_browser(&app, "una").await;
    let mut last = (0, String::new());
    for _ in 0..5 {
        let res = submit(&c, &app, "/", "/verify/resend", &[]).await;
        last = (res.status().as_u16(), res.text().await.unwrap());
    }
    assert_eq!(last.0, 429, "{}", last.1);
    assert_signed_in_header("a throttled resend", &last.1, "una");
}

#[tokio::test]
async fn adding_an_account_keeps_the_header_of_the_one_signed_in() {
    let app = spawn_app().await;
    app.signup("ann").await;
    let (_, _, _) = crate::mfa::with_2fa(&app, "tfa").await;
    let c = signed_in_browser(&app, "ann").await;

    let res = submit(
        &c,
        &app,
        "/login?add=1",
        "/login",
        &[("login", "tfa"), ("password", "not the password")],
    )
    .await;
    let html = text(res, 401, "a wrong password while adding an account").await;
    assert!(html.contains("Add another account"), "{html}");
    assert_signed_in_header("a wrong password while adding an account", &html, "ann");

    let res = submit(
        &c,
        &app,
        "/login?add=1",
        "/login",
        &[("login", "tfa"), ("password", PASSWORD)],
    )
    .await;
    assert_eq!(res.headers()["location"], "/login/2fa");
    let (status, html) = page(&c, &app, "/login/2fa").await;
    assert_eq!(status, 200);
    assert_signed_in_header("the second step of an added account", &html, "ann");
    let res = submit_here(&c, &app, "/login/2fa", &[("code", "000000")]).await;
    let html = text(res, 401, "a wrong code while adding an account").await;
    assert_signed_in_header("a wrong code while adding an account", &html, "ann");
}

#[tokio::test]
async fn the_dev_mail_page_keeps_the_header() {
    let app = spawn_app_with(|c| c.smtp_url = None).await;
    app.signup("dev").await;
    let c = signed_in_browser(&app, "dev").await;
    let (status, html) = page(&c, &app, "/_dev/mail").await;
    assert_eq!(status, 200);
    assert_signed_in_header("/_dev/mail", &html, "dev");
    // Signed out, the same page has the signed-out header.
    let (_, html) = page(&browser_like_client(), &app, "/_dev/mail").await;
    assert!(html.contains("Sign in") && !html.contains("Sign out"));
}
