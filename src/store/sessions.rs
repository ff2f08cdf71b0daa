//! The `sessions` table: one row per signed-in browser or client, found by its token's hash.

use uuid::Uuid;

use super::pii::{Field, Kind, Pii, device_pair};
use super::users::{U_COLUMNS, UserRow};
use super::{Store, StoreError, Tx, User, on_pool, on_tx};

#[derive(Debug, Clone)]
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

#[derive(sqlx::FromRow)]
struct SessionRow {
    id: Uuid,
    user_id: Uuid,
    kind: String,
    remember: bool,
    idle_secs: Option<i64>,
    user_agent: String,
    ip: String,
    client_sealed: Option<Vec<u8>>,
    created_at: i64,
    last_seen_at: i64,
    expires_at: i64,
}

impl SessionRow {
    fn open(self, pii: &Pii) -> Result<Session, StoreError> {
        let mut client = pii.read(
            Field::SessionClient,
            self.id.as_bytes(),
            self.client_sealed.as_deref(),
            vec![self.ip, self.user_agent],
        )?;
        let user_agent = client.pop().unwrap_or_default();
        let ip = client.pop().unwrap_or_default();
        Ok(Session {
            id: self.id,
            user_id: self.user_id,
            kind: self.kind,
            remember: self.remember,
            idle_secs: self.idle_secs,
            user_agent,
            ip,
            created_at: self.created_at,
            last_seen_at: self.last_seen_at,
            expires_at: self.expires_at,
        })
    }
}

/// A session and its account, read in one round trip on every authenticated request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionWithUser {
    pub session_id: Uuid,
    pub kind: String,
    pub remember: bool,
    pub idle_secs: Option<i64>,
    pub last_seen_at: i64,
    pub expires_at: i64,
    pub user: User,
}

#[derive(sqlx::FromRow)]
pub(super) struct SessionWithUserRow {
    s_id: Uuid,
    s_kind: String,
    s_remember: bool,
    s_idle_secs: Option<i64>,
    s_last_seen_at: i64,
    s_expires_at: i64,
    #[sqlx(flatten)]
    user: UserRow,
}

impl SessionWithUserRow {
    pub(super) fn open(self, pii: &Pii) -> Result<SessionWithUser, StoreError> {
        Ok(SessionWithUser {
            session_id: self.s_id,
            kind: self.s_kind,
            remember: self.s_remember,
            idle_secs: self.s_idle_secs,
            last_seen_at: self.s_last_seen_at,
            expires_at: self.s_expires_at,
            user: self.user.open(pii)?,
        })
    }
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

const SESSION_COLUMNS: &str = "id, user_id, kind, remember, idle_secs, user_agent, ip, client_sealed, \
                               created_at, last_seen_at, expires_at";

impl Tx {
    /// Sessions of the account started since `since`, on this transaction.
    pub async fn sessions_started_since(
        &mut self,
        user_id: Uuid,
        since: i64,
    ) -> Result<Vec<Session>, StoreError> {
        let sql = format!(
            "SELECT {SESSION_COLUMNS} FROM sessions
             WHERE user_id = $1 AND created_at >= $2"
        );
        let rows = on_tx!(self, c => sqlx::query_as::<_, SessionRow>(sqlx::AssertSqlSafe(sql.as_str()))
            .bind(user_id)
            .bind(since)
            .fetch_all(c)
            .await)?;
        let pii = self.pii()?;
        rows.into_iter().map(|r| r.open(&pii)).collect()
    }

    /// Records a sign-in to `user_id` from `device` at `ip`, forgetting pairs unseen since
    /// `known_since`; says whether this pair was unknown until now. Pairs are kept only as a
    /// blind index: they are compared, never shown.
    pub async fn note_device(
        &mut self,
        user_id: Uuid,
        device: &str,
        ip: &str,
        now: i64,
        known_since: i64,
    ) -> Result<bool, StoreError> {
        on_tx!(self, c => sqlx::query("DELETE FROM known_device_pairs WHERE user_id = $1 AND last_seen_at < $2")
            .bind(user_id)
            .bind(known_since)
            .execute(c)
            .await
            .map(|r| r.rows_affected()))?;
        let indexes = self
            .pii()?
            .indexes(Kind::DevicePair, &device_pair(user_id, device, ip));
        // A pair indexed under a previous key is still known until that key goes.
        for index in &indexes {
            let updated = on_tx!(self, c => sqlx::query(
                "UPDATE known_device_pairs SET last_seen_at = $1 WHERE user_id = $2 AND pair_index = $3",
            )
            .bind(now)
            .bind(user_id)
            .bind(index)
            .execute(c)
            .await
            .map(|r| r.rows_affected()))?;
            if updated > 0 {
                return Ok(false);
            }
        }
        // Two sign-ins racing from one new pair may both report it: two notices, never none.
        on_tx!(self, c => sqlx::query(
            "INSERT INTO known_device_pairs (user_id, pair_index, last_seen_at) VALUES ($1, $2, $3)
             ON CONFLICT (user_id, pair_index) DO UPDATE SET last_seen_at = excluded.last_seen_at",
        )
        .bind(user_id)
        .bind(&indexes[0])
        .bind(now)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(true)
    }
}

impl Store {
    /// The session with this token hash and its account: from the cache when it has them.
    pub async fn session_by_token_hash(
        &self,
        token_hash: &[u8],
    ) -> Result<Option<SessionWithUser>, StoreError> {
        let generation = self.cache.generation();
        if let Some(found) = self.cache.get(token_hash) {
            // Debug builds read the database too, and panic if it disagrees.
            #[cfg(debug_assertions)]
            self.assert_coherent(token_hash, &found, generation).await;
            return Ok(Some(found));
        }
        let found = self.read_session(token_hash).await?;
        if let Some(found) = &found {
            self.cache.put(token_hash, found, generation);
        }
        Ok(found)
    }

    /// `session_by_token_hash` from the database.
    pub(super) async fn read_session(
        &self,
        token_hash: &[u8],
    ) -> Result<Option<SessionWithUser>, StoreError> {
        let sql = format!(
            "SELECT s.id AS s_id, s.kind AS s_kind, s.remember AS s_remember, s.idle_secs AS s_idle_secs,
                    s.last_seen_at AS s_last_seen_at, s.expires_at AS s_expires_at, {U_COLUMNS}
             FROM sessions s JOIN users u ON u.id = s.user_id
             WHERE s.token_hash = $1"
        );
        let row = on_pool!(self, p => sqlx::query_as::<_, SessionWithUserRow>(sqlx::AssertSqlSafe(sql.as_str()))
            .bind(token_hash)
            .fetch_optional(p)
            .await)?;
        row.map(|r| r.open(self.pii()?)).transpose()
    }

    /// Sessions still usable at `now`, newest first.
    pub async fn sessions_of(&self, user_id: Uuid, now: i64) -> Result<Vec<Session>, StoreError> {
        let sql = format!(
            "SELECT {SESSION_COLUMNS} FROM sessions
             WHERE user_id = $1 AND expires_at > $2
               AND (idle_secs IS NULL OR last_seen_at + idle_secs > $2)
             ORDER BY created_at DESC, id DESC"
        );
        let rows = on_pool!(self, p => sqlx::query_as::<_, SessionRow>(sqlx::AssertSqlSafe(sql.as_str()))
            .bind(user_id)
            .bind(now)
            .fetch_all(p)
            .await)?;
        let pii = self.pii()?;
        rows.into_iter().map(|r| r.open(pii)).collect()
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
}
