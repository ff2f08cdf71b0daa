//! The CLI's sign-in, server side: authorization code + PKCE with loopback redirects, refresh
//! rotation, device authorization, revocation. ASVS 5.0 V10.4.2 (codes single use; a replay
//! revokes what the code produced), V10.4.5 (refresh-token reuse revokes the family),
//! V10.4.6 (PKCE S256 required), 4.0.3 V3.5.1 (users can revoke a client's tokens).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;
use sha2::{Digest, Sha256};

mod consent;

use crate::helpers::{
    PASSWORD, TestApp, browser_like_client, plain_client, post_form, signed_in_browser, spawn_app,
    spawn_app_with, submit,
};

const REDIRECT: &str = "http://127.0.0.1:53682/callback";

fn pkce() -> (String, String) {
    let verifier = format!(
        "v{}-{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    );
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    (verifier, challenge)
}

fn authorize_url(app: &TestApp, challenge: &str, method: &str, redirect: &str) -> String {
    let q: String = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs([
            ("response_type", "code"),
            ("client_id", "latchkey-cli"),
            ("redirect_uri", redirect),
            ("code_challenge", challenge),
            ("code_challenge_method", method),
            ("state", "s-123"),
            ("device_name", "build-box"),
        ])
        .finish();
    app.at(&format!("/oauth/authorize?{q}"))
}

/// The CLI's authorization request opened in `browser`: the PKCE verifier, and the consent
/// page the browser is sent to.
pub async fn open_consent(app: &TestApp, browser: &reqwest::Client) -> (String, String) {
    let (verifier, challenge) = pkce();
    let res = browser
        .get(authorize_url(app, &challenge, "S256", REDIRECT))
        .send()
        .await
        .unwrap();
    let consent = location(&res);
    assert!(consent.starts_with("/oauth/consent/"), "{consent}");
    (verifier, consent)
}

pub fn location(res: &reqwest::Response) -> String {
    res.headers()["location"].to_str().unwrap().to_owned()
}

/// The browser step: authorize, then approve on the consent page. Returns the redirect back.
async fn approve(
    app: &TestApp,
    browser: &reqwest::Client,
    challenge: &str,
    decision: &str,
) -> String {
    let res = browser
        .get(authorize_url(app, challenge, "S256", REDIRECT))
        .send()
        .await
        .unwrap();
    let consent = location(&res);
    assert!(consent.starts_with("/oauth/consent/"), "{consent}");
    let html = browser
        .get(app.at(&consent))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("Sign in to Latchkey CLI on build-box?"),
        "{html}"
    );
    let res = post_form(browser, app, &consent, &html, &[("decision", decision)]).await;
    location(&res)
}

pub fn query_param(url: &str, name: &str) -> Option<String> {
    url::Url::parse(url)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

pub async fn token(app: &TestApp, form: &[(&str, &str)]) -> (u16, Value) {
    let res = plain_client()
        .post(app.at("/oauth/token"))
        .form(form)
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap())
}

pub async fn exchange(app: &TestApp, code: &str, verifier: &str) -> (u16, Value) {
    token(
        app,
        &[
            ("grant_type", "authorization_code"),
            ("client_id", "latchkey-cli"),
            ("code", code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", verifier),
        ],
    )
    .await
}

/// The CLI's whole sign-in for whoever is signed in to `browser`: its token response.
pub async fn cli_grant(app: &TestApp, browser: &reqwest::Client) -> Value {
    let (verifier, challenge) = pkce();
    let back = approve(app, browser, &challenge, "approve").await;
    let code = query_param(&back, "code").expect("approved");
    let (status, body) = exchange(app, &code, &verifier).await;
    assert_eq!(status, 200, "{body}");
    body
}

#[tokio::test]
async fn the_cli_signs_in_through_the_browser_and_shows_up_as_a_session() {
    let app = spawn_app().await;
    app.signup("cli-user").await;
    let browser = signed_in_browser(&app, "cli-user").await;
    let (verifier, challenge) = pkce();
    let back = approve(&app, &browser, &challenge, "approve").await;
    assert!(back.starts_with(REDIRECT));
    assert_eq!(query_param(&back, "state").as_deref(), Some("s-123"));
    let code = query_param(&back, "code").unwrap();

    let (status, body) = exchange(&app, &code, &verifier).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3600);
    let access = body["access_token"].as_str().unwrap();
    assert!(
        access.starts_with("lka_") && body["refresh_token"].as_str().unwrap().starts_with("lkr_")
    );
    let me: Value = app
        .get_bearer("/api/v1/me", access)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["username"], "cli-user");

    let sessions: Vec<Value> = app
        .get_bearer("/api/v1/me/sessions", access)
        .await
        .json()
        .await
        .unwrap();
    let cli = sessions.iter().find(|s| s["kind"] == "cli").unwrap();
    assert_eq!(cli["device"], "Latchkey CLI on build-box");
    // Revoking it in the session list ends the CLI's tokens.
    let res = browser
        .delete(app.at(&format!(
            "/api/v1/me/sessions/{}",
            cli["id"].as_str().unwrap()
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    assert_eq!(app.get_bearer("/api/v1/me", access).await.status(), 401);
    let (status, body) = token(
        &app,
        &[
            ("grant_type", "refresh_token"),
            ("client_id", "latchkey-cli"),
            ("refresh_token", body["refresh_token"].as_str().unwrap()),
        ],
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str().unwrap()),
        (400, "invalid_grant")
    );
}

#[tokio::test]
async fn signed_out_people_sign_in_first_and_come_back_to_the_consent_page() {
    let app = spawn_app().await;
    app.signup("later").await;
    let browser = browser_like_client();
    let (_, challenge) = pkce();
    let res = browser
        .get(authorize_url(&app, &challenge, "S256", REDIRECT))
        .send()
        .await
        .unwrap();
    let consent = location(&res);
    let res = browser.get(app.at(&consent)).send().await.unwrap();
    let login = location(&res);
    assert!(
        login.starts_with("/login?next=%2Foauth%2Fconsent%2F"),
        "{login}"
    );
    let res = submit(
        &browser,
        &app,
        &login,
        "/login",
        &[
            ("login", "later"),
            ("password", PASSWORD),
            ("next", &consent),
        ],
    )
    .await;
    assert_eq!(location(&res), consent);
}

#[tokio::test]
async fn every_refusal_of_the_code_flow() {
    let app = spawn_app().await;
    app.signup("strict").await;
    let browser = signed_in_browser(&app, "strict").await;
    let (verifier, challenge) = pkce();

    // A redirect URI off this computer is never redirected to.
    let res = browser
        .get(authorize_url(
            &app,
            &challenge,
            "S256",
            "https://evil.example/cb",
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    assert!(res.headers().get("location").is_none());
    // Plain PKCE is refused, back to the (trusted) loopback URI.
    let res = browser
        .get(authorize_url(&app, &verifier, "plain", REDIRECT))
        .send()
        .await
        .unwrap();
    let back = location(&res);
    assert_eq!(
        query_param(&back, "error").as_deref(),
        Some("invalid_request")
    );
    // "Skip" tells the CLI no.
    let back = approve(&app, &browser, &challenge, "skip").await;
    assert_eq!(
        query_param(&back, "error").as_deref(),
        Some("access_denied")
    );

    // A wrong verifier fails, and the code is spent.
    let code = query_param(
        &approve(&app, &browser, &challenge, "approve").await,
        "code",
    )
    .unwrap();
    let (status, body) = exchange(&app, &code, &pkce().0).await;
    assert_eq!(
        (status, body["error"].as_str().unwrap()),
        (400, "invalid_grant")
    );
    assert_eq!(exchange(&app, &code, &verifier).await.0, 400);

    // A replayed code is refused and revokes the tokens the first exchange got.
    let code = query_param(
        &approve(&app, &browser, &challenge, "approve").await,
        "code",
    )
    .unwrap();
    let (status, first) = exchange(&app, &code, &verifier).await;
    assert_eq!(status, 200);
    let (status, body) = exchange(&app, &code, &verifier).await;
    assert_eq!(
        (status, body["error"].as_str().unwrap()),
        (400, "invalid_grant")
    );
    assert_eq!(
        app.get_bearer("/api/v1/me", first["access_token"].as_str().unwrap())
            .await
            .status(),
        401
    );

    // Refresh tokens rotate; presenting a spent one ends the whole grant.
    let code = query_param(
        &approve(&app, &browser, &challenge, "approve").await,
        "code",
    )
    .unwrap();
    let (_, grant) = exchange(&app, &code, &verifier).await;
    let old = grant["refresh_token"].as_str().unwrap();
    let (status, next) = token(
        &app,
        &[
            ("grant_type", "refresh_token"),
            ("client_id", "latchkey-cli"),
            ("refresh_token", old),
        ],
    )
    .await;
    assert_eq!(status, 200);
    assert_ne!(next["refresh_token"], grant["refresh_token"]);
    assert_eq!(
        app.get_bearer("/api/v1/me", next["access_token"].as_str().unwrap())
            .await
            .status(),
        200
    );
    let (status, _) = token(
        &app,
        &[
            ("grant_type", "refresh_token"),
            ("client_id", "latchkey-cli"),
            ("refresh_token", old),
        ],
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(
        app.get_bearer("/api/v1/me", next["access_token"].as_str().unwrap())
            .await
            .status(),
        401,
        "the family is revoked"
    );

    // Unknown clients and grant types.
    let (status, body) = token(
        &app,
        &[
            ("grant_type", "refresh_token"),
            ("client_id", "someone-else"),
            ("refresh_token", "x"),
        ],
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str().unwrap()),
        (401, "invalid_client")
    );
    let (status, body) = token(
        &app,
        &[("grant_type", "password"), ("client_id", "latchkey-cli")],
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str().unwrap()),
        (400, "unsupported_grant_type")
    );
}

#[tokio::test]
async fn a_browser_step_expires_after_five_minutes() {
    let app = spawn_app().await;
    app.signup("slow").await;
    let browser = signed_in_browser(&app, "slow").await;
    let (_, challenge) = pkce();
    let consent = location(
        &browser
            .get(authorize_url(&app, &challenge, "S256", REDIRECT))
            .send()
            .await
            .unwrap(),
    );
    app.pass_time(301);
    let res = browser.get(app.at(&consent)).send().await.unwrap();
    assert_eq!(res.status(), 400);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("Start again from your terminal")
    );
}

/// Asks for a device code as the CLI does (RFC 8628): the server's answer.
pub async fn start_device_flow(app: &TestApp, device_name: &str) -> Value {
    plain_client()
        .post(app.at("/oauth/device/code"))
        .form(&[("client_id", "latchkey-cli"), ("device_name", device_name)])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// Types `user_code` on `/device` in a signed-in browser and approves: the page it showed, and
/// the text of the answer.
async fn approve_device(
    app: &TestApp,
    browser: &reqwest::Client,
    user_code: &str,
) -> (String, String) {
    let html = browser
        .get(app.at(&format!("/device?user_code={user_code}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let approved = post_form(
        browser,
        app,
        "/device",
        &html,
        &[("user_code", user_code), ("decision", "approve")],
    )
    .await
    .text()
    .await
    .unwrap();
    (html, approved)
}

/// Issue 16, defect 1: the token endpoint once read the account on a second pooled connection
/// while its transaction held the device code's row lock. Polls waiting on that lock held the
/// other connections, so the grant waited out the pool's acquire timeout and answered 500.
/// With the smallest pool, many polls at once must give one grant and plain refusals.
#[tokio::test]
async fn many_polls_of_one_approved_device_code_give_one_grant_and_no_error() {
    let app = spawn_app_with(|c| c.database_max_connections = 2).await;
    app.signup("crowded").await;
    let start = start_device_flow(&app, "busy-vm").await;
    let user_code = start["user_code"].as_str().unwrap();
    let device_code = start["device_code"].as_str().unwrap().to_owned();
    let browser = signed_in_browser(&app, "crowded").await;
    let (_, approved) = approve_device(&app, &browser, user_code).await;
    assert!(approved.contains("You can return to your terminal"));

    let app = std::sync::Arc::new(app);
    let polls: Vec<_> = (0..16)
        .map(|_| {
            let (app, device_code) = (app.clone(), device_code.clone());
            tokio::spawn(async move {
                let form = [
                    ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
                    ("client_id", "latchkey-cli"),
                    ("device_code", device_code.as_str()),
                ];
                token(&app, &form).await
            })
        })
        .collect();
    let mut outcomes = Vec::new();
    for poll in polls {
        outcomes.push(poll.await.unwrap());
    }
    let granted = outcomes.iter().filter(|(status, _)| *status == 200).count();
    assert_eq!(granted, 1, "{outcomes:?}");
    for (status, body) in outcomes.iter().filter(|(status, _)| *status != 200) {
        assert_eq!(*status, 400, "{outcomes:?}");
        assert!(
            ["invalid_grant", "slow_down"].contains(&body["error"].as_str().unwrap_or("")),
            "{body}"
        );
    }
}

#[tokio::test]
async fn the_device_flow_signs_in_another_machine() {
    let app = spawn_app().await;
    app.signup("remote").await;
    let start = start_device_flow(&app, "headless-vm").await;
    let user_code = start["user_code"].as_str().unwrap();
    assert_eq!(user_code.len(), 9);
    assert!(
        start["verification_uri"]
            .as_str()
            .unwrap()
            .ends_with("/device")
    );
    assert!(start["expires_in"].as_i64().unwrap() <= 300);
    let device_code = start["device_code"].as_str().unwrap();
    let form = [
        ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
        ("client_id", "latchkey-cli"),
        ("device_code", device_code),
    ];
    let poll = || token(&app, &form);
    assert_eq!(poll().await.1["error"], "authorization_pending");
    assert_eq!(poll().await.1["error"], "slow_down", "polled again at once");

    let browser = signed_in_browser(&app, "remote").await;
    // Typed in lower case: the code is read without regard to case.
    let (html, approved) = approve_device(&app, &browser, &user_code.to_lowercase()).await;
    assert!(html.contains("Sign in to Latchkey CLI on headless-vm?"));
    assert!(approved.contains("You can return to your terminal"));
    // The slow_down above raised the interval to 10 s.
    app.pass_time(10);
    let (status, body) = poll().await;
    assert_eq!(status, 200, "{body}");
    let me: Value = app
        .get_bearer("/api/v1/me", body["access_token"].as_str().unwrap())
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["username"], "remote");
    assert_eq!(
        poll().await.1["error"],
        "invalid_grant",
        "a device code yields tokens once"
    );
    // A machine new to the account: its owner hears of it (ASVS 4.0.3 V2.2.3).
    let notice = app
        .smtp
        .wait_for_subject("remote@example.com", "New sign-in to your Latchkey account")
        .await;
    assert!(
        notice.text.contains("Device: Latchkey CLI on headless-vm"),
        "{}",
        notice.text
    );

    // RFC 7009 revocation of the refresh token ends the grant.
    let res = plain_client()
        .post(app.at("/oauth/revoke"))
        .form(&[("token", body["refresh_token"].as_str().unwrap())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(
        app.get_bearer("/api/v1/me", body["access_token"].as_str().unwrap())
            .await
            .status(),
        401
    );
}

/// RFC 6749 §5.2: every refusal of the token endpoint is a JSON error, malformed bodies too.
#[tokio::test]
async fn a_token_request_that_is_not_a_form_gets_an_rfc_6749_error() {
    let app = spawn_app().await;
    for (path, content_type, body) in [
        (
            "/oauth/token",
            "application/json",
            r#"{"grant_type":"refresh_token"}"#,
        ),
        ("/oauth/device/code", "text/plain", "client_id=latchkey-cli"),
        (
            "/oauth/revoke",
            "application/x-www-form-urlencoded",
            "nothing=here",
        ),
    ] {
        let res = app
            .client
            .post(app.at(path))
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 400, "{path}");
        let error: serde_json::Value = res.json().await.unwrap();
        assert_eq!(error["error"], "invalid_request", "{path}");
    }
}
