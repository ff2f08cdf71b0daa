//! The harness: every test starts the real server on 127.0.0.1:0 with its own database (a
//! temporary SQLite file, or a fresh PostgreSQL database when LATCHKEY_TEST_DATABASE_URL is
//! set) and its own real SMTP server (`python3 -m aiosmtpd`), and talks to it over HTTP.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use latchkey::app::Application;
use latchkey::config::Config;
use reqwest::header::HeaderMap;
use serde_json::{Value, json};
use tempfile::TempDir;

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
    _stop: Stop,
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

/// Creates `lk_test_<uuid>` next to the database in `admin_url` and returns its URL.
pub async fn fresh_postgres_database(admin_url: &str) -> String {
    create_postgres_database(admin_url, None).await
}

/// A new database with every migration applied, copied from a template that this test process
/// migrates once: a copy is one statement, where migrating is a dozen transactions per test.
/// The server still runs its migrations at start; they find nothing left to do.
pub async fn migrated_postgres_database(admin_url: &str) -> String {
    static TEMPLATE: tokio::sync::OnceCell<String> = tokio::sync::OnceCell::const_new();
    let template = TEMPLATE
        .get_or_init(|| async {
            let url = create_postgres_database(admin_url, None).await;
            let store = latchkey::store::Store::open_postgres(&url, 1)
                .await
                .expect("open the template database");
            store
                .migrate()
                .await
                .expect("migrate the template database");
            store.close().await;
            let (_, name) = url.rsplit_once('/').expect("URL has a database name");
            name.split('?').next().unwrap_or(name).to_owned()
        })
        .await;
    create_postgres_database(admin_url, Some(template)).await
}

async fn create_postgres_database(admin_url: &str, template: Option<&str>) -> String {
    use sqlx::Connection;
    let name = format!("lk_test_{}", uuid::Uuid::new_v4().simple());
    let mut conn = sqlx::PgConnection::connect(admin_url)
        .await
        .expect("LATCHKEY_TEST_DATABASE_URL is reachable");
    let sql = match template {
        Some(template) => format!("CREATE DATABASE {name} TEMPLATE {template}"),
        None => format!("CREATE DATABASE {name}"),
    };
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .execute(&mut conn)
        .await
        .expect("create test database");
    let (base, query) = admin_url
        .split_once('?')
        .map_or((admin_url, None), |(b, q)| (b, Some(q)));
    let (server, _db) = base.rsplit_once('/').expect("URL has a database name");
    match query {
        Some(q) => format!("{server}/{name}?{q}"),
        None => format!("{server}/{name}"),
    }
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

    pub async fn post_json(&self, path: &str, body: &Value) -> reqwest::Response {
        self.client
            .post(self.at(path))
            .json(body)
            .send()
            .await
            .unwrap()
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
        let res = plain_client()
            .post(self.at("/api/v1/login"))
            .json(&json!({"login": login, "password": PASSWORD, "remember_me": remember}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        let body: Value = res.json().await.unwrap();
        body["token"].as_str().unwrap().to_owned()
    }

    pub async fn get_bearer(&self, path: &str, token: &str) -> reqwest::Response {
        plain_client()
            .get(self.at(path))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
    }

    /// The JSON `path` answers the bearer of `token`, which must be a 200.
    pub async fn get_json(&self, path: &str, token: &str) -> Value {
        let res = self.get_bearer(path, token).await;
        assert_eq!(res.status(), 200, "GET {path}");
        res.json().await.unwrap()
    }

    /// Runs `sql` on this server's database behind the store's back, to move a row's clock
    /// (there is no clock seam). The store caches a looked-up session for up to 30 s
    /// (`src/store/cache.rs`), so edit a session's row before its token is first used.
    pub async fn execute_sql(&self, sql: &str) {
        use sqlx::Connection;
        let sql = sqlx::AssertSqlSafe(sql.to_owned());
        if let Some(url) = self
            .database_url
            .as_deref()
            .filter(|_| self.engine == "postgres")
        {
            let mut db = sqlx::PgConnection::connect(url).await.unwrap();
            sqlx::raw_sql(sql).execute(&mut db).await.unwrap();
        } else {
            let path = self.dir.path().join("data/latchkey.db");
            let mut db = sqlx::SqliteConnection::connect(&format!("sqlite://{}", path.display()))
                .await
                .unwrap();
            sqlx::raw_sql(sql).execute(&mut db).await.unwrap();
        }
    }

    /// The single text value `sql` selects from this server's database, read behind the
    /// store's back as `execute_sql` writes.
    pub async fn query_text(&self, sql: &str) -> String {
        use sqlx::Connection;
        let sql = sqlx::AssertSqlSafe(sql.to_owned());
        if let Some(url) = self
            .database_url
            .as_deref()
            .filter(|_| self.engine == "postgres")
        {
            let mut db = sqlx::PgConnection::connect(url).await.unwrap();
            sqlx::query_scalar(sql).fetch_one(&mut db).await.unwrap()
        } else {
            let path = self.dir.path().join("data/latchkey.db");
            let mut db = sqlx::SqliteConnection::connect(&format!("sqlite://{}", path.display()))
                .await
                .unwrap();
            sqlx::query_scalar(sql).fetch_one(&mut db).await.unwrap()
        }
    }

    /// Everything in this server's SQLite files, the write-ahead log included, as text: what a
    /// copy of the database would give away.
    pub fn database_files_text(&self) -> String {
        let mut bytes = Vec::new();
        for entry in std::fs::read_dir(self.dir.path().join("data")).unwrap() {
            let path = entry.unwrap().path();
            if path.to_string_lossy().contains("latchkey.db") {
                bytes.extend(std::fs::read(path).unwrap());
            }
        }
        String::from_utf8_lossy(&bytes).into_owned()
    }

    /// What a copy of the database gives away, as text: on SQLite the files themselves
    /// (`database_files_text`); on PostgreSQL, where the files are the server's, every row of
    /// every table (`database_to_xml`, with byte columns in base64).
    pub async fn stored_text(&self) -> String {
        if self.engine == "postgres" {
            self.query_text("SELECT CAST(database_to_xml(true, false, '') AS TEXT)")
                .await
        } else {
            self.database_files_text()
        }
    }

    /// `id` as an SQL literal for this engine's id columns (a blob on SQLite, a UUID on
    /// PostgreSQL), for rows written behind the store's back.
    pub fn uuid_sql(&self, id: uuid::Uuid) -> String {
        if self.engine == "postgres" {
            format!("'{id}'")
        } else {
            format!("X'{}'", id.simple())
        }
    }

    /// Waits for the confirmation mail to `to` and returns the token from its link.
    pub async fn verification_token(&self, to: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let found = self
                .smtp
                .all()
                .into_iter()
                .find(|m| m.to.eq_ignore_ascii_case(to) && m.text.contains("/verify/"));
            if let Some(mail) = found {
                return link_token(&mail.text, "/verify/");
            }
            assert!(Instant::now() < deadline, "no confirmation mail to {to}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// GETs `path` with a browser: its status and body.
pub async fn page(c: &reqwest::Client, app: &TestApp, path: &str) -> (u16, String) {
    let res = c.get(app.at(path)).send().await.unwrap();
    (res.status().as_u16(), res.text().await.unwrap())
}

/// Reads the `csrf` hidden field out of a page.
pub fn csrf_from(html: &str) -> String {
    let at = html
        .find("name=\"csrf\" value=\"")
        .expect("page has a CSRF field")
        + 19;
    html[at..].split('"').next().unwrap().to_owned()
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

pub struct Mail {
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// A real SMTP server (aiosmtpd) writing what it receives to a Maildir.
pub struct SmtpServer {
    pub port: u16,
    maildir: PathBuf,
    child: Option<Child>,
}

impl SmtpServer {
    pub fn start(maildir: &Path) -> Self {
        let port = free_port();
        let mut server = Self {
            port,
            maildir: maildir.to_path_buf(),
            child: None,
        };
        server.restart();
        server
    }

    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Starts (again) on the same port and Maildir.
    pub fn restart(&mut self) {
        self.stop();
        let child = Command::new("python3")
            .args([
                "-m",
                "aiosmtpd",
                "-n",
                "-l",
                &format!("127.0.0.1:{}", self.port),
            ])
            .args(["-c", "aiosmtpd.handlers.Mailbox"])
            .arg(&self.maildir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("python3 -m aiosmtpd (pip install aiosmtpd)");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(Instant::now() < deadline, "aiosmtpd did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn all(&self) -> Vec<Mail> {
        let Ok(entries) = std::fs::read_dir(self.maildir.join("new")) else {
            return vec![];
        };
        let mut mails: Vec<(std::time::SystemTime, Mail)> = entries
            .filter_map(Result::ok)
            .filter_map(|e| {
                let raw = std::fs::read(e.path()).ok()?;
                let modified = e.metadata().ok()?.modified().ok()?;
                let msg = mail_parser::MessageParser::default().parse(&raw)?;
                let to = msg.to()?.first()?.address()?.to_owned();
                Some((
                    modified,
                    Mail {
                        to,
                        subject: msg.subject().unwrap_or_default().to_owned(),
                        text: msg.body_text(0).unwrap_or_default().into_owned(),
                        html: msg.body_html(0).unwrap_or_default().into_owned(),
                    },
                ))
            })
            .collect();
        mails.sort_by_key(|(t, _)| *t);
        mails.into_iter().map(|(_, m)| m).collect()
    }

    /// Waits (up to 30 s) for a message to `to` with this subject.
    pub async fn wait_for_subject(&self, to: &str, subject: &str) -> Mail {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(m) = self
                .all()
                .into_iter()
                .find(|m| m.to.eq_ignore_ascii_case(to) && m.subject == subject)
            {
                return m;
            }
            assert!(Instant::now() < deadline, "no mail \"{subject}\" to {to}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits (up to 30 s) until `count` messages to `to` have arrived; returns them oldest first.
    pub async fn wait_for(&self, to: &str, count: usize) -> Vec<Mail> {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let mails: Vec<Mail> = self
                .all()
                .into_iter()
                .filter(|m| m.to.eq_ignore_ascii_case(to))
                .collect();
            if mails.len() >= count {
                return mails;
            }
            assert!(
                Instant::now() < deadline,
                "expected {count} mail(s) to {to}, got {}",
                mails.len()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        self.stop();
    }
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

/// A cookie-keeping browser signed in through the sign-in page as `login`.
pub async fn signed_in_browser(app: &TestApp, login: &str) -> reqwest::Client {
    let c = browser_like_client();
    let html = c
        .get(app.at("/login"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let res = c
        .post(app.at("/login"))
        .form(&[
            ("csrf", csrf_from(&html).as_str()),
            ("login", login),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303, "signing in as {login}");
    c
}
