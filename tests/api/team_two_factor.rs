//! A team can require two-factor authentication of its admins, as a GitHub organization can.
//! ASVS 4.0.3 V4.3.1 (administrative interfaces use MFA).

use reqwest::Method;
use serde_json::json;

use crate::helpers::{assert_problem, post_form, spawn_app};
use crate::mfa::enable_2fa;
use crate::teams::acme_with_ada_and_bob;

#[tokio::test]
async fn a_team_that_requires_two_factor_refuses_admins_without_it() {
    let app = spawn_app().await;
    let (ada, bob) = acme_with_ada_and_bob(&app).await;
    let require = json!({"require_2fa": true});

    // Nobody can require of others what they do not use themselves.
    let res = app
        .api(
            Method::PATCH,
            "/api/v1/teams/acme",
            Some(&ada),
            Some(&require),
        )
        .await;
    assert_problem(res, 403, "two_factor_required").await;
    let (_, ada, _) = enable_2fa(&app, &ada).await;
    let res = app
        .api(
            Method::PATCH,
            "/api/v1/teams/acme",
            Some(&ada),
            Some(&require),
        )
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.json::<serde_json::Value>().await.unwrap()["require_2fa"],
        true
    );

    let res = app
        .api(
            Method::PATCH,
            "/api/v1/teams/acme/members/bob",
            Some(&ada),
            Some(&json!({"role": "admin"})),
        )
        .await;
    assert_eq!(res.status(), 204);

    // Bob is an admin now, but without 2FA no admin action is his...
    let attempts = [
        (
            Method::PATCH,
            "/api/v1/teams/acme",
            Some(json!({"name": "Bob's"})),
        ),
        (
            Method::POST,
            "/api/v1/teams/acme/invitations",
            Some(json!({"email": "eve@elsewhere.test", "role": "admin"})),
        ),
        (Method::GET, "/api/v1/teams/acme/invitations", None),
        (Method::GET, "/api/v1/teams/acme/join-requests", None),
        (
            Method::PATCH,
            "/api/v1/teams/acme/members/ada",
            Some(json!({"role": "member"})),
        ),
        (Method::DELETE, "/api/v1/teams/acme/members/ada", None),
        (
            Method::DELETE,
            "/api/v1/teams/acme",
            Some(json!({"confirm_slug": "acme"})),
        ),
    ];
    for (method, path, body) in attempts {
        let res = app
            .api(method.clone(), path, Some(&bob), body.as_ref())
            .await;
        assert_problem(res, 403, "two_factor_required").await;
    }
    // ...while what members may do still works, and nothing changed.
    let team = app
        .api(Method::GET, "/api/v1/teams/acme", Some(&bob), None)
        .await;
    assert_eq!(team.status(), 200);
    let team: serde_json::Value = team.json().await.unwrap();
    assert_eq!(team["name"], "Acme");
    assert_eq!(team["role"], "admin");
    let invitations = app
        .api(
            Method::GET,
            "/api/v1/teams/acme/invitations",
            Some(&ada),
            None,
        )
        .await;
    assert_eq!(
        invitations.json::<serde_json::Value>().await.unwrap(),
        json!([])
    );

    // With 2FA on, Bob acts as an admin again.
    let (_, bob, _) = enable_2fa(&app, &bob).await;
    let res = app
        .api(
            Method::PATCH,
            "/api/v1/teams/acme",
            Some(&bob),
            Some(&json!({"name": "Acme Corp"})),
        )
        .await;
    assert_eq!(res.status(), 200);
}

/// The settings page offers the switch, and explains a refusal in words.
#[tokio::test]
async fn the_team_settings_page_explains_why_it_cannot_require_two_factor_yet() {
    let app = spawn_app().await;
    let (ada, _) = acme_with_ada_and_bob(&app).await;
    let browser = crate::helpers::signed_in_browser(&app, "ada").await;
    let (_, html) = crate::helpers::page(&browser, &app, "/teams/acme/settings").await;
    assert!(html.contains("name=\"require_2fa\""));
    let fields = [
        ("name", "Acme"),
        ("join_policy", "open"),
        ("require_2fa", "on"),
    ];
    let res = post_form(&browser, &app, "/teams/acme/settings", &html, &fields).await;
    assert_eq!(res.status(), 422);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("two-factor authentication")
    );
    let team = app
        .api(Method::GET, "/api/v1/teams/acme", Some(&ada), None)
        .await;
    let team: serde_json::Value = team.json().await.unwrap();
    assert_eq!(team["require_2fa"], false, "nothing was saved");
}
