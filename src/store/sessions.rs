//! The `sessions` table: one row per signed-in browser or client, found by its token's hash.

use uuid::Uuid;

use super::{Store, StoreError, Tx, User, on_pool, on_tx};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Session {
    pub id: Uuid,
    pub user_id: Uuid,
    pub kind: String,
    pub remember: bool,
    pub idle_secs: Option<i64>,
    pub user_agent: String,
    pub ip: String,
    pub created_at: i64,
    pub last_seen_at: i64,
    pub expires_at: i64,
}

/// A session and its account, read in one round trip on every authenticated request.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SessionWithUser {
    #[sqlx(rename = "s_id")]
    pub session_id: Uuid,
    #[sqlx(rename = "s_kind")]
    pub kind: String,
    #[sqlx(rename = "s_remember")]
    pub remember: bool,
    #[sqlx(rename = "s_idle_secs")]
    pub idle_secs: Option<i64>,
    #[sqlx(rename = "s_last_seen_at")]
    pub last_seen_at: i64,
    #[sqlx(rename = "s_expires_at")]
    pub expires_at: i64,
    #[sqlx(flatten)]
    pub user: User,
}

pub struct NewSession<'a> {
    pub id: Uuid,
    pub user_id: Uuid,
    pub token_hash: &'a [u8],
    pub kind: &'a str,
    pub remember: bool,
    pub idle_secs: Option<i64>,
    pub user_agent: &'a str,
    pub ip: &'a str,
    pub now: i64,
    pub expires_at: i64,
}

const SESSION_COLUMNS: &str =
    "id, user_id, kind, remember, idle_secs, user_agent, ip, created_at, last_seen_at, expires_at";

impl Tx {
    pub async fn insert_session(&mut self, s: &NewSession<'_>) -> Result<(), StoreError> {
        on_tx!(self, c => sqlx::query(
            "INSERT INTO sessions (id, user_id, token_hash, kind, remember, idle_secs, user_agent, ip,
                                   created_at, last_seen_at, expires_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9, $10)",
        )
        .bind(s.id)
        .bind(s.user_id)
        .bind(s.token_hash)
        .bind(s.kind)
        .bind(s.remember)
        .bind(s.idle_secs)
        .bind(s.user_agent)
        .bind(s.ip)
        .bind(s.now)
        .bind(s.expires_at)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Records a sign-in to `user_id` from `device` at `ip`, forgetting pairs unseen since
    /// `known_since`; says whether this pair was unknown until now.
    pub async fn note_device(
        &mut self,
        user_id: Uuid,
        device: &str,
        ip: &str,
        now: i64,
        known_since: i64,
    ) -> Result<bool, StoreError> {
        on_tx!(self, c => sqlx::query("DELETE FROM known_devices WHERE user_id = $1 AND last_seen_at < $2")
            .bind(user_id)
            .bind(known_since)
            .execute(c)
            .await
            .map(|r| r.rows_affected()))?;
        let updated = on_tx!(self, c => sqlx::query(
            "UPDATE known_devices SET last_seen_at = $1 WHERE user_id = $2 AND device = $3 AND ip = $4",
        )
        .bind(now)
        .bind(user_id)
        .bind(device)
        .bind(ip)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
        if updated > 0 {
            return Ok(false);
        }
        // Two sign-ins racing from one new pair may both report it: two notices, never none.
        on_tx!(self, c => sqlx::query(
            "INSERT INTO known_devices (user_id, device, ip, last_seen_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT (user_id, device, ip) DO UPDATE SET last_seen_at = excluded.last_seen_at",
        )
        .bind(user_id)
        .bind(device)
        .bind(ip)
        .bind(now)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(true)
    }
}

impl Tx {
    /// Records when credentials were last entered for session `id`: now, when the password is
    /// entered again; for a CLI grant, when the browser session that approved it entered them.
    pub async fn set_credentials_entered_at(
        &mut self,
        id: Uuid,
        at: i64,
    ) -> Result<(), StoreError> {
        on_tx!(self, c => sqlx::query("UPDATE sessions SET reauthenticated_at = $1 WHERE id = $2")
            .bind(at)
            .bind(id)
            .execute(c)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }
}

impl Store {
    /// The session with this token hash and its account: from the cache when it has them.
    pub async fn session_by_token_hash(
        &self,
        token_hash: &[u8],
    ) -> Result<Option<SessionWithUser>, StoreError> {
        if let Some(found) = self.cache.get(token_hash) {
            return Ok(Some(found));
        }
        let generation = self.cache.generation();
        let found = on_pool!(self, p => sqlx::query_as::<_, SessionWithUser>(
            "SELECT s.id AS s_id, s.kind AS s_kind, s.remember AS s_remember, s.idle_secs AS s_idle_secs,
                    s.last_seen_at AS s_last_seen_at, s.expires_at AS s_expires_at,
                    u.id, u.email, u.email_verified_at, u.username, u.password_hash, u.name, u.role,
                    u.mfa_enabled, u.managed_by, u.created_at
             FROM sessions s JOIN users u ON u.id = s.user_id
             WHERE s.token_hash = $1",
        )
        .bind(token_hash)
        .fetch_optional(p)
        .await)?;
        if let Some(found) = &found {
            self.cache.put(token_hash, found, generation);
        }
        Ok(found)
    }

    /// Records activity; the caller makes sure this runs at most once a minute per session.
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

    /// Sessions still usable at `now`, newest first.
    pub async fn sessions_of(&self, user_id: Uuid, now: i64) -> Result<Vec<Session>, StoreError> {
        let sql = format!(
            "SELECT {SESSION_COLUMNS} FROM sessions
             WHERE user_id = $1 AND expires_at > $2
               AND (idle_secs IS NULL OR last_seen_at + idle_secs > $2)
             ORDER BY created_at DESC, id DESC"
        );
        Ok(
            on_pool!(self, p => sqlx::query_as::<_, Session>(sqlx::AssertSqlSafe(sql.as_str()))
            .bind(user_id)
            .bind(now)
            .fetch_all(p)
            .await)?,
        )
    }

    /// When credentials were last entered in session `id`: at sign-in, or re-entered since.
    pub async fn credentials_entered_at(&self, id: Uuid) -> Result<Option<i64>, StoreError> {
        Ok(on_pool!(self, p => sqlx::query_scalar::<_, i64>(
            "SELECT COALESCE(reauthenticated_at, created_at) FROM sessions WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(p)
        .await)?)
    }

    pub async fn delete_session(&self, user_id: Uuid, id: Uuid) -> Result<bool, StoreError> {
        let done = on_pool!(self, p => sqlx::query("DELETE FROM sessions WHERE id = $1 AND user_id = $2")
            .bind(id)
            .bind(user_id)
            .execute(p)
            .await
            .map(|r| r.rows_affected()))?;
        if done == 1 {
            self.evict_user(user_id).await?;
        }
        Ok(done == 1)
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
}

impl Tx {
    /// Ends every session of the account except `keep` (if given).
    pub async fn delete_sessions_except(
        &mut self,
        user_id: Uuid,
        keep: Option<Uuid>,
    ) -> Result<u64, StoreError> {
        self.touch_user(user_id);
        Ok(on_tx!(self, c => sqlx::query(
            "DELETE FROM sessions WHERE user_id = $1 AND ($2 IS NULL OR id <> $2)",
        )
        .bind(user_id)
        .bind(keep)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?)
    }
}
