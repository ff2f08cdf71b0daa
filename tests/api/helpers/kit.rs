//! How a test talks to the server, so that no test hand-rolls it: the API as a script holding
//! a bearer token (`TestApp::api`), a page's form with the CSRF token the page carries
//! (`submit`, `submit_here`, `post_form`), the team calls most team tests start with
//! (`create_team`, `invite`), and a test that does not apply here saying so (`skip`).

use std::io::Write;

use reqwest::{Client, Method, Response};
use serde_json::{Value, json};

use super::{PASSWORD, TestApp, browser_like_client, plain_client};

impl TestApp {
    /// `method path` as a script: a fresh client with no cookies and no browser headers,
    /// sending the bearer `token` and the JSON `body` when given.
    pub async fn api(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> Response {
        self.api_as(&plain_client(), method, path, token, body)
            .await
    }

    /// `api` from `client`, which brings its own cookies and headers (a browser's page
    /// calling the API, say).
    pub async fn api_as(
        &self,
        client: &Client,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> Response {
        let mut req = client.request(method, self.at(path));
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        if let Some(body) = body {
            req = req.json(body);
        }
        req.send().await.unwrap()
    }

    /// POSTs `body` as JSON from the harness's own browser (`self.client`), whose cookie jar
    /// keeps the session an answer sets: `signup` signs that browser in.
    pub async fn post_json(&self, path: &str, body: &Value) -> Response {
        self.api_as(&self.client, Method::POST, path, None, Some(body))
            .await
    }

    /// GET `path` as the bearer of `token`.
    pub async fn get_bearer(&self, path: &str, token: &str) -> Response {
        self.api(Method::GET, path, Some(token), None).await
    }

    /// The JSON `path` answers the bearer of `token`, which must be a 200.
    pub async fn get_json(&self, path: &str, token: &str) -> Value {
        json_200(self.get_bearer(path, token).await, &format!("GET {path}")).await
    }
}

/// The JSON body of `res`, which must be a 200 (`what` names the request when it is not).
pub async fn json_200(res: Response, what: &str) -> Value {
    assert_eq!(res.status(), 200, "{what}");
    res.json().await.unwrap()
}

/// POST /api/v1/teams as the bearer of `token`.
pub async fn create_team(app: &TestApp, token: &str, name: &str, slug: &str) -> Response {
    let body = json!({"name": name, "slug": slug});
    app.api(Method::POST, "/api/v1/teams", Some(token), Some(&body))
        .await
}

/// POST /api/v1/teams/`slug`/invitations as the bearer of `token`: invites `email` as `role`.
pub async fn invite(app: &TestApp, token: &str, slug: &str, email: &str, role: &str) -> Response {
    let path = format!("/api/v1/teams/{slug}/invitations");
    let body = json!({"email": email, "role": role});
    app.api(Method::POST, &path, Some(token), Some(&body)).await
}

/// GETs `path` with a browser: its status and body.
pub async fn page(c: &Client, app: &TestApp, path: &str) -> (u16, String) {
    let res = c.get(app.at(path)).send().await.unwrap();
    (res.status().as_u16(), res.text().await.unwrap())
}

/// Reads the `csrf` hidden field out of a page. Tests about CSRF itself use it; others let
/// `submit` or `post_form` do it.
pub fn csrf_from(html: &str) -> String {
    let at = html
        .find("name=\"csrf\" value=\"")
        .expect("page has a CSRF field")
        + 19;
    html[at..].split('"').next().unwrap().to_owned()
}

/// What a person does with a form: `client` opens `page_path`, and sends the form there, which
/// posts `fields` and the page's CSRF token to `form_action`.
pub async fn submit(
    client: &Client,
    app: &TestApp,
    page_path: &str,
    form_action: &str,
    fields: &[(&str, &str)],
) -> Response {
    let (_, html) = page(client, app, page_path).await;
    post_form(client, app, form_action, &html, fields).await
}

/// `submit` for a form that posts back to the page it is on.
pub async fn submit_here(
    client: &Client,
    app: &TestApp,
    path: &str,
    fields: &[(&str, &str)],
) -> Response {
    submit(client, app, path, path, fields).await
}

/// Posts `fields` to `form_action` with the CSRF token of `html`, a page `client` already
/// has: one the test looked at first, or the answer to the form before.
pub async fn post_form(
    client: &Client,
    app: &TestApp,
    form_action: &str,
    html: &str,
    fields: &[(&str, &str)],
) -> Response {
    let csrf = csrf_from(html);
    let mut form = vec![("csrf", csrf.as_str())];
    form.extend_from_slice(fields);
    client
        .post(app.at(form_action))
        .form(&form)
        .send()
        .await
        .unwrap()
}

/// A cookie-keeping browser signed in through the sign-in page as `login`.
pub async fn signed_in_browser(app: &TestApp, login: &str) -> Client {
    let c = browser_like_client();
    let res = submit_here(
        &c,
        app,
        "/login",
        &[("login", login), ("password", PASSWORD)],
    )
    .await;
    assert_eq!(res.status(), 303, "signing in as {login}");
    c
}

/// Says that the running test does not apply here and is about to return without checking
/// anything: `SKIPPED <test>: <reason>` on stderr (written past the harness's capture, so it
/// shows in a passing run), and appended to the file `LATCHKEY_SKIPPED_FILE` names, if set,
/// for CI to list what each engine skipped. The caller returns right after.
pub fn skip(reason: &str) {
    // libtest runs each test on a thread named after it.
    let thread = std::thread::current();
    let line = format!(
        "SKIPPED {}: {reason}\n",
        thread.name().unwrap_or("<unnamed test>")
    );
    std::io::stderr().write_all(line.as_bytes()).unwrap();
    if let Some(path) = std::env::var_os("LATCHKEY_SKIPPED_FILE").filter(|p| !p.is_empty()) {
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .and_then(|mut file| file.write_all(line.as_bytes()))
            .unwrap_or_else(|e| panic!("appending to LATCHKEY_SKIPPED_FILE {path:?}: {e}"));
    }
}
