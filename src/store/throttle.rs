//! The `throttle` table: GCRA state per key (an account or an IP), shared by every server on
//! the database so limits hold across instances. Keys name addresses, usernames and IP
//! addresses, so they are stored as a blind index (`pii.rs`).

use super::pii::Kind;
use super::{Store, StoreError, on_pool};

impl Store {
    /// The key's theoretical arrival time in milliseconds, if it has one.
    pub async fn throttle_tat(&self, key: &str) -> Result<Option<i64>, StoreError> {
        Ok(
            on_pool!(self, p => sqlx::query_scalar::<_, i64>("SELECT tat_ms FROM throttle WHERE key = $1")
            .bind(self.pii()?.index(Kind::Throttle, key))
            .fetch_optional(p)
            .await)?,
        )
    }

    /// Records one event: the arrival time moves `interval_ms` past max(itself, now). One
    /// statement, so concurrent failures all count.
    pub async fn throttle_hit(
        &self,
        key: &str,
        now_ms: i64,
        interval_ms: i64,
    ) -> Result<(), StoreError> {
        on_pool!(self, p => sqlx::query(
            "INSERT INTO throttle (key, tat_ms) VALUES ($1, $2 + $3)
             ON CONFLICT (key) DO UPDATE SET tat_ms =
                 CASE WHEN throttle.tat_ms > $2 THEN throttle.tat_ms ELSE $2 END + $3",
        )
        .bind(self.pii()?.index(Kind::Throttle, key))
        .bind(now_ms)
        .bind(interval_ms)
        .execute(p)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(())
    }

    pub async fn throttle_clear(&self, key: &str) -> Result<(), StoreError> {
        on_pool!(self, p => sqlx::query("DELETE FROM throttle WHERE key = $1")
            .bind(self.pii()?.index(Kind::Throttle, key))
            .execute(p)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Forgets keys whose arrival time has passed: they would allow a full burst anyway.
    pub async fn throttle_purge(&self, now_ms: i64) -> Result<(), StoreError> {
        on_pool!(self, p => sqlx::query("DELETE FROM throttle WHERE tat_ms < $1")
            .bind(now_ms)
            .execute(p)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }
}
