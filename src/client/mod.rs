//! The CLI's side: signing in through the browser or a device code, several accounts with one
//! active, and the account and its sessions from the terminal.

pub mod api;
pub mod login;
pub mod store;

use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use api::Api;
use store::Accounts;

pub const DEFAULT_SERVER: &str = "http://127.0.0.1:8080";

pub async fn login(server: &str, device: bool, open_browser: bool) -> anyhow::Result<()> {
    let api = Api::new(server)?;
    // Before anyone is asked to wait five minutes on it.
    api.ping().await?;
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
        .with_context(|| format!("No account {wanted}; `latchkey accounts` lists them."))?;
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
        .context("Not signed in; run `latchkey login`.")?;
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
        vec![
            accounts
                .active()
                .cloned()
                .context("Not signed in; run `latchkey login`.")?,
        ]
    };
    for account in &targets {
        let api = Api::new(&account.server)?;
        if let Err(e) = api.revoke(&account.refresh_token).await {
            bail!(
                "Could not sign {} out on the server, so nothing was forgotten: {e}",
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
                s.id,
                s.kind,
                s.device,
                s.ip,
                ago(&s.last_seen_at, crate::clock::Clock::default().now())
            );
        }
    }
    Ok(())
}

/// "5 minutes ago", as people say it; the exact time stays in `--json`.
fn ago(rfc3339: &str, now: i64) -> String {
    let Ok(then) = OffsetDateTime::parse(rfc3339, &Rfc3339) else {
        return rfc3339.to_owned();
    };
    let secs = now - then.unix_timestamp();
    let (n, unit) = match secs {
        ..60 => return "just now".to_owned(),
        60..3600 => (secs / 60, "minute"),
        3600..86_400 => (secs / 3600, "hour"),
        _ => (secs / 86_400, "day"),
    };
    format!("{n} {unit}{} ago", if n == 1 { "" } else { "s" })
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    #[test]
    fn times_read_as_people_say_them() {
        let now = datetime!(2026-12-02 12:00 UTC).unix_timestamp();
        assert_eq!(super::ago("2026-12-02T11:59:30Z", now), "just now");
        assert_eq!(super::ago("2026-12-02T11:55:00Z", now), "5 minutes ago");
        assert_eq!(super::ago("2026-12-02T11:00:00Z", now), "1 hour ago");
        assert_eq!(super::ago("2026-11-29T12:00:00Z", now), "3 days ago");
        assert_eq!(super::ago("garbage", now), "garbage");
    }
}
