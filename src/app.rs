//! Builds the server from configuration: opens and migrates the database, binds the listener
//! (reporting the real port, so tests can bind port 0), and runs until told to stop.

use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use axum::Router;
use axum_server::tls_rustls::RustlsConfig;
use lettre::message::Mailbox;
use tokio::sync::{Notify, watch};

use crate::auth::Hasher;
use crate::clock::Clock;
use crate::config::Config;
use crate::keys::KeyRing;
use crate::mail::{Transport, worker::Worker};
use crate::state::{AppState, Settings};
use crate::store::Store;

pub struct Application {
    listener: TcpListener,
    addr: SocketAddr,
    tls: Option<RustlsConfig>,
    state: AppState,
    transport: Transport,
    mail_from: Mailbox,
}

/// Opens the configured database: PostgreSQL for `postgres://` URLs, otherwise SQLite (by
/// default `latchkey.db` in the data directory).
pub async fn open_store(config: &Config) -> anyhow::Result<Store> {
    // SQLite writes one at a time whatever the pool; more than 8 readers gains nothing.
    let sqlite_connections = config.database_max_connections.min(8);
    let store = match config.database_url() {
        Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
            Store::open_postgres(url, config.database_max_connections).await?
        }
        Some(url) => {
            let path = url
                .strip_prefix("sqlite://")
                .or_else(|| url.strip_prefix("sqlite:"))
                .context("database_url must start with postgres://, postgresql:// or sqlite://")?;
            Store::open_sqlite(path.as_ref(), sqlite_connections).await?
        }
        None => {
            Store::open_sqlite(&config.data_dir.join("latchkey.db"), sqlite_connections).await?
        }
    };
    Ok(store)
}

fn create_data_dir(config: &Config) -> anyhow::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(&config.data_dir)
        .with_context(|| format!("creating data directory {}", config.data_dir.display()))
}

impl Application {
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        let listen_loopback = config.listen.ip().is_loopback();
        if config.tls().is_none() && !listen_loopback && !config.behind_proxy {
            bail!(
                "refusing to serve plain HTTP on {}: give --tls-cert and --tls-key, or --behind-proxy \
                 when a TLS-terminating proxy is in front",
                config.listen
            );
        }
        if config.behind_proxy && config.public_url.is_none() {
            bail!("--behind-proxy needs --public-url: the address people reach the proxy at");
        }
        create_data_dir(&config)?;
        let keys = KeyRing::from_config(&config)?;

        let store = open_store(&config).await?.with_keys(&keys);
        store.migrate().await.context("applying migrations")?;

        let listener = TcpListener::bind(config.listen)
            .with_context(|| format!("binding {}", config.listen))?;
        let addr = listener.local_addr()?;
        let tls = match config.tls() {
            Some((cert, key)) => Some(
                RustlsConfig::from_pem_file(cert, key)
                    .await
                    .context("loading the TLS certificate and key")?,
            ),
            None => None,
        };
        let scheme = if tls.is_some() { "https" } else { "http" };
        let public_url = config
            .public_url
            .clone()
            .unwrap_or_else(|| format!("{scheme}://{addr}"))
            .trim_end_matches('/')
            .to_owned();

        let transport = match config.smtp_url() {
            Some(url) => Transport::smtp(url)?,
            None => Transport::Files(config.data_dir.join("outbox")),
        };
        let settings = Settings {
            secure: tls.is_some() || public_url.starts_with("https://"),
            behind_proxy: config.behind_proxy,
            // Behind a proxy, "loopback" is the whole internet: never show the outbox there.
            dev_mail: config.smtp_url().is_none() && listen_loopback && !config.behind_proxy,
            throttle: config.throttle.clone(),
            // CSRF tokens and CAPTCHA challenges live minutes: after a key change, a form left
            // open is simply submitted again, so only the current key checks them.
            csrf_key: keys.derive("latchkey csrf v1"),
            sealer: keys.sealer(crate::keys::TOTP_SEAL),
            recovery_keys: keys.derive_all(crate::keys::RECOVERY_KEY),
            captcha: crate::captcha::Captcha::new(&keys.derive("latchkey captcha v1")),
            webauthn: crate::mfa::security_keys::relying_party(&public_url),
            public_url,
        };
        let state = AppState {
            store,
            hasher: Hasher::new(&config.argon2, keys.sealer(crate::keys::PEPPER))?,
            settings: Arc::new(settings),
            mail_queued: Arc::new(Notify::new()),
            clock: crate::clock::Clock::default(),
        };
        let mail_from = config
            .mail_from
            .parse()
            .context("mail_from is not a valid address")?;
        Ok(Self {
            listener,
            addr,
            tls,
            state,
            transport,
            mail_from,
        })
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// The URL people use, as printed at start-up.
    pub fn url(&self) -> &str {
        &self.state.settings.public_url
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until `shutdown` completes, then drains open requests (up to 10 s) and stops the
    /// background workers.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let (stop_tx, stop_rx) = watch::channel(false);
        let worker = Worker {
            store: self.state.store.clone(),
            transport: self.transport,
            from: self.mail_from,
            wake: self.state.mail_queued.clone(),
            clock: self.state.clock.clone(),
        };
        let mail = tokio::spawn(worker.run(stop_rx.clone()));
        let sweeper = tokio::spawn(sweep(
            self.state.store.clone(),
            self.state.clock.clone(),
            stop_rx.clone(),
        ));
        let evictions = {
            let store = self.state.store.clone();
            tokio::spawn(async move { store.follow_evictions(stop_rx).await })
        };

        let store = self.state.store.clone();
        let app = router(self.state).into_make_service_with_connect_info::<SocketAddr>();
        let handle = axum_server::Handle::new();
        let on_signal = handle.clone();
        tokio::spawn(async move {
            shutdown.await;
            tracing::info!("shutting down");
            on_signal.graceful_shutdown(Some(Duration::from_secs(10)));
        });
        let served = match self.tls {
            Some(tls) => {
                axum_server::from_tcp_rustls(self.listener, tls)?
                    .handle(handle)
                    .serve(app)
                    .await
            }
            None => {
                axum_server::from_tcp(self.listener)?
                    .handle(handle)
                    .serve(app)
                    .await
            }
        };
        let _ = stop_tx.send(true);
        let _ = tokio::join!(mail, sweeper, evictions);
        store.close().await;
        served.context("server failed")
    }
}

/// Every route, the API's (`http`) and the pages' (`web`, which also answers what matches
/// nothing), inside the middleware.
pub fn router(state: AppState) -> Router {
    let routes = crate::http::routes()
        .merge(crate::web::routes(&state))
        .fallback(crate::web::not_found);
    crate::http::wrap(routes, state)
}

/// Deletes expired sessions, links and throttle entries every few minutes.
async fn sweep(store: Store, clock: Clock, mut stop: watch::Receiver<bool>) {
    loop {
        let now = clock.now();
        if let Err(e) = store.purge_expired(now).await {
            tracing::warn!(error = %e, "sweeping expired rows failed");
        }
        if let Err(e) = store.throttle_purge(clock.now_ms()).await {
            tracing::warn!(error = %e, "sweeping throttle rows failed");
        }
        tokio::select! {
            () = tokio::time::sleep(Duration::from_secs(300)) => {}
            _ = stop.changed() => return,
        }
    }
}
