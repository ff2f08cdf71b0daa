//! The `email_verifications` table: single-use confirmation links, kept as hashes.

use uuid::Uuid;

use super::pii::Field;
use super::{Store, StoreError, Tx, on_pool, on_tx};

#[derive(Debug, Clone)]
pub struct Verification {
    pub user_id: Uuid,
    pub email: String,
    /// `signup` confirms the current address; `change` moves the account to `email`.
    pub purpose: String,
    pub expires_at: i64,
}

#[derive(sqlx::FromRow)]
struct VerificationRow {
    user_id: Uuid,
    email: String,
    email_sealed: Option<Vec<u8>>,
    purpose: String,
    expires_at: i64,
}

impl Store {
    /// When a confirmation link expires, without using it up; `None` for no such link.
    pub async fn email_verification_expiry(
        &self,
        token_hash: &[u8],
    ) -> Result<Option<i64>, StoreError> {
        Ok(on_pool!(self, p => sqlx::query_scalar::<_, i64>(
            "SELECT expires_at FROM email_verifications WHERE token_hash = $1",
        )
        .bind(token_hash)
        .fetch_optional(p)
        .await)?)
    }
}

impl Tx {
    pub async fn insert_email_verification(
        &mut self,
        token_hash: &[u8],
        user_id: Uuid,
        email: &str,
        purpose: &str,
        now: i64,
        expires_at: i64,
    ) -> Result<(), StoreError> {
        let sealed = self
            .pii()?
            .seal(Field::VerificationEmail, token_hash, &[email]);
        on_tx!(self, c => sqlx::query(
            "INSERT INTO email_verifications (token_hash, user_id, email, email_sealed, purpose, created_at, expires_at)
             VALUES ($1, $2, '', $3, $4, $5, $6)",
        )
        .bind(token_hash)
        .bind(user_id)
        .bind(sealed)
        .bind(purpose)
        .bind(now)
        .bind(expires_at)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Consumes a link: whoever deletes the row first is the only one to use it.
    pub async fn take_email_verification(
        &mut self,
        token_hash: &[u8],
    ) -> Result<Option<Verification>, StoreError> {
        let row = on_tx!(self, c => sqlx::query_as::<_, VerificationRow>(
            "DELETE FROM email_verifications WHERE token_hash = $1
             RETURNING user_id, email, email_sealed, purpose, expires_at",
        )
        .bind(token_hash)
        .fetch_optional(c)
        .await)?;
        let Some(row) = row else { return Ok(None) };
        Ok(Some(Verification {
            user_id: row.user_id,
            email: self.pii()?.read_one(
                Field::VerificationEmail,
                token_hash,
                row.email_sealed.as_deref(),
                row.email,
            )?,
            purpose: row.purpose,
            expires_at: row.expires_at,
        }))
    }
}

impl Store {
    /// Drops expired links and sessions; run from the background sweeper.
    pub async fn purge_expired(&self, now: i64) -> Result<u64, StoreError> {
        let links = on_pool!(self, p => sqlx::query("DELETE FROM email_verifications WHERE expires_at < $1")
            .bind(now)
            .execute(p)
            .await
            .map(|r| r.rows_affected()))?;
        let mut tx = self.begin().await?;
        let sessions = tx.delete_expired_sessions(now).await?;
        tx.commit().await?;
        let challenges = on_pool!(self, p => sqlx::query("DELETE FROM mfa_challenges WHERE expires_at < $1")
            .bind(now)
            .execute(p)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(links + sessions + challenges)
    }
}
