//! Configuration, layered: built-in defaults, then `latchkey.toml`, then `LATCHKEY_*`
//! environment variables, then command-line flags. Secrets stay wrapped so they never reach
//! a log line, and each has a `*_file` variant for container secrets.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Deserialize)]
pub struct Config {
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    pub database_url: Option<SecretString>,
    pub database_url_file: Option<PathBuf>,
    pub database_max_connections: u32,
    pub smtp_url: Option<SecretString>,
    pub smtp_url_file: Option<PathBuf>,
    pub mail_from: String,
    pub public_url: Option<String>,
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    pub behind_proxy: bool,
    pub secret_key_file: Option<PathBuf>,
    /// Keys replaced by `secret_key_file` that may still be needed to open older data, until
    /// `latchkey rotate-key` has resealed it.
    #[serde(default, deserialize_with = "path_list")]
    pub previous_secret_key_files: Vec<PathBuf>,
    pub log_format: LogFormat,
    pub argon2: Argon2Config,
    pub throttle: ThrottleConfig,
    #[serde(default)]
    pub keys: KeysConfig,
}

#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Pretty,
    Json,
}

/// OWASP's Argon2id recommendation (ASVS V2.4.4 / cheat sheet): 19 MiB, 2 passes, 1 lane.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Argon2Config {
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
    /// Concurrent hashes; defaults to the number of cores.
    pub workers: Option<usize>,
    /// Hash requests allowed to wait for a worker before answering 503 `overloaded`.
    pub queue: usize,
}

/// Sign-in throttling: each key may spend `burst` failures at once, then one per `interval`.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct ThrottleConfig {
    pub account_burst: u32,
    pub account_interval_secs: u32,
    pub ip_burst: u32,
    pub ip_interval_secs: u32,
    pub signup_burst: u32,
    pub signup_interval_secs: u32,
}

/// Where the keys sealing stored data live: derived from `secret.key` in this process, or, with
/// `pkcs11_module` set, inside a PKCS#11 token (an HSM) that never lets them out.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct KeysConfig {
    /// The token's PKCS#11 library, such as `/usr/lib/softhsm/libsofthsm2.so`.
    pub pkcs11_module: Option<PathBuf>,
    /// The label of the token (not the slot number, which can change between restarts).
    pub pkcs11_token_label: Option<String>,
    /// A file holding the user PIN, mode 0600 like every secret file.
    pub pkcs11_pin_file: Option<PathBuf>,
    /// Prefix of the keys' labels in the token: `<prefix>/<purpose>`. Default `latchkey`.
    pub pkcs11_key_label: Option<String>,
}

const KNOWN_KEYS: &[&str] = &[
    "listen",
    "data_dir",
    "database_url",
    "database_url_file",
    "database_max_connections",
    "smtp_url",
    "smtp_url_file",
    "mail_from",
    "public_url",
    "tls_cert",
    "tls_key",
    "behind_proxy",
    "secret_key_file",
    "previous_secret_key_files",
    "log_format",
    "argon2",
    "throttle",
    "keys",
];

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            data_dir: PathBuf::from("./latchkey-data"),
            database_url: None,
            database_url_file: None,
            database_max_connections: 16,
            smtp_url: None,
            smtp_url_file: None,
            mail_from: "Latchkey <no-reply@latchkey.localhost>".into(),
            public_url: None,
            tls_cert: None,
            tls_key: None,
            behind_proxy: false,
            secret_key_file: None,
            previous_secret_key_files: Vec::new(),
            log_format: LogFormat::Pretty,
            argon2: Argon2Config {
                memory_kib: 19 * 1024,
                iterations: 2,
                parallelism: 1,
                workers: None,
                queue: 64,
            },
            throttle: ThrottleConfig {
                account_burst: 10,
                account_interval_secs: 90,
                ip_burst: 100,
                ip_interval_secs: 4,
                signup_burst: 10,
                signup_interval_secs: 120,
            },
            keys: KeysConfig::default(),
        }
    }
}

// Secrets are skipped: defaults never carry one.
impl Serialize for Config {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("Config", 9)?;
        st.serialize_field("listen", &self.listen)?;
        st.serialize_field("data_dir", &self.data_dir)?;
        st.serialize_field("database_max_connections", &self.database_max_connections)?;
        st.serialize_field("mail_from", &self.mail_from)?;
        st.serialize_field("behind_proxy", &self.behind_proxy)?;
        st.serialize_field("log_format", &self.log_format)?;
        st.serialize_field("argon2", &self.argon2)?;
        st.serialize_field("throttle", &self.throttle)?;
        st.end()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("configuration: {0}")]
    Parse(#[from] Box<figment::Error>),
    #[error("{path} can be read by other users, and it holds a secret: run `chmod 600 {path}`")]
    Exposed { path: PathBuf },
    #[error("reading {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
}

impl Config {
    /// Loads every layer. `file` is `latchkey.toml` in the working directory unless given;
    /// a missing file is fine. `overrides` are the command-line flags that were set.
    pub fn load(file: Option<&Path>, overrides: impl Serialize) -> Result<Self, ConfigError> {
        let file = file.map_or_else(|| PathBuf::from("latchkey.toml"), Path::to_path_buf);
        warn_unknown_keys(&file);
        if holds_secrets(&file) {
            refuse_if_exposed(&file)?;
        }
        let mut config: Self = Figment::from(Serialized::defaults(Self::default()))
            .merge(Toml::file(&file))
            .merge(Env::prefixed("LATCHKEY_").split("__"))
            .merge(Serialized::defaults(overrides))
            .extract()
            .map_err(Box::new)?;
        config.database_url =
            read_secret(config.database_url, config.database_url_file.as_deref())?;
        config.smtp_url = read_secret(config.smtp_url, config.smtp_url_file.as_deref())?;
        Ok(config)
    }

    pub fn tls(&self) -> Option<(&Path, &Path)> {
        Some((self.tls_cert.as_deref()?, self.tls_key.as_deref()?))
    }

    pub fn database_url(&self) -> Option<&str> {
        self.database_url.as_ref().map(|s| s.expose_secret())
    }

    pub fn smtp_url(&self) -> Option<&str> {
        self.smtp_url.as_ref().map(|s| s.expose_secret())
    }

    /// Where the current secret key lives: `secret_key_file`, else the data directory.
    pub fn secret_key_path(&self) -> PathBuf {
        self.secret_key_file
            .clone()
            .unwrap_or_else(|| self.data_dir.join("secret.key"))
    }
}

/// A list of paths: a TOML array, or (from the environment) one string of paths separated by
/// commas, since an environment variable holds a single string.
fn path_list<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<PathBuf>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(String),
        Many(Vec<PathBuf>),
    }
    Ok(match OneOrMany::deserialize(d)? {
        OneOrMany::One(s) => s
            .split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(PathBuf::from)
            .collect(),
        OneOrMany::Many(paths) => paths,
    })
}

fn read_secret(
    value: Option<SecretString>,
    file: Option<&Path>,
) -> Result<Option<SecretString>, ConfigError> {
    match (value, file) {
        (Some(v), _) => Ok(Some(v)),
        (None, Some(path)) => {
            refuse_if_exposed(path)?;
            let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                path: path.to_path_buf(),
                source,
            })?;
            Ok(Some(SecretString::from(text.trim().to_owned())))
        }
        (None, None) => Ok(None),
    }
}

/// Refuses a file holding a secret that anyone but its owner may read or change (ASVS
/// V2.10.3): a secret others can read is no longer the server's alone. Vault, Kubernetes and
/// Docker mounts can set the mode (0400 or 0600).
pub fn refuse_if_exposed(path: &Path) -> Result<(), ConfigError> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path)
        .map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?
        .permissions()
        .mode();
    if mode & 0o077 != 0 {
        return Err(ConfigError::Exposed {
            path: path.to_path_buf(),
        });
    }
    Ok(())
}

/// Whether the configuration file holds a database or SMTP URL, with their passwords.
fn holds_secrets(file: &Path) -> bool {
    use figment::Provider;
    let Ok(profiles) = Toml::file(file).data() else {
        return false;
    };
    profiles
        .values()
        .any(|dict| dict.contains_key("database_url") || dict.contains_key("smtp_url"))
}

fn warn_unknown_keys(file: &Path) {
    use figment::Provider;
    let Ok(profiles) = Toml::file(file).data() else {
        return;
    };
    for dict in profiles.values() {
        for key in dict.keys().filter(|k| !KNOWN_KEYS.contains(&k.as_str())) {
            eprintln!(
                "warning: {}: unknown setting `{key}` ignored",
                file.display()
            );
        }
    }
}
