//! OAuth for the CLI: browser-step requests, authorization codes, access and refresh tokens,
//! and device codes.

use uuid::Uuid;

use super::{SessionWithUser, Store, StoreError, Tx, on_pool, on_tx};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OauthRequest {
    pub id: Uuid,
    pub redirect_uri: String,
    pub code_challenge: String,
    pub state: String,
    pub device_name: String,
    pub expires_at: i64,
    /// SHA-256 of the secret the opening browser holds in a cookie; none before migration 0012.
    pub browser_hash: Option<Vec<u8>>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OauthCode {
    pub user_id: Uuid,
    pub redirect_uri: String,
    pub code_challenge: String,
    pub device_name: String,
    pub expires_at: i64,
    pub used_at: Option<i64>,
    pub session_id: Option<Uuid>,
    /// When the approving session last entered credentials; the grant's session inherits it.
    pub authenticated_at: Option<i64>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OauthToken {
    pub session_id: Uuid,
    pub kind: String,
    pub expires_at: i64,
    pub used_at: Option<i64>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DeviceCode {
    pub user_code: String,
    pub device_name: String,
    pub expires_at: i64,
    pub interval_secs: i64,
    pub last_poll_at: Option<i64>,
    pub user_id: Option<Uuid>,
    pub approved: Option<bool>,
    /// As for `OauthCode`: set with the approval.
    pub authenticated_at: Option<i64>,
}

const CODE_COLUMNS: &str = "user_id, redirect_uri, code_challenge, device_name, expires_at, \
                            used_at, session_id, authenticated_at";
const DEVICE_COLUMNS: &str = "user_code, device_name, expires_at, interval_secs, last_poll_at, \
                              user_id, approved, authenticated_at";

impl Store {
    pub async fn insert_oauth_request(&self, r: &OauthRequest, now: i64) -> Result<(), StoreError> {
        on_pool!(self, p => sqlx::query(
            "INSERT INTO oauth_requests (id, redirect_uri, code_challenge, state, device_name, created_at, expires_at, browser_hash)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(r.id)
        .bind(&r.redirect_uri)
        .bind(&r.code_challenge)
        .bind(&r.state)
        .bind(&r.device_name)
        .bind(now)
        .bind(r.expires_at)
        .bind(&r.browser_hash)
        .execute(p)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(())
    }

    pub async fn oauth_request(&self, id: Uuid) -> Result<Option<OauthRequest>, StoreError> {
        Ok(on_pool!(self, p => sqlx::query_as::<_, OauthRequest>(
            "SELECT id, redirect_uri, code_challenge, state, device_name, expires_at, browser_hash FROM oauth_requests WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(p)
        .await)?)
    }

    /// Ends a browser step; whoever deletes it first decides it.
    pub async fn take_oauth_request(&self, id: Uuid) -> Result<bool, StoreError> {
        let n = on_pool!(self, p => sqlx::query("DELETE FROM oauth_requests WHERE id = $1")
            .bind(id)
            .execute(p)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(n == 1)
    }

    pub async fn insert_oauth_code(
        &self,
        code_hash: &[u8],
        c: &OauthCode,
        now: i64,
    ) -> Result<(), StoreError> {
        on_pool!(self, p => sqlx::query(
            "INSERT INTO oauth_codes (code_hash, user_id, redirect_uri, code_challenge, device_name, created_at, expires_at, authenticated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(code_hash)
        .bind(c.user_id)
        .bind(&c.redirect_uri)
        .bind(&c.code_challenge)
        .bind(&c.device_name)
        .bind(now)
        .bind(c.expires_at)
        .bind(c.authenticated_at)
        .execute(p)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// The grant (session) an access token belongs to, with its account; the token's own
    /// expiry counts as the session's.
    pub async fn session_by_access_token(
        &self,
        token_hash: &[u8],
    ) -> Result<Option<SessionWithUser>, StoreError> {
        let sql = format!(
            "SELECT s.id AS s_id, s.kind AS s_kind, s.remember AS s_remember, s.idle_secs AS s_idle_secs,
                    s.last_seen_at AS s_last_seen_at,
                    CASE WHEN t.expires_at < s.expires_at THEN t.expires_at ELSE s.expires_at END AS s_expires_at,
                    {}
             FROM oauth_tokens t JOIN sessions s ON s.id = t.session_id JOIN users u ON u.id = s.user_id
             WHERE t.token_hash = $1 AND t.kind = 'access'",
            super::users::U_COLUMNS
        );
        let row = on_pool!(self, p => sqlx::query_as::<_, super::sessions::SessionWithUserRow>(sqlx::AssertSqlSafe(sql.as_str()))
            .bind(token_hash)
            .fetch_optional(p)
            .await)?;
        row.map(|r| r.open(self.pii()?)).transpose()
    }

    pub async fn oauth_token(&self, token_hash: &[u8]) -> Result<Option<OauthToken>, StoreError> {
        Ok(on_pool!(self, p => sqlx::query_as::<_, OauthToken>(
            "SELECT session_id, kind, expires_at, used_at FROM oauth_tokens WHERE token_hash = $1",
        )
        .bind(token_hash)
        .fetch_optional(p)
        .await)?)
    }

    pub async fn insert_device_code(
        &self,
        hash: &[u8],
        d: &DeviceCode,
        now: i64,
    ) -> Result<(), StoreError> {
        on_pool!(self, p => sqlx::query(
            "INSERT INTO device_codes (device_code_hash, user_code, device_name, created_at, expires_at, interval_secs)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(hash)
        .bind(&d.user_code)
        .bind(&d.device_name)
        .bind(now)
        .bind(d.expires_at)
        .bind(d.interval_secs)
        .execute(p)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(())
    }

    pub async fn device_by_user_code(
        &self,
        user_code: &str,
    ) -> Result<Option<DeviceCode>, StoreError> {
        let sql = format!("SELECT {DEVICE_COLUMNS} FROM device_codes WHERE user_code = $1");
        Ok(
            on_pool!(self, p => sqlx::query_as::<_, DeviceCode>(sqlx::AssertSqlSafe(sql.as_str()))
            .bind(user_code)
            .fetch_optional(p)
            .await)?,
        )
    }

    pub async fn device_by_hash(&self, hash: &[u8]) -> Result<Option<DeviceCode>, StoreError> {
        let sql = format!("SELECT {DEVICE_COLUMNS} FROM device_codes WHERE device_code_hash = $1");
        Ok(
            on_pool!(self, p => sqlx::query_as::<_, DeviceCode>(sqlx::AssertSqlSafe(sql.as_str()))
            .bind(hash)
            .fetch_optional(p)
            .await)?,
        )
    }

    /// Records the person's answer for a pending device code; false if it was already decided.
    pub async fn decide_device(
        &self,
        user_code: &str,
        user_id: Uuid,
        approved: bool,
        authenticated_at: Option<i64>,
    ) -> Result<bool, StoreError> {
        let n = on_pool!(self, p => sqlx::query(
            "UPDATE device_codes SET user_id = $1, approved = $2, authenticated_at = $4
             WHERE user_code = $3 AND approved IS NULL",
        )
        .bind(user_id)
        .bind(approved)
        .bind(user_code)
        .bind(authenticated_at)
        .execute(p)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(n == 1)
    }

    pub async fn device_polled(
        &self,
        hash: &[u8],
        now: i64,
        interval_secs: i64,
    ) -> Result<(), StoreError> {
        on_pool!(self, p => sqlx::query("UPDATE device_codes SET last_poll_at = $1, interval_secs = $2 WHERE device_code_hash = $3")
            .bind(now)
            .bind(interval_secs)
            .bind(hash)
            .execute(p)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }
}

impl Tx {
    /// Uses a code up. Returns it with `true` the first time, with `false` on a replay.
    pub async fn claim_oauth_code(
        &mut self,
        code_hash: &[u8],
        now: i64,
    ) -> Result<Option<(OauthCode, bool)>, StoreError> {
        let fresh = on_tx!(self, c => sqlx::query("UPDATE oauth_codes SET used_at = $1 WHERE code_hash = $2 AND used_at IS NULL")
            .bind(now)
            .bind(code_hash)
            .execute(c)
            .await
            .map(|r| r.rows_affected()))?
            == 1;
        let sql = format!("SELECT {CODE_COLUMNS} FROM oauth_codes WHERE code_hash = $1");
        let code = on_tx!(self, c => sqlx::query_as::<_, OauthCode>(sqlx::AssertSqlSafe(sql.as_str()))
            .bind(code_hash)
            .fetch_optional(c)
            .await)?;
        Ok(code.map(|c| (c, fresh)))
    }

    pub async fn set_code_session(
        &mut self,
        code_hash: &[u8],
        session_id: Uuid,
    ) -> Result<(), StoreError> {
        on_tx!(self, c => sqlx::query("UPDATE oauth_codes SET session_id = $1 WHERE code_hash = $2")
            .bind(session_id)
            .bind(code_hash)
            .execute(c)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }

    pub async fn insert_oauth_token(
        &mut self,
        token_hash: &[u8],
        session_id: Uuid,
        kind: &str,
        now: i64,
        expires_at: i64,
    ) -> Result<(), StoreError> {
        on_tx!(self, c => sqlx::query(
            "INSERT INTO oauth_tokens (token_hash, session_id, kind, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(token_hash)
        .bind(session_id)
        .bind(kind)
        .bind(now)
        .bind(expires_at)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Spends a refresh token; false if it was spent before (a reuse).
    pub async fn spend_refresh_token(
        &mut self,
        token_hash: &[u8],
        now: i64,
    ) -> Result<bool, StoreError> {
        let n = on_tx!(self, c => sqlx::query(
            "UPDATE oauth_tokens SET used_at = $1 WHERE token_hash = $2 AND kind = 'refresh' AND used_at IS NULL",
        )
        .bind(now)
        .bind(token_hash)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(n == 1)
    }

    /// A device code's tokens are handed out once: the code goes with them.
    pub async fn take_device_code(&mut self, hash: &[u8]) -> Result<bool, StoreError> {
        let n = on_tx!(self, c => sqlx::query("DELETE FROM device_codes WHERE device_code_hash = $1")
            .bind(hash)
            .execute(c)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(n == 1)
    }
}
