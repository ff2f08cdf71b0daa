//! Eve against Ada: a signed-in stranger tries every endpoint that names a resource (the JSON
//! API, the OAuth endpoints and the pages' forms) with Ada's team slug, usernames, invitation
//! id and link, session ids, CLI grant and the CLI sign-in her browser has open, and afterwards Ada's world reads exactly as before.
//! ASVS 4.0.3 V4.1.1 (access control is enforced on the server), V4.1.2 (the account acted for
//! is the credential's, never an id the caller sends), V4.1.3 (least privilege: admin of one
//! team is nothing in another), V4.1.5 (access control fails closed), V4.2.1 (no insecure
//! direct object references: others' records cannot be read, created, changed or deleted by
//! naming them).
//!
//! What the product answers, and this test holds it to:
//! - **404** whenever Eve names something she is not part of (a team, a member, an invitation
//!   id, a join request, a session, an account in her browser), exactly as when it does not
//!   exist (the same request naming a made-up one must get the same answer), so a stranger
//!   cannot even learn that it exists. (403 `forbidden` is for members of the team who are not
//!   its admins, see `teams.rs`.)
//! - **403 `invitation_email_mismatch`** for Ada's invitation link presented by Eve: whoever
//!   holds the link already knows the invitation exists (the link shows it to anyone), and the
//!   answer tells a person with two accounts which one to use.
//! - The OAuth endpoints answer as their RFCs say for what is not a token: 400 `invalid_grant`
//!   from `/oauth/token`, 200 from `/oauth/revoke` (RFC 7009 §2.2).
//!
//! Every route in the OpenAPI document and in the pages' router needs an attempt in `ATTEMPTS`
//! or a reason in `coverage::NO_FOREIGN_RESOURCE`; a new route with neither fails the test.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{
    TestApp, create_team, csrf_from, link_token, plain_client, signed_in_browser, spawn_app,
};
use crate::teams::{acme_with_ada_and_bob, verified};

mod coverage;

/// Everything Eve tries, one line each: the status she must get, the request, and its JSON
/// body (`/api/…`) or form fields (pages and `/oauth/…`). Placeholders: `{inv}` Ada's
/// invitation id, `{link}` the token of its link, `{cli}` the id of Ada's CLI grant,
/// `{consent}` the id of the CLI sign-in her browser opened, `{session}` each of Ada's session
/// ids in turn.
const ATTEMPTS: &[&str] = &[
    // Ada's team, by its slug.
    "404 GET /api/v1/teams/acme",
    r#"404 PATCH /api/v1/teams/acme {"name": "Pwned", "discovery_enabled": false}"#,
    r#"404 DELETE /api/v1/teams/acme {"confirm_slug": "acme"}"#,
    "404 POST /api/v1/teams/acme/join",
    "404 POST /api/v1/teams/acme/leave",
    "404 GET /api/v1/teams/acme/members",
    r#"404 PATCH /api/v1/teams/acme/members/bob {"role": "admin"}"#,
    r#"404 PATCH /api/v1/teams/acme/members/eve {"role": "admin"}"#,
    "404 DELETE /api/v1/teams/acme/members/bob",
    "404 GET /api/v1/teams/acme/invitations",
    r#"404 POST /api/v1/teams/acme/invitations {"email": "eve@evil.test", "role": "admin"}"#,
    "404 DELETE /api/v1/teams/acme/invitations/{inv}",
    "404 POST /api/v1/teams/acme/invitations/{inv}/resend",
    "404 GET /api/v1/teams/acme/join-requests",
    "404 POST /api/v1/teams/acme/join-requests/dan",
    "404 DELETE /api/v1/teams/acme/join-requests/dan",
    // Ada's ids and people through Eve's own team, where Eve is admin.
    "404 DELETE /api/v1/teams/evil/invitations/{inv}",
    "404 POST /api/v1/teams/evil/invitations/{inv}/resend",
    r#"404 PATCH /api/v1/teams/evil/members/ada {"role": "member"}"#,
    "404 DELETE /api/v1/teams/evil/members/bob",
    "404 POST /api/v1/teams/evil/join-requests/dan",
    "404 DELETE /api/v1/teams/evil/join-requests/dan",
    // Ada's sessions, her CLI grant among them.
    "404 DELETE /api/v1/me/sessions/{session}",
    "404 POST /settings/sessions/{session}/revoke",
    // Ada's invitation link, made out to carol@partner.test.
    "403 POST /api/v1/invitations/{link}/accept",
    "403 POST /invitations/{link}",
    // Public by design (never the email), or lists of Eve's own.
    "200 GET /api/v1/users/ada",
    "200 GET /u/ada",
    "200 GET /api/v1/teams",
    "200 GET /api/v1/teams/discoverable",
    // The team's pages and forms.
    "404 GET /teams/acme",
    "404 GET /teams/acme/members",
    "404 GET /teams/acme/settings",
    "404 POST /teams/acme/settings name=Pwned&join_policy=open",
    "404 POST /teams/acme/delete confirm_slug=acme",
    "404 POST /teams/acme/join",
    "404 POST /teams/acme/leave",
    "404 POST /teams/acme/leave confirmed=yes",
    "404 POST /teams/acme/members/bob/role role=admin",
    "404 POST /teams/acme/members/bob/remove",
    "404 POST /teams/acme/members/bob/remove confirmed=yes",
    "404 POST /teams/acme/invitations email=eve%40evil.test&role=admin",
    "404 POST /teams/acme/invitations/{inv}/resend",
    "404 POST /teams/acme/invitations/{inv}/revoke",
    "404 POST /teams/acme/requests/dan/approve",
    "404 POST /teams/acme/requests/dan/decline",
    "404 POST /teams/evil/invitations/{inv}/resend",
    "404 POST /teams/evil/invitations/{inv}/revoke",
    "404 POST /teams/evil/members/ada/role role=member",
    "404 POST /teams/evil/members/bob/remove",
    "404 POST /teams/evil/members/bob/remove confirmed=yes",
    "404 POST /teams/evil/requests/dan/approve",
    // Switching this browser to Ada, who never signed in here.
    "404 POST /accounts/switch username=ada",
    // The CLI sign-in Ada's browser opened, by its address: it is her browser's alone.
    "404 GET /oauth/consent/{consent}",
    "404 POST /oauth/consent/{consent} decision=approve",
    "404 POST /oauth/consent/{consent} decision=skip",
    // Ada's CLI grant by the one handle a stranger might learn, its id: the tokens themselves
    // are the credential, and a token holder may refresh or revoke by design.
    "200 POST /oauth/revoke token={cli}",
    "400 POST /oauth/token grant_type=refresh_token&client_id=latchkey-cli&refresh_token={cli}",
];

/// One attempt, placeholders filled in.
struct Attempt {
    status: u16,
    method: Method,
    path: String,
    body: Option<String>,
}

impl Attempt {
    fn label(&self) -> String {
        format!("{} {} {}", self.status, self.method, self.path)
    }
}

/// Ada's world (team `acme` with Bob in it and Dan asking to join, an invitation out to Carol,
/// sessions in a browser, over the API and from the CLI), and Eve, admin of her own `evil`.
struct World {
    ada: String,
    ada_browser: reqwest::Client,
    cli: Value,
    sessions: Vec<String>,
    cli_session: String,
    /// The id of a CLI sign-in Ada's browser opened and has not answered yet.
    consent: String,
    invitation_id: String,
    invitation_link: String,
    eve: String,
    eve_browser: reqwest::Client,
    eve_csrf: String,
}

async fn world(app: &TestApp) -> World {
    let (ada, _bob) = acme_with_ada_and_bob(app).await;
    let invite = json!({"email": "carol@partner.test", "role": "member"});
    let steps = [
        ("/api/v1/teams/acme", json!({"join_policy": "approval"})),
        ("/api/v1/teams/acme/invitations", invite),
        (
            "/api/v1/me/profile",
            json!({"name": "Ada Lovelace", "role": "architect"}),
        ),
    ];
    let mut answers = Vec::new();
    for (path, body) in steps {
        let method = if path.ends_with("invitations") {
            Method::POST
        } else {
            Method::PATCH
        };
        let res = app.api(method, path, Some(&ada), Some(&body)).await;
        assert!(res.status().is_success(), "{path}");
        answers.push(res.json::<Value>().await.unwrap());
    }
    let dan = verified(app, "dan", "dan@acme.test").await;
    let asked = app
        .api(Method::POST, "/api/v1/teams/acme/join", Some(&dan), None)
        .await;
    assert_eq!(asked.status(), 202);
    let mail = &app.smtp.wait_for("carol@partner.test", 1).await[0];
    let invitation_link = link_token(&mail.text, "/invitations/");
    app.login_token("ada", false).await;
    let ada_browser = signed_in_browser(app, "ada").await;
    let cli = crate::oauth::cli_grant(app, &ada_browser).await;
    let (_, consent) = crate::oauth::open_consent(app, &ada_browser).await;
    let listed = read(app, "/api/v1/me/sessions", &ada).await;
    let listed = listed.as_array().unwrap();
    let id = |s: &Value| s["id"].as_str().unwrap().to_owned();
    let kinds: Vec<&str> = listed.iter().map(|s| s["kind"].as_str().unwrap()).collect();
    for kind in ["web", "api", "cli"] {
        assert!(kinds.contains(&kind), "Ada has a {kind} session: {kinds:?}");
    }

    let eve = verified(app, "eve", "eve@evil.test").await;
    let made = create_team(app, &eve, "Evil", "evil").await;
    assert_eq!(made.status(), 201);
    let eve_browser = signed_in_browser(app, "eve").await;
    let page = eve_browser.get(app.at("/settings/sessions")).send().await;
    let eve_csrf = csrf_from(&page.unwrap().text().await.unwrap());
    World {
        cli_session: listed.iter().find(|s| s["kind"] == "cli").map(id).unwrap(),
        consent: consent.trim_start_matches("/oauth/consent/").to_owned(),
        sessions: listed.iter().map(id).collect(),
        invitation_id: answers[1]["id"].as_str().unwrap().to_owned(),
        ada,
        ada_browser,
        cli,
        invitation_link,
        eve,
        eve_browser,
        eve_csrf,
    }
}

/// `ATTEMPTS` with the placeholders filled in from `w`.
fn attempts(w: &World) -> Vec<Attempt> {
    let mut all = Vec::new();
    for line in ATTEMPTS {
        let fill = |session: &str| {
            line.replace("{inv}", &w.invitation_id)
                .replace("{link}", &w.invitation_link)
                .replace("{cli}", &w.cli_session)
                .replace("{consent}", &w.consent)
                .replace("{session}", session)
        };
        let lines: Vec<String> = if line.contains("{session}") {
            w.sessions.iter().map(|s| fill(s)).collect()
        } else {
            vec![fill("")]
        };
        for line in lines {
            let mut parts = line.splitn(4, ' ');
            let mut next = || parts.next().unwrap_or_default().to_owned();
            let (status, method, path, body) = (next(), next(), next(), next());
            all.push(Attempt {
                status: status.parse().expect("a status first"),
                method: Method::from_bytes(method.as_bytes()).expect("then a method"),
                body: Some(body).filter(|b| !b.is_empty()),
                path,
            });
        }
    }
    all
}

/// Sends `a` as Eve: bearer JSON to the API, her browser (with her CSRF token) to pages and
/// the consent page, a bare form to the other `/oauth/…` endpoints. Returns the status, whether it is problem+json, and the body.
async fn send(app: &TestApp, w: &World, a: &Attempt) -> (u16, bool, String) {
    let form = |with_csrf: bool| {
        let mut form: Vec<(String, String)> = Vec::new();
        if with_csrf {
            form.push(("csrf".into(), w.eve_csrf.clone()));
        }
        let fields = a.body.as_deref().unwrap_or_default();
        form.extend(url::form_urlencoded::parse(fields.as_bytes()).into_owned());
        form
    };
    let res = if a.path.starts_with("/api/") {
        let body = a
            .body
            .as_deref()
            .map(|b| serde_json::from_str(b).expect("JSON body"));
        app.api(a.method.clone(), &a.path, Some(&w.eve), body.as_ref())
            .await
    } else if a.path.starts_with("/oauth/") && !a.path.starts_with("/oauth/consent/") {
        let req = plain_client().request(a.method.clone(), app.at(&a.path));
        req.form(&form(false)).send().await.unwrap()
    } else {
        let req = w.eve_browser.request(a.method.clone(), app.at(&a.path));
        let req = if a.method == Method::GET {
            req
        } else {
            req.form(&form(true))
        };
        req.send().await.unwrap()
    };
    let ctype = res.headers().get("content-type");
    let problem = ctype.is_some_and(|v| v == "application/problem+json");
    (res.status().as_u16(), problem, res.text().await.unwrap())
}

/// The same attempt with each of Ada's names swapped for one that names nothing.
fn ghost(a: &Attempt, swaps: &[(String, String)]) -> Attempt {
    let swap = |s: &str| {
        let found = swaps.iter().find(|(real, _)| real == s);
        found.map_or_else(|| s.to_owned(), |(_, fake)| fake.clone())
    };
    let path: Vec<String> = a.path.split('/').map(swap).collect();
    let body = a.body.as_deref().map(|b| {
        let fields = url::form_urlencoded::parse(b.as_bytes()).map(|(k, v)| (k, swap(&v)));
        url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(fields)
            .finish()
    });
    let body = if a.path.starts_with("/api/") {
        a.body.clone()
    } else {
        body
    };
    let (status, method) = (a.status, a.method.clone());
    Attempt {
        status,
        method,
        path: path.join("/"),
        body,
    }
}

/// A problem body without its request id; a page as it is.
fn comparable(problem: bool, body: &str) -> String {
    if !problem {
        return body.to_owned();
    }
    let mut v: Value = serde_json::from_str(body).unwrap();
    v.as_object_mut().unwrap().remove("request_id");
    v.to_string()
}

async fn read(app: &TestApp, path: &str, token: &str) -> Value {
    let res = app.api(Method::GET, path, Some(token), None).await;
    assert_eq!(res.status(), 200, "{path}");
    res.json().await.unwrap()
}

/// Ada's world as Ada sees it, and Eve's team as Eve does.
async fn snapshot(app: &TestApp, w: &World) -> Value {
    let listed = read(app, "/api/v1/me/sessions", &w.ada).await;
    let mut sessions: Vec<Value> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|s| json!([s["id"], s["kind"], s["device"], s["created_at"]]))
        .collect();
    sessions.sort_by_key(ToString::to_string);
    let mut state = json!({"sessions": sessions});
    for path in [
        "/me",
        "/teams",
        "/teams/acme",
        "/teams/acme/members",
        "/teams/acme/invitations",
        "/teams/acme/join-requests",
    ] {
        state[path] = read(app, &format!("/api/v1{path}"), &w.ada).await;
    }
    for path in [
        "/teams",
        "/teams/evil/members",
        "/teams/evil/invitations",
        "/teams/evil/join-requests",
    ] {
        state[format!("eve {path}")] = read(app, &format!("/api/v1{path}"), &w.eve).await;
    }
    state
}

#[tokio::test]
async fn a_stranger_can_neither_see_nor_change_anything_of_another_account() {
    let app = spawn_app().await;
    let w = world(&app).await;
    let attempts = attempts(&w);
    coverage::every_route_is_attempted_or_excused(&app, &attempts).await;
    let ids = w.sessions.iter().chain([&w.invitation_id, &w.consent]);
    let swaps: Vec<(String, String)> = ["acme", "ada", "bob", "dan"]
        .iter()
        .map(|s| ((*s).to_owned(), "nobody-here".to_owned()))
        .chain(ids.map(|id| (id.clone(), uuid::Uuid::now_v7().to_string())))
        .collect();
    let private = [
        "ada@",
        "bob@",
        "dan@",
        "carol@",
        "Acme",
        "build-box",
        w.invitation_id.as_str(),
    ];

    let before = snapshot(&app, &w).await;
    for a in &attempts {
        let (status, problem, body) = send(&app, &w, a).await;
        assert_eq!(status, a.status, "{}: {body}", a.label());
        match a.status {
            404 => {
                let (g_status, g_problem, g_body) = send(&app, &w, &ghost(a, &swaps)).await;
                assert_eq!(
                    (status, comparable(problem, &body)),
                    (g_status, comparable(g_problem, &g_body)),
                    "{} must answer as if it did not exist",
                    a.label()
                );
            }
            403 => {
                assert!(
                    !problem || body.contains("invitation_email_mismatch"),
                    "{body}"
                );
                continue; // the link shows its invitation to whoever holds it
            }
            _ => {}
        }
        for secret in private {
            assert!(
                !body.contains(secret),
                "{} shows {secret}: {body}",
                a.label()
            );
        }
    }

    // Nothing changed: the same sessions, profile, team, roster, roles, invitation (with the
    // same expiry, so it was not resent) and join request; Eve's team gained no one.
    assert_eq!(snapshot(&app, &w).await, before);
    // Every credential Eve aimed at still works: Ada's browser and its CLI sign-in, the
    // invitation link, and the CLI's access and refresh tokens.
    let me = w
        .ada_browser
        .get(app.at("/api/v1/me"))
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 200);
    let consent = app.at(&format!("/oauth/consent/{}", w.consent));
    let consent = w.ada_browser.get(consent).send().await.unwrap();
    assert_eq!(
        consent.status(),
        200,
        "Ada's CLI sign-in is still hers to answer"
    );
    let link = app.at(&format!("/invitations/{}", w.invitation_link));
    assert_eq!(plain_client().get(link).send().await.unwrap().status(), 200);
    let access = w.cli["access_token"].as_str().unwrap();
    assert_eq!(app.get_bearer("/api/v1/me", access).await.status(), 200);
    let refresh = w.cli["refresh_token"].as_str().unwrap();
    let grant = [
        ("grant_type", "refresh_token"),
        ("client_id", "latchkey-cli"),
        ("refresh_token", refresh),
    ];
    let (status, body) = crate::oauth::token(&app, &grant).await;
    assert_eq!(status, 200, "{body}");
}
