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
