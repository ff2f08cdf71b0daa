//! Password sign-in. ASVS 4.0.3 V2.2.1 (anti-automation, see throttling.rs), V3.2.1 (new token
//! per sign-in), V3.3.1 (logout invalidates), V3.3.2 (re-authentication after idle/absolute
//! limits), V3.4.2–V3.4.3 (HttpOnly, SameSite), V3.2.2 (token entropy), V2.2.3 (new-device
//! notices), V2.5.4 (no default accounts), V6.2.4 (rehash with new parameters). Failures never
//! reveal whether the account exists.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{PASSWORD, assert_problem, plain_client, post_form, spawn_app};

async fn login(
    app: &crate::helpers::TestApp,
    login: &str,
    password: &str,
    remember: bool,
) -> reqwest::Response {
    app.api(
        Method::POST,
        "/api/v1/login",
        None,
        Some(&json!({"login": login, "password": password, "remember_me": remember})),
    )
    .await
}

fn unix(rfc3339: &str) -> i64 {
    time::OffsetDateTime::parse(rfc3339, &time::format_description::well_known::Rfc3339)
        .unwrap()
        .unix_timestamp()
}

#[tokio::test]
async fn username_or_email_in_any_case_signs_in_with_a_new_token_each_time() {
    let app = spawn_app().await;
    let signup_token = app.signup("Marie-Curie").await["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut tokens = vec![signup_token];
    for name in [
        "marie-curie",
        "MARIE-CURIE@EXAMPLE.COM",
        "Marie-Curie@example.com",
    ] {
        let res = login(&app, name, PASSWORD, false).await;
        assert_eq!(res.status(), 200, "{name}");
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["status"], "signed_in");
        assert_eq!(body["user"]["username"], "Marie-Curie");
        tokens.push(body["token"].as_str().unwrap().to_owned());
    }
    tokens.sort();
    tokens.dedup();
    assert_eq!(tokens.len(), 4, "each sign-in gets its own token");
}

#[tokio::test]
async fn wrong_passwords_and_unknown_accounts_get_the_same_answer() {
    let app = spawn_app().await;
    app.signup("known").await;
    let wrong = assert_problem(
        login(&app, "known", "wrong password!", false).await,
        401,
        "invalid_credentials",
    )
    .await;
    let unknown = assert_problem(
        login(&app, "nobody-here", PASSWORD, false).await,
        401,
        "invalid_credentials",
    )
    .await;
    assert_eq!(wrong["detail"], unknown["detail"]);
    assert_eq!(wrong["title"], unknown["title"]);
}

#[tokio::test]
async fn stay_signed_in_lasts_30_days_and_otherwise_30_minutes_idle() {
    let app = spawn_app().await;
    app.signup("remy").await;

    let res = login(&app, "remy", PASSWORD, true).await;
    let cookie = res.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(cookie.contains("Max-Age=2592000"), "{cookie}");
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax") && cookie.contains("Path=/")
    );
    let body: Value = res.json().await.unwrap();
    let days = (unix(body["expires_at"].as_str().unwrap())
        - time::OffsetDateTime::now_utc().unix_timestamp())
        / 86400;
    assert!((29..=30).contains(&days), "remembered for {days} days");

    let res = login(&app, "remy", PASSWORD, false).await;
    let cookie = res.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(
        !cookie.contains("Max-Age"),
        "a browser-session cookie: {cookie}"
    );
    let body: Value = res.json().await.unwrap();
    let mins = (unix(body["expires_at"].as_str().unwrap())
        - time::OffsetDateTime::now_utc().unix_timestamp())
        / 60;
    assert!((29..=30).contains(&mins), "idle limit {mins} minutes");
}

#[tokio::test]
async fn logging_out_ends_the_session_for_good() {
    let app = spawn_app().await;
    app.signup("leaver").await;
    let token = app.login_token("leaver", false).await;
    let res = app
        .api(Method::POST, "/api/v1/logout", Some(&token), None)
        .await;
    assert_eq!(res.status(), 204);
    assert_problem(
        app.get_bearer("/api/v1/me", &token).await,
        401,
        "unauthenticated",
    )
    .await;
}

#[tokio::test]
async fn signing_out_in_the_browser_clears_the_cookie() {
    let app = spawn_app().await;
    app.signup("cookie").await;
    let res = app
        .client
        .post(app.at("/api/v1/logout"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    assert!(
        res.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .contains("Max-Age=0")
    );
    assert_problem(
        app.client.get(app.at("/api/v1/me")).send().await.unwrap(),
        401,
        "unauthenticated",
    )
    .await;
}

#[tokio::test]
async fn garbage_tokens_are_simply_unauthenticated() {
    let app = spawn_app().await;
    for token in [
        "",
        "lks_",
        "lks_not-a-real-token",
        "Bearer",
        &format!("lks_{}", "x".repeat(43)),
    ] {
        assert_problem(
            app.get_bearer("/api/v1/me", token).await,
            401,
            "unauthenticated",
        )
        .await;
    }
}

#[tokio::test]
async fn profile_changes_show_in_me() {
    let app = spawn_app().await;
    app.signup("profiled").await;
    let before: Value = app
        .client
        .get(app.at("/api/v1/me"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(before["name"], "");
    let body = json!({"name": "Pro Filed", "role": "developer"});
    let res = app
        .api_as(
            &app.client,
            Method::PATCH,
            "/api/v1/me/profile",
            None,
            Some(&body),
        )
        .await;
    assert_eq!(res.status(), 200);
    let me: Value = app
        .client
        .get(app.at("/api/v1/me"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["name"], "Pro Filed");
    assert_eq!(me["role"], "developer");
    let body = json!({"role": "wizard"});
    let res = app
        .api_as(
            &app.client,
            Method::PATCH,
            "/api/v1/me/profile",
            None,
            Some(&body),
        )
        .await;
    assert_problem(res, 422, "invalid_role").await;
}

/// ASVS 4.0.3 V2.5.4: no shared or default accounts. A new server has no account at all, so
/// none of the usual administrator names, nor the benchmark's `seed0`, signs in with the usual
/// default passwords.
#[tokio::test]
async fn a_new_server_has_no_account_to_sign_in_to() {
    let app = spawn_app().await;
    for name in ["admin", "root", "administrator", "sa", "latchkey", "seed0"] {
        for password in ["admin", "password", "changeme", "benchmark password"] {
            assert_problem(
                login(&app, name, password, false).await,
                401,
                "invalid_credentials",
            )
            .await;
        }
    }
}

/// ASVS 4.0.3 V6.2.4 (parameters can be changed at any time): after the operator raises the
/// Argon2 parameters, a password hashed with the old ones still signs in and is rehashed with
/// the new ones as it does, once.
#[tokio::test]
async fn a_password_hashed_with_old_parameters_is_rehashed_at_sign_in() {
    let before = crate::helpers::spawn_app_with(|c| {
        crate::helpers::production_argon2(c);
        c.argon2.memory_kib = 8192;
    })
    .await;
    before.signup("steady").await;
    let hash_sql = "SELECT password_hash FROM users WHERE username_norm = 'steady'";
    let old = before.query_text(hash_sql).await;
    assert!(
        old.starts_with("$latchkey-argon2id$v=19$m=8192,t=2,p=1$"),
        "{old}"
    );

    // The same database, served with the default parameters (OWASP's 19 MiB).
    let data_dir = before.dir.path().join("data");
    let shared = before.database_url.clone();
    let after = crate::helpers::spawn_app_with(move |c| {
        crate::helpers::production_argon2(c);
        c.data_dir = data_dir;
        if let Some(url) = shared {
            c.database_url = Some(url.into());
        }
    })
    .await;
    assert_eq!(login(&after, "steady", PASSWORD, false).await.status(), 200);
    let new = before.query_text(hash_sql).await;
    assert!(
        new.starts_with("$latchkey-argon2id$v=19$m=19456,t=2,p=1$"),
        "{new}"
    );

    assert_eq!(login(&after, "steady", PASSWORD, false).await.status(), 200);
    assert_eq!(before.query_text(hash_sql).await, new, "rehashed only once");
    assert_problem(
        login(&after, "steady", "not the password", false).await,
        401,
        "invalid_credentials",
    )
    .await;
}

const CHROME_MAC: &str = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36";
const NEW_SIGN_IN: &str = "New sign-in to your Latchkey account";

async fn login_from(
    app: &crate::helpers::TestApp,
    user_agent: &str,
    body: &Value,
    path: &str,
) -> Value {
    let res = plain_client()
        .post(app.at(path))
        .header("user-agent", user_agent)
        .json(body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

/// How many "New sign-in" mails `to` has, after giving a late one time to arrive.
async fn new_sign_in_mails(app: &crate::helpers::TestApp, to: &str) -> usize {
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    app.smtp
        .all()
        .iter()
        .filter(|m| m.to == to && m.subject == NEW_SIGN_IN)
        .count()
}

/// ASVS 4.0.3 V2.2.3: a sign-in from a device and address the account has not signed in from
/// lately is mailed to the owner, naming both, whether the sign-in took a password alone or a
/// second factor too. Known ones are not, even after their sessions have ended.
#[tokio::test]
async fn a_sign_in_from_a_new_device_is_mailed_to_the_owner() {
    let app = spawn_app().await;
    let token = app.signup("roamer").await["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let password = json!({"login": "roamer", "password": PASSWORD});
    assert_eq!(
        new_sign_in_mails(&app, "roamer@example.com").await,
        0,
        "signing up is no news"
    );

    let chrome = login_from(&app, CHROME_MAC, &password, "/api/v1/login").await;
    let mail = app
        .smtp
        .wait_for_subject("roamer@example.com", NEW_SIGN_IN)
        .await;
    assert!(
        mail.text.contains("Device: Chrome on macOS"),
        "{}",
        mail.text
    );
    assert!(mail.text.contains("IP:     127.0.0.1"), "{}", mail.text);
    assert!(mail.text.contains("/settings/sessions"));

    // Signing out of Chrome does not make it new again; the sign-up's client is known too.
    let res = app
        .api(
            Method::DELETE,
            "/api/v1/me/sessions?scope=all",
            Some(chrome["token"].as_str().unwrap()),
            None,
        )
        .await;
    assert!(res.status().is_success());
    assert_eq!(app.get_bearer("/api/v1/me", &token).await.status(), 401);
    login_from(&app, CHROME_MAC, &password, "/api/v1/login").await;
    login(&app, "roamer", PASSWORD, false).await;
    assert_eq!(new_sign_in_mails(&app, "roamer@example.com").await, 1);

    // With 2FA the session, and so the notice, comes with the second step.
    let token = app.login_token("roamer", false).await;
    let (secret, _, _) = crate::mfa::enable_2fa(&app, &token).await;
    let firefox = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";
    let step = login_from(&app, firefox, &password, "/api/v1/login").await;
    assert_eq!(step["status"], "mfa_required");
    assert_eq!(new_sign_in_mails(&app, "roamer@example.com").await, 1);
    let code = json!({"mfa_token": step["mfa_token"], "code": crate::mfa::oathtool(&secret, 30)});
    login_from(&app, firefox, &code, "/api/v1/login/mfa").await;
    assert_eq!(new_sign_in_mails(&app, "roamer@example.com").await, 2);
    let last = app
        .smtp
        .all()
        .into_iter()
        .rfind(|m| m.subject == NEW_SIGN_IN)
        .unwrap();
    assert!(
        last.text.contains("Device: Firefox on Linux"),
        "{}",
        last.text
    );
}

/// ASVS 4.0.3 V2.1.7: a password that is on the breached list, but was set before it was (here
/// written straight into the database), no longer signs in. The right password gets 403
/// `password_reset_required` and a reset link in the owner's mailbox, as GitHub does; a wrong
/// one still gets the usual 401. The refusal counts as a failed sign-in on the throttles.
#[tokio::test]
async fn a_breached_password_must_be_reset_before_it_signs_in() {
    use argon2::password_hash::PasswordHasher;
    let app = spawn_app().await;
    app.signup("leaky").await;
    app.smtp.wait_for("leaky@example.com", 1).await;
    let breached = argon2::Argon2::default()
        .hash_password(b"password123")
        .unwrap()
        .to_string();
    app.execute_sql(&format!(
        "UPDATE users SET password_hash = '{breached}' WHERE username_norm = 'leaky'"
    ))
    .await;

    assert_problem(
        login(&app, "leaky", "password1234", false).await,
        401,
        "invalid_credentials",
    )
    .await;
    let res = login(&app, "leaky", "password123", true).await;
    assert!(res.headers().get("set-cookie").is_none(), "no session");
    let body = assert_problem(res, 403, "password_reset_required").await;
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains("link we are emailing you")
    );
    assert!(body.get("token").is_none());

    let mail = app
        .smtp
        .wait_for_subject("leaky@example.com", "Reset your Latchkey password")
        .await;
    let token = crate::helpers::link_token(&mail.text, "/reset/");
    let res = app
        .api(
            Method::POST,
            "/api/v1/password-resets",
            None,
            Some(&json!({"token": token, "new_password": "a fresh and private phrase"})),
        )
        .await;
    assert_eq!(res.status(), 204);
    assert_eq!(
        login(&app, "leaky", "a fresh and private phrase", false)
            .await
            .status(),
        200
    );
}

/// The sign-in page says why, in words, for the same refusal.
#[tokio::test]
async fn the_sign_in_page_explains_a_breached_password() {
    use argon2::password_hash::PasswordHasher;
    let app = spawn_app().await;
    app.signup("leakyweb").await;
    let breached = argon2::Argon2::default()
        .hash_password(b"iloveyou")
        .unwrap()
        .to_string();
    app.execute_sql(&format!(
        "UPDATE users SET password_hash = '{breached}' WHERE username_norm = 'leakyweb'"
    ))
    .await;
    let browser = crate::helpers::browser_like_client();
    let page = browser
        .get(app.at("/login"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let res = post_form(
        &browser,
        &app,
        "/login",
        &page,
        &[
            ("next", ""),
            ("login", "leakyweb"),
            ("password", "iloveyou"),
        ],
    )
    .await;
    let html = res.text().await.unwrap();
    assert!(html.contains("leaked passwords"), "{html}");
    let me = browser.get(app.at("/api/v1/me")).send().await.unwrap();
    assert_eq!(me.status(), 401, "the page did not sign in");
}
