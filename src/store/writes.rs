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

use super::pii::{Field, Kind};
use super::{NewSession, NewUser, SeedAccount, Store, StoreError, Tx, classify, on_pool, on_tx};

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

impl Tx {
    pub async fn insert_user(&mut self, u: &NewUser<'_>) -> Result<(), StoreError> {
        let pii = self.pii()?;
        self.refuse_address_indexed_under_old_keys(&pii, u.id, u.email_norm)
            .await?;
        // A new account: nothing to evict.
        on_tx!(self, c => sqlx::query(
            "INSERT INTO users (id, email, email_index, email_sealed, username, username_norm, password_hash,
                                name, name_sealed, terms_accepted_at, created_at, updated_at)
             VALUES ($1, '', $2, $3, $4, $5, $6, '', $7, $8, $8, $8)",
        )
        .bind(u.id)
        .bind(pii.index(Kind::Email, u.email_norm))
        .bind(pii.seal(Field::UserEmail, u.id.as_bytes(), &[u.email]))
        .bind(u.username)
        .bind(u.username_norm)
        .bind(u.password_hash)
        .bind(pii.seal(Field::UserName, u.id.as_bytes(), &[u.name]))
        .bind(u.now)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))
        .map_err(classify)?;
        Ok(())
    }

    /// Marks `email` verified, but only while it is still the account's address.
    pub async fn mark_email_verified(
        &mut self,
        user_id: Uuid,
        email: &str,
        now: i64,
    ) -> Result<bool, StoreError> {
        for index in self.pii()?.indexes(Kind::Email, &email.to_lowercase()) {
            let done = changing!(
                self,
                "UPDATE users SET email_verified_at = $1, updated_at = $1
                 WHERE id = $2 AND email_index = $3 RETURNING id",
                now,
                user_id,
                index,
            )?;
            if done.len() == 1 {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Changes the display name and role; `None` keeps what is there.
    pub async fn update_profile(
        &mut self,
        id: Uuid,
        name: Option<&str>,
        role: Option<&str>,
        now: i64,
    ) -> Result<(), StoreError> {
        let pii = self.pii()?;
        let name = name.map(|n| pii.seal(Field::UserName, id.as_bytes(), &[n]));
        changing!(
            self,
            "UPDATE users SET name = CASE WHEN $1 IS NULL THEN name ELSE '' END,
                              name_sealed = COALESCE($1, name_sealed), role = COALESCE($2, role), updated_at = $3
             WHERE id = $4 RETURNING id",
            name,
            role,
            now,
            id,
        )?;
        Ok(())
    }

    pub async fn set_password(
        &mut self,
        user_id: Uuid,
        hash: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        changing!(
            self,
            "UPDATE users SET password_hash = $1, updated_at = $2 WHERE id = $3 RETURNING id",
            hash,
            now,
            user_id,
        )?;
        Ok(())
    }

    /// Replaces a hash made with older parameters by one of the same password, unless the
    /// password changed since `old` was read (then the newer password wins).
    pub async fn upgrade_password_hash(
        &mut self,
        user_id: Uuid,
        old: &str,
        new: &str,
    ) -> Result<bool, StoreError> {
        let done = changing!(
            self,
            "UPDATE users SET password_hash = $1 WHERE id = $2 AND password_hash = $3 RETURNING id",
            new,
            user_id,
            old,
        )?;
        Ok(done.len() == 1)
    }

    /// Moves the account to a confirmed address. `EmailTaken` if another account got it first.
    pub async fn set_email(
        &mut self,
        user_id: Uuid,
        email: &str,
        email_norm: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        let pii = self.pii()?;
        self.refuse_address_indexed_under_old_keys(&pii, user_id, email_norm)
            .await?;
        changing!(
            self,
            "UPDATE users SET email = '', email_sealed = $1, email_index = $2, email_verified_at = $3, updated_at = $3
             WHERE id = $4 RETURNING id",
            pii.seal(Field::UserEmail, user_id.as_bytes(), &[email]),
            pii.index(Kind::Email, email_norm),
            now,
            user_id,
        )
        .map_err(classify)?;
        Ok(())
    }

    /// The `users` half of `rename`.
    pub(super) async fn set_username(
        &mut self,
        user_id: Uuid,
        username: &str,
        username_norm: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        changing!(
            self,
            "UPDATE users SET username = $1, username_norm = $2, updated_at = $3 WHERE id = $4 RETURNING id",
            username,
            username_norm,
            now,
            user_id,
        )
        .map_err(classify)?;
        Ok(())
    }

    /// Whether 2FA is on, as a session lookup reads it.
    pub(super) async fn set_mfa_flag(&mut self, user_id: Uuid, on: bool) -> Result<(), StoreError> {
        changing!(
            self,
            "UPDATE users SET mfa_enabled = $1 WHERE id = $2 RETURNING id",
            on,
            user_id,
        )?;
        Ok(())
    }

    /// The `users` row of `delete_user`. Its sessions go with it (`ON DELETE CASCADE`): the
    /// account is recorded, which evicts them.
    pub(super) async fn delete_user_row(&mut self, user_id: Uuid) -> Result<(), StoreError> {
        changing!(
            self,
            "DELETE FROM users WHERE id = $1 RETURNING id",
            user_id
        )?;
        Ok(())
    }

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
    pub(super) async fn delete_expired_sessions(&mut self, now: i64) -> Result<u64, StoreError> {
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
    pub(super) async fn insert_seed_accounts(
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
