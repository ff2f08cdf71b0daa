//! What our mail says fits what happened: a confirmation for a changed address speaks of the
//! change, the goodbye of a deleted account sends nobody to it, news of a removal goes to the
//! person removed, and `/_dev/mail` links stop where the sentence's words begin.

use reqwest::Method;
use serde_json::json;

use crate::helpers::{PASSWORD, browser_like_client, page, spawn_app, spawn_app_with};
use crate::teams::{acme_with_ada_and_bob, verified};

#[tokio::test]
async fn the_confirmation_for_a_new_address_speaks_of_the_change() {
    let app = spawn_app().await;
    let token = app.signup("mover").await["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let signup = app.smtp.wait_for("mover@example.com", 1).await.remove(0);
    assert!(
        signup
            .text
            .contains("If you did not create a Latchkey account")
    );

    let body = json!({"new_email": "new@example.org", "password": PASSWORD});
    let res = app
        .api(Method::POST, "/api/v1/me/email", Some(&token), Some(&body))
        .await;
    assert_eq!(res.status(), 202);
    let confirm = app.smtp.wait_for("new@example.org", 1).await.remove(0);
    assert_eq!(confirm.subject, "Confirm your new email address");
    for (part, body) in [("text", &confirm.text), ("html", &confirm.html)] {
        assert!(!body.contains("create"), "{part}: {body}");
        assert!(
            body.contains("your new email address") && body.contains("did not ask to change"),
            "{part}: {body}"
        );
    }
}

#[tokio::test]
async fn the_goodbye_of_a_deleted_account_sends_nobody_to_the_account() {
    let app = spawn_app().await;
    let token = app.signup("leaving").await["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let body = json!({"password": PASSWORD, "confirm_username": "leaving"});
    let res = app
        .api(Method::DELETE, "/api/v1/me", Some(&token), Some(&body))
        .await;
    assert_eq!(res.status(), 204);
    let bye = app
        .smtp
        .wait_for_subject("leaving@example.com", "Your Latchkey account was deleted")
        .await;
    for (part, body) in [("text", &bye.text), ("html", &bye.html)] {
        for gone in [
            "/settings/sessions",
            "/forgot",
            "review your active sessions",
        ] {
            assert!(!body.contains(gone), "{part} mentions {gone}: {body}");
        }
        assert!(body.contains("If this was not you"), "{part}: {body}");
    }
}

#[tokio::test]
async fn a_removal_is_mailed_to_the_person_removed_and_the_other_admins() {
    let app = spawn_app().await;
    let (ada, _bob) = acme_with_ada_and_bob(&app).await;
    let cy = verified(&app, "cy", "cy@acme.test").await;
    let steps = [
        (Method::POST, "/api/v1/teams/acme/join", &cy, None),
        (
            Method::PATCH,
            "/api/v1/teams/acme/members/cy",
            &ada,
            Some(json!({"role": "admin"})),
        ),
        (Method::DELETE, "/api/v1/teams/acme/members/bob", &ada, None),
    ];
    for (method, path, token, body) in steps {
        let res = app.api(method, path, Some(token), body.as_ref()).await;
        assert!(res.status().is_success(), "{path}: {}", res.status());
    }

    let removed = app
        .smtp
        .wait_for_subject("bob@acme.test", "You were removed from Acme")
        .await;
    assert!(removed.text.contains("ada removed you from the team Acme"));
    let told = app.smtp.wait_for("cy@acme.test", 2).await;
    assert!(
        told.iter()
            .any(|m| m.text.contains("bob was removed from Acme")),
        "another admin hears of it"
    );
    // Everything queued has gone out, so a mail to ada would be here by now.
    let unsent = "SELECT CAST(COUNT(*) AS TEXT) FROM outbox WHERE sent_at IS NULL";
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while app.query_text(unsent).await != "0" {
        assert!(
            std::time::Instant::now() < deadline,
            "the outbox never emptied"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let to_ada: Vec<String> = app
        .smtp
        .all()
        .into_iter()
        .filter(|m| m.to == "ada@acme.test")
        .map(|m| m.text)
        .collect();
    assert!(
        !to_ada.iter().any(|t| t.contains("was removed from")),
        "the admin who removed bob is not told: {to_ada:?}"
    );
}

#[tokio::test]
async fn dev_mail_links_leave_the_full_stop_to_the_sentence() {
    let app = spawn_app_with(|c| c.smtp_url = None).await;
    let token = app.signup("dev").await["token"]
        .as_str()
        .unwrap()
        .to_owned();
    // The notice of a password change ends a sentence with the sessions link.
    let body = json!({"current_password": PASSWORD, "new_password": "another long passphrase 7"});
    let res = app
        .api(
            Method::POST,
            "/api/v1/me/password",
            Some(&token),
            Some(&body),
        )
        .await;
    assert_eq!(res.status(), 200);
    let (status, html) = page(&browser_like_client(), &app, "/_dev/mail").await;
    assert_eq!(status, 200);
    assert!(html.contains("/settings/sessions."), "the text keeps it");
    let sessions = format!("{}/settings/sessions", app.url);
    assert!(
        html.contains(&format!("<a href=\"{sessions}\">{sessions}</a>")),
        "{html}"
    );
    assert!(!html.contains("/settings/sessions.\""), "{html}");
    assert!(!html.contains("/settings/sessions.</a>"), "{html}");
}
