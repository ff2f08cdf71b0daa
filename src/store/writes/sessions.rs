//! Writes to `sessions`: signing in, re-entering credentials, signing out, expiry, and the
//! bench's seed accounts (which write both tables).

use uuid::Uuid;

use crate::store::pii::Field;
use crate::store::{NewSession, SeedAccount, StoreError, Tx, on_tx};

impl Tx {
    pub async fn insert_session(&mut self, s: &NewSession<'_>) -> Result<(), StoreError> {
        let client = self
            .pii()?
            .seal(Field::SessionClient, s.id.as_bytes(), &[s.ip, s.user_agent]);
        // A new token: nothing is cached for it, and the account's other sessions are as
        // they were.
        on_tx!(self, c => sqlx::query(
            "INSERT INTO sessions (id, user_id, token_hash, kind, remember, idle_secs, user_agent, ip,
                                   client_sealed, created_at, last_seen_at, expires_at)
             VALUES ($1, $2, $3, $4, $5, $6, '', '', $7, $8, $8, $9)",
        )
        .bind(s.id)
        .bind(s.user_id)
        .bind(s.token_hash)
        .bind(s.kind)
        .bind(s.remember)
        .bind(s.idle_secs)
        .bind(client)
        .bind(s.now)
        .bind(s.expires_at)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Records when credentials were last entered for session `id`: now, when the password is
    /// entered again; for a CLI grant, when the browser session that approved it entered them.
    pub async fn set_credentials_entered_at(
        &mut self,
        id: Uuid,
        at: i64,
    ) -> Result<(), StoreError> {
        changing!(
            self,
            "UPDATE sessions SET reauthenticated_at = $1 WHERE id = $2 RETURNING user_id",
            at,
            id,
        )?;
        Ok(())
    }

    /// Ends every session of the account except `keep` (if given).
    pub async fn delete_sessions_except(
        &mut self,
        user_id: Uuid,
        keep: Option<Uuid>,
    ) -> Result<u64, StoreError> {
        let ended = changing!(
            self,
            "DELETE FROM sessions WHERE user_id = $1 AND ($2 IS NULL OR id <> $2) RETURNING user_id",
            user_id,
            keep,
        )?;
        Ok(ended.len() as u64)
    }

    /// Ends session `id` of `user_id`; false if there was none.
    pub async fn delete_session(&mut self, user_id: Uuid, id: Uuid) -> Result<bool, StoreError> {
        let ended = changing!(
            self,
            "DELETE FROM sessions WHERE id = $1 AND user_id = $2 RETURNING user_id",
            id,
            user_id,
        )?;
        Ok(ended.len() == 1)
    }

    /// Ends a grant: the session and, by cascade, every token issued under it.
    pub async fn end_session(&mut self, session_id: Uuid) -> Result<(), StoreError> {
        changing!(
            self,
            "DELETE FROM sessions WHERE id = $1 RETURNING user_id",
            session_id
        )?;
        Ok(())
    }

    /// Drops sessions expired or idle too long at `now`. Every cache refuses them already;
    /// their accounts are evicted all the same, so no rule needs to say why that is safe.
    pub(in crate::store) async fn delete_expired_sessions(
        &mut self,
        now: i64,
    ) -> Result<u64, StoreError> {
        let ended = changing!(
            self,
            "DELETE FROM sessions
             WHERE expires_at < $1 OR (idle_secs IS NOT NULL AND last_seen_at + idle_secs < $1)
             RETURNING user_id",
            now,
        )?;
        Ok(ended.len() as u64)
    }

    /// The rows of `Store::seed_accounts`: new accounts with a remembered session each, written
    /// in the clear as before migration 0011 (the server seals them at start-up). Nothing to
    /// evict: they are all new.
    pub(in crate::store) async fn insert_seed_accounts(
        &mut self,
        accounts: &[SeedAccount],
        password_hash: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        on_tx!(self, c => {
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
            users.build().execute(&mut *c).await?;
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
            sessions.build().execute(&mut *c).await?;
        });
        Ok(())
    }
}
