//! The CLI's accounts: a JSON file of mode 0600 in the config directory (`$LATCHKEY_CONFIG_DIR`,
//! else `$XDG_CONFIG_HOME/latchkey`, else `~/.config/latchkey`).

use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::PathBuf;

use anyhow::Context;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Account {
    pub server: String,
    pub username: String,
    pub access_token: String,
    pub refresh_token: String,
    /// Unix seconds; refreshed a minute early.
    pub access_expires_at: i64,
}

impl Account {
    /// `username@host:port`, how accounts are named on the command line.
    pub fn name(&self) -> String {
        let host = self
            .server
            .split_once("://")
            .map_or(self.server.as_str(), |(_, h)| h);
        format!("{}@{host}", self.username)
    }
}

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Accounts {
    pub active: Option<String>,
    pub accounts: Vec<Account>,
}

pub fn config_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("LATCHKEY_CONFIG_DIR") {
        return PathBuf::from(dir);
    }
    if let Some(xdg) = std::env::var_os("XDG_CONFIG_HOME") {
        return PathBuf::from(xdg).join("latchkey");
    }
    let home = std::env::var_os("HOME").map_or_else(|| PathBuf::from("."), PathBuf::from);
    home.join(".config/latchkey")
}

fn path() -> PathBuf {
    config_dir().join("accounts.json")
}

impl Accounts {
    pub fn load() -> anyhow::Result<Self> {
        match std::fs::read(path()) {
            Ok(bytes) => Ok(serde_json::from_slice(&bytes).context("reading accounts.json")?),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Self::default()),
            Err(e) => Err(e.into()),
        }
    }

    /// Writes the file whole, readable by its owner only.
    pub fn save(&self) -> anyhow::Result<()> {
        let dir = config_dir();
        std::fs::create_dir_all(&dir)?;
        let tmp = dir.join("accounts.json.tmp");
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&tmp)?;
        file.write_all(&serde_json::to_vec_pretty(self)?)?;
        file.sync_all()?;
        std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o600))?;
        std::fs::rename(&tmp, path())?;
        Ok(())
    }

    /// Adds or replaces an account and makes it the active one.
    pub fn upsert(&mut self, account: Account) {
        let name = account.name();
        self.accounts.retain(|a| a.name() != name);
        self.accounts.push(account);
        self.active = Some(name);
    }

    pub fn active(&self) -> Option<&Account> {
        let name = self.active.as_deref()?;
        self.accounts.iter().find(|a| a.name() == name)
    }

    /// Finds an account by `username@host` or, if unambiguous, by username.
    pub fn find(&self, wanted: &str) -> Option<&Account> {
        if let Some(a) = self
            .accounts
            .iter()
            .find(|a| a.name().eq_ignore_ascii_case(wanted))
        {
            return Some(a);
        }
        let mut by_user = self
            .accounts
            .iter()
            .filter(|a| a.username.eq_ignore_ascii_case(wanted));
        match (by_user.next(), by_user.next()) {
            (Some(a), None) => Some(a),
            _ => None,
        }
    }
}
