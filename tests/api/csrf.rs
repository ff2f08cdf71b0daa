//! Cross-site request forgery. ASVS 4.0.3 V4.2.2 (anti-CSRF for cookie sessions), V13.2.3
//! (cookie-using REST services check Origin or a token), V3.4.3 (SameSite cookies); 5.0
//! V3.5.1.

use std::sync::Arc;

use reqwest::Method;
use reqwest::cookie::{CookieStore, Jar};
use serde_json::Value;

use crate::helpers::{
    PASSWORD, TestApp, assert_problem, browser_like_client, csrf_from, page, post_form, spawn_app,
    submit_here,
};

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

/// A browser whose cookies the test can read and plant, signed in as `login` through the
/// sign-in page when given.
async fn browser_with_jar(app: &TestApp, login: Option<&str>) -> (reqwest::Client, Arc<Jar>) {
    let jar = Arc::new(Jar::default());
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert("sec-fetch-site", "same-origin".parse().unwrap());
    let client = reqwest::Client::builder()
        .cookie_provider(jar.clone())
        .default_headers(headers)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    if let Some(login) = login {
        let fields = [("login", login), ("password", PASSWORD)];
        let res = submit_here(&client, app, "/login", &fields).await;
        assert_eq!(res.status(), 303, "signing in as {login}");
    }
    (client, jar)
}

fn cookie(app: &TestApp, jar: &Jar, name: &str) -> String {
    let all = jar.cookies(&app.url.parse().unwrap()).unwrap();
    let all = all.to_str().unwrap();
    let found = all
        .split("; ")
        .find_map(|c| c.strip_prefix(&format!("{name}=")));
    found
        .unwrap_or_else(|| panic!("no {name} in {all}"))
        .to_owned()
}

/// The form token is bound to the session as well as to the CSRF cookie: Eve's token with
/// her CSRF cookie planted in Ada's browser (a sibling site over plain HTTP can write cookies)
/// changes nothing of Ada's, and neither does a token this browser got before signing in.
#[tokio::test]
async fn a_form_token_works_only_with_the_session_it_was_made_for() {
    let app = spawn_app().await;
    app.signup("ada").await;
    app.signup("eve").await;
    let (signed_out, signed_out_jar) = browser_with_jar(&app, None).await;
    let (_, login_page) = page(&signed_out, &app, "/login").await;
    let (ada, ada_jar) = browser_with_jar(&app, Some("ada")).await;
    let (eve, eve_jar) = browser_with_jar(&app, Some("eve")).await;
    let (_, eve_page) = page(&eve, &app, "/settings/profile").await;

    let url = app.url.parse().unwrap();
    let plant = |jar: &Jar, from: &Jar| {
        let csrf = cookie(&app, from, "latchkey_csrf");
        jar.add_cookie_str(&format!("latchkey_csrf={csrf}; Path=/"), &url);
    };
    plant(&ada_jar, &eve_jar);
    let fields = [("name", "Pwned by Eve"), ("role", ""), ("username", "ada")];
    let res = post_form(&ada, &app, "/settings/profile", &eve_page, &fields).await;
    assert_eq!(res.status(), 403, "Eve's session's token in Ada's browser");

    // The browser that got a token signed out, then signed in as Ada: the old token is
    // refused; a page seen signed in gives one that works.
    let session = cookie(&app, &ada_jar, "latchkey_session");
    signed_out_jar.add_cookie_str(&format!("latchkey_session={session}; Path=/"), &url);
    let res = post_form(&signed_out, &app, "/settings/profile", &login_page, &fields).await;
    assert_eq!(
        res.status(),
        403,
        "a signed-out token in a signed-in browser"
    );

    let me = app
        .api_as(&ada, Method::GET, "/api/v1/me", None, None)
        .await;
    let me: Value = me.json().await.unwrap();
    assert_eq!(me["name"], "");
    let fields = [("name", "Ada Lovelace"), ("role", ""), ("username", "ada")];
    let res = submit_here(&signed_out, &app, "/settings/profile", &fields).await;
    assert_eq!(res.status(), 303, "a token made for this session");
    let me = app
        .api_as(&ada, Method::GET, "/api/v1/me", None, None)
        .await;
    assert_eq!(me.json::<Value>().await.unwrap()["name"], "Ada Lovelace");
}

/// A browser always says where an unsafe request comes from, with `Sec-Fetch-Site` or at
/// least `Origin`: a request signed in by cookie that says neither is refused, form token or
/// not. Scripts, which carry a bearer token or no cookie at all, need neither header.
#[tokio::test]
async fn cookie_requests_that_say_neither_origin_nor_fetch_site_are_refused() {
    let app = spawn_app().await;
    app.signup("victim").await;
    let (browser, jar) = browser_with_jar(&app, Some("victim")).await;
    let (_, html) = page(&browser, &app, "/settings/profile").await;
    let silent = reqwest::Client::builder()
        .cookie_provider(jar.clone())
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let res = silent.post(app.at("/api/v1/logout")).send().await.unwrap();
    assert_problem(res, 403, "csrf_failed").await;
    let form = [
        ("csrf", csrf_from(&html)),
        ("name", "Forged".to_owned()),
        ("role", String::new()),
        ("username", "victim".to_owned()),
    ];
    let res = silent
        .post(app.at("/settings/profile"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);

    // An older browser names its origin, and a same-origin one is let through.
    let res = silent
        .post(app.at("/settings/profile"))
        .header("origin", &app.url)
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    // A script signs in and out with no browser headers at all.
    let token = app.login_token("victim", false).await;
    let res = app
        .api(Method::POST, "/api/v1/logout", Some(&token), None)
        .await;
    assert_eq!(res.status(), 204);
    let res = browser.get(app.at("/api/v1/me")).send().await.unwrap();
    assert_eq!(res.status(), 200, "the browser is still signed in");
}
