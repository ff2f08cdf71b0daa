//! The CLI's side: signing in through the browser or a device code, several accounts with one
//! active, and the account and its sessions from the terminal.

pub mod api;
pub mod login;
pub mod store;

use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};

use api::Api;
use store::Accounts;

pub const DEFAULT_SERVER: &str = "http://127.0.0.1:8080";

pub async fn login(server: &str, device: bool, open_browser: bool) -> anyhow::Result<()> {
    let api = Api::new(server)?;
    let tokens = if device {
        login::device(&api).await?
    } else {
        login::browser(&api, open_browser).await?
    };
    let account = login::store(&api, tokens).await?;
    println!("Signed in as {}.", account.name());
    Ok(())
}

pub fn accounts(json: bool) -> anyhow::Result<()> {
    let accounts = Accounts::load()?;
    if json {
        #[derive(Serialize)]
        struct Row {
            name: String,
            username: String,
            server: String,
            active: bool,
        }
        let rows: Vec<Row> = accounts
            .accounts
            .iter()
            .map(|a| Row {
                name: a.name(),
                username: a.username.clone(),
                server: a.server.clone(),
                active: accounts.active.as_deref() == Some(&a.name()),
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&rows)?);
        return Ok(());
    }
    if accounts.accounts.is_empty() {
        println!("No accounts. Run `latchkey login`.");
    }
    for a in &accounts.accounts {
        let mark = if accounts.active.as_deref() == Some(&a.name()) {
            "*"
        } else {
            " "
        };
        println!("{mark} {}", a.name());
    }
    Ok(())
}

pub fn switch(wanted: &str) -> anyhow::Result<()> {
    let mut accounts = Accounts::load()?;
    let name = accounts
        .find(wanted)
        .map(store::Account::name)
        .with_context(|| format!("no account {wanted}; see `latchkey accounts`"))?;
    accounts.active = Some(name.clone());
    accounts.save()?;
    println!("Now using {name}.");
    Ok(())
}

/// The active account with a fresh access token, and a client for its server.
async fn active() -> anyhow::Result<(Api, store::Account)> {
    let mut accounts = Accounts::load()?;
    let mut account = accounts
        .active()
        .cloned()
        .context("not signed in; run `latchkey login`")?;
    let api = Api::new(&account.server)?;
    let before = account.clone();
    api.fresh(&mut account).await?;
    if account != before {
        accounts.upsert(account.clone());
        accounts.save()?;
    }
    Ok((api, account))
}

#[derive(Debug, Serialize, Deserialize)]
struct Me {
    username: String,
    email: String,
    name: String,
    email_verified: bool,
    mfa_enabled: bool,
}

pub async fn whoami(json: bool) -> anyhow::Result<()> {
    let (api, account) = active().await?;
    let me: Me = api.get(&account.access_token, "/api/v1/me").await?;
    if json {
        println!("{}", serde_json::to_string_pretty(&me)?);
    } else {
        println!("{} <{}> on {}", me.username, me.email, account.server);
    }
    Ok(())
}

/// Revokes the grant on the server, then forgets it; `all` does so for every account.
pub async fn logout(all: bool) -> anyhow::Result<()> {
    let mut accounts = Accounts::load()?;
    let targets: Vec<store::Account> = if all {
        accounts.accounts.clone()
    } else {
        vec![accounts.active().cloned().context("not signed in")?]
    };
    for account in &targets {
        let api = Api::new(&account.server)?;
        if let Err(e) = api.revoke(&account.refresh_token).await {
            bail!(
                "could not sign {} out on the server ({e}); nothing was forgotten",
                account.name()
            );
        }
        store::forget(account);
        accounts.accounts.retain(|a| a.name() != account.name());
        println!("Signed out {}.", account.name());
    }
    if accounts.active().is_none() {
        accounts.active = accounts.accounts.first().map(store::Account::name);
    }
    accounts.save()?;
    Ok(())
}

#[derive(Debug, Serialize, Deserialize)]
struct SessionRow {
    id: String,
    current: bool,
    kind: String,
    device: String,
    ip: String,
    last_seen_at: String,
}

pub async fn sessions(revoke: Option<&str>, all: bool, json: bool) -> anyhow::Result<()> {
    let (api, account) = active().await?;
    if let Some(id) = revoke {
        api.delete(&account.access_token, &format!("/api/v1/me/sessions/{id}"))
            .await?;
        println!("Session {id} revoked.");
        return Ok(());
    }
    if all {
        api.delete(&account.access_token, "/api/v1/me/sessions?scope=others")
            .await?;
        println!("Every other session revoked.");
        return Ok(());
    }
    let rows: Vec<SessionRow> = api
        .get(&account.access_token, "/api/v1/me/sessions")
        .await?;
    if json {
        println!("{}", serde_json::to_string_pretty(&rows)?);
    } else {
        for s in rows {
            let mark = if s.current { "*" } else { " " };
            println!(
                "{mark} {}  {:<4} {:<32} {:<15} last active {}",
                s.id, s.kind, s.device, s.ip, s.last_seen_at
            );
        }
    }
    Ok(())
}
