//! Mail goes through a durable outbox: an SMTP outage delays mail, it never loses it.

use crate::helpers::spawn_app;

#[tokio::test]
async fn mail_queued_while_smtp_is_down_arrives_once_it_is_back() {
    let mut app = spawn_app().await;
    app.smtp.stop();
    app.signup("patient").await;
    app.signup("waiting").await;
    // Let the worker fail at least once against the closed port.
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    assert!(app.smtp.all().is_empty());
    app.smtp.restart();
    for to in ["patient@example.com", "waiting@example.com"] {
        let mails = app.smtp.wait_for(to, 1).await;
        assert_eq!(mails.len(), 1, "delivered exactly once");
    }
}

#[tokio::test]
async fn without_smtp_mail_lands_in_the_outbox_folder_and_the_dev_page() {
    let app = crate::helpers::spawn_app_with(|c| c.smtp_url = None).await;
    app.signup("devmail").await;
    let outbox = app.dir.path().join("data/outbox");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let eml = loop {
        let found = std::fs::read_dir(&outbox)
            .map(|d| {
                d.filter_map(Result::ok)
                    .map(|e| e.path())
                    .find(|p| p.extension().is_some_and(|x| x == "eml"))
            })
            .ok()
            .flatten();
        if let Some(p) = found {
            break std::fs::read_to_string(p).unwrap();
        }
        assert!(std::time::Instant::now() < deadline, "no .eml file written");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    assert!(eml.contains("devmail@example.com"));
    let page = app
        .client
        .get(app.at("/_dev/mail"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("Confirm your email address"));
    assert!(page.contains(&format!("{}/verify/lkv_", app.url)));
}

#[tokio::test]
async fn the_dev_mail_page_does_not_exist_when_smtp_is_configured() {
    let app = spawn_app().await;
    let res = app.client.get(app.at("/_dev/mail")).send().await.unwrap();
    assert_eq!(res.status(), 404);
}

/// ASVS 4.0.3 V2.5.1: a copy of the database holds no live reset link. Mail bodies rest sealed
/// in the outbox, so the `lkp_` token in the mail that arrived is nowhere in the database
/// files, the write-ahead log included.
#[tokio::test]
async fn a_mailed_reset_link_is_not_readable_from_the_database() {
    let app = spawn_app().await;
    app.signup("sealed").await;
    let captcha = crate::recovery::solved(&app).await;
    let res = crate::recovery::recover(&app, "sealed@example.com", &captcha).await;
    assert_eq!(res.status(), 202);
    let mail = app
        .smtp
        .wait_for_subject("sealed@example.com", "Reset your Latchkey password")
        .await;
    let token = crate::helpers::link_token(&mail.text, "/reset/");
    assert!(token.starts_with("lkp_"));

    if app.engine == "sqlite" {
        let text = app.database_files_text();
        assert!(
            text.contains("$latchkey-argon2id$"),
            "the scan reads the right files"
        );
        assert!(
            !text.contains(&token),
            "the reset token is in the database files"
        );
        assert!(
            !text.contains("/reset/"),
            "a reset link is in the database files"
        );
    } else {
        let found = app
            .query_text(&format!(
                "SELECT CAST(COUNT(*) AS TEXT) FROM outbox WHERE text_body || html_body LIKE '%{token}%'
                 OR position(convert_to('{token}', 'UTF8') IN sealed_body) > 0"
            ))
            .await;
        assert_eq!(found, "0");
        let sealed = app
            .query_text(
                "SELECT CAST(COUNT(*) AS TEXT) FROM outbox
                 WHERE header_sealed IS NOT NULL AND sealed_body IS NOT NULL AND text_body = ''",
            )
            .await;
        assert_eq!(
            sealed, "2",
            "the confirmation and the reset mail are both sealed"
        );
    }
}

/// Delivery is at least once: a server that dies between the SMTP server's acceptance and
/// recording it sends the message again. Each message carries the id of its outbox row as its
/// `Message-ID`, so mail clients fold such a duplicate into one.
#[tokio::test]
async fn every_message_has_its_own_message_id_from_the_outbox() {
    let app = spawn_app().await;
    app.signup("one").await;
    app.signup("two").await;
    let one = &app.smtp.wait_for("one@example.com", 1).await[0];
    let two = &app.smtp.wait_for("two@example.com", 1).await[0];
    for mail in [one, two] {
        let (id, host) = mail.message_id.split_once('@').unwrap();
        assert!(id.parse::<uuid::Uuid>().is_ok(), "{}", mail.message_id);
        assert_eq!(host, "latchkey");
    }
    assert_ne!(one.message_id, two.message_id);
}

/// Delivered mail is deleted a week after delivery, the next time the outbox is drained.
#[tokio::test]
async fn delivered_mail_is_deleted_after_a_week() {
    let app = spawn_app().await;
    let delivered = "SELECT CAST(COUNT(*) AS TEXT) FROM outbox WHERE sent_at IS NOT NULL";
    let kept = "SELECT CAST(COUNT(*) AS TEXT) FROM outbox";
    let wait_until = async |sql: &str, want: &str, what: &str| {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while app.query_text(sql).await != want {
            assert!(std::time::Instant::now() < deadline, "{what}");
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    };
    app.signup("lastweek").await;
    app.smtp.wait_for("lastweek@example.com", 1).await;
    wait_until(delivered, "1", "delivery not recorded").await;

    app.pass_time(8 * 24 * 3600);
    app.signup("today").await;
    app.smtp.wait_for("today@example.com", 1).await;
    // Draining today's mail purged last week's: only today's is left.
    wait_until(kept, "1", "week-old mail not purged").await;

    app.pass_time(24 * 3600);
    app.signup("tomorrow").await;
    app.smtp.wait_for("tomorrow@example.com", 1).await;
    wait_until(delivered, "2", "tomorrow's delivery not recorded").await;
    assert_eq!(app.query_text(kept).await, "2", "recent mail stays");
}

/// ASVS 4.0.3 V2.5.1: mail with reset links leaves the machine only over TLS. A server told to
/// use plain SMTP to another host refuses to start; loopback relays stay allowed (the suite
/// uses one).
#[tokio::test]
async fn plain_smtp_to_another_host_is_refused() {
    latchkey::install_crypto_provider();
    let dir = tempfile::tempdir().unwrap();
    let config = latchkey::config::Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        data_dir: dir.path().join("data"),
        smtp_url: Some("smtp://relay:secret@mail.example.com:25".to_owned().into()),
        ..latchkey::config::Config::default()
    };
    let Err(e) = latchkey::app::Application::build(config).await else {
        panic!("a server with plain SMTP to another host started");
    };
    let message = format!("{e:#}");
    assert!(message.contains("tls=required"), "{message}");
    assert!(
        !message.contains("secret"),
        "the SMTP password is not echoed: {message}"
    );
}
