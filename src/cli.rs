//! The command line: `latchkey serve`, `latchkey migrate`, `latchkey rotate-key`, the CLI's
//! sign-in commands and the benchmarks.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use serde::Serialize;

use crate::app::{Application, open_store};
use crate::config::Config;

#[derive(Parser)]
#[command(name = "latchkey", version, about = "A self-hostable account service")]
pub struct Cli {
    /// Configuration file (default: ./latchkey.toml, if present).
    #[arg(long, global = true, env = "LATCHKEY_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server.
    Serve(ServeArgs),
    /// Apply database migrations, then exit.
    Migrate(ServeArgs),
    /// Reseal what `previous_secret_key_files` sealed under the current `secret_key_file`, or
    /// under the PKCS#11 token when `[keys] pkcs11_module` names one.
    RotateKey(ServeArgs),
    /// Sign this terminal in through the browser (or a device code).
    Login {
        /// The Latchkey server [default: $LATCHKEY_SERVER or http://127.0.0.1:8080].
        #[arg(long, env = "LATCHKEY_SERVER")]
        server: Option<String>,
        /// Sign in with a code typed on another device's browser.
        #[arg(long)]
        device: bool,
        /// Print the address instead of opening a browser.
        #[arg(long)]
        no_browser: bool,
    },
    /// List the accounts signed in here; * marks the active one.
    Accounts {
        #[arg(long)]
        json: bool,
    },
    /// Make another signed-in account the active one (username or username@host).
    Switch { account: String },
    /// Show the active account.
    Whoami {
        #[arg(long)]
        json: bool,
    },
    /// Sign the active account (or --all) out on the server, then forget it.
    Logout {
        #[arg(long)]
        all: bool,
    },
    /// List the active account's sessions; `revoke ID` ends one, `--revoke-others` every
    /// session but this one.
    Sessions {
        #[command(subcommand)]
        action: Option<SessionsAction>,
        /// End every session of the account except this terminal's.
        #[arg(long = "revoke-others", alias = "all")]
        all: bool,
        #[arg(long)]
        json: bool,
    },
    /// Measure: password hashing, bulk seeding, load on a real server.
    #[command(subcommand)]
    Bench(BenchCommand),
}

#[derive(Subcommand)]
enum SessionsAction {
    /// End one session by its id.
    Revoke { id: String },
}

#[derive(Subcommand)]
enum BenchCommand {
    /// Argon2id verifications per second with the configured parameters.
    Hash {
        #[arg(long, default_value_t = 3)]
        seconds: u64,
        /// Also suggest iterations that make one hash take about this long.
        #[arg(long)]
        target_ms: Option<f64>,
    },
    /// Fill a database with accounts (user `seed0` … password `benchmark password`); refuses
    /// a database holding accounts it did not make.
    Seed {
        #[arg(long)]
        users: u64,
        #[command(flatten)]
        server: ServeArgs,
    },
    /// Start a server and drive it over loopback, scenario by scenario.
    Load {
        /// postgres://… to run on PostgreSQL (a fresh database is best); SQLite otherwise.
        #[arg(long)]
        database_url: Option<String>,
        /// Accounts to seed before measuring.
        #[arg(long, default_value_t = 1000)]
        users: u64,
        #[arg(long, default_value_t = 5)]
        seconds: u64,
        #[arg(long, value_delimiter = ',', default_values_t = [32, 256])]
        connections: Vec<usize>,
    },
}

/// Flags override `LATCHKEY_*` variables, which override `latchkey.toml`. Only flags that were
/// given are serialized, so unset ones leave the lower layers alone.
#[derive(Args, Serialize, Default)]
struct ServeArgs {
    /// Address to listen on [default: 127.0.0.1:8080].
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    listen: Option<SocketAddr>,
    /// Directory for the SQLite database, secrets and the dev mail outbox [default: ./latchkey-data].
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    data_dir: Option<PathBuf>,
    /// postgres://… to use PostgreSQL instead of the embedded SQLite database.
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    database_url: Option<String>,
    /// smtp://host:port (add ?tls=required for STARTTLS) or smtps://host:port.
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    smtp_url: Option<String>,
    /// The URL people reach this server at, used in links in mail.
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    public_url: Option<String>,
    /// PEM certificate chain: serve HTTPS directly.
    #[arg(long, requires = "tls_key")]
    #[serde(skip_serializing_if = "Option::is_none")]
    tls_cert: Option<PathBuf>,
    /// PEM private key for --tls-cert.
    #[arg(long, requires = "tls_cert")]
    #[serde(skip_serializing_if = "Option::is_none")]
    tls_key: Option<PathBuf>,
    /// A TLS-terminating proxy is in front: trust X-Forwarded-Proto/-For, allow non-loopback HTTP.
    #[arg(long)]
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    behind_proxy: bool,
}

impl Cli {
    /// Whether the command talks to a server as its user (the CLI's side). Its failures are
    /// told as one sentence; the server's own commands keep the cause chain for operators.
    pub fn is_client(&self) -> bool {
        matches!(
            self.command,
            Command::Login { .. }
                | Command::Accounts { .. }
                | Command::Switch { .. }
                | Command::Whoami { .. }
                | Command::Logout { .. }
                | Command::Sessions { .. }
        )
    }

    pub async fn run(self) -> anyhow::Result<()> {
        match self.command {
            Command::Serve(args) => {
                let config = Config::load(self.config.as_deref(), args)?;
                crate::telemetry::init(config.log_format);
                let app = Application::build(config).await?;
                // Listen for signals before announcing the address: whoever reads it may stop us.
                let stop = shutdown_signal()?;
                println!("Latchkey is listening on {}", app.url());
                app.run_until_stopped(stop).await
            }
            Command::Bench(bench) => run_bench(self.config.as_deref(), bench).await,
            Command::Login {
                server,
                device,
                no_browser,
            } => {
                let server = server.unwrap_or_else(|| crate::client::DEFAULT_SERVER.to_owned());
                crate::client::login(&server, device, !no_browser).await
            }
            Command::Accounts { json } => crate::client::accounts(json),
            Command::Switch { account } => crate::client::switch(&account),
            Command::Whoami { json } => crate::client::whoami(json).await,
            Command::Logout { all } => crate::client::logout(all).await,
            Command::Sessions { action, all, json } => {
                let revoke = action
                    .as_ref()
                    .map(|SessionsAction::Revoke { id }| id.as_str());
                crate::client::sessions(revoke, all, json).await
            }
            Command::RotateKey(args) => {
                let config = Config::load(self.config.as_deref(), args)?;
                crate::telemetry::init(config.log_format);
                rotate_key(&config).await
            }
            Command::Migrate(args) => {
                let config = Config::load(self.config.as_deref(), args)?;
                crate::telemetry::init(config.log_format);
                std::fs::create_dir_all(&config.data_dir)?;
                let mut store = open_store(&config).await?;
                // Sealing personal data needs the key; never create one here, where it may not
                // be the key the servers use. Without it, the first server to start seals.
                let key = config.secret_key_path();
                if key.exists() {
                    let keys = crate::keys::KeyRing::from_config(&config)?;
                    store = store.with_keys(&keys);
                }
                store.migrate().await?;
                println!("Migrations applied ({}).", store.engine());
                Ok(())
            }
        }
    }
}

async fn rotate_key(config: &Config) -> anyhow::Result<()> {
    let current = config.secret_key_path();
    // Never generate a key here: everything would be sealed under a key no server has.
    if !current.exists() {
        anyhow::bail!(
            "{} does not exist: give the new key as secret_key_file",
            current.display()
        );
    }
    let keys = crate::keys::KeyRing::from_config(config)?;
    let store = open_store(config).await?.with_keys(&keys);
    store.migrate().await?;
    let report = crate::rotate::rotate(&store, &keys).await?;
    print!("{report}");
    Ok(())
}

/// Completes on SIGTERM or Ctrl-C. The handlers are installed now, not at first poll.
fn shutdown_signal() -> std::io::Result<impl Future<Output = ()>> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    Ok(async move {
        tokio::select! {
            _ = term.recv() => {}
            _ = int.recv() => {}
        }
    })
}

async fn run_bench(
    config_file: Option<&std::path::Path>,
    command: BenchCommand,
) -> anyhow::Result<()> {
    use crate::bench;
    match command {
        BenchCommand::Hash { seconds, target_ms } => {
            let config = Config::load(config_file, ServeArgs::default())?;
            let cores = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
            let a = &config.argon2;
            println!(
                "Argon2id m={} KiB, t={}, p={}",
                a.memory_kib, a.iterations, a.parallelism
            );
            let one = bench::hash::measure(a, 1, std::time::Duration::from_secs(seconds))?;
            let all = bench::hash::measure(a, cores, std::time::Duration::from_secs(seconds))?;
            println!(
                "{:.1} verifications/s per core ({:.1} ms each)",
                one.per_core_per_sec, one.millis_per_hash
            );
            println!(
                "{:.1} verifications/s on {} threads",
                all.total_per_sec, all.threads
            );
            if let Some(target) = target_ms {
                let (iterations, ms) = bench::hash::calibrate(a, target)?;
                println!(
                    "suggested: [argon2] memory_kib = {}, iterations = {iterations} ({ms:.0} ms per hash)",
                    a.memory_kib
                );
            }
            Ok(())
        }
        BenchCommand::Seed { users, server } => {
            let config = Config::load(config_file, server)?;
            std::fs::create_dir_all(&config.data_dir)?;
            let pepper = bench::seed::server_pepper(&config)?;
            let store = open_store(&config).await?;
            store.migrate().await?;
            let added = bench::seed::seed(&store, users, &config.argon2, &pepper).await?;
            println!(
                "{added} accounts added; {} in all ({}).",
                store.user_count().await?,
                store.engine()
            );
            Ok(())
        }
        BenchCommand::Load {
            database_url,
            users,
            seconds,
            connections,
        } => {
            let config = Config::load(config_file, ServeArgs::default())?;
            let options = bench::load::Options {
                database_url,
                users,
                seconds,
                connections,
            };
            let report = bench::load::run(&options, &config.argon2).await?;
            println!("{} accounts, {} s per scenario\n", users, seconds);
            print!("{}", bench::load::render(&report));
            Ok(())
        }
    }
}
