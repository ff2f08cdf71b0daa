//! `latchkey login` and the commands around it, run as the real binary against a real server:
//! the browser step is driven over HTTP, as a browser would.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Stdio;

use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use crate::helpers::{TestApp, plain_client, signed_in_browser, spawn_app, submit, submit_here};

const BIN: &str = env!("CARGO_BIN_EXE_latchkey");

fn cli(config: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(BIN);
    // The file store, whatever keyring this machine has; the keyring test covers the other.
    c.args(args)
        .env("LATCHKEY_CONFIG_DIR", config)
        .env("LATCHKEY_KEYRING", "off")
        .env_remove("LATCHKEY_SERVER")
        .kill_on_drop(true);
    c
}

async fn run(config: &Path, args: &[&str]) -> (bool, String, String) {
    let out = cli(config, args).output().await.unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Starts `latchkey login` and returns it with the address it printed.
async fn start_login(config: &Path, server: &str) -> (Child, String) {
    let mut child = cli(config, &["login", "--server", server, "--no-browser"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let url = loop {
        let line = lines
            .next_line()
            .await
            .unwrap()
            .expect("login printed an address");
        if line.starts_with("http") {
            break line;
        }
    };
    // Keep reading so the CLI never blocks on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    (child, url)
}

/// The person's part: open the address, approve (or skip), and let the browser follow the
/// redirect to the CLI's loopback listener.
async fn browser_step(app: &TestApp, browser: &reqwest::Client, url: &str, decision: &str) {
    let res = browser.get(url).send().await.unwrap();
    let consent = res.headers()["location"].to_str().unwrap().to_owned();
    let res = submit_here(browser, app, &consent, &[("decision", decision)]).await;
    let back = res.headers()["location"].to_str().unwrap().to_owned();
    assert!(back.starts_with("http://127.0.0.1:"), "{back}");
    plain_client().get(back).send().await.unwrap();
}

#[tokio::test]
async fn two_accounts_sign_in_through_the_browser_switch_and_sign_out() {
    let app = spawn_app().await;
    app.signup("first").await;
    app.signup("second").await;
    let config = tempfile::tempdir().unwrap();

    for user in ["first", "second"] {
        let (mut child, url) = start_login(config.path(), &app.url).await;
        assert!(
            url.contains("code_challenge_method=S256")
                && url.contains("redirect_uri=http%3A%2F%2F127.0.0.1%3A")
        );
        browser_step(&app, &signed_in_browser(&app, user).await, &url, "approve").await;
        assert!(child.wait().await.unwrap().success(), "login as {user}");
    }
    let mode = std::fs::metadata(config.path().join("accounts.json"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);

    let (ok, out, _) = run(config.path(), &["accounts", "--json"]).await;
    assert!(ok);
    let list: Vec<Value> = serde_json::from_str(&out).unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(
        list.iter().find(|a| a["active"] == true).unwrap()["username"],
        "second"
    );
    let (_, out, _) = run(config.path(), &["whoami"]).await;
    assert!(out.starts_with("second <second@example.com>"), "{out}");
    let (ok, _, _) = run(config.path(), &["switch", "first"]).await;
    assert!(ok);
    let (_, out, _) = run(config.path(), &["whoami", "--json"]).await;
    assert_eq!(
        serde_json::from_str::<Value>(&out).unwrap()["username"],
        "first"
    );

    let (_, out, _) = run(config.path(), &["sessions", "--json"]).await;
    let sessions: Vec<Value> = serde_json::from_str(&out).unwrap();
    let mine = sessions.iter().find(|s| s["current"] == true).unwrap();
    assert_eq!(mine["kind"], "cli");
    assert!(
        mine["device"]
            .as_str()
            .unwrap()
            .starts_with("Latchkey CLI on ")
    );
    let (_, out, _) = run(config.path(), &["sessions"]).await;
    assert!(
        out.contains("last active just now"),
        "dates as people say them: {out}"
    );
    let (ok, _, err) = run(
        config.path(),
        &["sessions", "revoke", "0190a1b2-0000-7000-8000-000000000000"],
    )
    .await;
    assert!(!ok);
    assert_eq!(
        err.trim(),
        "No session with that id; `latchkey sessions` lists them."
    );
    // Ending another session needs a recent sign-in (ASVS V3.3.4); for the CLI that means
    // `latchkey login` again, and it says so.
    let browser_session = sessions.iter().find(|s| s["current"] == false).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.pass_time(16 * 60);
    let (ok, _, err) = run(config.path(), &["sessions", "revoke", &browser_session]).await;
    assert!(!ok);
    assert!(err.contains("then run `latchkey login`"), "{err}");

    // Signing out revokes on the server: the stored token stops working there.
    let stored: Value =
        serde_json::from_slice(&std::fs::read(config.path().join("accounts.json")).unwrap())
            .unwrap();
    let first_token = stored["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["username"] == "first")
        .unwrap()["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let (ok, out, _) = run(config.path(), &["logout"]).await;
    assert!(ok, "{out}");
    assert_eq!(
        app.get_bearer("/api/v1/me", &first_token).await.status(),
        401
    );
    let (_, out, _) = run(config.path(), &["accounts"]).await;
    assert!(
        out.contains("* second@") && !out.contains("first@"),
        "{out}"
    );
}

#[tokio::test]
async fn skipping_in_the_browser_or_a_plain_http_server_fails_clearly() {
    let app = spawn_app().await;
    app.signup("skipper").await;
    let config = tempfile::tempdir().unwrap();
    let (mut child, url) = start_login(config.path(), &app.url).await;
    browser_step(
        &app,
        &signed_in_browser(&app, "skipper").await,
        &url,
        "skip",
    )
    .await;
    assert!(!child.wait().await.unwrap().success());
    assert!(!config.path().join("accounts.json").exists());

    let (ok, _, err) = run(
        config.path(),
        &[
            "login",
            "--server",
            "http://accounts.example.com",
            "--no-browser",
        ],
    )
    .await;
    assert!(!ok);
    assert!(err.contains("use https://"), "{err}");
}

#[tokio::test]
async fn login_with_a_device_code() {
    let app = spawn_app().await;
    app.signup("headless").await;
    let config = tempfile::tempdir().unwrap();
    let mut child = cli(config.path(), &["login", "--server", &app.url, "--device"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next_line().await.unwrap().unwrap();
    let code = first.rsplit(' ').next().unwrap().to_owned();
    assert_eq!(code.len(), 9, "{first}");
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });

    let browser = signed_in_browser(&app, "headless").await;
    submit(
        &browser,
        &app,
        &format!("/device?user_code={code}"),
        "/device",
        &[("user_code", code.as_str()), ("decision", "approve")],
    )
    .await;
    let status = tokio::time::timeout(std::time::Duration::from_secs(30), child.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(status.success());
    let (_, out, _) = run(config.path(), &["whoami"]).await;
    assert!(out.starts_with("headless <"), "{out}");
}

/// A private D-Bus session with an unlocked GNOME Keyring: a real Secret Service, as a desktop
/// has. Returns the daemon (killed on drop) and the bus address.
async fn secret_service() -> (Child, String) {
    let mut session = Command::new("dbus-run-session")
        .args(["--", "sh", "-c", "echo -n pw | gnome-keyring-daemon --unlock --components=secrets >/dev/null; echo \"$DBUS_SESSION_BUS_ADDRESS\"; sleep 600"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("dbus-run-session and gnome-keyring (apt install dbus gnome-keyring)");
    let mut lines = BufReader::new(session.stdout.take().unwrap()).lines();
    let address = lines.next_line().await.unwrap().expect("a bus address");
    (session, address)
}

#[tokio::test]
async fn with_a_keyring_the_tokens_live_there_not_in_the_file() {
    let app = spawn_app().await;
    app.signup("keyed").await;
    let config = tempfile::tempdir().unwrap();
    let (_session, bus) = secret_service().await;
    let with_keyring = |args: &[&str]| {
        let mut c = Command::new(BIN);
        c.args(args)
            .env("LATCHKEY_CONFIG_DIR", config.path())
            .env("DBUS_SESSION_BUS_ADDRESS", &bus)
            .env_remove("LATCHKEY_KEYRING")
            .env_remove("LATCHKEY_SERVER")
            .kill_on_drop(true);
        c
    };
    let mut child = with_keyring(&["login", "--server", &app.url, "--no-browser"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let url = loop {
        let line = lines.next_line().await.unwrap().expect("an address");
        if line.starts_with("http") {
            break line;
        }
    };
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    browser_step(
        &app,
        &signed_in_browser(&app, "keyed").await,
        &url,
        "approve",
    )
    .await;
    assert!(child.wait().await.unwrap().success());

    let file = std::fs::read_to_string(config.path().join("accounts.json")).unwrap();
    let stored: Value = serde_json::from_str(&file).unwrap();
    assert_eq!(stored["accounts"][0]["in_keyring"], true);
    assert!(
        !file.contains("lka_") && !file.contains("lkr_"),
        "no token in the file: {file}"
    );
    let out = with_keyring(&["whoami"]).output().await.unwrap();
    assert!(
        String::from_utf8_lossy(&out.stdout).starts_with("keyed <"),
        "{out:?}"
    );
    assert!(
        with_keyring(&["logout"])
            .output()
            .await
            .unwrap()
            .status
            .success()
    );
    let out = Command::new("secret-tool")
        .args(["search", "service", "latchkey"])
        .env("DBUS_SESSION_BUS_ADDRESS", &bus)
        .output()
        .await
        .unwrap();
    assert!(
        !String::from_utf8_lossy(&out.stdout).contains("lkr_"),
        "signing out forgets the tokens"
    );
}

/// A CLI failure is one sentence with the way forward: no error chain and no stack trace, even
/// with RUST_BACKTRACE set. `login` finds a server down before anyone waits five minutes on it.
#[tokio::test]
async fn the_cli_fails_in_one_plain_sentence() {
    let config = tempfile::tempdir().unwrap();
    let server = format!("http://127.0.0.1:{}", crate::helpers::free_port());
    let started = std::time::Instant::now();
    let out = cli(
        config.path(),
        &["login", "--server", &server, "--no-browser"],
    )
    .env("RUST_BACKTRACE", "1")
    .output()
    .await
    .unwrap();
    assert!(!out.status.success());
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr).trim(),
        format!("Could not reach {server} — is the server running, and is the address right?")
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).is_empty(),
        "no address to open"
    );

    let (ok, _, err) = run(config.path(), &["whoami"]).await;
    assert!(!ok);
    assert_eq!(err.trim(), "Not signed in; run `latchkey login`.");
}
