//! Bulk inserts for `latchkey bench seed`: many accounts (and a session each) in few round trips.

use uuid::Uuid;

use super::{Store, StoreError, on_pool};

pub struct SeedAccount {
    pub id: Uuid,
    pub username: String,
    pub email: String,
    pub session_id: Uuid,
    pub token_hash: Vec<u8>,
}

impl Store {
    /// Inserts the accounts, all with `password_hash`, each with one remembered session. Rows
    /// are written in the clear, as before migration 0011: the server seals them at start-up.
    pub async fn seed_accounts(
        &self,
        accounts: &[SeedAccount],
        password_hash: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        tx.insert_seed_accounts(accounts, password_hash, now)
            .await?;
        tx.commit().await
    }

    /// Accounts that `latchkey bench seed` did not make (`seedN`; their address is sealed once
    /// a server has started, so only the username tells).
    pub async fn non_seed_user_count(&self) -> Result<i64, StoreError> {
        Ok(on_pool!(self, p => sqlx::query_scalar::<_, i64>(
            "SELECT COUNT(*) FROM users WHERE username_norm NOT LIKE 'seed%'",
        )
        .fetch_one(p)
        .await)?)
    }

    pub async fn user_count(&self) -> Result<i64, StoreError> {
        Ok(
            on_pool!(self, p => sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM users").fetch_one(p).await)?,
        )
    }
}
