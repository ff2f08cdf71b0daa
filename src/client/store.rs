//! The CLI's accounts: a JSON file of mode 0600 in the config directory (`$LATCHKEY_CONFIG_DIR`,
//! else `$XDG_CONFIG_HOME/latchkey`, else `~/.config/latchkey`). The tokens go to the OS
//! keyring when one is available (the file then only names the accounts); on machines without
//! one (a headless server) they stay in the file. `LATCHKEY_KEYRING=off` keeps them in the file.

use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Account {
    pub server: String,
    pub username: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub access_token: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub refresh_token: String,
    /// Unix seconds; refreshed a minute early.
    pub access_expires_at: i64,
    /// The tokens are in the OS keyring, not in this file.
    #[serde(default)]
    pub in_keyring: bool,
}

/// What the keyring holds for an account.
#[derive(Serialize, Deserialize)]
struct Secrets {
    access_token: String,
    refresh_token: String,
}

const KEYRING_SERVICE: &str = "latchkey";

fn keyring_wanted() -> bool {
    std::env::var("LATCHKEY_KEYRING").map_or(true, |v| v != "off")
}

/// Stores the account's tokens in the OS keyring; false when there is none to use.
fn to_keyring(account: &Account) -> bool {
    if !keyring_wanted() {
        return false;
    }
    let secrets = Secrets {
        access_token: account.access_token.clone(),
        refresh_token: account.refresh_token.clone(),
    };
    let Ok(json) = serde_json::to_string(&secrets) else {
        return false;
    };
    keyring::Entry::new(KEYRING_SERVICE, &account.name())
        .and_then(|e| e.set_password(&json))
        .is_ok()
}

fn from_keyring(account: &mut Account) {
    let secrets = keyring::Entry::new(KEYRING_SERVICE, &account.name())
        .and_then(|e| e.get_password())
        .ok()
        .and_then(|json| serde_json::from_str::<Secrets>(&json).ok());
    if let Some(s) = secrets {
        account.access_token = s.access_token;
        account.refresh_token = s.refresh_token;
    }
}

/// Forgets an account's tokens in the keyring (signing out).
pub fn forget(account: &Account) {
    if account.in_keyring
        && let Ok(entry) = keyring::Entry::new(KEYRING_SERVICE, &account.name())
    {
        let _ = entry.delete_credential();
    }
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
        let file = path();
        let mut accounts: Self = match std::fs::read(&file) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| {
                anyhow::anyhow!(
                    "{} is not the CLI's list of accounts ({e}); move it aside and run `latchkey login` again.",
                    file.display()
                )
            })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Self::default()),
            Err(e) => anyhow::bail!("Could not read {}: {e}.", file.display()),
        };
        for account in accounts.accounts.iter_mut().filter(|a| a.in_keyring) {
            from_keyring(account);
        }
        Ok(accounts)
    }

    /// Writes the file whole, readable by its owner only.
    pub fn save(&self) -> anyhow::Result<()> {
        self.write().map_err(|e| {
            anyhow::anyhow!("Could not save the accounts in {}: {e}.", path().display())
        })
    }

    fn write(&self) -> anyhow::Result<()> {
        let dir = config_dir();
        std::fs::create_dir_all(&dir)?;
        let tmp = dir.join("accounts.json.tmp");
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&tmp)?;
        let stored: Vec<Account> = self
            .accounts
            .iter()
            .map(|a| {
                if to_keyring(a) {
                    Account {
                        access_token: String::new(),
                        refresh_token: String::new(),
                        in_keyring: true,
                        ..a.clone()
                    }
                } else {
                    Account {
                        in_keyring: false,
                        ..a.clone()
                    }
                }
            })
            .collect();
        let on_disk = Self {
            active: self.active.clone(),
            accounts: stored,
        };
        file.write_all(&serde_json::to_vec_pretty(&on_disk)?)?;
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
