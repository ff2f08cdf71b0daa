//! Security headers and cookies on every response: each page signed out and signed in, the
//! JSON API, the OAuth endpoints, `/docs` and its assets, static files, redirects and error
//! pages, over plain HTTP and over HTTPS; then every route the routers declare, with each of
//! its methods, once more. ASVS 4.0.3 V14.4.3 (a Content Security Policy, here without
//! `unsafe-inline` or `unsafe-eval`), V14.4.4 (`nosniff`), V14.4.5 (HSTS over HTTPS), V14.4.6
//! (a referrer policy), V14.4.7 (no framing: `frame-ancestors 'none'`, `X-Frame-Options`),
//! V3.4.1–V3.4.5 (cookies `Secure`, `HttpOnly`, `SameSite`, `__Host-`, `Path=/`). No page may
//! carry inline script, inline style or event-handler attributes: the policy blocks them, so
//! such a page would be broken, not merely unsafe. (The one answer not seen here is a 500:
//! nothing reachable produces one, which the sweep checks too.)

mod rules;

use std::collections::HashMap;

use reqwest::header::HeaderMap;
use reqwest::{Client, Method, RequestBuilder};
use serde_json::{Value, json};

use crate::helpers::{PASSWORD, TestApp, csrf_from, link_token, spawn_app, spawn_app_with};
use crate::routes::{self, Route};

/// Visited signed out; `{…}` are filled in from the set-up.
const SIGNED_OUT: &str = "
    / /login /login?next=%2Fteams%2Facme /login?add=1 /signup /forgot /terms /welcome
    /signup?invitation={invitation}&email=carol%40partner.test /welcome/team /login/2fa
    /verify/{verify} /verify/lkv_x /reset/not-a-token /email-change/undo/not-a-token /u/ada
    /u/nobody /invitations/{invitation} /invitations/lki_x {authorize} /oauth/authorize
    /oauth/consent/{uuid} /device /device?user_code={user_code} /teams/new /teams/acme
    /teams/acme/members /teams/acme/settings /settings/account /settings/profile
    /settings/sessions /static/app.css /static/app.js /static/captcha.js /healthz /readyz
    /docs /docs/ /docs/swagger-ui.css /docs/index.css /docs/swagger-ui-bundle.js
    /docs/swagger-ui-standalone-preset.js /docs/swagger-initializer.js /docs/favicon-32x32.png
    /docs/no-such-file.js /api/v1/openapi.json /api/v1/captcha /api/v1/users/ada
    /api/v1/users/nobody /api/v1/me /api/v1/no-such-thing /no-such-page";

/// Visited by the admin of team `acme`, signed in through the sign-in page.
const SIGNED_IN: &str = "
    / /welcome /welcome/team /settings/account /settings/profile /settings/sessions /teams /teams/new
    /teams/acme /teams/acme/members /teams/acme/settings /teams/no-such-team /u/ada /terms
    /invitations/{invitation} /verify/{verify} /forgot /login /login?add=1 /signup /device
    /device?user_code={user_code} /device?user_code=BCDF-GHJK {consent} /api/v1/me
    /api/v1/me/sessions /api/v1/me/mfa /api/v1/me/mfa/security-keys /api/v1/teams /api/v1/teams/discoverable
    /api/v1/teams/acme /api/v1/teams/acme/members /api/v1/teams/acme/invitations
    /api/v1/teams/acme/join-requests /docs/";

/// The CLI's authorization request (the challenge is RFC 7636's example).
const AUTHORIZE: &str = "/oauth/authorize?response_type=code&client_id=latchkey-cli&redirect_uri=http%3A%2F%2F127.0.0.1%3A53682%2Fcb&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256&state=s&device_name=box";

/// Where the server answers, and how to reach it.
struct Site {
    base: String,
    port: u16,
    cert: Option<reqwest::Certificate>,
}

impl Site {
    fn client(&self, browser: bool) -> Client {
        let mut headers = HeaderMap::new();
        if browser {
            headers.insert("sec-fetch-site", "same-origin".parse().unwrap());
            headers.insert("accept", "text/html,*/*;q=0.8".parse().unwrap());
        }
        let b = Client::builder()
            .default_headers(headers)
            .cookie_store(browser)
            .redirect(reqwest::redirect::Policy::none());
        let b = match &self.cert {
            Some(cert) => b
                .add_root_certificate(cert.clone())
                .resolve("localhost", ([127, 0, 0, 1], self.port).into()),
            None => b,
        };
        b.build().unwrap()
    }
}

/// One response, as received.
struct Seen {
    who: &'static str,
    method: Method,
    path: String,
    status: u16,
    headers: HeaderMap,
    body: String,
}

/// A crawl: its browsers (by who uses them) and every response they and scripts got.
struct Crawl {
    site: Site,
    browsers: HashMap<&'static str, Client>,
    seen: Vec<Seen>,
}

impl Crawl {
    fn browser(&mut self, who: &'static str) -> Client {
        let site = &self.site;
        let entry = self.browsers.entry(who);
        entry.or_insert_with(|| site.client(true)).clone()
    }

    /// Sends `req` and keeps the response.
    async fn send(&mut self, who: &'static str, client: &Client, req: RequestBuilder) -> &Seen {
        let req = req.build().unwrap();
        let (method, url) = (req.method().clone(), req.url().clone());
        let path = url
            .query()
            .map_or_else(|| url.path().to_owned(), |q| format!("{}?{q}", url.path()));
        let res = client.execute(req).await.unwrap();
        let (status, headers) = (res.status().as_u16(), res.headers().clone());
        let body = res.text().await.unwrap_or_default();
        self.seen.push(Seen {
            who,
            method,
            path,
            status,
            headers,
            body,
        });
        self.seen.last().unwrap()
    }

    async fn get(&mut self, who: &'static str, path: &str) -> &Seen {
        let b = self.browser(who);
        let req = b.get(format!("{}{path}", self.site.base));
        self.send(who, &b, req).await
    }

    /// Posts urlencoded `fields` with the CSRF token of a page this browser sees now: a token
    /// is bound to the session, so one read before signing in no longer serves after.
    async fn form(&mut self, who: &'static str, path: &str, fields: &str) -> &Seen {
        let csrf = csrf_from(&self.get(who, "/login?add=1").await.body);
        let b = self.browser(who);
        let mut form = vec![("csrf".to_owned(), csrf)];
        form.extend(url::form_urlencoded::parse(fields.as_bytes()).into_owned());
        let req = b.post(format!("{}{path}", self.site.base)).form(&form);
        self.send(who, &b, req).await
    }

    /// `request` is `METHOD /path`; the answer's JSON, or null.
    async fn api(&mut self, token: Option<&str>, request: &str, body: Option<Value>) -> Value {
        let (method, path) = request.split_once(' ').unwrap();
        let client = self.site.client(false);
        let url = format!("{}{path}", self.site.base);
        let mut req = client.request(Method::from_bytes(method.as_bytes()).unwrap(), url);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let seen = self.send("script", &client, req).await;
        serde_json::from_str(&seen.body).unwrap_or_default()
    }

    /// A form post to an OAuth endpoint, as the CLI makes it.
    async fn oauth(&mut self, path: &str, fields: &[(&str, &str)]) -> Value {
        let client = self.site.client(false);
        let req = client
            .post(format!("{}{path}", self.site.base))
            .form(fields);
        serde_json::from_str(&self.send("script", &client, req).await.body).unwrap_or_default()
    }

    /// Signs `name` up over the API and confirms the address; returns the bearer token.
    async fn verified(&mut self, app: &TestApp, name: &str, email: &str) -> String {
        let body =
            json!({"email": email, "username": name, "password": PASSWORD, "accept_terms": true});
        let answer = self.api(None, "POST /api/v1/signup", Some(body)).await;
        let link = app.verification_token(email).await;
        let confirmed = self
            .api(
                None,
                "POST /api/v1/email-verifications",
                Some(json!({"token": link})),
            )
            .await;
        assert_eq!(confirmed["email_verified"], true);
        answer["token"].as_str().unwrap().to_owned()
    }
}

/// The paths of a list, placeholders filled in.
fn paths(list: &str, vars: &[(&str, String)]) -> Vec<String> {
    let fill = |p: &str| vars.iter().fold(p.to_owned(), |p, (k, v)| p.replace(k, v));
    list.split_whitespace().map(fill).collect()
}

/// The password as a form field.
fn pw() -> String {
    PASSWORD.replace(' ', "+")
}

/// Visits everything a person or a client can reach, signed out and signed in.
async fn crawl(app: &TestApp, site: Site) -> Crawl {
    let browsers = HashMap::new();
    let mut c = Crawl {
        site,
        browsers,
        seen: Vec::new(),
    };
    let mut vars = set_up(&mut c, app).await;
    for path in paths(SIGNED_OUT, &vars) {
        c.get("signed out", &path).await;
    }
    let b = c.browser("signed out");
    let req = b.get(format!("{}/no-such-page", c.site.base));
    c.send("signed out", &b, req.header("accept", "application/json"))
        .await;
    c.form("signed out", "/login", "login=ada&password=wrong")
        .await;
    let secret = as_team_admin(&mut c, &mut vars).await;
    second_step(&mut c, &secret).await;
    api_answers(&mut c).await;
    c
}

/// Ada, admin of `acme` (with discovery on, an invitation out and Dan asking to join), and a
/// device code waiting; returns the placeholders for the lists of paths.
async fn set_up(c: &mut Crawl, app: &TestApp) -> Vec<(&'static str, String)> {
    let ada = c.verified(app, "ada", "ada@acme.test").await;
    let ada = Some(ada.as_str());
    let team = json!({"name": "Acme", "slug": "acme"});
    c.api(ada, "POST /api/v1/teams", Some(team)).await;
    let open = json!({"discovery_enabled": true, "join_policy": "approval"});
    c.api(ada, "PATCH /api/v1/teams/acme", Some(open)).await;
    let invite = json!({"email": "carol@partner.test", "role": "member"});
    c.api(ada, "POST /api/v1/teams/acme/invitations", Some(invite))
        .await;
    let dan = c.verified(app, "dan", "dan@acme.test").await;
    c.api(Some(&dan), "POST /api/v1/teams/acme/join", None)
        .await;
    let device = [("client_id", "latchkey-cli"), ("device_name", "box")];
    let device = c.oauth("/oauth/device/code", &device).await;
    let mail = &app.smtp.wait_for("carol@partner.test", 1).await[0];
    vec![
        ("{verify}", app.verification_token("ada@acme.test").await),
        ("{invitation}", link_token(&mail.text, "/invitations/")),
        (
            "{user_code}",
            device["user_code"].as_str().unwrap().to_owned(),
        ),
        ("{authorize}", AUTHORIZE.to_owned()),
        ("{uuid}", uuid::Uuid::new_v4().to_string()),
    ]
}

/// Ada signs in through the page and sees every page of a team admin, then sends the forms
/// that redirect with a notice, set cookies, or answer with a page of their own (turning 2FA
/// on among them). Returns her TOTP secret.
async fn as_team_admin(c: &mut Crawl, vars: &mut Vec<(&'static str, String)>) -> String {
    let fields = format!("login=ada&password={}&remember=on", pw());
    let signed_in = c.form("ada", "/login", &fields).await;
    assert_eq!(signed_in.status, 303);
    let consent = &c.get("ada", AUTHORIZE).await.headers["location"];
    let consent = consent.to_str().unwrap().to_owned();
    vars.push(("{consent}", consent.clone()));
    for path in paths(SIGNED_IN, vars) {
        c.get("ada", &path).await;
    }
    let user_code = &vars.iter().find(|(k, _)| *k == "{user_code}").unwrap().1;
    for (path, fields) in [
        ("/settings/profile", "name=Ada&role=architect&username=ada"),
        (
            "/teams/acme/settings",
            "name=Acme&discovery=on&join_policy=approval",
        ),
        (&consent, "decision=skip"),
        (
            "/device",
            &format!("decision=approve&user_code={user_code}"),
        ),
    ] {
        c.form("ada", path, fields).await;
        c.get("ada", "/settings/profile").await; // shows the notice, and clears it
    }
    let b = c.browser("ada");
    let no_token = b
        .post(format!("{}/settings/profile", c.site.base))
        .form(&[("name", "x")]);
    assert_eq!(c.send("ada", &b, no_token).await.status, 403);

    let password = format!("password={}", pw());
    let started = c
        .form("ada", "/settings/account/2fa/setup", &password)
        .await;
    assert_eq!(started.status, 303);
    let setup = &c.get("ada", "/settings/account/2fa/setup").await.body;
    let shown = setup
        .split("id=\"secret\">")
        .nth(1)
        .unwrap()
        .split('<')
        .next();
    let secret: String = shown.unwrap().split_whitespace().collect();
    let code = format!("code={}", crate::mfa::oathtool(&secret, 0));
    let codes = c.form("ada", "/settings/account/2fa/enable", &code).await;
    assert_eq!(codes.status, 200, "{}", codes.body);
    c.get("ada", "/settings/account").await;
    c.form("ada", "/logout", "").await;
    c.get("ada", "/login").await;
    secret
}

/// The second step of signing in, which lives in cookies of its own.
async fn second_step(c: &mut Crawl, secret: &str) {
    let fields = format!("login=ada&password={}&next=%2Fsettings%2Faccount", pw());
    let step = c.form("2fa", "/login", &fields).await;
    assert_eq!(step.headers["location"], "/login/2fa");
    c.get("2fa", "/login/2fa?method=recovery").await;
    c.get("2fa", "/login/2fa").await;
    let code = format!("code={}", crate::mfa::oathtool(secret, 30));
    let done = c.form("2fa", "/login/2fa", &code).await;
    assert_eq!(done.headers["location"], "/settings/account");
}

/// The API's own cookies and refusals, and the OAuth endpoints'.
async fn api_answers(c: &mut Crawl) {
    let login = json!({"login": "dan", "password": PASSWORD, "remember_me": true});
    let signed_in = c.api(None, "POST /api/v1/login", Some(login)).await;
    c.api(signed_in["token"].as_str(), "POST /api/v1/logout", None)
        .await;
    c.api(None, "PUT /api/v1/me", None).await;
    let huge = json!({"email": "x".repeat(70 * 1024)});
    c.api(None, "POST /api/v1/signup", Some(huge)).await;
    let b = c.browser("2fa");
    let req = b.post(format!("{}/api/v1/logout", c.site.base));
    let cross_site = req.header("sec-fetch-site", "cross-site");
    assert_eq!(c.send("2fa", &b, cross_site).await.status, 403);
    let refresh = [
        ("grant_type", "refresh_token"),
        ("client_id", "latchkey-cli"),
        ("refresh_token", "lkr_x"),
    ];
    c.oauth("/oauth/token", &refresh).await;
    c.oauth("/oauth/revoke", &[("token", "lkr_x")]).await;
}

/// Every route the routers declare, with each of its methods, parameters filled in: pages from
/// a signed-in browser without a CSRF token (so forms are refused before they act), the API
/// and OAuth endpoints from a signed-out script.
async fn sweep(c: &mut Crawl) {
    let pw = PASSWORD.replace(' ', "+");
    c.form("sweep", "/login", &format!("login=dan&password={pw}"))
        .await;
    let (browser, script) = (c.browser("sweep"), c.site.client(false));
    let id = uuid::Uuid::new_v4().to_string();
    let fill = |path: &str| {
        let path = path.replace("{slug}", "acme").replace("{username}", "bob");
        path.replace("{token}", "x")
            .replace("{decision}", "approve")
            .replace("{id}", &id)
    };
    for (declared, client) in [(routes::pages(), &browser), (routes::api(), &script)] {
        for r in declared {
            let method = Method::from_bytes(r.method.as_bytes()).unwrap();
            let req = client.request(method, format!("{}{}", c.site.base, fill(&r.path)));
            c.send("sweep", client, req).await;
        }
    }
}

fn assert_no_faults(seen: &[Seen], secure: bool) {
    let mut all = Vec::new();
    for s in seen {
        for why in rules::faults(s, secure) {
            all.push(format!(
                "{} {} {} → {}: {why}",
                s.who, s.method, s.path, s.status
            ));
        }
    }
    assert!(all.is_empty(), "{} faults:\n{}", all.len(), all.join("\n"));
}

/// The crawl (before the sweep, which only shows that a route answers) saw every GET route of
/// the pages and the API: a new page cannot be skipped silently.
fn every_get_route_was_visited(seen: &[Seen]) {
    let all: Vec<Route> = routes::pages().into_iter().chain(routes::api()).collect();
    let visited = |route: &Route| {
        let serves = |s: &Seen| routes::serving(&all, "GET", &s.path) == Some(route);
        seen.iter().any(|s| s.method == Method::GET && serves(s))
    };
    let missing: Vec<&str> = all
        .iter()
        .filter(|r| r.method == "GET" && !visited(r))
        .map(|r| r.path.as_str())
        .collect();
    assert!(
        missing.is_empty(),
        "add these pages to the crawl: {missing:?}"
    );
}

#[tokio::test]
async fn over_http_every_response_has_the_security_headers_and_no_page_has_inline_code() {
    let app = spawn_app().await;
    let site = Site {
        base: app.url.clone(),
        port: app.port,
        cert: None,
    };
    let mut c = crawl(&app, site).await;
    // The development outbox exists only without SMTP.
    let dev = spawn_app_with(|config| config.smtp_url = None).await;
    let b = c.browser("signed out");
    assert_eq!(
        c.send("signed out", &b, b.get(dev.at("/_dev/mail")))
            .await
            .status,
        200
    );
    every_get_route_was_visited(&c.seen);
    sweep(&mut c).await;
    assert_no_faults(&c.seen, false);
}

#[tokio::test]
async fn over_https_every_cookie_is_secure_and_host_prefixed_and_hsts_is_sent() {
    let (app, pem) = crate::helpers::spawn_https_app().await;
    let site = Site {
        base: format!("https://localhost:{}", app.port),
        port: app.port,
        cert: Some(reqwest::Certificate::from_pem(pem.as_bytes()).unwrap()),
    };
    let mut c = crawl(&app, site).await;
    sweep(&mut c).await;
    assert_no_faults(&c.seen, true);
}
