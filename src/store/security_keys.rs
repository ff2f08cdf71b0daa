//! Security keys: `security_keys`, `security_key_registrations` and the challenge a sign-in
//! step keeps in `mfa_challenges.security_key_state`. Credentials and states are stored as the
//! JSON webauthn-rs makes of them; this layer does not look inside.

use uuid::Uuid;

use super::{Store, StoreError, Tx, on_pool, on_tx};

/// An account's keys, oldest first.
const KEYS_OF: &str = "SELECT id, name, credential, created_at, last_used_at FROM security_keys
                       WHERE user_id = $1 ORDER BY created_at, id";

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StoredSecurityKey {
    pub id: Uuid,
    pub name: String,
    pub credential: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
}

/// A registration waiting for the browser's answer.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PendingRegistration {
    pub name: String,
    pub state: String,
    pub expires_at: i64,
}

impl Store {
    /// The account's keys, oldest first.
    pub async fn security_keys_of(
        &self,
        user_id: Uuid,
    ) -> Result<Vec<StoredSecurityKey>, StoreError> {
        let keys = on_pool!(self, p => sqlx::query_as::<_, StoredSecurityKey>(KEYS_OF)
            .bind(user_id)
            .fetch_all(p)
            .await)?;
        Ok(keys)
    }

    /// Starts (or restarts) the account's one pending registration.
    pub async fn put_security_key_registration(
        &self,
        user_id: Uuid,
        name: &str,
        state: &str,
        expires_at: i64,
    ) -> Result<(), StoreError> {
        on_pool!(self, p => sqlx::query(
            "INSERT INTO security_key_registrations (user_id, name, state, expires_at)
             VALUES ($1, $2, $3, $4)
             ON CONFLICT (user_id) DO UPDATE
                SET name = excluded.name, state = excluded.state, expires_at = excluded.expires_at",
        )
        .bind(user_id)
        .bind(name)
        .bind(state)
        .bind(expires_at)
        .execute(p)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Takes the account's pending registration, committed at once: each is answered once,
    /// right or wrong.
    pub async fn take_security_key_registration(
        &self,
        user_id: Uuid,
    ) -> Result<Option<PendingRegistration>, StoreError> {
        Ok(
            on_pool!(self, p => sqlx::query_as::<_, PendingRegistration>(
            "DELETE FROM security_key_registrations WHERE user_id = $1
             RETURNING name, state, expires_at",
        )
        .bind(user_id)
        .fetch_optional(p)
        .await)?,
        )
    }

    /// Records the challenge the security key must sign for this second step. False when the
    /// step is gone (expired, used or failed too often).
    pub async fn set_security_key_challenge(
        &self,
        token_hash: &[u8],
        state: &str,
    ) -> Result<bool, StoreError> {
        let n = on_pool!(self, p => sqlx::query(
            "UPDATE mfa_challenges SET security_key_state = $1 WHERE token_hash = $2",
        )
        .bind(state)
        .bind(token_hash)
        .execute(p)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(n == 1)
    }
}

impl Tx {
    /// The account's keys, read on this transaction's connection.
    pub async fn security_keys_of(
        &mut self,
        user_id: Uuid,
    ) -> Result<Vec<StoredSecurityKey>, StoreError> {
        let keys = on_tx!(self, c => sqlx::query_as::<_, StoredSecurityKey>(KEYS_OF)
            .bind(user_id)
            .fetch_all(c)
            .await)?;
        Ok(keys)
    }

    /// Takes the challenge the key must sign for the step `token_hash`, which the caller holds
    /// (`hold_mfa_challenge`): once this transaction commits, the challenge is answered, right
    /// or wrong.
    pub async fn take_security_key_challenge(
        &mut self,
        token_hash: &[u8],
    ) -> Result<Option<String>, StoreError> {
        let state = on_tx!(self, c => sqlx::query_scalar::<_, Option<String>>(
            "SELECT security_key_state FROM mfa_challenges WHERE token_hash = $1",
        )
        .bind(token_hash)
        .fetch_optional(c)
        .await)?
        .flatten();
        on_tx!(self, c => sqlx::query(
            "UPDATE mfa_challenges SET security_key_state = NULL WHERE token_hash = $1",
        )
        .bind(token_hash)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(state)
    }

    /// False when the credential is registered already (to this account or another).
    pub async fn insert_security_key(
        &mut self,
        user_id: Uuid,
        key: &StoredSecurityKey,
        credential_id: &[u8],
    ) -> Result<bool, StoreError> {
        let n = on_tx!(self, c => sqlx::query(
            "INSERT INTO security_keys (id, user_id, credential_id, name, credential, created_at)
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (credential_id) DO NOTHING",
        )
        .bind(key.id)
        .bind(user_id)
        .bind(credential_id)
        .bind(&key.name)
        .bind(&key.credential)
        .bind(key.created_at)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(n == 1)
    }

    pub async fn count_security_keys(&mut self, user_id: Uuid) -> Result<i64, StoreError> {
        Ok(on_tx!(self, c => sqlx::query_scalar::<_, i64>(
            "SELECT COUNT(*) FROM security_keys WHERE user_id = $1",
        )
        .bind(user_id)
        .fetch_one(c)
        .await)?)
    }

    /// Stores what a sign-in taught us about the key, unless its signature counter did not
    /// move past the newest one seen (WebAuthn §6.1.1): false then, as for a cloned key. A key
    /// that keeps no counter says 0 every time. One statement, so two sign-ins at once cannot
    /// both pass with the same counter.
    pub async fn security_key_used(
        &mut self,
        user_id: Uuid,
        id: Uuid,
        credential: &str,
        counter: u32,
        now: i64,
    ) -> Result<bool, StoreError> {
        let n = on_tx!(self, c => sqlx::query(
            "UPDATE security_keys SET credential = $1, counter = $2, last_used_at = $3
             WHERE id = $4 AND user_id = $5 AND (counter < $2 OR (counter = 0 AND $2 = 0))",
        )
        .bind(credential)
        .bind(i64::from(counter))
        .bind(now)
        .bind(id)
        .bind(user_id)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(n == 1)
    }

    /// False when the account has no such key.
    pub async fn delete_security_key(
        &mut self,
        user_id: Uuid,
        id: Uuid,
    ) -> Result<bool, StoreError> {
        let n = on_tx!(self, c => sqlx::query("DELETE FROM security_keys WHERE id = $1 AND user_id = $2")
            .bind(id)
            .bind(user_id)
            .execute(c)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(n == 1)
    }

    /// Every key and pending registration of the account: 2FA went off.
    pub async fn delete_security_keys_of(&mut self, user_id: Uuid) -> Result<(), StoreError> {
        // Registrations first: on PostgreSQL a registration being finished holds its row, so
        // this waits for it, and the key it adds is then deleted with the others.
        for sql in [
            "DELETE FROM security_key_registrations WHERE user_id = $1",
            "DELETE FROM security_keys WHERE user_id = $1",
        ] {
            on_tx!(self, c => sqlx::query(sql)
                .bind(user_id)
                .execute(c)
                .await
                .map(|r| r.rows_affected()))?;
        }
        Ok(())
    }
}
