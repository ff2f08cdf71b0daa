//! The outside party of the security-key tests: Chromium's virtual authenticator, plugged in
//! through ChromeDriver's WebAuthn extension commands, and `navigator.credentials` run in the
//! page as a client would.

use axum::http::Method;
use fantoccini::Client;
use fantoccini::wd::WebDriverCompatibleCommand;
use serde_json::{Value, json};

/// ChromeDriver's WebAuthn extension commands (WebAuthn Level 2, §11), which fantoccini has no
/// wrapper for: `path` under the session, with a JSON body or none.
#[derive(Debug)]
struct WebAuthnCommand {
    method: Method,
    path: String,
    body: Option<Value>,
}

impl WebDriverCompatibleCommand for WebAuthnCommand {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        let session = session_id.expect("a session");
        base_url.join(&format!("session/{session}/webauthn/{}", self.path))
    }

    fn method_and_body(&self, _: &url::Url) -> (Method, Option<String>) {
        (
            self.method.clone(),
            self.body.as_ref().map(Value::to_string),
        )
    }
}

pub async fn webauthn(b: &Client, method: Method, path: &str, body: Option<Value>) -> Value {
    let path = path.to_owned();
    b.issue_cmd(WebAuthnCommand { method, path, body })
        .await
        .expect("a WebAuthn command ChromeDriver accepts")
}

/// Plugs a virtual USB security key into the browser; returns its id.
pub async fn plug_in_key(b: &Client) -> String {
    let options = json!({
        "protocol": "ctap2",
        "transport": "usb",
        "hasResidentKey": false,
        "hasUserVerification": false,
        "isUserConsenting": true,
    });
    let added = webauthn(b, Method::POST, "authenticator", Some(options)).await;
    added.as_str().expect("the authenticator's id").to_owned()
}

/// Runs `navigator.credentials.create` or `.get` in the page with the server's options and
/// returns the browser's JSON of the answer, as a client would send it.
pub async fn ask_key(b: &Client, kind: &str, options: &Value) -> Value {
    let script = r#"
        const [kind, options, done] = arguments;
        const asked = kind === "create"
            ? navigator.credentials.create({ publicKey: PublicKeyCredential.parseCreationOptionsFromJSON(options) })
            : navigator.credentials.get({ publicKey: PublicKeyCredential.parseRequestOptionsFromJSON(options) });
        asked.then((c) => done(c.toJSON()), (e) => done({ error: `${e.name}: ${e.message}` }));
    "#;
    let answer = b
        .execute_async(script, vec![json!(kind), options.clone()])
        .await
        .unwrap();
    assert!(answer.get("error").is_none(), "the browser said {answer}");
    answer
}
