//! All SQL lives here. One `Store` over SQLite and PostgreSQL: most statements are written once
//! (both engines accept `$1` placeholders, `RETURNING` and `ON CONFLICT`), and the few that differ
//! are written per dialect next to each other.

mod account;
mod cache;
mod error;
mod invitations;
mod mail;
mod mfa;
mod oauth;
mod pii;
mod sealing;
mod security_keys;
mod seed;
mod sessions;
mod teams;
mod throttle;
mod users;
mod verifications;
mod writes;

#[cfg(debug_assertions)]
mod coherence;

use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgPool, Postgres, Sqlite, SqlitePool, Transaction};
use uuid::Uuid;

use cache::SessionCache;

use crate::keys::{KeyRing, Sealer};

pub use account::{TakenLink, TakenUndo};
pub(crate) use error::classify;
pub use error::{StoreError, Unique};
pub use invitations::Invitation;
pub use mail::{OutboxMessage, QueuedMail};
pub use mfa::{MfaChallenge, TotpCredential};
pub use oauth::{DeviceCode, OauthCode, OauthRequest, OauthToken};
pub use pii::Pii;
pub use sealing::SealReport;
pub use security_keys::{PendingRegistration, StoredSecurityKey};
pub use seed::SeedAccount;
pub use sessions::{NewSession, Session, SessionWithUser};
pub use teams::{Member, Team, TeamWithRole};
pub use users::{NewUser, User};
pub use verifications::Verification;

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// How long a request waits for a PostgreSQL connection before it is answered 503: long
/// enough for a burst to queue, short enough that an outage is reported at once instead of
/// every request hanging (and `/readyz` with them).
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(1);
/// SQLite cannot go away, but its writers queue for one lock, each for up to the busy
/// timeout while holding a pool connection: a request waits as long for a connection.
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Clone)]
pub(crate) enum Db {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

#[derive(Clone)]
pub struct Store {
    pub(crate) db: Db,
    pub(crate) cache: Arc<SessionCache>,
    /// Seals mail bodies in the outbox; set by the server, absent for `migrate` and the like.
    pub(crate) outbox: Option<Sealer>,
    /// Seals and indexes personal data; set with the outbox's key.
    pub(crate) pii: Option<Arc<Pii>>,
}

/// A transaction. It remembers which accounts it changed (every write to `users` or
/// `sessions` records them: see `writes`), so their cached sessions are evicted when it commits.
pub struct Tx {
    pub(crate) db: TxDb,
    touched: writes::Touched,
    cache: Arc<SessionCache>,
    outbox: Option<Sealer>,
    pii: Option<Arc<Pii>>,
}

pub(crate) enum TxDb {
    Sqlite(Transaction<'static, Sqlite>),
    Postgres(Transaction<'static, Postgres>),
}

/// Runs `$body` with `$p` bound to the pool of whichever engine this store uses.
macro_rules! on_pool {
    ($store:expr, $p:ident => $body:expr) => {
        match &$store.db {
            $crate::store::Db::Sqlite($p) => $body,
            $crate::store::Db::Postgres($p) => $body,
        }
    };
}

/// Runs `$body` with `$c` bound to the transaction's connection.
macro_rules! on_tx {
    ($tx:expr, $c:ident => $body:expr) => {
        match &mut $tx.db {
            $crate::store::TxDb::Sqlite(t) => {
                let $c = &mut **t;
                $body
            }
            $crate::store::TxDb::Postgres(t) => {
                let $c = &mut **t;
                $body
            }
        }
    };
}
pub(crate) use {on_pool, on_tx};

impl Store {
    /// Opens (creating if needed) the SQLite database at `path`, in WAL mode.
    pub async fn open_sqlite(path: &Path, max_connections: u32) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(SQLITE_BUSY_TIMEOUT)
            .foreign_keys(true);
        let pool = SqlitePoolOptions::new()
            .max_connections(max_connections)
            .acquire_timeout(SQLITE_BUSY_TIMEOUT)
            .connect_with(options)
            .await?;
        Ok(Self {
            db: Db::Sqlite(pool),
            cache: Arc::default(),
            outbox: None,
            pii: None,
        })
    }

    /// A pool of `max_connections` for the work, plus the one `follow_evictions` keeps for
    /// listening (sqlx's listener holds a pool connection for as long as it listens).
    pub async fn open_postgres(url: &str, max_connections: u32) -> Result<Self, StoreError> {
        let options = PgConnectOptions::from_str(url)?;
        let pool = PgPoolOptions::new()
            .max_connections(max_connections.saturating_add(1))
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect_with(options)
            .await?;
        Ok(Self {
            db: Db::Postgres(pool),
            cache: Arc::default(),
            outbox: None,
            pii: None,
        })
    }

    /// Applies the SQL migrations, then (on a store with keys) seals personal data that rows
    /// from before migration 0011 still hold in the clear.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        match &self.db {
            Db::Sqlite(p) => SQLITE_MIGRATIONS.run(p).await?,
            Db::Postgres(p) => POSTGRES_MIGRATIONS.run(p).await?,
        }
        if self.pii.is_some() {
            let report = self.seal_personal_data(false).await?;
            if report.sealed > 0 || report.unreadable > 0 {
                tracing::info!(
                    sealed = report.sealed,
                    unreadable = report.unreadable,
                    "sealed personal data stored in the clear"
                );
            }
            // The clear values would linger in free pages and the write-ahead log: rewrite
            // the file and empty the log. (PostgreSQL keeps them in dead rows until its own
            // VACUUM; the README says so.)
            if let (Db::Sqlite(p), true) = (&self.db, report.sealed > 0) {
                sqlx::raw_sql("VACUUM; PRAGMA wal_checkpoint(TRUNCATE);")
                    .execute(p)
                    .await?;
            }
        }
        Ok(())
    }

    pub fn engine(&self) -> &'static str {
        match self.db {
            Db::Sqlite(_) => "sqlite",
            Db::Postgres(_) => "postgres",
        }
    }

    pub async fn begin(&self) -> Result<Tx, StoreError> {
        let db = match &self.db {
            Db::Sqlite(p) => TxDb::Sqlite(p.begin().await?),
            Db::Postgres(p) => TxDb::Postgres(p.begin().await?),
        };
        Ok(Tx {
            db,
            touched: writes::Touched::default(),
            cache: self.cache.clone(),
            outbox: self.outbox.clone(),
            pii: self.pii.clone(),
        })
    }

    /// The keys that seal mail bodies and personal data; without them, queuing mail and
    /// reading or writing personal data fail.
    #[must_use]
    pub fn with_keys(mut self, keys: &KeyRing) -> Self {
        self.outbox = Some(keys.sealer(crate::keys::OUTBOX_SEAL));
        self.pii = Some(Arc::new(Pii::new(keys)));
        self
    }

    pub(crate) fn pii(&self) -> Result<&Pii, StoreError> {
        self.pii.as_deref().ok_or(StoreError::NoKeys)
    }

    /// Answers `/readyz`: one round trip to the database.
    pub async fn ping(&self) -> Result<(), StoreError> {
        on_pool!(self, p => sqlx::query("SELECT 1").execute(p).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    pub async fn close(&self) {
        on_pool!(self, p => p.close().await);
    }
}

impl Tx {
    pub(crate) fn pii(&self) -> Result<Arc<Pii>, StoreError> {
        self.pii.clone().ok_or(StoreError::NoKeys)
    }

    pub async fn commit(self) -> Result<(), StoreError> {
        let Self {
            mut db,
            touched,
            cache,
            ..
        } = self;
        let touched = touched.accounts();
        if touched.is_empty() {
            match db {
                TxDb::Sqlite(t) => t.commit().await?,
                TxDb::Postgres(t) => t.commit().await?,
            }
            return Ok(());
        }
        // From before the database shows the change until its evictions are done, the cache
        // may be behind: the coherence check of debug builds knows by this count.
        let _writing = cache.writing();
        // Other servers hear of it exactly when (and only if) the transaction commits.
        if let TxDb::Postgres(t) = &mut db {
            let users: Vec<String> = touched.iter().map(Uuid::to_string).collect();
            sqlx::query("SELECT pg_notify($1, u) FROM unnest($2::text[]) AS u")
                .bind(cache::CHANNEL)
                .bind(users)
                .execute(&mut **t)
                .await?;
        }
        let committed = match db {
            TxDb::Sqlite(t) => t.commit().await,
            TxDb::Postgres(t) => t.commit().await,
        };
        // Even when the commit reports a failure: it may have happened all the same, and an
        // eviction too many costs one lookup.
        for user in touched {
            cache.evict_user(*user);
        }
        Ok(committed?)
    }
}

impl Store {
    /// On PostgreSQL, evicts what other servers announce until `stop`; after a lost connection
    /// (announcements may have been missed) the whole cache goes.
    pub async fn follow_evictions(&self, mut stop: tokio::sync::watch::Receiver<bool>) {
        let Db::Postgres(pool) = &self.db else { return };
        loop {
            let mut listener = match sqlx::postgres::PgListener::connect_with(pool).await {
                Ok(l) => l,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot listen for session evictions; retrying");
                    self.cache.clear();
                    tokio::select! {
                        () = tokio::time::sleep(Duration::from_secs(1)) => continue,
                        _ = stop.changed() => return,
                    }
                }
            };
            if let Err(e) = listener.listen(cache::CHANNEL).await {
                tracing::warn!(error = %e, "LISTEN failed; retrying");
                continue;
            }
            self.cache.clear();
            loop {
                tokio::select! {
                    message = listener.try_recv() => match message {
                        Ok(Some(n)) => self.cache.heard(n.payload()),
                        // The connection dropped and came back: anything may have happened.
                        Ok(None) => self.cache.clear(),
                        Err(e) => {
                            tracing::warn!(error = %e, "eviction listener failed; reconnecting");
                            self.cache.clear();
                            break;
                        }
                    },
                    _ = stop.changed() => return,
                }
            }
        }
    }
}
