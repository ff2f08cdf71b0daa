//! Every statement that writes the `users` or `sessions` tables, the rows a session lookup
//! reads and the session cache (`cache`) copies. Nowhere else in `src/` may SQL write them
//! (`tests/api/store_writes.rs` reads the sources to make sure).
//!
//! A statement that changes or deletes rows runs through `changing!`: it ends `RETURNING` the
//! account of every row it touched, and the transaction records those accounts as it gets
//! them, so its commit evicts them here and tells the other servers (`Tx::commit`). No caller
//! has an account to remember, and a statement that changed nothing evicts nothing. Writes
//! that used to run on the pool and evict afterwards run in a transaction of their own.
//!
//! Two kinds of write evict nothing, on purpose:
//! - inserting new rows (`insert_user`, `insert_session`, `insert_seed_accounts`): nothing is
//!   cached for an account or a token that did not exist;
//! - `touch_session`, the `last_seen_at` write of the hot path: see there.
//!
//! Sealing personal data (`sealing`) rewrites sealed columns of these tables in place with
//! the same values sealed anew, which no cached copy can tell apart; it stays with the other
//! tables' sealing.

use uuid::Uuid;

use super::{Store, StoreError, on_pool};

/// The accounts a transaction changed, for its commit to evict. Only this module adds to it,
/// and only through `changing!`.
#[derive(Default)]
pub(super) struct Touched(Vec<Uuid>);

impl Touched {
    fn add(&mut self, users: &[Uuid]) {
        for user in users {
            if !self.0.contains(user) {
                self.0.push(*user);
            }
        }
    }

    pub(super) fn accounts(&self) -> &[Uuid] {
        &self.0
    }
}

/// Runs `$sql` on the transaction `$tx` with `$arg`s bound: an `UPDATE` or `DELETE` of `users`
/// or `sessions` ending `RETURNING` the account id of each row it changed (`id` of `users`,
/// `user_id` of `sessions`). Records those accounts for the commit to evict, and evaluates to
/// them (one per row changed) or the database's error.
macro_rules! changing {
    ($tx:expr, $sql:expr $(, $arg:expr)* $(,)?) => {{
        let changed: Result<Vec<Uuid>, sqlx::Error> = on_tx!($tx, c => sqlx::query_scalar::<_, Uuid>($sql)
            $(.bind($arg))*
            .fetch_all(c)
            .await);
        if let Ok(users) = &changed {
            $tx.touched.add(users);
        }
        changed
    }};
}

mod sessions;
mod users;

impl Store {
    pub async fn update_profile(
        &self,
        id: Uuid,
        name: Option<&str>,
        role: Option<&str>,
        now: i64,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        tx.update_profile(id, name, role, now).await?;
        tx.commit().await
    }

    pub async fn delete_session(&self, user_id: Uuid, id: Uuid) -> Result<bool, StoreError> {
        let mut tx = self.begin().await?;
        let done = tx.delete_session(user_id, id).await?;
        tx.commit().await?;
        Ok(done)
    }

    /// Ends every session of the account except `keep` (if given).
    pub async fn delete_sessions_except(
        &self,
        user_id: Uuid,
        keep: Option<Uuid>,
    ) -> Result<u64, StoreError> {
        let mut tx = self.begin().await?;
        let n = tx.delete_sessions_except(user_id, keep).await?;
        tx.commit().await?;
        Ok(n)
    }

    /// Ends a grant: the session and, by cascade, every token issued under it.
    pub async fn end_session(&self, session_id: Uuid) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        tx.end_session(session_id).await?;
        tx.commit().await
    }

    /// Records activity; the caller makes sure this runs at most once a minute per session.
    ///
    /// The one write to these tables that evicts nothing and runs on the pool, on purpose: an
    /// authenticated request makes it, at most once a minute per session, and an eviction would
    /// send every server back to the database for the whole account, each time. Instead the
    /// cached copy takes the new time (`SessionCache::seen`): nothing else in the row changes,
    /// and a server whose copy is older can only see the session idle a little sooner, until it
    /// re-reads it (within `cache::TTL`). The coherence check of debug builds leaves
    /// `last_seen_at` out for this.
    pub async fn touch_session(
        &self,
        id: Uuid,
        token_hash: &[u8],
        now: i64,
    ) -> Result<(), StoreError> {
        self.cache.seen(token_hash, now);
        on_pool!(self, p => sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE id = $2")
            .bind(now)
            .bind(id)
            .execute(p)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }
}
