//! The harness: every test starts the real server on 127.0.0.1:0 with its own database (a
//! temporary SQLite file, or a fresh PostgreSQL database when LATCHKEY_TEST_DATABASE_URL is
//! set) and its own real SMTP server (`python3 -m aiosmtpd`), and talks to it over HTTP.
//!
//! By topic: `kit` is how a test talks to the server (the API with a bearer token, a page's
//! form with its CSRF token, teams, skipping), `mail` the SMTP server, `database` the
//! database behind the server's back.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};

use latchkey::app::Application;
use latchkey::config::Config;
use reqwest::Method;
use reqwest::header::HeaderMap;
use serde_json::{Value, json};
use tempfile::TempDir;

mod database;
mod kit;
mod mail;
mod proxy;

pub use database::{fresh_postgres_database, migrated_postgres_database};
pub use kit::*;
pub use mail::SmtpServer;
pub use proxy::Relay;

pub const PASSWORD: &str = "correct horse battery staple";

pub struct TestApp {
    pub url: String,
    pub port: u16,
    /// Keeps cookies, like a browser; sends `Sec-Fetch-Site: same-origin` so our own forms pass.
    pub client: reqwest::Client,
    pub smtp: SmtpServer,
    pub dir: TempDir,
    pub engine: &'static str,
    /// The PostgreSQL database this server uses, for a second server to share it.
    pub database_url: Option<String>,
    /// The server's clock, when it runs in this process (a child process keeps its own).
    clock: Option<latchkey::clock::Clock>,
    _stop: Stop,
}

impl TestApp {
    /// Lets `secs` seconds pass on the server's clock: sessions idle, links and codes expire.
    pub fn pass_time(&self, secs: i64) {
        self.clock
            .as_ref()
            .expect("a server in a child process keeps its own clock")
            .advance(secs);
    }
}

/// Stops the server when the test ends.
enum Stop {
    Task {
        _sender: tokio::sync::oneshot::Sender<()>,
    },
    /// Its stdout is kept open so the server never writes to a closed pipe.
    Process {
        child: Child,
        _stdout: std::process::ChildStdout,
    },
}

impl Drop for Stop {
    fn drop(&mut self) {
        if let Stop::Process { child, .. } = self {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Argon2 at a cost that hides nothing: every test hashes a few passwords, and at OWASP's
/// 19 MiB that was most of the suite's CPU time. The tests about the parameters themselves ask
/// for them with [`production_argon2`].
fn cheap_argon2() -> latchkey::config::Argon2Config {
    latchkey::config::Argon2Config {
        memory_kib: 1024,
        iterations: 1,
        ..Config::default().argon2
    }
}

/// The default (production) Argon2 parameters, for a test about them.
pub fn production_argon2(config: &mut Config) {
    config.argon2 = Config::default().argon2;
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// Starts a server after `tweak` has adjusted its configuration.
pub async fn spawn_app_with(tweak: impl FnOnce(&mut Config)) -> TestApp {
    spawn_app_in(tempfile::tempdir().expect("temp dir"), tweak).await
}

/// Starts a server whose data directory is `dir/data`, which may hold a database already.
pub async fn spawn_app_in(dir: TempDir, tweak: impl FnOnce(&mut Config)) -> TestApp {
    latchkey::install_crypto_provider();
    let smtp = SmtpServer::start(&dir.path().join("maildir"));
    let mut config = Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        data_dir: dir.path().join("data"),
        smtp_url: Some(format!("smtp://127.0.0.1:{}", smtp.port).into()),
        argon2: cheap_argon2(),
        ..Config::default()
    };
    let engine = match std::env::var("LATCHKEY_TEST_DATABASE_URL") {
        Ok(admin_url) if !admin_url.is_empty() => {
            config.database_url = Some(migrated_postgres_database(&admin_url).await.into());
            config.database_max_connections = 4;
            "postgres"
        }
        _ => "sqlite",
    };
    tweak(&mut config);
    let database_url = config.database_url().map(str::to_owned);
    let app = Application::build(config).await.expect("server builds");
    let url = app.url().to_owned();
    let port = app.port();
    let clock = app.state().clock.clone();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(app.run_until_stopped(async {
        let _ = stopped.await;
    }));
    TestApp {
        client: browser_like_client(),
        url,
        port,
        smtp,
        dir,
        engine,
        database_url,
        clock: Some(clock),
        _stop: Stop::Task { _sender: stop },
    }
}

/// Starts `latchkey serve` as a child process, for what is set once per process rather than
/// per server: a PKCS#11 module reads its own configuration from the environment. The server
/// uses `shared`'s data directory and database when given, else fresh ones; `env` adds
/// `LATCHKEY_*` settings (and whatever else the child needs). Its log is `server.log` in `dir`.
pub async fn spawn_app_process(shared: Option<&TestApp>, env: &[(&str, &str)]) -> TestApp {
    use std::io::BufRead;
    latchkey::install_crypto_provider();
    let dir = tempfile::tempdir().expect("temp dir");
    let smtp = SmtpServer::start(&dir.path().join("maildir"));
    let (data_dir, database_url, engine) = match shared {
        Some(app) => (
            app.dir.path().join("data"),
            app.database_url.clone(),
            app.engine,
        ),
        None => match std::env::var("LATCHKEY_TEST_DATABASE_URL") {
            Ok(admin) if !admin.is_empty() => (
                dir.path().join("data"),
                Some(migrated_postgres_database(&admin).await),
                "postgres",
            ),
            _ => (dir.path().join("data"), None, "sqlite"),
        },
    };
    let mut command = Command::new(env!("CARGO_BIN_EXE_latchkey"));
    command
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(&data_dir)
        .env(
            "LATCHKEY_SMTP_URL",
            format!("smtp://127.0.0.1:{}", smtp.port),
        )
        .env_remove("LATCHKEY_DATABASE_URL")
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(dir.path().join("server.log")).unwrap());
    if let Some(url) = &database_url {
        command.env("LATCHKEY_DATABASE_URL", url);
    }
    let mut child = command.spawn().unwrap();
    let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    let log = std::fs::read_to_string(dir.path().join("server.log")).unwrap_or_default();
    let url = line
        .trim()
        .rsplit(' ')
        .next()
        .unwrap_or_default()
        .to_owned();
    assert!(
        url.starts_with("http://127.0.0.1:"),
        "printed: {line}\n{log}"
    );
    TestApp {
        client: browser_like_client(),
        port: url.rsplit(':').next().unwrap().parse().unwrap(),
        url,
        smtp,
        dir,
        engine,
        database_url,
        clock: None,
        _stop: Stop::Process {
            child,
            _stdout: stdout.into_inner(),
        },
    }
}

/// A server on HTTPS with a fresh self-signed certificate for `localhost`, and that
/// certificate as PEM for a client to trust.
pub async fn spawn_https_app() -> (TestApp, String) {
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    // The server reads both files while it builds; they need not outlive that.
    let dir = tempfile::tempdir().unwrap();
    let (cert_path, key_path) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    std::fs::write(&cert_path, cert.cert.pem()).unwrap();
    std::fs::write(&key_path, cert.signing_key.serialize_pem()).unwrap();
    let app = spawn_app_with(|c| {
        c.tls_cert = Some(cert_path);
        c.tls_key = Some(key_path);
    })
    .await;
    (app, cert.cert.pem())
}

pub fn browser_like_client() -> reqwest::Client {
    // reqwest brings no TLS provider of its own: ring must be installed before a client is made.
    latchkey::install_crypto_provider();
    let mut headers = HeaderMap::new();
    headers.insert("sec-fetch-site", "same-origin".parse().unwrap());
    reqwest::Client::builder()
        .cookie_store(true)
        .default_headers(headers)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// A client with no cookies and no browser headers, like a script.
pub fn plain_client() -> reqwest::Client {
    latchkey::install_crypto_provider();
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

impl TestApp {
    /// The OpenAPI document the server publishes.
    pub async fn openapi(&self) -> serde_json::Value {
        let res = self
            .client
            .get(self.at("/api/v1/openapi.json"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        res.json().await.unwrap()
    }

    pub fn at(&self, path: &str) -> String {
        format!("{}{path}", self.url)
    }

    /// Signs up `username` (email `<username>@example.com`) and returns the JSON answer.
    pub async fn signup(&self, username: &str) -> Value {
        let res = self
            .post_json(
                "/api/v1/signup",
                &json!({
                    "email": format!("{username}@example.com"),
                    "username": username,
                    "password": PASSWORD,
                    "accept_terms": true,
                }),
            )
            .await;
        assert_eq!(res.status(), 201, "sign-up of {username} failed");
        res.json().await.unwrap()
    }

    /// Signs in over the API with a fresh cookie-less client; returns the token.
    pub async fn login_token(&self, login: &str, remember: bool) -> String {
        let body = json!({"login": login, "password": PASSWORD, "remember_me": remember});
        let res = self
            .api(Method::POST, "/api/v1/login", None, Some(&body))
            .await;
        assert_eq!(res.status(), 200);
        let body: Value = res.json().await.unwrap();
        body["token"].as_str().unwrap().to_owned()
    }
}

/// The token following `marker` in a link inside `text`.
pub fn link_token(text: &str, marker: &str) -> String {
    let at = text
        .find(marker)
        .unwrap_or_else(|| panic!("no {marker} link in:\n{text}"))
        + marker.len();
    text[at..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
        .collect()
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Asserts a problem+json answer with `status` and `code`; returns the body.
pub async fn assert_problem(res: reqwest::Response, status: u16, code: &str) -> Value {
    assert_eq!(res.status(), status, "status for expected `{code}`");
    let ctype = res.headers()["content-type"].to_str().unwrap().to_owned();
    assert_eq!(ctype, "application/problem+json");
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["code"], code, "problem body: {body}");
    assert_eq!(body["status"], status);
    assert!(body["request_id"].as_str().is_some_and(|s| !s.is_empty()));
    body
}

/// The `Set-Cookie` header that sets the session cookie (pages may set others alongside).
pub fn session_set_cookie(res: &reqwest::Response) -> String {
    res.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("latchkey_session=") || c.starts_with("__Host-latchkey_session="))
        .expect("a session cookie is set")
        .to_owned()
}

/// The `.rs` files under `dir`, in a stable order, for the tests that read the code itself.
pub fn rust_files(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    out.sort();
    out
}
