//! Two-factor authentication across changes of the server key: ASVS 4.0.3 V6.2.4 (keys can be
//! replaced), V2.10.1 (the service's secret is not an unchangeable credential) and V4.1.5 (a
//! second factor that cannot be checked refuses the sign-in).

use std::path::{Path, PathBuf};

use reqwest::Method;
use serde_json::{Value, json};

use super::{oathtool, password_step, second_step};
use crate::helpers::{PASSWORD, TestApp, assert_problem, spawn_app, spawn_app_with};
use crate::recovery::login_status;

/// A server on `app`'s database with `key` as `secret_key_file` and `previous` keys.
pub(super) async fn same_database(app: &TestApp, key: &Path, previous: &[PathBuf]) -> TestApp {
    let (data_dir, shared) = (app.dir.path().join("data"), app.database_url.clone());
    let (key, previous) = (key.to_owned(), previous.to_vec());
    spawn_app_with(move |c| {
        c.data_dir = data_dir;
        if let Some(url) = shared {
            c.database_url = Some(url.into());
        }
        c.secret_key_file = Some(key);
        c.previous_secret_key_files = previous;
    })
    .await
}

/// Runs `latchkey rotate-key` on `app`'s database; returns what it printed.
fn rotate_key(app: &TestApp, key: &Path, previous: &[PathBuf]) -> String {
    rotate_key_with(app, key, previous, &[])
}

/// `rotate_key` with more settings in the environment.
pub(super) fn rotate_key_with(
    app: &TestApp,
    key: &Path,
    previous: &[PathBuf],
    env: &[(&str, &str)],
) -> String {
    let data_dir = app.dir.path().join("data");
    let target = match &app.database_url {
        Some(url) => ["--database-url", url.as_str()],
        None => ["--data-dir", data_dir.to_str().unwrap()],
    };
    let previous: Vec<&str> = previous.iter().map(|p| p.to_str().unwrap()).collect();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_latchkey"))
        .arg("rotate-key")
        .args(target)
        .env_remove("LATCHKEY_DATABASE_URL")
        .env("LATCHKEY_SECRET_KEY_FILE", key)
        .env("LATCHKEY_PREVIOUS_SECRET_KEY_FILES", previous.join(","))
        .envs(env.iter().copied())
        .current_dir(app.dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Turns 2FA on with the code of the previous time step, leaving this one and the next for
/// sign-ins (each step works once). Returns (secret, recovery codes).
pub(super) async fn enable_2fa_a_step_early(app: &TestApp, name: &str) -> (String, Vec<String>) {
    let token = app.signup(name).await["token"].as_str().unwrap().to_owned();
    let body = json!({"password": PASSWORD});
    let setup: Value = app
        .api(
            Method::POST,
            "/api/v1/me/mfa/totp/setup",
            Some(&token),
            Some(&body),
        )
        .await
        .json()
        .await
        .unwrap();
    let secret = setup["secret"].as_str().unwrap().to_owned();
    let code = json!({"code": oathtool(&secret, -30)});
    let res = app
        .api(
            Method::POST,
            "/api/v1/me/mfa/totp/enable",
            Some(&token),
            Some(&code),
        )
        .await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    let codes = body["recovery_codes"].as_array().unwrap().iter();
    (
        secret,
        codes.map(|c| c.as_str().unwrap().to_owned()).collect(),
    )
}

pub(super) async fn sign_in_with(app: &TestApp, name: &str, proof: Value) -> reqwest::Response {
    let mut body = proof;
    body["mfa_token"] = password_step(app, name).await.into();
    second_step(app, &body).await
}

/// Personal data rotates too (ASVS V6.1.1): the address signs in by its blind index under the
/// old key before `rotate-key`, and under the new key alone after it, which also reseals it.
#[tokio::test]
async fn two_factor_survives_a_secret_key_rotation() {
    let a = spawn_app().await;
    let (secret, codes) = enable_2fa_a_step_early(&a, "rotor").await;
    let old_key = a.dir.path().join("data/secret.key");
    let keys = tempfile::tempdir().unwrap();
    let new_key = keys.path().join("new.key");

    // B has a new key (generated at start) and the old one as previous.
    let b = same_database(&a, &new_key, std::slice::from_ref(&old_key)).await;
    let res = sign_in_with(
        &b,
        "Rotor@Example.com",
        json!({"code": oathtool(&secret, 0)}),
    )
    .await;
    assert_eq!(res.status(), 200);
    let res = sign_in_with(&b, "rotor", json!({"recovery_code": codes[0]})).await;
    assert_eq!(res.status(), 200);

    let report = rotate_key(&a, &new_key, std::slice::from_ref(&old_key));
    assert!(report.contains("Resealed 1 two-factor secret "), "{report}");
    assert!(
        report.contains("1 account(s) hold recovery codes"),
        "{report}"
    );
    assert!(
        report.contains("personal data value(s)") && !report.contains("Resealed 0 personal"),
        "{report}"
    );

    // C has only the new key: the resealed seed opens. Codes made under the old key need it
    // (they cannot be rehashed without the code), so new ones are made here.
    let c = same_database(&a, &new_key, &[]).await;
    let res = sign_in_with(
        &c,
        "ROTOR@example.com",
        json!({"code": oathtool(&secret, 30)}),
    )
    .await;
    assert_eq!(res.status(), 200);
    let token = res.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let me: Value = c.get_json("/api/v1/me", &token).await;
    assert_eq!(me["email"], "rotor@example.com", "{me}");
    let res = c.get_bearer("/api/v1/me/sessions", &token).await;
    assert_eq!(
        res.status(),
        200,
        "sessions sealed under the old key were resealed"
    );
    let res = sign_in_with(&c, "rotor", json!({"recovery_code": codes[1]})).await;
    assert_problem(res, 401, "invalid_code").await;
    let body = json!({"password": PASSWORD});
    let res = c
        .api(
            Method::POST,
            "/api/v1/me/mfa/recovery-codes",
            Some(&token),
            Some(&body),
        )
        .await;
    assert_eq!(res.status(), 200);
    let fresh: Value = res.json().await.unwrap();
    let fresh = fresh["recovery_codes"][0].as_str().unwrap();
    let res = sign_in_with(&c, "rotor", json!({"recovery_code": fresh})).await;
    assert_eq!(res.status(), 200);

    let report = rotate_key(&a, &new_key, std::slice::from_ref(&old_key));
    assert!(report.contains("Resealed 0 two-factor secrets"), "{report}");
    assert!(
        report.contains("Resealed 0 personal data value(s)"),
        "{report}"
    );
    assert!(
        report.contains("Nothing needs the previous keys"),
        "{report}"
    );
}

/// ASVS 4.0.3 V4.1.5: when the server cannot check a second factor (its sealed seed was
/// altered, or was sealed under a key this server lacks: the same failure to open), the right
/// code gets a clear error and no session, never a way around the check.
#[tokio::test]
async fn a_second_factor_that_cannot_be_checked_refuses_the_sign_in() {
    let app = spawn_app().await;
    let (secret, token, _) = super::with_2fa(&app, "broken").await;
    let before = sessions(&app, &token).await;

    // Well-formed (version 1, some key id, nonce, tag) but opening with no key.
    let garbage = format!("01{}", "ab".repeat(4 + 24 + 16 + 20));
    let literal = if app.engine == "postgres" {
        format!("'\\x{garbage}'::bytea")
    } else {
        format!("X'{garbage}'")
    };
    app.execute_sql(&format!(
        "UPDATE totp_credentials SET secret_sealed = {literal}"
    ))
    .await;

    let res = sign_in_with(&app, "broken", json!({"code": oathtool(&secret, 30)})).await;
    let body = assert_problem(res, 500, "second_factor_unavailable").await;
    assert!(body.get("token").is_none(), "{body}");
    assert_eq!(before.len(), 1);
    assert_eq!(sessions(&app, &token).await, before, "no new session");
}

/// The ids of the account's sessions.
async fn sessions(app: &TestApp, token: &str) -> Vec<Value> {
    let res = app.get_bearer("/api/v1/me/sessions", token).await;
    assert_eq!(res.status(), 200);
    let list: Vec<Value> = res.json().await.unwrap();
    list.iter().map(|s| s["id"].clone()).collect()
}

/// ASVS 4.0.3 V2.4.5: password hashes are peppered (encrypted under a key derived from the
/// server key), so a copy of the database alone cannot even be checked against a guess: a
/// server with another key refuses the right password. `rotate-key` peppers hashes stored
/// before the pepper and moves them to a new key, without anyone's password.
#[tokio::test]
async fn a_password_hash_is_useless_without_the_server_key() {
    use argon2::password_hash::PasswordHasher;
    let a = spawn_app().await;
    a.signup("peppered").await;
    let hash_sql = "SELECT password_hash FROM users WHERE username_norm = 'peppered'";
    let stored = a.query_text(hash_sql).await;
    assert!(stored.starts_with("$latchkey-argon2id$v=19$"), "{stored}");
    let old_key = a.dir.path().join("data/secret.key");
    let keys = tempfile::tempdir().unwrap();

    // With another key the account's address does not open either (ASVS V6.1.1), so the
    // stranger cannot even complete the lookup: it answers 500, never a session.
    let stranger = same_database(&a, &keys.path().join("other.key"), &[]).await;
    assert_eq!(login_status(&stranger, "peppered", PASSWORD).await, 500);
    assert_eq!(login_status(&a, "peppered", PASSWORD).await, 200);

    // A hash from before the pepper still signs in, and rotate-key peppers it.
    let plain = argon2::Argon2::default()
        .hash_password(PASSWORD.as_bytes())
        .unwrap()
        .to_string();
    a.execute_sql(&format!(
        "UPDATE users SET password_hash = '{plain}' WHERE username_norm = 'peppered'"
    ))
    .await;
    let report = rotate_key(&a, &old_key, &[]);
    assert!(report.contains("Resealed 1 password hash."), "{report}");
    assert!(
        a.query_text(hash_sql)
            .await
            .starts_with("$latchkey-argon2id$")
    );
    assert_eq!(login_status(&stranger, "peppered", PASSWORD).await, 500);

    // Moving to a new key: once resealed, a server with only the new key signs in.
    let new_key = keys.path().join("new.key");
    let _generates_new_key = same_database(&a, &new_key, std::slice::from_ref(&old_key)).await;
    let report = rotate_key(&a, &new_key, std::slice::from_ref(&old_key));
    assert!(report.contains("Resealed 1 password hash."), "{report}");
    let only_new = same_database(&a, &new_key, &[]).await;
    assert_eq!(login_status(&only_new, "peppered", PASSWORD).await, 200);
    assert_eq!(
        login_status(&a, "peppered", PASSWORD).await,
        500,
        "the old key alone no longer opens the account (its address is resealed too)"
    );
}
