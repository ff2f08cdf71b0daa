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
    // The API's status for `last_admin`, on the page too.
    assert_eq!(res.status(), 409);
    assert!(res.text().await.unwrap().contains("needs an admin"));
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
