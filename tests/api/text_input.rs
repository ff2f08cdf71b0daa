//! Addresses and names as people type them: what no mail server would deliver to, and what
//! would make a name pass for another or reorder itself in a roster or a mail, is refused at
//! the door with a stable code. ASVS 4.0.3 V5.1.4 (structured data validated against allowed
//! characters and pattern, e-mail addresses named), 5.0 V2.2.1.

use reqwest::Method;
use serde_json::json;

use crate::helpers::{PASSWORD, TestApp, assert_problem, create_team, json_200, spawn_app};
use crate::teams::verified;

async fn sign_up(app: &TestApp, email: &str, username: &str) -> reqwest::Response {
    let body =
        json!({"email": email, "username": username, "password": PASSWORD, "accept_terms": true});
    app.api(Method::POST, "/api/v1/signup", None, Some(&body))
        .await
}

#[tokio::test]
async fn addresses_no_mail_server_would_deliver_to_are_refused() {
    let app = spawn_app().await;
    for email in [
        "a@b@corp.test",
        "\"a@b\"@corp.test",
        "kate@[127.0.0.1]",
        "kate@[IPv6:2001:db8::1]",
        "kate@192.0.2.1",
        // Zero-width space, word joiner, right-to-left override and a BOM in the local part.
        "ka\u{200B}te@corp.test",
        "kate\u{2060}@corp.test",
        "kate\u{202E}@corp.test",
        "\u{FEFF}kate@corp.test",
        // A zero-width joiner in the domain.
        "kate@co\u{200D}rp.test",
        // Latin with a Cyrillic а: one script at a time.
        "p\u{430}ypal@corp.test",
    ] {
        let res = sign_up(&app, email, "kate").await;
        let body = assert_problem(res, 422, "invalid_email").await;
        assert_eq!(body["errors"][0]["field"], "email", "{email:?}: {body}");
    }
    // What real people have keeps working: tags, apostrophes, an internationalised domain, and
    // a local part in one script other than Latin.
    for (email, username) in [
        ("o'brien+news@corp.test", "obrien"),
        ("kate@bücher.example", "kate"),
        ("δοκιμή@παράδειγμα.example", "dokimi"),
    ] {
        assert_eq!(
            sign_up(&app, email, username).await.status(),
            201,
            "{email}"
        );
    }
}

/// Names as they show in rosters, invitations and mail: a right-to-left override, zero-width
/// and invisible characters, a line separator or a BOM in a display or team name is refused,
/// whichever way it arrives.
#[tokio::test]
async fn names_that_hide_characters_or_reorder_themselves_are_refused() {
    const SPOOFS: [&str; 7] = [
        "Ada\u{202E}nimda",
        "Ad\u{200B}a",
        "A\u{200D}da",
        "Ada\u{2028}Lovelace",
        "\u{FEFF}Ada",
        "Ada \u{2067}Admin\u{2069}",
        "Ada\u{3164}",
    ];
    let app = spawn_app().await;
    for name in SPOOFS {
        let body = json!({"email": "new@corp.test", "username": "new", "password": PASSWORD, "accept_terms": true, "name": name});
        let res = app
            .api(Method::POST, "/api/v1/signup", None, Some(&body))
            .await;
        assert_problem(res, 422, "invalid_name").await;
    }
    let ada = verified(&app, "ada", "ada@corp.test").await;
    assert_eq!(create_team(&app, &ada, "Acme", "acme").await.status(), 201);
    for name in SPOOFS {
        let body = json!({ "name": name });
        let res = app
            .api(Method::PATCH, "/api/v1/me/profile", Some(&ada), Some(&body))
            .await;
        assert_problem(res, 422, "invalid_name").await;
        let res = create_team(&app, &ada, name, "spoof").await;
        assert_problem(res, 422, "invalid_team_name").await;
        let res = app
            .api(Method::PATCH, "/api/v1/teams/acme", Some(&ada), Some(&body))
            .await;
        assert_problem(res, 422, "invalid_team_name").await;
    }
    // Names in any script, emoji made of several code points included, stay welcome.
    for name in [
        "Zoë Ça-Va",
        "محمد علي",
        "李小龍",
        "Ada \u{1F5DD}\u{FE0F}",
        "\u{1F469}\u{1F3FD}\u{200D}\u{1F4BB} Ada",
    ] {
        let body = json!({ "name": name });
        let res = app
            .api(Method::PATCH, "/api/v1/me/profile", Some(&ada), Some(&body))
            .await;
        assert_eq!(json_200(res, name).await["name"], name);
        let res = app
            .api(Method::PATCH, "/api/v1/teams/acme", Some(&ada), Some(&body))
            .await;
        assert_eq!(json_200(res, name).await["name"], name);
    }
}
