//! The pages, driven as a browser without JavaScript would: GET a form, POST it with its token.

use reqwest::Method;
use serde_json::Value;

use crate::helpers::{PASSWORD, browser_like_client, post_form, spawn_app, submit_here};

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
    let res = post_form(
        c,
        &app,
        "/signup",
        &html,
        &[
            ("email", "page@example.com"),
            ("username", "page-user"),
            ("password", PASSWORD),
            ("accept_terms", "on"),
        ],
    )
    .await;
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
    let res = post_form(
        c,
        &app,
        "/welcome",
        &html,
        &[("name", "Page <User>"), ("role", "qa_engineer")],
    )
    .await;
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
    let res = submit_here(
        c,
        &app,
        "/signup",
        &[
            ("email", "keep@example.com"),
            ("username", "ok-name"),
            ("password", "qwertyuiop12"),
        ],
    )
    .await;
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert!(html.contains("most commonly used, so attackers try it first"));
    assert!(html.contains("Accept the terms"));
    assert!(html.contains("value=\"keep@example.com\""));
}

#[tokio::test]
async fn signing_in_through_the_page_and_revoking_a_session() {
    let app = spawn_app().await;
    app.signup("webby").await; // the harness client now holds the sign-up session
    let browser = browser_like_client();
    let res = submit_here(
        &browser,
        &app,
        "/login",
        &[
            ("login", "webby"),
            ("password", PASSWORD),
            ("remember", "on"),
        ],
    )
    .await;
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
    let res = post_form(
        &browser,
        &app,
        &format!("/settings/sessions/{other}/revoke"),
        &html,
        &[],
    )
    .await;
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

/// Asserts that the `fields` password inputs of `html` each ask for `current-password` or
/// `new-password`, and that nothing on the page blocks paste or turns autocomplete off.
fn assert_password_managers_welcome(path: &str, html: &str, fields: usize) {
    let tags = |name: &str| tags(html, name);
    let passwords: Vec<String> = tags("input")
        .into_iter()
        .filter(|tag| tag.contains("type=\"password\""))
        .collect();
    assert_eq!(passwords.len(), fields, "password fields on {path}");
    for tag in passwords {
        assert!(
            tag.contains("autocomplete=\"current-password\"")
                || tag.contains("autocomplete=\"new-password\""),
            "{path}: <input{tag}>"
        );
    }
    for form in tags("form") {
        assert!(!form.contains("autocomplete"), "{path}: <form{form}>");
    }
    for blocker in ["onpaste", "oncopy", "oncut", "ondrop"] {
        assert!(!html.contains(blocker), "{path} has {blocker}");
    }
}

/// The start tags `<name …>` of `html`, each as its attributes after a space.
fn tags(html: &str, name: &str) -> Vec<String> {
    html.split(&format!("<{name} "))
        .skip(1)
        .map(|rest| format!(" {}", rest.split('>').next().unwrap()))
        .collect()
}

/// The value of attribute `name` in a start tag from `tags`.
fn attr<'a>(tag: &'a str, name: &str) -> Option<&'a str> {
    let at = tag.find(&format!(" {name}=\""))? + name.len() + 3;
    tag[at..].split('"').next()
}

/// A password-reset page of `who`'s, as `/reset/{token}`: asks for the link as a script
/// would, and reads it from the mail.
async fn reset_path(app: &crate::helpers::TestApp, who: &str) -> String {
    let challenge: latchkey::captcha::Challenge = app
        .api(Method::GET, "/api/v1/captcha", None, None)
        .await
        .json()
        .await
        .unwrap();
    let res = app
        .api(
            Method::POST,
            "/api/v1/account-recovery",
            None,
            Some(&serde_json::json!({
                "email": format!("{who}@example.com"),
                "captcha": latchkey::captcha::solve(&challenge).unwrap(),
            })),
        )
        .await;
    assert_eq!(res.status(), 202);
    let mail = app
        .smtp
        .wait_for_subject(
            &format!("{who}@example.com"),
            "Reset your Latchkey password",
        )
        .await;
    format!(
        "/reset/{}",
        crate::helpers::link_token(&mail.text, "/reset/")
    )
}

/// The pages with a password field, as `(path, html)`: sign-in, sign-up and reset signed out,
/// and the account page signed in as `who` (2FA off).
async fn password_pages(app: &crate::helpers::TestApp, who: &str) -> Vec<(String, String)> {
    let reset = reset_path(app, who).await;
    let signed_in = crate::helpers::signed_in_browser(app, who).await;
    let signed_out = browser_like_client();
    let mut pages = Vec::new();
    for (client, path) in [
        (&signed_out, "/login"),
        (&signed_out, "/signup"),
        (&signed_out, reset.as_str()),
        (&signed_in, "/settings/account"),
    ] {
        let res = client.get(app.at(path)).send().await.unwrap();
        assert_eq!(res.status(), 200, "{path}");
        pages.push((path.to_owned(), res.text().await.unwrap()));
    }
    pages
}

/// ASVS 4.0.3 V2.1.8: wherever a new password is chosen (sign-up, reset, change), the field is
/// described by a strength meter and a hint that `static/app.js` fills in as the person types.
/// Without the script the meter stays hidden and the form works as before.
#[tokio::test]
async fn new_password_fields_show_a_strength_meter() {
    let app = spawn_app().await;
    app.signup("meter").await;
    let mut checked = 0;
    for (path, html) in password_pages(&app, "meter").await {
        let meters = tags(&html, "meter");
        let new_passwords: Vec<String> = tags(&html, "input")
            .into_iter()
            .filter(|tag| attr(tag, "autocomplete") == Some("new-password"))
            .collect();
        assert_eq!(
            meters.len(),
            new_passwords.len(),
            "one meter a field on {path}"
        );
        for field in &new_passwords {
            let described: Vec<&str> = attr(field, "aria-describedby")
                .unwrap_or_else(|| panic!("{path}: <input {field}> has no aria-describedby"))
                .split_whitespace()
                .collect();
            let meter = meters
                .iter()
                .find(|m| attr(m, "id").is_some_and(|id| described.contains(&id)))
                .unwrap_or_else(|| panic!("{path}: no meter named by <input {field}>"));
            assert_eq!(attr(meter, "min"), Some("0"), "{path}: <meter {meter}>");
            assert_eq!(attr(meter, "max"), Some("4"), "{path}: <meter {meter}>");
            assert!(
                described.iter().any(|id| {
                    tags(&html, "small").iter().any(|small| {
                        attr(small, "id") == Some(id)
                            && attr(small, "class") == Some("strength-hint")
                    })
                }),
                "{path}: <input {field}> names no strength hint"
            );
            checked += 1;
        }
        if path != "/login" {
            assert!(!new_passwords.is_empty(), "{path} has a new-password field");
            // The help under the field states the server's minimum (`domain::password`).
            assert!(html.contains("At least 12 characters"), "{path}");
        }
    }
    assert_eq!(checked, 3, "sign-up, reset and the account page");
}

/// ASVS 4.0.3 V2.1.12: the "Show password" button is the script's, not the server's. The HTML
/// carries no such button, so the pages work unchanged without JavaScript, and every page
/// with a password field loads the script that adds it.
#[tokio::test]
async fn the_show_password_button_is_added_by_the_script_only() {
    let app = spawn_app().await;
    app.signup("revealer").await;
    for (path, html) in password_pages(&app, "revealer").await {
        assert!(
            html.contains("type=\"password\""),
            "{path} has a password field"
        );
        for button in tags(&html, "button") {
            assert!(
                !button.contains("aria-pressed") && !button.contains("reveal"),
                "{path}: <button {button}>"
            );
        }
        assert!(!html.contains("Show password"), "{path}");
        assert!(
            tags(&html, "script")
                .iter()
                .any(|s| attr(s, "src") == Some("/static/app.js")),
            "{path} loads /static/app.js"
        );
    }
    let script = browser_like_client()
        .get(app.at("/static/app.js"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(script.contains("Show password") && script.contains("aria-pressed"));
}

/// ASVS 4.0.3 V2.1.11: pasting and password managers work. Every password field on every page
/// that has one says which password it wants (`current-password` or `new-password`, what
/// managers fill and offer to generate), and neither the pages nor the script block paste or
/// turn autocomplete off.
#[tokio::test]
async fn password_fields_let_password_managers_fill_them() {
    let app = spawn_app().await;
    app.signup("filler").await;
    let reset = reset_path(&app, "filler").await;
    let browser = crate::helpers::signed_in_browser(&app, "filler").await;
    let signed_out = browser_like_client();
    let page = |client: &reqwest::Client, path: &str| {
        let request = client.get(app.at(path)).send();
        async move {
            let res = request.await.unwrap();
            assert_eq!(res.status(), 200);
            res.text().await.unwrap()
        }
    };

    for path in ["/login", "/signup", reset.as_str()] {
        assert_password_managers_welcome(path, &page(&signed_out, path).await, 1);
    }
    // Email change, password change (current and new), 2FA setup and deletion.
    let html = page(&browser, "/settings/account").await;
    assert_password_managers_welcome("/settings/account", &html, 5);

    // With 2FA on, the setup field gives way to those for new codes and for turning it off.
    let (html, secret) = crate::mfa::start_setup(&browser, &app).await;
    let res = post_form(
        &browser,
        &app,
        "/settings/account/2fa/enable",
        &html,
        &[("code", crate::mfa::oathtool(&secret, 0).as_str())],
    )
    .await;
    assert_eq!(res.status(), 200);
    let html = page(&browser, "/settings/account").await;
    assert!(html.contains("Turn off two-factor authentication"));
    assert_password_managers_welcome("/settings/account with 2FA", &html, 6);

    let script = page(&signed_out, "/static/app.js").await;
    assert!(!script.contains("paste") && !script.contains("preventDefault"));
}
