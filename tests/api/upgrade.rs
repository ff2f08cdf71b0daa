//! Upgrading a database written before personal data was sealed (migration 0011): the server
//! that starts on it seals what is in the clear, and everything keeps working.

use std::borrow::Cow;

use serde_json::{Value, json};
use sqlx::Connection;

use crate::helpers::{PASSWORD, assert_problem, plain_client, spawn_app_in};

const EMAIL: &str = "Old.Timer@Upgrade.example";
const NAME: &str = "Olga Upgradeova";
const OLD_AGENT: &str = "UpgradeAgent/1.0 (Olgabox)";
const OLD_IP: &str = "198.51.100.23";
const QUEUED: &str = "Queued before the upgrade";

/// Migrations up to 0009, the last before personal data was sealed (0010 is not ours).
async fn old_migrator(dialect: &str) -> sqlx::migrate::Migrator {
    let dir = format!("{}/migrations/{dialect}", env!("CARGO_MANIFEST_DIR"));
    let mut migrator = sqlx::migrate::Migrator::new(std::path::Path::new(&dir))
        .await
        .unwrap();
    migrator.migrations = Cow::Owned(
        migrator
            .migrations
            .iter()
            .filter(|m| m.version <= 9)
            .cloned()
            .collect(),
    );
    migrator
}

/// Rows as a server from before migration 0011 wrote them: an account with its address and
/// name, a session, a known device, a pending confirmation link and a queued message.
fn old_rows(postgres: bool, hash: &str, now: i64) -> String {
    let (user, session, mail) = (
        uuid::Uuid::now_v7(),
        uuid::Uuid::now_v7(),
        uuid::Uuid::now_v7(),
    );
    let id = |u: uuid::Uuid| {
        if postgres {
            format!("'{u}'")
        } else {
            format!("X'{}'", u.simple())
        }
    };
    let bytes = |b: u8| {
        let hex = format!("{b:02x}").repeat(32);
        if postgres {
            format!("decode('{hex}', 'hex')")
        } else {
            format!("X'{hex}'")
        }
    };
    let (user, session, mail) = (id(user), id(session), id(mail));
    let (token, link) = (bytes(1), bytes(2));
    let lower = EMAIL.to_lowercase();
    format!(
        "INSERT INTO users (id, email, email_norm, email_verified_at, username, username_norm,
                            password_hash, name, terms_accepted_at, created_at, updated_at)
         VALUES ({user}, '{EMAIL}', '{lower}', {now}, 'oldtimer', 'oldtimer', '{hash}', '{NAME}',
                 {now}, {now}, {now});
         INSERT INTO sessions (id, user_id, token_hash, kind, remember, idle_secs, user_agent, ip,
                               created_at, last_seen_at, expires_at)
         VALUES ({session}, {user}, {token}, 'api', FALSE, 1800, '{OLD_AGENT}', '{OLD_IP}',
                 {now}, {now}, {now} + 3600);
         INSERT INTO known_devices (user_id, device, ip, last_seen_at)
         VALUES ({user}, 'UpgradeAgent', '127.0.0.1', {now});
         INSERT INTO email_verifications (token_hash, user_id, email, purpose, created_at, expires_at)
         VALUES ({link}, {user}, '{EMAIL}', 'signup', {now}, {now} + 86400);
         INSERT INTO outbox (id, recipient, subject, text_body, html_body, created_at, next_attempt_at)
         VALUES ({mail}, '{EMAIL}', '{QUEUED}', 'Written before the upgrade',
                 '<p>Written before the upgrade</p>', {now}, {now});"
    )
}

async fn login_from(app: &crate::helpers::TestApp, agent: &str, login: &str) -> reqwest::Response {
    plain_client()
        .post(app.at("/api/v1/login"))
        .header("user-agent", agent)
        .json(&json!({"login": login, "password": PASSWORD}))
        .send()
        .await
        .unwrap()
}

/// ASVS 4.0.3 V6.1.1 on upgrade: rows written in the clear by a server from before migration
/// 0011 are sealed when a server starts on the database. The account signs in by its address
/// in any case, shows its name and its old session, knows its old device (no "new sign-in"
/// mail for it), its queued mail goes out, and its address stays taken. Afterwards a copy of
/// the database shows none of it.
#[tokio::test]
async fn clear_personal_data_from_before_is_sealed_at_start_up() {
    use argon2::password_hash::PasswordHasher;

    let dir = tempfile::tempdir().unwrap();
    let hash = argon2::Argon2::default()
        .hash_password(PASSWORD.as_bytes())
        .unwrap()
        .to_string();
    let now = i64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs(),
    )
    .unwrap();
    let postgres = match std::env::var("LATCHKEY_TEST_DATABASE_URL") {
        Ok(admin) if !admin.is_empty() => {
            let url = crate::helpers::fresh_postgres_database(&admin).await;
            let mut db = sqlx::PgConnection::connect(&url).await.unwrap();
            old_migrator("postgres").await.run(&mut db).await.unwrap();
            sqlx::raw_sql(sqlx::AssertSqlSafe(old_rows(true, &hash, now)))
                .execute(&mut db)
                .await
                .unwrap();
            Some(url)
        }
        _ => {
            let data = dir.path().join("data");
            std::fs::create_dir_all(&data).unwrap();
            let url = format!("sqlite://{}?mode=rwc", data.join("latchkey.db").display());
            let mut db = sqlx::SqliteConnection::connect(&url).await.unwrap();
            old_migrator("sqlite").await.run(&mut db).await.unwrap();
            sqlx::raw_sql(sqlx::AssertSqlSafe(old_rows(false, &hash, now)))
                .execute(&mut db)
                .await
                .unwrap();
            db.close().await.unwrap();
            None
        }
    };

    let app = spawn_app_in(dir, |c| {
        if let Some(url) = postgres {
            c.database_url = Some(url.into());
        }
    })
    .await;

    let res = login_from(&app, "UpgradeAgent/1.1", "OLD.TIMER@upgrade.EXAMPLE").await;
    assert_eq!(res.status(), 200, "signs in by address, in any case");
    let token = res.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let me: Value = app.get_json("/api/v1/me", &token).await;
    assert_eq!(
        (me["email"].as_str(), me["name"].as_str()),
        (Some(EMAIL), Some(NAME))
    );
    let sessions: Value = app.get_json("/api/v1/me/sessions", &token).await;
    assert!(
        sessions
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["ip"] == OLD_IP && s["device"] == "UpgradeAgent"),
        "{sessions}"
    );
    let queued = app.smtp.wait_for_subject(EMAIL, QUEUED).await;
    assert!(queued.text.contains("Written before the upgrade"));

    // The old device is known; a new one is news, and only it.
    assert_eq!(
        login_from(&app, "OtherAgent/2.0", "oldtimer")
            .await
            .status(),
        200
    );
    app.smtp
        .wait_for_subject(EMAIL, "New sign-in to your Latchkey account")
        .await;
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    let notices: Vec<String> = app
        .smtp
        .all()
        .into_iter()
        .filter(|m| m.subject == "New sign-in to your Latchkey account")
        .map(|m| m.text)
        .collect();
    assert_eq!(notices.len(), 1, "{notices:?}");
    assert!(notices[0].contains("OtherAgent"), "{}", notices[0]);

    let res = app
        .post_json(
            "/api/v1/signup",
            &json!({"email": EMAIL.to_uppercase(), "username": "newtimer", "password": PASSWORD,
                    "accept_terms": true}),
        )
        .await;
    assert_problem(res, 409, "email_taken").await;

    let text = app.stored_text().await.to_lowercase();
    assert!(
        text.contains("argon2id$"),
        "the scan reads the right database"
    );
    for clear in [EMAIL, NAME, OLD_AGENT, "UpgradeAgent", OLD_IP, QUEUED] {
        assert!(
            !text.contains(&clear.to_lowercase()),
            "{clear:?} is still readable in the {} database",
            app.engine
        );
    }
}
