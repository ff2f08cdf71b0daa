//! Sign-up over the API. ASVS 4.0.3 V2.1.2 (64 allowed, over 128 refused), V2.1.3 (no
//! truncation), V2.1.4 (any Unicode), V2.1.7 (common passwords refused), V2.4.1 (salted
//! Argon2id), V3.2.1 (a new session token at sign-up), V2.1.1 (at least 12 characters).

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{PASSWORD, assert_problem, plain_client, spawn_app, spawn_app_with};

#[tokio::test]
async fn signing_up_returns_a_session_that_works_as_bearer_and_cookie() {
    let app = spawn_app().await;
    let body = app.signup("ada").await;
    assert_eq!(body["status"], "signed_in");
    let token = body["token"].as_str().unwrap();
    assert!(token.starts_with("lks_") && token.len() >= 4 + 43);
    assert_eq!(body["user"]["username"], "ada");
    assert_eq!(body["user"]["email_verified"], false);

    let me: Value = app.get_json("/api/v1/me", token).await;
    assert_eq!(me["email"], "ada@example.com");
    assert_eq!(me["mfa_enabled"], false);
    // The sign-up client kept the cookie, so it is signed in too.
    let res = app.client.get(app.at("/api/v1/me")).send().await.unwrap();
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn every_invalid_field_is_reported_and_no_account_is_created() {
    let app = spawn_app().await;
    let res = app
        .post_json(
            "/api/v1/signup",
            &json!({"email": "not-an-email", "username": "-bad-", "password": "short", "accept_terms": false}),
        )
        .await;
    let body = assert_problem(res, 422, "invalid_email").await;
    let codes: Vec<&str> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["code"].as_str().unwrap())
        .collect();
    assert_eq!(
        codes,
        [
            "invalid_email",
            "invalid_username",
            "password_too_short",
            "terms_not_accepted"
        ]
    );
}

#[tokio::test]
async fn common_passwords_and_passwords_equal_to_the_username_are_refused() {
    let app = spawn_app().await;
    for (password, code) in [
        ("123qweasdzxc", "password_too_common"),
        ("Grace-Hopper", "password_matches_identity"),
    ] {
        let res = app
            .post_json(
                "/api/v1/signup",
                &json!({"email": "grace@example.com", "username": "grace-hopper", "password": password, "accept_terms": true}),
            )
            .await;
        let problem = assert_problem(res, 422, code).await;
        if code == "password_too_common" {
            // The detail says why, not only that it was refused.
            let detail = problem["detail"].as_str().unwrap();
            assert!(detail.contains("attackers try it first"), "{detail}");
        }
    }
    let res = app
        .post_json(
            "/api/v1/signup",
            &json!({"email": "grace@example.com", "username": "grace-hopper", "password": "x".repeat(129), "accept_terms": true}),
        )
        .await;
    assert_problem(res, 422, "password_too_long").await;
}

#[tokio::test]
async fn long_unicode_passwords_are_kept_whole() {
    let app = spawn_app().await;
    // 128 characters, multi-byte: accepted, and only the whole password signs in.
    let password = "пароль-ключ-".repeat(10) + "замок-ok";
    assert_eq!(password.chars().count(), 128);
    let res = app
        .post_json(
            "/api/v1/signup",
            &json!({"email": "u@example.com", "username": "unicode", "password": password, "accept_terms": true}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let truncated: String = password.chars().take(72).collect();
    for (candidate, expected) in [(&truncated, 401), (&password, 200)] {
        let res = app
            .api(
                Method::POST,
                "/api/v1/login",
                None,
                Some(&json!({"login": "unicode", "password": candidate})),
            )
            .await;
        assert_eq!(res.status(), expected);
    }
}

#[tokio::test]
async fn emails_and_usernames_are_unique_regardless_of_case() {
    let app = spawn_app().await;
    app.signup("octocat").await;
    let res = app
        .post_json(
            "/api/v1/signup",
            &json!({"email": "OCTOCAT@Example.com", "username": "someone-else", "password": PASSWORD, "accept_terms": true}),
        )
        .await;
    assert_problem(res, 409, "email_taken").await;
    let res = app
        .post_json(
            "/api/v1/signup",
            &json!({"email": "other@example.com", "username": "OctoCat", "password": PASSWORD, "accept_terms": true}),
        )
        .await;
    assert_problem(res, 409, "username_taken").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_sign_ups_for_one_username_leave_exactly_one_account() {
    let app = spawn_app().await;
    let attempts = (0..8).map(|i| {
        let url = app.at("/api/v1/signup");
        tokio::spawn(async move {
            plain_client()
                .post(url)
                .json(
                    &json!({"email": format!("racer{i}@example.com"), "username": "racer",
                               "password": PASSWORD, "accept_terms": true}),
                )
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        })
    });
    let mut statuses = Vec::new();
    for a in attempts {
        statuses.push(a.await.unwrap());
    }
    statuses.sort_unstable();
    assert_eq!(statuses, [201, 409, 409, 409, 409, 409, 409, 409]);
}

#[tokio::test]
async fn the_database_holds_neither_passwords_nor_session_tokens_in_the_clear() {
    let app = spawn_app_with(crate::helpers::production_argon2).await;
    if app.engine != "sqlite" {
        crate::helpers::skip("reads the SQLite database files directly");
        return;
    }
    let token = app.signup("hashed").await["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let text = app.database_files_text();
    // The address is sealed now (see the next test); the hash shows the scan reads the files.
    assert!(
        text.contains("$latchkey-argon2id$v=19$m=19456,t=2,p=1$"),
        "the scan reads the right files"
    );
    assert!(!text.contains(PASSWORD));
    assert!(!text.contains(&token));
}

/// ASVS 4.0.3 V6.1.1: personal data rests encrypted. After a sign-up with a distinctive name,
/// address and browser, once its confirmation mail has gone out, none of them (nor the mail's
/// subject or link) is readable from a copy of the database: the SQLite files with their
/// write-ahead log, or every row of every table on PostgreSQL. The account still shows them.
#[tokio::test]
async fn personal_data_is_not_readable_from_the_database_files() {
    let app = spawn_app().await;
    let (name, email, agent) = (
        "Zelda Quux",
        "Zelda.Quux@Quuxmail.example",
        "ZeldaBrowser/7.3 (QuuxOS; like nothing else)",
    );
    let res = plain_client()
        .post(app.at("/api/v1/signup"))
        .header("user-agent", agent)
        .json(
            &json!({"email": email, "username": "zq", "password": PASSWORD,
                      "accept_terms": true, "name": name}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let body: Value = res.json().await.unwrap();
    let token = body["token"].as_str().unwrap().to_owned();
    let link = app.verification_token(email).await;
    let subject = app.smtp.wait_for(email, 1).await[0].subject.clone();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while app
        .query_text("SELECT CAST(COUNT(*) AS TEXT) FROM outbox WHERE sent_at IS NOT NULL")
        .await
        != "1"
    {
        assert!(
            std::time::Instant::now() < deadline,
            "delivery not recorded"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }

    let me: Value = app.get_json("/api/v1/me", &token).await;
    assert_eq!(
        (me["name"].as_str(), me["email"].as_str()),
        (Some(name), Some(email))
    );
    let sessions: Value = app.get_json("/api/v1/me/sessions", &token).await;
    assert_eq!(sessions[0]["device"], "ZeldaBrowser", "{sessions}");
    assert_eq!(sessions[0]["ip"], "127.0.0.1", "{sessions}");

    let text = app.stored_text().await;
    assert!(
        text.contains("$latchkey-argon2id$"),
        "the scan reads the right database"
    );
    let lower = text.to_lowercase();
    for secret in [
        name,
        email,
        "quuxmail",
        agent,
        "ZeldaBrowser",
        &subject,
        &link,
    ] {
        assert!(
            !lower.contains(&secret.to_lowercase()),
            "{secret:?} is readable in the {} database",
            app.engine
        );
    }
}

/// ASVS 4.0.3 V2.1.4: any printable Unicode character is welcome, spaces and emoji included,
/// among them emoji made of several code points (🗝️ is U+1F5DD U+FE0F). The password is
/// compared whole: the same one without an emoji does not sign in.
#[tokio::test]
async fn emoji_and_spaces_are_welcome_in_passwords() {
    let app = spawn_app().await;
    let password = "🔑 my 🐴 battery \u{1F5DD}\u{FE0F} staple";
    let res = app
        .post_json(
            "/api/v1/signup",
            &json!({"email": "emoji@example.com", "username": "emoji", "password": password, "accept_terms": true}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let sign_in = async |password: &'static str| {
        let body = json!({"login": "emoji", "password": password});
        app.api(Method::POST, "/api/v1/login", None, Some(&body))
            .await
    };
    assert_eq!(sign_in(password).await.status(), 200);
    assert_eq!(sign_in("🔑 my 🐴 battery  staple").await.status(), 401);
    assert_eq!(
        sign_in("🔑 my 🐴 battery \u{1F5DD} staple").await.status(),
        401,
        "the variation selector counts too"
    );
}

/// ASVS 4.0.3 V2.1.1: new passwords have at least 12 characters (counted as characters, not
/// bytes). The rule is for passwords being set: an account whose password was set under the
/// earlier minimum of 8 still signs in with it.
#[tokio::test]
async fn passwords_shorter_than_twelve_characters_are_refused() {
    use argon2::password_hash::PasswordHasher;

    let app = spawn_app().await;
    let sign_up = async |password: &str| {
        let body = json!({"email": "lily@example.com", "username": "lily", "password": password, "accept_terms": true});
        app.api(Method::POST, "/api/v1/signup", None, Some(&body))
            .await
    };
    let res = sign_up("tiger lily!").await;
    let body = assert_problem(res, 422, "password_too_short").await;
    assert!(body["detail"].as_str().unwrap().contains("12"), "{body}");
    let res = sign_up("tigér lilý!").await;
    assert_problem(res, 422, "password_too_short").await;
    assert_eq!(sign_up("tiger lilies").await.status(), 201);

    // An account from before the change, with an 8-character password hashed as the server
    // hashes (Argon2id, OWASP's parameters).
    let old_hash = argon2::Argon2::default()
        .hash_password(b"tiger li")
        .unwrap()
        .to_string();
    app.execute_sql(&format!(
        "UPDATE users SET password_hash = '{old_hash}' WHERE username_norm = 'lily'"
    ))
    .await;
    let res = app
        .api(
            Method::POST,
            "/api/v1/login",
            None,
            Some(&json!({"login": "lily", "password": "tiger li"})),
        )
        .await;
    assert_eq!(res.status(), 200);
}
