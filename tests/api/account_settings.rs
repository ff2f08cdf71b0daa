//! Changing the password and the email address, the profile, and deleting the account.
//! ASVS 4.0.3 V2.1.5/V2.1.6 (change needs the current password), V2.1.10 (no password
//! history), V3.3.3 (other sessions end),
//! V2.2.3 (notices after changes to credentials), V8.3.2 (users can delete their data).

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{
    PASSWORD, TestApp, assert_problem, link_token, post_form, spawn_app, submit, submit_here,
};
use crate::mfa::oathtool;

async fn me(app: &TestApp, token: &str) -> Value {
    app.get_bearer("/api/v1/me", token)
        .await
        .json()
        .await
        .unwrap()
}

#[tokio::test]
async fn changing_the_password_needs_the_old_one_and_ends_other_sessions() {
    let app = spawn_app().await;
    app.signup("changer").await;
    let here = app.login_token("changer", false).await;
    let there = app.login_token("changer", true).await;
    let post = Method::POST;

    let res = app
        .api(
            post.clone(),
            "/api/v1/me/password",
            Some(&here),
            Some(&json!({"current_password": "nope nope", "new_password": "fresh and long"})),
        )
        .await;
    assert_problem(res, 403, "invalid_password").await;
    let res = app
        .api(
            post.clone(),
            "/api/v1/me/password",
            Some(&here),
            Some(&json!({"current_password": PASSWORD, "new_password": "1qaz2wsx3edc"})),
        )
        .await;
    assert_problem(res, 422, "password_too_common").await;
    let res = app
        .api(
            post,
            "/api/v1/me/password",
            Some(&here),
            Some(&json!({"current_password": PASSWORD, "new_password": "fresh and long"})),
        )
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.json::<Value>().await.unwrap(),
        json!({"revoked_sessions": 2})
    );
    assert_eq!(app.get_bearer("/api/v1/me", &here).await.status(), 200);
    assert_eq!(app.get_bearer("/api/v1/me", &there).await.status(), 401);
    let notice = app
        .smtp
        .wait_for("changer@example.com", 2)
        .await
        .pop()
        .unwrap();
    assert_eq!(notice.subject, "Your password was changed");
    assert!(notice.text.contains("IP:     127.0.0.1"));
}

#[tokio::test]
async fn an_email_change_happens_only_once_the_new_address_confirms_it() {
    let app = spawn_app().await;
    let token = app.signup("mover").await["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let post = Method::POST;
    let res = app
        .api(
            post.clone(),
            "/api/v1/me/email",
            Some(&token),
            Some(&json!({"new_email": "mover@example.com", "password": PASSWORD})),
        )
        .await;
    assert_problem(res, 422, "email_unchanged").await;
    let res = app
        .api(
            post.clone(),
            "/api/v1/me/email",
            Some(&token),
            Some(&json!({"new_email": "new@example.org", "password": "wrong pass"})),
        )
        .await;
    assert_problem(res, 403, "invalid_password").await;
    let res = app
        .api(
            post,
            "/api/v1/me/email",
            Some(&token),
            Some(&json!({"new_email": "new@example.org", "password": PASSWORD})),
        )
        .await;
    assert_eq!(res.status(), 202);
    assert_eq!(
        me(&app, &token).await["email"],
        "mover@example.com",
        "not yet"
    );

    let old = app
        .smtp
        .wait_for("mover@example.com", 2)
        .await
        .pop()
        .unwrap();
    assert_eq!(old.subject, "Your email address is being changed");
    assert!(old.text.contains("new@example.org") && old.text.contains("/email-change/undo/lku_"));
    let confirm = app.smtp.wait_for("new@example.org", 1).await.pop().unwrap();
    assert_eq!(confirm.subject, "Confirm your new email address");
    let link = link_token(&confirm.text, "/verify/");
    let res = app
        .post_json("/api/v1/email-verifications", &json!({"token": link}))
        .await;
    assert_eq!(res.status(), 200);
    let now = me(&app, &token).await;
    assert_eq!(now["email"], "new@example.org");
    assert_eq!(now["email_verified"], true);
    let told = app
        .smtp
        .wait_for("mover@example.com", 3)
        .await
        .pop()
        .unwrap();
    assert_eq!(told.subject, "Your email address was changed");
    assert_eq!(app.login_token("new@example.org", false).await.len(), 47);
}

#[tokio::test]
async fn an_address_in_use_is_never_revealed_to_the_requester() {
    let app = spawn_app().await;
    app.signup("owner").await;
    let token = app.signup("asker").await["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let res = app
        .api(
            Method::POST,
            "/api/v1/me/email",
            Some(&token),
            Some(&json!({"new_email": "OWNER@example.com", "password": PASSWORD})),
        )
        .await;
    assert_eq!(res.status(), 202, "the same answer as for a free address");
    let note = app
        .smtp
        .wait_for("owner@example.com", 2)
        .await
        .pop()
        .unwrap();
    assert_eq!(note.subject, "Someone tried to use this address");
    assert!(!note.text.contains("/verify/"));
    assert_eq!(me(&app, &token).await["email"], "asker@example.com");
}

#[tokio::test]
async fn the_old_address_can_undo_a_change_and_lock_the_intruder_out() {
    let app = spawn_app().await;
    let token = app.signup("victim").await["token"]
        .as_str()
        .unwrap()
        .to_owned();
    app.api(
        Method::POST,
        "/api/v1/me/email",
        Some(&token),
        Some(&json!({"new_email": "thief@example.net", "password": PASSWORD})),
    )
    .await;
    let confirm = app
        .smtp
        .wait_for("thief@example.net", 1)
        .await
        .pop()
        .unwrap();
    app.post_json(
        "/api/v1/email-verifications",
        &json!({"token": link_token(&confirm.text, "/verify/")}),
    )
    .await;
    assert_eq!(me(&app, &token).await["email"], "thief@example.net");

    let notice = app.smtp.wait_for("victim@example.com", 2).await.remove(1);
    let undo = link_token(&notice.text, "/email-change/undo/");
    let res = submit_here(
        &app.client,
        &app,
        &format!("/email-change/undo/{undo}"),
        &[],
    )
    .await;
    assert_eq!(res.status(), 200);
    assert_eq!(
        app.get_bearer("/api/v1/me", &token).await.status(),
        401,
        "every session ended"
    );
    let mails = app.smtp.wait_for("victim@example.com", 5).await;
    let subjects: Vec<&str> = mails.iter().map(|m| m.subject.as_str()).collect();
    assert!(
        subjects.contains(&"Reset your Latchkey password"),
        "{subjects:?}"
    );
    let fresh = app.login_token("victim@example.com", false).await;
    assert_eq!(me(&app, &fresh).await["email"], "victim@example.com");
    let again = app
        .post_json("/api/v1/email-changes/undo", &json!({"token": undo}))
        .await;
    assert_problem(again, 400, "invalid_token").await;
}

#[tokio::test]
async fn deleting_the_account_needs_password_username_and_2fa_code() {
    let app = spawn_app().await;
    let token = app.signup("leaving").await["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let (secret, token, _) = crate::mfa::enable_2fa(&app, &token).await;
    let del = Method::DELETE;

    let res = app
        .api(
            del.clone(),
            "/api/v1/me",
            Some(&token),
            Some(&json!({"password": PASSWORD, "confirm_username": "someone"})),
        )
        .await;
    assert_problem(res, 422, "confirmation_mismatch").await;
    let res = app
        .api(
            del.clone(),
            "/api/v1/me",
            Some(&token),
            Some(&json!({"password": "not it", "confirm_username": "leaving"})),
        )
        .await;
    assert_problem(res, 403, "invalid_password").await;
    let res = app
        .api(
            del.clone(),
            "/api/v1/me",
            Some(&token),
            Some(&json!({"password": PASSWORD, "confirm_username": "leaving"})),
        )
        .await;
    assert_problem(res, 422, "code_required").await;
    let res = app.api(del, "/api/v1/me", Some(&token), Some(&json!({"password": PASSWORD, "confirm_username": "Leaving", "code": oathtool(&secret, 30)}))).await;
    assert_eq!(res.status(), 204);

    assert_eq!(app.get_bearer("/api/v1/me", &token).await.status(), 401);
    let res = app
        .api(
            Method::POST,
            "/api/v1/login",
            None,
            Some(&json!({"login": "leaving", "password": PASSWORD})),
        )
        .await;
    assert_problem(res, 401, "invalid_credentials").await;
    // Mail still queued to the account is dropped with it (the 2FA notice may or may not have
    // gone out first); the goodbye always arrives.
    app.smtp
        .wait_for_subject("leaving@example.com", "Your Latchkey account was deleted")
        .await;
    // The username rests for a while; the address is free at once.
    let res = app
        .post_json("/api/v1/signup", &json!({"email": "other@example.com", "username": "leaving", "password": PASSWORD, "accept_terms": true}))
        .await;
    assert_problem(res, 409, "username_unavailable").await;
    app.post_json("/api/v1/signup", &json!({"email": "leaving@example.com", "username": "back-again", "password": PASSWORD, "accept_terms": true}))
        .await
        .error_for_status()
        .unwrap();
}

#[tokio::test]
async fn a_renamed_username_is_reserved_for_its_owner_and_profiles_hide_the_email() {
    let app = spawn_app().await;
    let token = app.signup("old-name").await["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let res = app
        .api(
            Method::PATCH,
            "/api/v1/me/profile",
            Some(&token),
            Some(&json!({"username": "new-name", "name": "Ren Amed", "role": "devops"})),
        )
        .await;
    assert_eq!(res.status(), 200);
    let profile: Value = app
        .api(Method::GET, "/api/v1/users/NEW-NAME", None, None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(profile["username"], "new-name");
    assert_eq!(profile["name"], "Ren Amed");
    assert_eq!(profile["role"], "devops");
    assert!(profile.get("email").is_none() && !profile.to_string().contains("example.com"));
    assert_problem(
        app.api(Method::GET, "/api/v1/users/old-name", None, None)
            .await,
        404,
        "not_found",
    )
    .await;

    let squatter = app.signup("squatter").await["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let res = app
        .api(
            Method::PATCH,
            "/api/v1/me/profile",
            Some(&squatter),
            Some(&json!({"username": "old-name"})),
        )
        .await;
    assert_problem(res, 409, "username_unavailable").await;
    let res = app
        .api(
            Method::PATCH,
            "/api/v1/me/profile",
            Some(&token),
            Some(&json!({"username": "old-name"})),
        )
        .await;
    assert_eq!(res.status(), 200, "the owner may take it back");

    let page = app
        .api(Method::GET, "/u/old-name", None, None)
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("Ren Amed")
            && page.contains("DevOps engineer")
            && !page.contains("old-name@example.com")
    );
}

#[tokio::test]
async fn the_account_page_changes_password_and_deletes() {
    let app = spawn_app().await;
    app.signup("webacct").await;
    let c = &app.client;
    let res = submit(
        c,
        &app,
        "/settings/account",
        "/settings/account/password",
        &[
            ("current_password", PASSWORD),
            ("new_password", "brand new secret"),
        ],
    )
    .await;
    assert_eq!(res.status(), 303);
    let html = c
        .get(app.at("/settings/account"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("Your password is changed"));
    let res = post_form(
        c,
        &app,
        "/settings/account/delete",
        &html,
        &[
            ("confirm_username", "webacct"),
            ("password", "brand new secret"),
        ],
    )
    .await;
    assert_eq!(res.status(), 200);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("Your account was deleted")
    );
    assert_eq!(
        c.get(app.at("/api/v1/me")).send().await.unwrap().status(),
        401
    );
}

/// Accounts an enterprise team manages (SCIM sets `managed_by`; written straight into the
/// database here until SCIM exists) change email and password, and delete, only through their
/// Team Admin.
#[tokio::test]
async fn managed_accounts_are_refused_with_managed_account() {
    use sqlx::Connection;
    let app = spawn_app().await;
    if app.engine != "sqlite" {
        crate::helpers::skip("marks the account managed straight in the SQLite file");
        return;
    }
    let token = app.signup("managed").await["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut db = sqlx::SqliteConnection::connect(&format!(
        "sqlite://{}",
        app.dir.path().join("data/latchkey.db").display()
    ))
    .await
    .unwrap();
    sqlx::query("UPDATE users SET managed_by = 'acme' WHERE username_norm = 'managed'")
        .execute(&mut db)
        .await
        .unwrap();
    // The SQL above bypasses the store (and its session cache): a fresh sign-in reads the flag.
    let token2 = app.login_token("managed", false).await;
    assert_ne!(token, token2);
    let post = Method::POST;
    let res = app
        .api(
            post.clone(),
            "/api/v1/me/password",
            Some(&token2),
            Some(&json!({"current_password": PASSWORD, "new_password": "another long one"})),
        )
        .await;
    let body = assert_problem(res, 403, "managed_account").await;
    assert!(body["detail"].as_str().unwrap().contains("Team Admin"));
    let res = app
        .api(
            post,
            "/api/v1/me/email",
            Some(&token2),
            Some(&json!({"new_email": "x@example.org", "password": PASSWORD})),
        )
        .await;
    assert_problem(res, 403, "managed_account").await;
    let res = app
        .api(
            Method::DELETE,
            "/api/v1/me",
            Some(&token2),
            Some(&json!({"password": PASSWORD, "confirm_username": "managed"})),
        )
        .await;
    assert_problem(res, 403, "managed_account").await;
}

#[tokio::test]
async fn a_password_change_cancels_a_pending_email_change() {
    let app = spawn_app().await;
    let token = app.signup("wary").await["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let post = Method::POST;
    app.api(
        post.clone(),
        "/api/v1/me/email",
        Some(&token),
        Some(&json!({"new_email": "intruder@example.net", "password": PASSWORD})),
    )
    .await;
    let link = link_token(
        &app.smtp.wait_for("intruder@example.net", 1).await[0].text,
        "/verify/",
    );
    let res = app
        .api(
            post,
            "/api/v1/me/password",
            Some(&token),
            Some(&json!({"current_password": PASSWORD, "new_password": "locked down now"})),
        )
        .await;
    assert_eq!(res.status(), 200);
    let res = app
        .post_json("/api/v1/email-verifications", &json!({"token": link}))
        .await;
    assert_problem(res, 400, "invalid_token").await;
    assert_eq!(me(&app, &token).await["email"], "wary@example.com");
}

#[tokio::test]
async fn the_profile_and_email_forms_work_without_javascript() {
    let app = spawn_app().await;
    app.signup("former").await;
    let c = &app.client;
    let res = submit_here(
        c,
        &app,
        "/settings/profile",
        &[
            ("name", "For Mer"),
            ("role", "architect"),
            ("username", "latter"),
        ],
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
    assert_eq!(
        (
            me["username"].as_str(),
            me["name"].as_str(),
            me["role"].as_str()
        ),
        (Some("latter"), Some("For Mer"), Some("architect"))
    );

    let res = submit(
        c,
        &app,
        "/settings/account",
        "/settings/account/email",
        &[("new_email", "moved@example.org"), ("password", PASSWORD)],
    )
    .await;
    assert_eq!(res.status(), 303);
    let html = c
        .get(app.at("/settings/account"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("We sent a confirmation link to your new address."));
    let link = link_token(
        &app.smtp.wait_for("moved@example.org", 1).await[0].text,
        "/verify/",
    );
    let res = submit_here(c, &app, &format!("/verify/{link}"), &[]).await;
    assert_eq!(res.headers()["location"], "/");
    let me: Value = c
        .get(app.at("/api/v1/me"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["email"], "moved@example.org");
}

/// ASVS 4.0.3 V2.1.10: no password history. A password used before may be chosen again, and
/// nothing makes it expire.
#[tokio::test]
async fn a_previous_password_can_be_chosen_again() {
    let app = spawn_app().await;
    let token = app.signup("returner").await["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let change = async |from: &'static str, to: &'static str| {
        let body = json!({"current_password": from, "new_password": to});
        app.api(
            Method::POST,
            "/api/v1/me/password",
            Some(&token),
            Some(&body),
        )
        .await
    };
    assert_eq!(change(PASSWORD, "fresh and long").await.status(), 200);
    assert_eq!(change("fresh and long", PASSWORD).await.status(), 200);
    let res = app
        .api(
            Method::POST,
            "/api/v1/login",
            None,
            Some(&json!({"login": "returner", "password": PASSWORD})),
        )
        .await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["status"], "signed_in", "{body}");
}
