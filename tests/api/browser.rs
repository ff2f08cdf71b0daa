//! One real browser (Debian's headless Chromium through chromedriver) signs up, confirms the
//! address from the mail it received, signs out and signs in again with "stay signed in"; it
//! also does the CLI's browser step, shows that `/docs` works under our CSP, and tries what
//! `static/app.js` adds to password fields: "Show password" and the strength meter.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{ClientBuilder, Locator};

use crate::helpers::{PASSWORD, free_port, link_token, spawn_app};

pub struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub async fn browser() -> (Driver, fantoccini::Client) {
    let port = free_port();
    let child = Command::new("chromedriver")
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver (apt install chromium-driver)");
    let driver = Driver(child);
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "chromedriver did not start");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let profile = std::env::temp_dir().join(format!("latchkey-chromium-{}", uuid::Uuid::new_v4()));
    let caps = serde_json::json!({
        "goog:chromeOptions": {
            "binary": "/usr/bin/chromium",
            "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--disable-quic", "--no-first-run", "--disable-background-networking",
                     "--disable-component-update", "--disable-sync",
                     format!("--user-data-dir={}", profile.display())]
        }
    });
    let connector = hyper_util::client::legacy::connect::HttpConnector::new();
    let client = ClientBuilder::new(connector)
        .capabilities(caps.as_object().unwrap().clone())
        .connect(&format!("http://127.0.0.1:{port}"))
        .await
        .expect("a Chromium session");
    (driver, client)
}

pub async fn fill(b: &fantoccini::Client, id: &str, text: &str) {
    b.find(Locator::Id(id))
        .await
        .unwrap()
        .send_keys(text)
        .await
        .unwrap();
}

pub async fn submit(b: &fantoccini::Client) {
    b.find(Locator::Css("main form button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
}

/// Waits for the navigation a click started to land on `path`.
pub async fn wait_for_path(b: &fantoccini::Client, path: &str) {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let now = b.current_url().await.unwrap();
        if now.path() == path {
            return;
        }
        assert!(Instant::now() < deadline, "stuck at {now}, expected {path}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

pub async fn page_text(b: &fantoccini::Client) -> String {
    b.find(Locator::Css("body"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_person_signs_up_confirms_and_signs_in_with_a_real_browser() {
    let app = spawn_app().await;
    let (_driver, b) = browser().await;

    b.goto(&app.at("/signup")).await.unwrap();
    fill(&b, "email", "chrome@example.com").await;
    fill(&b, "username", "chrome-user").await;
    fill(&b, "password", PASSWORD).await;
    b.find(Locator::Css("input[name=accept_terms]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    submit(&b).await;
    wait_for_path(&b, "/welcome").await;
    fill(&b, "name", "Chrome User").await;
    submit(&b).await;
    wait_for_path(&b, "/").await;
    assert!(
        page_text(&b).await.contains("Confirm your email address"),
        "banner for the unconfirmed address"
    );

    let mail = app
        .smtp
        .wait_for("chrome@example.com", 1)
        .await
        .pop()
        .unwrap();
    let link = link_token(&mail.text, "/verify/");
    b.goto(&app.at(&format!("/verify/{link}"))).await.unwrap();
    submit(&b).await;
    // Confirmed: onboarding goes on with "Create or join a team".
    wait_for_path(&b, "/welcome/team").await;
    let text = page_text(&b).await;
    assert!(text.contains("Your email address is confirmed."), "{text}");
    assert!(!text.contains("Resend the email"), "the banner is gone");
    fill(&b, "name", "Chrome Team").await;
    fill(&b, "slug", "chrome-team").await;
    submit(&b).await;
    wait_for_path(&b, "/teams/chrome-team").await;
    assert!(page_text(&b).await.contains("Your role"));

    b.find(Locator::Css("header form button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for_path(&b, "/login").await;
    assert!(page_text(&b).await.contains("You are signed out."));
    fill(&b, "login", "chrome-user").await;
    fill(&b, "password", PASSWORD).await;
    b.find(Locator::Css("input[name=remember]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    submit(&b).await;
    wait_for_path(&b, "/").await;
    assert!(page_text(&b).await.contains("Hello, Chrome User"));

    b.goto(&app.at("/settings/sessions")).await.unwrap();
    let text = page_text(&b).await;
    assert!(
        text.contains("this device") && text.contains("web"),
        "{text}"
    );
    b.close().await.unwrap();
}

/// `latchkey login` with a real browser doing the browser step: sign in (the CLI's request
/// survives it), approve, and Chromium hands the code to the CLI's loopback listener.
#[tokio::test]
async fn the_cli_signs_in_through_a_real_browser() {
    use tokio::io::AsyncBufReadExt;
    let app = spawn_app().await;
    app.signup("terminal").await;
    let config = tempfile::tempdir().unwrap();
    let mut cli = tokio::process::Command::new(env!("CARGO_BIN_EXE_latchkey"))
        .args(["login", "--server", &app.url, "--no-browser"])
        .env("LATCHKEY_CONFIG_DIR", config.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = tokio::io::BufReader::new(cli.stdout.take().unwrap()).lines();
    let url = loop {
        let line = lines.next_line().await.unwrap().unwrap();
        if line.starts_with("http") {
            break line;
        }
    };
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });

    let (_driver, b) = browser().await;
    b.goto(&url).await.unwrap();
    wait_for_path(&b, "/login").await;
    fill(&b, "login", "terminal").await;
    fill(&b, "password", PASSWORD).await;
    submit(&b).await;
    let deadline = Instant::now() + Duration::from_secs(15);
    while !b
        .current_url()
        .await
        .unwrap()
        .path()
        .starts_with("/oauth/consent/")
    {
        assert!(Instant::now() < deadline, "no consent page");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(page_text(&b).await.contains("Sign in to Latchkey CLI on"));
    b.find(Locator::Css("button[value=approve]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let status = tokio::time::timeout(Duration::from_secs(20), cli.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(status.success());
    assert!(page_text(&b).await.contains("You can close this tab"));
    b.close().await.unwrap();
}

/// `/docs` is served under the pages' Content Security Policy (no inline script or style), and
/// Swagger UI still renders every operation of the OpenAPI document in a real browser.
#[tokio::test]
async fn the_api_docs_work_under_the_content_security_policy() {
    let app = spawn_app().await;
    let res = app.client.get(app.at("/docs/")).send().await.unwrap();
    let csp = res.headers()["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("script-src 'self'") && csp.contains("style-src 'self'"));
    let spec = app.openapi().await;
    let operations: usize = spec["paths"]
        .as_object()
        .unwrap()
        .values()
        .map(|ops| ops.as_object().unwrap().len())
        .sum();

    let (_driver, b) = browser().await;
    b.goto(&app.at("/docs/")).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let shown = b.find_all(Locator::Css(".opblock")).await.unwrap().len();
        if shown == operations {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "Swagger UI shows {shown} of {operations} operations"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    b.close().await.unwrap();
}

async fn attr(b: &fantoccini::Client, css: &str, name: &str) -> Option<String> {
    b.find(Locator::Css(css))
        .await
        .unwrap()
        .attr(name)
        .await
        .unwrap()
}

/// ASVS 4.0.3 V2.1.12: the script gives the sign-up password field a real "Show password"
/// button. It unmasks what was typed without losing it, masks it again, and works from the
/// keyboard: Tab reaches it from the field and Enter presses it.
#[tokio::test]
async fn the_password_can_be_shown_while_typing() {
    let app = spawn_app().await;
    let (_driver, b) = browser().await;
    b.goto(&app.at("/signup")).await.unwrap();
    let toggle = "button.reveal-toggle[aria-controls=password]";
    assert_eq!(attr(&b, toggle, "type").await.as_deref(), Some("button"));
    assert_eq!(
        attr(&b, toggle, "aria-label").await.as_deref(),
        Some("Show password")
    );
    assert_eq!(
        attr(&b, toggle, "aria-pressed").await.as_deref(),
        Some("false")
    );

    fill(&b, "password", "correct horse").await;
    b.find(Locator::Css(toggle))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    assert_eq!(attr(&b, "#password", "type").await.as_deref(), Some("text"));
    assert_eq!(
        attr(&b, toggle, "aria-label").await.as_deref(),
        Some("Hide password")
    );
    assert_eq!(
        attr(&b, toggle, "aria-pressed").await.as_deref(),
        Some("true")
    );
    // Still typing into the shown field: nothing typed is lost.
    fill(&b, "password", " battery staple").await;
    let field = b.find(Locator::Id("password")).await.unwrap();
    assert_eq!(
        field.prop("value").await.unwrap().as_deref(),
        Some(PASSWORD)
    );

    field.send_keys("\u{e004}").await.unwrap(); // Tab
    let focused = b.active_element().await.unwrap();
    assert_eq!(
        focused.attr("aria-controls").await.unwrap().as_deref(),
        Some("password"),
        "Tab moves from the field to its button"
    );
    focused.send_keys("\u{e007}").await.unwrap(); // Enter
    assert_eq!(
        attr(&b, "#password", "type").await.as_deref(),
        Some("password")
    );
    assert_eq!(
        attr(&b, toggle, "aria-pressed").await.as_deref(),
        Some("false")
    );
    assert_eq!(
        field.prop("value").await.unwrap().as_deref(),
        Some(PASSWORD)
    );
    b.close().await.unwrap();
}

/// ASVS 4.0.3 V2.1.8: the sign-up page's strength meter follows what is typed. Length counts,
/// character classes do not (V2.1.9), and what attackers try first scores lowest.
#[tokio::test]
async fn the_strength_meter_follows_what_is_typed() {
    let app = spawn_app().await;
    let (_driver, b) = browser().await;
    b.goto(&app.at("/signup")).await.unwrap();
    let meter = b.find(Locator::Id("password-strength")).await.unwrap();
    assert!(meter.is_displayed().await.unwrap(), "the script shows it");
    let field = b.find(Locator::Id("password")).await.unwrap();
    for (typed, level) in [
        ("password", "0"),
        ("Password1!", "0"),
        ("Password123!", "1"),
        ("abcdefghijklmnop", "1"),
        ("correct horse battery staple", "4"),
    ] {
        field.clear().await.unwrap();
        field.send_keys(typed).await.unwrap();
        let hint = b
            .find(Locator::Id("password-strength-hint"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert_eq!(
            meter.attr("value").await.unwrap().as_deref(),
            Some(level),
            "{typed}: {hint}"
        );
        assert!(!hint.is_empty(), "{typed} has a hint");
    }
    // Not the username or the address typed above it.
    fill(&b, "username", "ada-lovelace").await;
    field.clear().await.unwrap();
    field.send_keys("Ada-Lovelace1815").await.unwrap();
    assert_eq!(meter.attr("value").await.unwrap().as_deref(), Some("1"));
    b.close().await.unwrap();
}
