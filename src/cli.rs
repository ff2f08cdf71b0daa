//! The command line: `latchkey serve`, `latchkey migrate`.

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
            Command::Migrate(args) => {
                let config = Config::load(self.config.as_deref(), args)?;
                crate::telemetry::init(config.log_format);
                std::fs::create_dir_all(&config.data_dir)?;
                let store = open_store(&config).await?;
                store.migrate().await?;
                println!("Migrations applied ({}).", store.engine());
                Ok(())
            }
        }
    }
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
