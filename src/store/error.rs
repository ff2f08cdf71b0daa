//! How the store fails: one error type, with the database's answers sorted at this boundary
//! into what callers act on (a taken name, a lost race, an unreachable database) and the rest.

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("duplicate {0:?}")]
    Duplicate(Unique),
    #[error("database error: {0}")]
    Db(sqlx::Error),
    /// The database cannot be reached (no connection within the acquire timeout, or the
    /// connection broke): a state that passes, answered 503 rather than 500.
    #[error("database unreachable: {0}")]
    Unavailable(sqlx::Error),
    /// A write referred to a row that another request deleted meanwhile, or deleted a row that
    /// another request referred to meanwhile: the losing side of a race, never a 500.
    #[error("a referenced row changed meanwhile: {0}")]
    ForeignKey(sqlx::Error),
    /// The database broke a deadlock or a serialization conflict by failing this transaction.
    #[error("lost a race for a row: {0}")]
    LostRace(sqlx::Error),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// Mail was queued on a store opened without `seal_outbox_with`: refused rather than
    /// written in the clear.
    #[error("the outbox has no sealing key")]
    NoOutboxKey,
    /// Personal data was read or written on a store opened without `with_keys`.
    #[error("the store has no keys for personal data")]
    NoKeys,
    /// A sealed value that none of the configured keys opens (names the column's purpose).
    #[error("{0}: sealed under a key this server does not have")]
    Unreadable(&'static str),
}

/// Which uniqueness rule a write broke.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unique {
    Email,
    Username,
    TeamSlug,
    Other,
}

/// Turns unique violations into `Duplicate` so callers can answer 409 instead of 500.
pub(crate) fn classify(e: sqlx::Error) -> StoreError {
    if let sqlx::Error::Database(db) = &e
        && db.is_unique_violation()
    {
        // PostgreSQL names the constraint; SQLite names the column in its message.
        let what = db.constraint().unwrap_or_else(|| db.message());
        let which = if what.contains("email_index") {
            Unique::Email
        } else if what.contains("username_norm") {
            Unique::Username
        } else if what.contains("slug") {
            Unique::TeamSlug
        } else {
            Unique::Other
        };
        return StoreError::Duplicate(which);
    }
    StoreError::from(e)
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        if unreachable(&e) {
            Self::Unavailable(e)
        } else if let sqlx::Error::Database(db) = &e
            // SQLite reports a row still referred to at the end of a DELETE with its
            // extended code CONSTRAINT_TRIGGER (1811), which sqlx does not count as one.
            && (db.is_foreign_key_violation() || db.message() == "FOREIGN KEY constraint failed")
        {
            Self::ForeignKey(e)
        } else if let sqlx::Error::Database(db) = &e
            // PostgreSQL's deadlock_detected and serialization_failure: it chose this
            // transaction to lose a race for rows another holds.
            && db.code().is_some_and(|c| matches!(&*c, "40P01" | "40001"))
        {
            Self::LostRace(e)
        } else {
            Self::Db(e)
        }
    }
}

/// Errors that say the database is away rather than that a statement is wrong.
fn unreachable(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::Protocol(_) => true,
        // PostgreSQL's class 08 (connection exception) and 57P01–57P03 (shutting down or
        // starting up).
        // SQLite's BUSY and LOCKED (and their extended forms) after the busy timeout: the
        // file is held by writers longer than a request waits, which passes like an outage.
        sqlx::Error::Database(db) => db.code().is_some_and(|c| {
            c.starts_with("08")
                || matches!(
                    &*c,
                    "57P01" | "57P02" | "57P03" | "5" | "6" | "261" | "262" | "517"
                )
        }),
        _ => false,
    }
}
