//! Teams over the API: discovery by company domain, invitations, join requests, roles, and
//! the access matrix. ASVS 4.0.3 V4.1.3 (least privilege), V4.2.1 (no access to others'
//! records by changing an id), V4.1.5 (access control fails closed).

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{PASSWORD, TestApp, assert_problem, create_team, invite, link_token};

/// Signs up with `email`, confirms it from the mail, returns a bearer token.
pub async fn verified(app: &TestApp, username: &str, email: &str) -> String {
    let res = app
        .post_json("/api/v1/signup", &json!({"email": email, "username": username, "password": PASSWORD, "accept_terms": true}))
        .await;
    assert_eq!(res.status(), 201);
    let token = res.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let link = app.verification_token(email).await;
    app.post_json("/api/v1/email-verifications", &json!({"token": link}))
        .await
        .error_for_status()
        .unwrap();
    token
}

/// Team `acme`: ada (admin) created it and turned discovery on; bob (member) joined.
pub async fn acme_with_ada_and_bob(app: &TestApp) -> (String, String) {
    let ada = verified(app, "ada", "ada@acme.test").await;
    let bob = verified(app, "bob", "bob@acme.test").await;
    let steps = [
        (
            Method::POST,
            "/api/v1/teams",
            &ada,
            Some(json!({"name": "Acme", "slug": "acme"})),
        ),
        (
            Method::PATCH,
            "/api/v1/teams/acme",
            &ada,
            Some(json!({"discovery_enabled": true})),
        ),
        (Method::POST, "/api/v1/teams/acme/join", &bob, None),
    ];
    for (method, path, token, body) in steps {
        assert!(
            app.api(method, path, Some(token), body.as_ref())
                .await
                .status()
                .is_success(),
            "{path}"
        );
    }
    (ada, bob)
}

async fn names(res: reqwest::Response, field: &str) -> Vec<String> {
    assert_eq!(res.status(), 200);
    let list: Vec<Value> = res.json().await.unwrap();
    list.iter()
        .map(|v| v[field].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn two_people_on_one_company_domain_find_and_join_one_team() {
    let app = crate::helpers::spawn_app().await;
    let unverified = app.signup("newbie").await["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let res = create_team(&app, &unverified, "X", "xx").await;
    assert_problem(res, 403, "email_unverified").await;

    let ada = verified(&app, "ada", "ada@acme.test").await;
    let res = create_team(&app, &ada, "Acme QA", "acme-qa").await;
    assert_eq!(res.status(), 201);
    let team: Value = res.json().await.unwrap();
    assert_eq!(team["role"], "admin");
    assert_eq!(team["discovery_enabled"], false);
    let res = create_team(&app, &ada, "Again", "acme-qa").await;
    assert_problem(res, 409, "slug_taken").await;
    let res = create_team(&app, &ada, "Bad", "settings").await;
    assert_problem(res, 422, "slug_reserved").await;

    let bob = verified(&app, "bob", "bob@ACME.test").await;
    assert!(
        names(
            app.api(Method::GET, "/api/v1/teams/discoverable", Some(&bob), None)
                .await,
            "slug"
        )
        .await
        .is_empty()
    );
    assert_problem(
        app.api(Method::POST, "/api/v1/teams/acme-qa/join", Some(&bob), None)
            .await,
        404,
        "not_found",
    )
    .await;

    let res = app
        .api(
            Method::PATCH,
            "/api/v1/teams/acme-qa",
            Some(&ada),
            Some(&json!({"discovery_enabled": true})),
        )
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.json::<Value>().await.unwrap()["discovery_domain"],
        "acme.test"
    );
    assert_eq!(
        names(
            app.api(Method::GET, "/api/v1/teams/discoverable", Some(&bob), None)
                .await,
            "slug"
        )
        .await,
        ["acme-qa"]
    );
    let res = app
        .api(Method::POST, "/api/v1/teams/acme-qa/join", Some(&bob), None)
        .await;
    assert_eq!(res.status(), 201);
    assert_eq!(
        names(
            app.api(
                Method::GET,
                "/api/v1/teams/acme-qa/members",
                Some(&bob),
                None
            )
            .await,
            "username"
        )
        .await,
        ["ada", "bob"]
    );
    let news = app.smtp.wait_for("ada@acme.test", 2).await.pop().unwrap();
    assert!(news.text.contains("bob joined Acme QA"), "{}", news.text);

    // Someone on another domain never sees it.
    let eve = verified(&app, "eve", "eve@other.test").await;
    assert!(
        names(
            app.api(Method::GET, "/api/v1/teams/discoverable", Some(&eve), None)
                .await,
            "slug"
        )
        .await
        .is_empty()
    );
    assert_problem(
        app.api(Method::POST, "/api/v1/teams/acme-qa/join", Some(&eve), None)
            .await,
        404,
        "not_found",
    )
    .await;
}

#[tokio::test]
async fn free_mail_domains_can_never_be_discoverable() {
    let app = crate::helpers::spawn_app().await;
    let carol = verified(&app, "carol", "carol@gmail.com").await;
    create_team(&app, &carol, "Carol's", "carols").await;
    let res = app
        .api(
            Method::PATCH,
            "/api/v1/teams/carols",
            Some(&carol),
            Some(&json!({"discovery_enabled": true})),
        )
        .await;
    assert_problem(res, 422, "free_mail_domain").await;
}

#[tokio::test]
async fn teams_that_need_approval_take_requests() {
    let app = crate::helpers::spawn_app().await;
    let ada = verified(&app, "ada", "ada@corp.test").await;
    create_team(&app, &ada, "Corp", "corp").await;
    app.api(
        Method::PATCH,
        "/api/v1/teams/corp",
        Some(&ada),
        Some(&json!({"discovery_enabled": true, "join_policy": "approval"})),
    )
    .await;
    let bob = verified(&app, "bob", "bob@corp.test").await;
    let res = app
        .api(Method::POST, "/api/v1/teams/corp/join", Some(&bob), None)
        .await;
    assert_eq!(res.status(), 202);
    assert_eq!(res.json::<Value>().await.unwrap()["status"], "requested");
    assert_problem(
        app.api(Method::GET, "/api/v1/teams/corp", Some(&bob), None)
            .await,
        404,
        "not_found",
    )
    .await;
    assert_eq!(
        names(
            app.api(
                Method::GET,
                "/api/v1/teams/corp/join-requests",
                Some(&ada),
                None
            )
            .await,
            "username"
        )
        .await,
        ["bob"]
    );
    assert_eq!(
        app.api(
            Method::POST,
            "/api/v1/teams/corp/join-requests/bob",
            Some(&ada),
            None
        )
        .await
        .status(),
        204
    );
    assert_eq!(
        app.api(Method::GET, "/api/v1/teams/corp", Some(&bob), None)
            .await
            .status(),
        200
    );
}

#[tokio::test]
async fn an_invitation_brings_in_an_outside_collaborator_even_without_an_account() {
    let app = crate::helpers::spawn_app().await;
    let ada = verified(&app, "ada", "ada@acme.test").await;
    create_team(&app, &ada, "Acme", "acme").await;
    let res = invite(&app, &ada, "acme", "Guest@Freelance.test", "member").await;
    assert_eq!(res.status(), 201);
    let mail = app
        .smtp
        .wait_for("guest@freelance.test", 1)
        .await
        .pop()
        .unwrap();
    assert_eq!(mail.subject, "ada invited you to Acme on Latchkey");
    let token = link_token(&mail.text, "/invitations/");
    assert!(token.starts_with("lki_"));

    // Someone else cannot use it.
    let mallory = verified(&app, "mallory", "mallory@other.test").await;
    let res = app
        .api(
            Method::POST,
            &format!("/api/v1/invitations/{token}/accept"),
            Some(&mallory),
            None,
        )
        .await;
    assert_problem(res, 403, "invitation_email_mismatch").await;

    // Signing up through the link with the invited address joins and confirms at once.
    let res = app
        .post_json(
            "/api/v1/signup",
            &json!({"email": "guest@freelance.test", "username": "guest", "password": PASSWORD, "accept_terms": true, "invitation": token}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["user"]["email_verified"], true);
    let guest = body["token"].as_str().unwrap();
    let teams: Vec<Value> = app
        .api(Method::GET, "/api/v1/teams", Some(guest), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(teams[0]["slug"], "acme");
    assert_eq!(teams[0]["role"], "member");
    let res = app
        .api(
            Method::POST,
            &format!("/api/v1/invitations/{token}/accept"),
            Some(guest),
            None,
        )
        .await;
    assert_problem(res, 400, "invalid_token").await;
}

#[tokio::test]
async fn invitations_are_listed_resent_revoked_and_accepted_once() {
    let app = crate::helpers::spawn_app().await;
    let ada = verified(&app, "ada", "ada@acme.test").await;
    let dan = verified(&app, "dan", "dan@acme.test").await;
    create_team(&app, &ada, "Acme", "acme").await;
    let inv: Value = invite(&app, &ada, "acme", "dan@acme.test", "billing")
        .await
        .json()
        .await
        .unwrap();
    let id = inv["id"].as_str().unwrap();
    assert_eq!(
        names(
            app.api(
                Method::GET,
                "/api/v1/teams/acme/invitations",
                Some(&ada),
                None
            )
            .await,
            "email"
        )
        .await,
        ["dan@acme.test"]
    );
    let first = link_token(
        &app.smtp.wait_for("dan@acme.test", 2).await[1].text,
        "/invitations/",
    );
    assert_eq!(
        app.api(
            Method::POST,
            &format!("/api/v1/teams/acme/invitations/{id}/resend"),
            Some(&ada),
            None
        )
        .await
        .status(),
        200
    );
    let second = link_token(
        &app.smtp.wait_for("dan@acme.test", 3).await[2].text,
        "/invitations/",
    );
    let res = app
        .api(
            Method::POST,
            &format!("/api/v1/invitations/{first}/accept"),
            Some(&dan),
            None,
        )
        .await;
    assert_problem(res, 400, "invalid_token").await;
    let res = app
        .api(
            Method::POST,
            &format!("/api/v1/invitations/{second}/accept"),
            Some(&dan),
            None,
        )
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.json::<Value>().await.unwrap()["role"], "billing");

    let inv: Value = invite(&app, &ada, "acme", "later@x.test", "member")
        .await
        .json()
        .await
        .unwrap();
    let res = app
        .api(
            Method::DELETE,
            &format!(
                "/api/v1/teams/acme/invitations/{}",
                inv["id"].as_str().unwrap()
            ),
            Some(&ada),
            None,
        )
        .await;
    assert_eq!(res.status(), 204);
    let revoked = link_token(
        &app.smtp.wait_for("later@x.test", 1).await[0].text,
        "/invitations/",
    );
    let later = verified(&app, "later", "later@x.test").await;
    let res = app
        .api(
            Method::POST,
            &format!("/api/v1/invitations/{revoked}/accept"),
            Some(&later),
            None,
        )
        .await;
    assert_problem(res, 400, "invalid_token").await;
    let res = invite(&app, &ada, "acme", "dan@acme.test", "member").await;
    assert_problem(res, 409, "already_member").await;
}

#[tokio::test]
async fn the_last_admin_is_protected_and_deletion_waits_for_leaving() {
    let app = crate::helpers::spawn_app().await;
    let (ada, bob) = acme_with_ada_and_bob(&app).await;

    assert_problem(
        app.api(Method::POST, "/api/v1/teams/acme/leave", Some(&ada), None)
            .await,
        409,
        "last_admin",
    )
    .await;
    let res = app
        .api(
            Method::PATCH,
            "/api/v1/teams/acme/members/ada",
            Some(&ada),
            Some(&json!({"role": "member"})),
        )
        .await;
    assert_problem(res, 409, "last_admin").await;
    let res = app
        .api(
            Method::PATCH,
            "/api/v1/teams/acme/members/bob",
            Some(&bob),
            Some(&json!({"role": "admin"})),
        )
        .await;
    assert_problem(res, 403, "forbidden").await;

    let del = json!({"password": PASSWORD, "confirm_username": "bob"});
    let res = app
        .api(Method::DELETE, "/api/v1/me", Some(&bob), Some(&del))
        .await;
    let body = assert_problem(res, 409, "leave_teams_first").await;
    assert_eq!(body["teams"], json!(["acme"]));
    assert_eq!(
        app.api(Method::POST, "/api/v1/teams/acme/leave", Some(&bob), None)
            .await
            .status(),
        204
    );
    assert_eq!(
        app.api(Method::DELETE, "/api/v1/me", Some(&bob), Some(&del))
            .await
            .status(),
        204
    );

    let res = app
        .api(
            Method::DELETE,
            "/api/v1/teams/acme",
            Some(&ada),
            Some(&json!({"confirm_slug": "wrong"})),
        )
        .await;
    assert_problem(res, 422, "confirmation_mismatch").await;
    assert_eq!(
        app.api(
            Method::DELETE,
            "/api/v1/teams/acme",
            Some(&ada),
            Some(&json!({"confirm_slug": "acme"}))
        )
        .await
        .status(),
        204
    );
    assert!(
        names(
            app.api(Method::GET, "/api/v1/teams", Some(&ada), None)
                .await,
            "slug"
        )
        .await
        .is_empty()
    );
}

/// Every team endpoint, for each kind of caller: anonymous (401), not a member (404: the team
/// stays invisible), member (reads yes, admin actions 403), admin (allowed).
#[tokio::test]
async fn every_team_endpoint_checks_membership_and_role() {
    let app = crate::helpers::spawn_app().await;
    let admin = verified(&app, "boss", "boss@acme.test").await;
    let member = verified(&app, "worker", "worker@acme.test").await;
    let outsider = verified(&app, "outsider", "outsider@elsewhere.test").await;
    create_team(&app, &admin, "Acme", "acme").await;
    invite(&app, &admin, "acme", "worker@acme.test", "member").await;
    let token = link_token(
        &app.smtp.wait_for("worker@acme.test", 2).await[1].text,
        "/invitations/",
    );
    app.api(
        Method::POST,
        &format!("/api/v1/invitations/{token}/accept"),
        Some(&member),
        None,
    )
    .await
    .error_for_status()
    .unwrap();
    let inv: Value = invite(&app, &admin, "acme", "x@y.test", "member")
        .await
        .json()
        .await
        .unwrap();
    let inv_id = inv["id"].as_str().unwrap().to_owned();

    // (method, path, body, member may?)
    let endpoints: Vec<(Method, String, Option<Value>, bool)> = vec![
        (Method::GET, "/api/v1/teams/acme".into(), None, true),
        (Method::GET, "/api/v1/teams/acme/members".into(), None, true),
        (
            Method::PATCH,
            "/api/v1/teams/acme".into(),
            Some(json!({"name": "Renamed"})),
            false,
        ),
        (
            Method::GET,
            "/api/v1/teams/acme/invitations".into(),
            None,
            false,
        ),
        (
            Method::POST,
            "/api/v1/teams/acme/invitations".into(),
            Some(json!({"email": "z@y.test", "role": "member"})),
            false,
        ),
        (
            Method::POST,
            format!("/api/v1/teams/acme/invitations/{inv_id}/resend"),
            None,
            false,
        ),
        (
            Method::GET,
            "/api/v1/teams/acme/join-requests".into(),
            None,
            false,
        ),
        (
            Method::PATCH,
            "/api/v1/teams/acme/members/boss".into(),
            Some(json!({"role": "member"})),
            false,
        ),
        (
            Method::DELETE,
            "/api/v1/teams/acme/members/boss".into(),
            None,
            false,
        ),
        (
            Method::DELETE,
            format!("/api/v1/teams/acme/invitations/{inv_id}"),
            None,
            false,
        ),
        (
            Method::DELETE,
            "/api/v1/teams/acme".into(),
            Some(json!({"confirm_slug": "acme"})),
            false,
        ),
    ];
    for (method, path, body, member_may) in &endpoints {
        let anon = app
            .api(method.clone(), path, None, body.clone().as_ref())
            .await;
        assert_eq!(anon.status(), 401, "anonymous {method} {path}");
        let out = app
            .api(method.clone(), path, Some(&outsider), body.clone().as_ref())
            .await;
        assert_eq!(out.status(), 404, "outsider {method} {path}");
        let mem = app
            .api(method.clone(), path, Some(&member), body.clone().as_ref())
            .await;
        let expected = if *member_may { 200 } else { 403 };
        assert_eq!(mem.status(), expected, "member {method} {path}");
    }
    // Nothing changed: the name, the roster and the invitation are as they were.
    let team: Value = app
        .api(Method::GET, "/api/v1/teams/acme", Some(&admin), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(team["name"], "Acme");
    assert_eq!(
        names(
            app.api(
                Method::GET,
                "/api/v1/teams/acme/members",
                Some(&admin),
                None
            )
            .await,
            "role"
        )
        .await,
        ["admin", "member"]
    );
    assert_eq!(
        names(
            app.api(
                Method::GET,
                "/api/v1/teams/acme/invitations",
                Some(&admin),
                None
            )
            .await,
            "email"
        )
        .await,
        ["x@y.test"]
    );
    // The admin may do what the member may not.
    let res = app
        .api(
            Method::PATCH,
            "/api/v1/teams/acme",
            Some(&admin),
            Some(&json!({"name": "Renamed"})),
        )
        .await;
    assert_eq!(res.status(), 200);
}

/// Two admins demoting each other at the same moment: one wins, the other hears `last_admin`,
/// and the team is never left without an admin (nor does either get a 500).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_demotions_leave_one_admin() {
    let app = crate::helpers::spawn_app().await;
    let (ada, bob) = acme_with_ada_and_bob(&app).await;
    app.api(
        Method::PATCH,
        "/api/v1/teams/acme/members/bob",
        Some(&ada),
        Some(&json!({"role": "admin"})),
    )
    .await;

    for _ in 0..3 {
        let member = json!({"role": "member"});
        let (a, b) = tokio::join!(
            app.api(
                Method::PATCH,
                "/api/v1/teams/acme/members/bob",
                Some(&ada),
                Some(&member)
            ),
            app.api(
                Method::PATCH,
                "/api/v1/teams/acme/members/ada",
                Some(&bob),
                Some(&member)
            ),
        );
        let mut statuses = [a.status().as_u16(), b.status().as_u16()];
        statuses.sort_unstable();
        let members: Vec<Value> = app
            .api(Method::GET, "/api/v1/teams/acme/members", Some(&ada), None)
            .await
            .json()
            .await
            .unwrap();
        let admins = members.iter().filter(|m| m["role"] == "admin").count();
        assert_eq!(admins, 1, "{statuses:?} {members:?}");
        assert!(
            statuses == [204, 409] || statuses == [204, 403],
            "{statuses:?}"
        );
        // Make both admins again for the next round.
        let admin = if members
            .iter()
            .any(|m| m["username"] == "ada" && m["role"] == "admin")
        {
            &ada
        } else {
            &bob
        };
        for name in ["ada", "bob"] {
            app.api(
                Method::PATCH,
                &format!("/api/v1/teams/acme/members/{name}"),
                Some(admin),
                Some(&json!({"role": "admin"})),
            )
            .await;
        }
    }
}

/// A refused deletion spends nothing: teams are checked before any two-factor code is used.
#[tokio::test]
async fn a_deletion_refused_for_teams_spends_no_recovery_code() {
    let app = crate::helpers::spawn_app().await;
    let token = verified(&app, "coder", "coder@acme.test").await;
    create_team(&app, &token, "Acme", "acme").await;
    let (_, token, codes) = crate::mfa::enable_2fa(&app, &token).await;
    let (token, recovery) = (token.as_str(), codes[0].as_str());
    let res = app
        .api(
            Method::DELETE,
            "/api/v1/me",
            Some(token),
            Some(&json!({"password": PASSWORD, "confirm_username": "coder", "code": recovery})),
        )
        .await;
    assert_problem(res, 409, "leave_teams_first").await;
    let status: Value = app
        .api(Method::GET, "/api/v1/me/mfa", Some(token), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(status["recovery_codes_left"], 10);
}
