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
        on_pool!(self, p => {
            let mut tx = p.begin().await?;
            let mut users = sqlx::QueryBuilder::new(
                "INSERT INTO users (id, email, email_index, email_verified_at, username, username_norm, password_hash, \
                 terms_accepted_at, created_at, updated_at) ",
            );
            users.push_values(accounts, |mut b, a| {
                b.push_bind(a.id)
                    .push_bind(&a.email)
                    .push_bind(a.email.to_lowercase())
                    .push_bind(now)
                    .push_bind(&a.username)
                    .push_bind(a.username.to_ascii_lowercase())
                    .push_bind(password_hash)
                    .push_bind(now)
                    .push_bind(now)
                    .push_bind(now);
            });
            users.build().execute(&mut *tx).await?;
            let mut sessions = sqlx::QueryBuilder::new(
                "INSERT INTO sessions (id, user_id, token_hash, kind, remember, user_agent, ip, created_at, \
                 last_seen_at, expires_at) ",
            );
            sessions.push_values(accounts, |mut b, a| {
                b.push_bind(a.session_id)
                    .push_bind(a.id)
                    .push_bind(&a.token_hash)
                    .push_bind("api")
                    .push_bind(true)
                    .push_bind("latchkey-bench")
                    .push_bind("127.0.0.1")
                    .push_bind(now)
                    .push_bind(now)
                    .push_bind(now + 30 * 24 * 3600);
            });
            sessions.build().execute(&mut *tx).await?;
            tx.commit().await
        })?;
        Ok(())
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
