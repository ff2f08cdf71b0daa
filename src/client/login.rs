//! `latchkey login`: through the browser (a loopback listener receives the code, RFC 8252) or,
//! with `--device`, by a code typed on any signed-in browser (RFC 8628).

use std::collections::HashMap;
use std::io::{IsTerminal, Write};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use axum::Router;
use axum::extract::Query;
use axum::response::Html;
use axum::routing::get;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};
use tokio::sync::oneshot;

use super::api::{Api, Tokens};
use super::store::{Account, Accounts};
use crate::oauth::{CLIENT_ID, REQUEST_TTL_SECS};

pub fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .map(|h| h.trim().to_owned())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "this computer".to_owned())
}

fn random_b64(bytes: usize) -> String {
    let mut raw = vec![0u8; bytes];
    rand::fill(raw.as_mut_slice());
    URL_SAFE_NO_PAD.encode(raw)
}

/// Shows how long the browser step has left, on one line of stderr.
/// A spinner and the time left, redrawn in place: only on a terminal, where a line a second
/// is progress; in a log it would be noise.
fn countdown(deadline: Instant, what: &str) {
    const FRAMES: [char; 10] = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
    if !std::io::stderr().is_terminal() {
        return;
    }
    let left = deadline.saturating_duration_since(Instant::now()).as_secs();
    let frame = FRAMES[usize::try_from(left % 10).unwrap_or(0)];
    eprint!("\r{frame} {what} {}:{:02} left ", left / 60, left % 60);
    let _ = std::io::stderr().flush();
}

/// Ends the countdown's line, when there is one.
fn end_countdown() {
    if std::io::stderr().is_terminal() {
        eprintln!();
    }
}

pub async fn browser(api: &Api, open_browser: bool) -> anyhow::Result<Tokens> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.context(
        "Could not listen on 127.0.0.1 for the browser's answer; try `latchkey login --device`.",
    )?;
    let redirect = format!(
        "http://127.0.0.1:{}/callback",
        listener.local_addr()?.port()
    );
    let verifier = random_b64(48);
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    let state = random_b64(16);
    let url = url::Url::parse_with_params(
        &format!("{}/oauth/authorize", api.server),
        [
            ("response_type", "code"),
            ("client_id", CLIENT_ID),
            ("redirect_uri", redirect.as_str()),
            ("code_challenge", challenge.as_str()),
            ("code_challenge_method", "S256"),
            ("state", state.as_str()),
            ("device_name", host_name().as_str()),
        ],
    )?;

    let (tx, rx) = oneshot::channel::<HashMap<String, String>>();
    let tx = Arc::new(Mutex::new(Some(tx)));
    let app = Router::new().route(
        "/callback",
        get(move |Query(q): Query<HashMap<String, String>>| async move {
            if let Some(tx) = tx.lock().ok().and_then(|mut t| t.take()) {
                let _ = tx.send(q);
            }
            Html("<!doctype html><title>Latchkey</title><p>Done. You can close this tab and return to your terminal.</p>")
        }),
    );
    let server = tokio::spawn(async move { axum::serve(listener, app).await });

    println!("Open this address to sign in (it works for 5 minutes):\n{url}");
    if open_browser && webbrowser::open(url.as_str()).is_err() {
        eprintln!("(Could not open a browser; open the address yourself.)");
    }
    let deadline =
        Instant::now() + Duration::from_secs(u64::try_from(REQUEST_TTL_SECS).unwrap_or(300));
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tokio::pin!(rx);
    let answer = loop {
        tokio::select! {
            answer = &mut rx => break answer.context("The browser step stopped; run `latchkey login` again.")?,
            _ = tick.tick() => {
                if Instant::now() >= deadline {
                    end_countdown();
                    server.abort();
                    bail!("Timed out: the browser step must finish within 5 minutes; run `latchkey login` again.");
                }
                countdown(deadline, "Waiting for the browser…");
            }
        }
    };
    end_countdown();
    server.abort();
    if answer.get("state") != Some(&state) {
        bail!("The browser's answer does not belong to this sign-in; run `latchkey login` again.");
    }
    if let Some(error) = answer.get("error") {
        if error == "access_denied" {
            bail!("Sign-in skipped in the browser.");
        }
        bail!("The server refused the sign-in ({error}); run `latchkey login` again.");
    }
    let code = answer
        .get("code")
        .context("The browser sent no code; run `latchkey login` again.")?;
    api.exchange(code, &redirect, &verifier).await
}

pub async fn device(api: &Api) -> anyhow::Result<Tokens> {
    let start = api.start_device(&host_name()).await?;
    println!(
        "On any device, open {} and enter the code {}\n(or open {})",
        start.verification_uri, start.user_code, start.verification_uri_complete
    );
    let deadline =
        Instant::now() + Duration::from_secs(u64::try_from(start.expires_in).unwrap_or(300));
    let mut interval = u64::try_from(start.interval).unwrap_or(5).max(1);
    loop {
        countdown(deadline, "Waiting for approval…");
        tokio::time::sleep(Duration::from_secs(interval)).await;
        match api.poll_device(&start.device_code).await? {
            Ok(tokens) => {
                end_countdown();
                return Ok(tokens);
            }
            Err(f) if f.error == "authorization_pending" => {}
            Err(f) if f.error == "slow_down" => interval += 5,
            Err(f) if f.error == "access_denied" => bail!("Sign-in declined in the browser."),
            Err(f) if f.error == "expired_token" => {
                bail!("Timed out: the code expired; run `latchkey login --device` again.")
            }
            Err(f) => bail!(
                "The server refused the sign-in ({}); run `latchkey login --device` again.",
                f.error
            ),
        }
        if Instant::now() >= deadline {
            bail!("Timed out waiting for approval; run `latchkey login --device` again.");
        }
    }
}

/// Finishes a sign-in: learns who it is, stores the account, makes it active.
pub async fn store(api: &Api, tokens: Tokens) -> anyhow::Result<Account> {
    #[derive(serde::Deserialize)]
    struct Me {
        username: String,
    }
    let me: Me = api.get(&tokens.access_token, "/api/v1/me").await?;
    let account = Account {
        server: api.server.clone(),
        username: me.username,
        access_token: tokens.access_token,
        refresh_token: tokens.refresh_token,
        access_expires_at: crate::clock::Clock::default().now() + tokens.expires_in,
        in_keyring: false,
    };
    let mut accounts = Accounts::load()?;
    accounts.upsert(account.clone());
    accounts.save()?;
    Ok(account)
}
