//! The team pages, driven as a browser without JavaScript would.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{
    PASSWORD, browser_like_client, create_team, link_token, page, post_form, signed_in_browser,
    spawn_app, submit, submit_here,
};
use crate::teams::verified;

#[tokio::test]
async fn onboarding_offers_the_company_team_and_the_header_switches_to_it() {
    let app = spawn_app().await;
    let ada = verified(&app, "ada", "ada@acme.test").await;
    create_team(&app, &ada, "Acme Eng", "acme-eng").await;
    app.api(
        Method::PATCH,
        "/api/v1/teams/acme-eng",
        Some(&ada),
        Some(&json!({"discovery_enabled": true})),
    )
    .await;
    verified(&app, "bob", "bob@acme.test").await;

    let bob = signed_in_browser(&app, "bob").await;
    let (_, html) = page(&bob, &app, "/welcome/team").await;
    assert!(
        html.contains("Teams at acme.test") && html.contains("Acme Eng"),
        "{html}"
    );
    let res = post_form(&bob, &app, "/teams/acme-eng/join", &html, &[]).await;
    assert_eq!(res.headers()["location"], "/teams/acme-eng");
    let (status, html) = page(&bob, &app, "/teams/acme-eng").await;
    assert_eq!(status, 200);
    assert!(
        html.contains("href=\"/teams/acme-eng\">Acme Eng</a>"),
        "the switcher lists the team"
    );
    let (_, roster) = page(&bob, &app, "/teams/acme-eng/members").await;
    assert!(roster.contains("/u/ada") && roster.contains("/u/bob"));
    assert!(
        !roster.contains("Invite someone"),
        "members do not see admin tools"
    );
    let (status, _) = page(&bob, &app, "/teams/acme-eng/settings").await;
    assert_eq!(status, 403);
}

#[tokio::test]
async fn an_invited_newcomer_signs_up_through_the_link_and_lands_in_the_team() {
    let app = spawn_app().await;
    verified(&app, "ada", "ada@acme.test").await;
    let admin = signed_in_browser(&app, "ada").await;
    let res = submit_here(
        &admin,
        &app,
        "/teams/new",
        &[("name", "Acme"), ("slug", "acme")],
    )
    .await;
    assert_eq!(res.headers()["location"], "/teams/acme");
    let res = submit(
        &admin,
        &app,
        "/teams/acme/members",
        "/teams/acme/invitations",
        &[("email", "new@guest.test"), ("role", "member")],
    )
    .await;
    assert_eq!(res.status(), 303);
    let (_, html) = page(&admin, &app, "/teams/acme/members").await;
    assert!(html.contains("new@guest.test") && html.contains("Pending invitations"));

    let token = link_token(
        &app.smtp.wait_for("new@guest.test", 1).await[0].text,
        "/invitations/",
    );
    let newcomer = browser_like_client();
    let (_, html) = page(&newcomer, &app, &format!("/invitations/{token}")).await;
    assert!(html.contains("Create an account with new@guest.test"));
    let (_, html) = page(
        &newcomer,
        &app,
        &format!("/signup?invitation={token}&email=new@guest.test"),
    )
    .await;
    assert!(
        html.contains("value=\"new@guest.test\"") && html.contains(&format!("value=\"{token}\""))
    );
    let res = post_form(
        &newcomer,
        &app,
        "/signup",
        &html,
        &[
            ("invitation", token.as_str()),
            ("email", "new@guest.test"),
            ("username", "newcomer"),
            ("password", PASSWORD),
            ("accept_terms", "on"),
        ],
    )
    .await;
    assert_eq!(res.status(), 303);
    let teams: Vec<Value> = newcomer
        .get(app.at("/api/v1/teams"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(teams[0]["slug"], "acme");
    let (status, _) = page(&newcomer, &app, "/teams/acme").await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn team_settings_refuse_free_mail_discovery_and_outsiders_see_nothing() {
    let app = spawn_app().await;
    let carol = verified(&app, "carol", "carol@gmail.com").await;
    create_team(&app, &carol, "Carol Co", "carol-co").await;
    let c = signed_in_browser(&app, "carol").await;
    let res = submit_here(
        &c,
        &app,
        "/teams/carol-co/settings",
        &[
            ("name", "Carol Co"),
            ("discovery", "on"),
            ("join_policy", "open"),
        ],
    )
    .await;
    assert_eq!(res.status(), 422);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("anyone can have an address there")
    );

    verified(&app, "stranger", "stranger@else.test").await;
    let s = signed_in_browser(&app, "stranger").await;
    for path in [
        "/teams/carol-co",
        "/teams/carol-co/members",
        "/teams/carol-co/settings",
    ] {
        let (status, html) = page(&s, &app, path).await;
        assert_eq!(status, 404, "{path}");
        assert!(!html.contains("Carol Co"));
        // The page keeps the signed-in navigation: the person is signed in, just not a member.
        assert!(html.contains("Sign out"), "{path}");
    }
}

#[tokio::test]
async fn roles_change_on_the_members_page_and_the_last_admin_stays() {
    let app = spawn_app().await;
    let (ada, _bob) = crate::teams::acme_with_ada_and_bob(&app).await;

    let admin = signed_in_browser(&app, "ada").await;
    let (_, html) = page(&admin, &app, "/teams/acme/members").await;
    let res = post_form(
        &admin,
        &app,
        "/teams/acme/members/ada/role",
        &html,
        &[("role", "member")],
    )
    .await;
    // The API's status for `last_admin`, on the page too: the members page, beside the action.
    assert_last_admin_said_on_the_members_page(res).await;
    let res = post_form(
        &admin,
        &app,
        "/teams/acme/members/bob/role",
        &html,
        &[("role", "admin")],
    )
    .await;
    assert_eq!(res.status(), 303);
    let roles: Vec<Value> = app
        .api(Method::GET, "/api/v1/teams/acme/members", Some(&ada), None)
        .await
        .json()
        .await
        .unwrap();
    assert!(roles.iter().all(|m| m["role"] == "admin"), "{roles:?}");
}

#[tokio::test]
async fn the_teams_page_lists_mine_and_those_of_my_domain_to_join() {
    let app = spawn_app().await;
    let ada = verified(&app, "ada", "ada@acme.test").await;
    create_team(&app, &ada, "Acme Eng", "acme-eng").await;
    create_team(&app, &ada, "Acme Ops", "acme-ops").await;
    for slug in ["acme-eng", "acme-ops"] {
        app.api(
            Method::PATCH,
            &format!("/api/v1/teams/{slug}"),
            Some(&ada),
            Some(&json!({"discovery_enabled": true})),
        )
        .await
        .error_for_status()
        .unwrap();
    }
    verified(&app, "bob", "bob@acme.test").await;
    let bob = signed_in_browser(&app, "bob").await;

    // Found from any page, long after onboarding: the header's Teams menu leads there.
    let (_, home) = page(&bob, &app, "/").await;
    assert!(home.contains("<a href=\"/teams\">"), "{home}");
    let (status, html) = page(&bob, &app, "/teams").await;
    assert_eq!(status, 200);
    assert!(html.contains("You are not in a team yet."), "{html}");
    assert!(
        html.contains("Teams at acme.test you can join")
            && html.contains("Acme Eng")
            && html.contains("action=\"/teams/acme-ops/join\""),
        "{html}"
    );
    let res = post_form(&bob, &app, "/teams/acme-eng/join", &html, &[]).await;
    assert_eq!(res.headers()["location"], "/teams/acme-eng");

    let (_, html) = page(&bob, &app, "/teams").await;
    assert!(
        html.contains("href=\"/teams/acme-eng\"><strong>Acme Eng</strong></a>")
            && html.contains("/teams/acme-eng · member"),
        "{html}"
    );
    assert!(!html.contains("/teams/acme-eng/join"), "joined: {html}");
    assert!(html.contains("/teams/acme-ops/join"), "{html}");

    let admin = signed_in_browser(&app, "ada").await;
    let (_, html) = page(&admin, &app, "/teams").await;
    assert!(
        html.contains("/teams/acme-eng · admin") && html.contains("/teams/acme-ops · admin"),
        "{html}"
    );
    assert!(
        html.contains("No other team at acme.test can be found yet."),
        "{html}"
    );
}

/// The members page of `acme`, saying that the team needs an admin, with the API's status.
async fn assert_last_admin_said_on_the_members_page(res: reqwest::Response) -> String {
    assert_eq!(res.status(), 409);
    let html = res.text().await.unwrap();
    assert!(
        html.contains("<h1>Acme: members</h1>") && html.contains("needs an admin"),
        "{html}"
    );
    assert!(html.contains("role=\"alert\""), "{html}");
    html
}

async fn roles(app: &crate::helpers::TestApp, token: &str) -> Vec<(String, String)> {
    let members: Vec<Value> = app
        .api(Method::GET, "/api/v1/teams/acme/members", Some(token), None)
        .await
        .json()
        .await
        .unwrap();
    members
        .iter()
        .map(|m| {
            let field = |f: &str| m[f].as_str().unwrap().to_owned();
            (field("username"), field("role"))
        })
        .collect()
}

#[tokio::test]
async fn the_last_admin_leaving_or_removed_hears_why_on_the_members_page() {
    let app = spawn_app().await;
    let (ada, _bob) = crate::teams::acme_with_ada_and_bob(&app).await;
    let admin = signed_in_browser(&app, "ada").await;

    let res = submit(&admin, &app, "/teams/acme", "/teams/acme/leave", &[]).await;
    assert_last_admin_said_on_the_members_page(res).await;
    let res = submit(
        &admin,
        &app,
        "/teams/acme",
        "/teams/acme/leave",
        &[("confirmed", "yes")],
    )
    .await;
    let html = assert_last_admin_said_on_the_members_page(res).await;
    let res = post_form(&admin, &app, "/teams/acme/members/ada/remove", &html, &[]).await;
    assert_last_admin_said_on_the_members_page(res).await;
    assert_eq!(roles(&app, &ada).await.len(), 2);
}

#[tokio::test]
async fn removing_a_member_and_leaving_ask_first() {
    let app = spawn_app().await;
    let (ada, _bob) = crate::teams::acme_with_ada_and_bob(&app).await;
    let cy = verified(&app, "cy", "cy@acme.test").await;
    app.api(Method::POST, "/api/v1/teams/acme/join", Some(&cy), None)
        .await
        .error_for_status()
        .unwrap();

    let admin = signed_in_browser(&app, "ada").await;
    let res = submit(
        &admin,
        &app,
        "/teams/acme/members",
        "/teams/acme/members/bob/remove",
        &[],
    )
    .await;
    assert_eq!(res.status(), 200);
    let html = res.text().await.unwrap();
    assert!(html.contains("Remove bob from Acme?"), "{html}");
    assert!(html.contains("name=\"confirmed\" value=\"yes\""), "{html}");
    assert_eq!(
        roles(&app, &ada).await.len(),
        3,
        "nothing happens before the yes"
    );
    let res = post_form(
        &admin,
        &app,
        "/teams/acme/members/bob/remove",
        &html,
        &[("confirmed", "yes")],
    )
    .await;
    assert_eq!(res.headers()["location"], "/teams/acme/members");
    assert!(!roles(&app, &ada).await.iter().any(|(u, _)| u == "bob"));

    let member = signed_in_browser(&app, "cy").await;
    let res = submit(&member, &app, "/teams/acme", "/teams/acme/leave", &[]).await;
    assert_eq!(res.status(), 200);
    let html = res.text().await.unwrap();
    assert!(html.contains("Leave Acme?"), "{html}");
    assert!(roles(&app, &ada).await.iter().any(|(u, _)| u == "cy"));
    let res = post_form(
        &member,
        &app,
        "/teams/acme/leave",
        &html,
        &[("confirmed", "yes")],
    )
    .await;
    assert_eq!(res.headers()["location"], "/");
    assert_eq!(
        roles(&app, &ada).await,
        [("ada".to_owned(), "admin".to_owned())]
    );
}

#[tokio::test]
async fn an_invitation_says_who_sent_it_and_can_be_declined() {
    let app = spawn_app().await;
    let ada = verified(&app, "ada", "ada@acme.test").await;
    create_team(&app, &ada, "Acme", "acme").await;
    let res = crate::helpers::invite(&app, &ada, "acme", "carol@partner.test", "member").await;
    assert_eq!(res.status(), 201);
    let token = link_token(
        &app.smtp.wait_for("carol@partner.test", 1).await[0].text,
        "/invitations/",
    );
    let path = format!("/invitations/{token}");

    let carol = browser_like_client();
    let (status, html) = page(&carol, &app, &path).await;
    assert_eq!(status, 200);
    assert!(html.contains("<strong>ada</strong> invited you"), "{html}");
    let res = post_form(&carol, &app, &format!("{path}/decline"), &html, &[]).await;
    assert_eq!(res.status(), 200);
    assert!(res.text().await.unwrap().contains("Invitation declined"));

    let (status, _) = page(&carol, &app, &path).await;
    assert_eq!(status, 400, "the link no longer works");
    let pending: Vec<Value> = app
        .api(
            Method::GET,
            "/api/v1/teams/acme/invitations",
            Some(&ada),
            None,
        )
        .await
        .json()
        .await
        .unwrap();
    assert!(pending.is_empty(), "{pending:?}");
}
