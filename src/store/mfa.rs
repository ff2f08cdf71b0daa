//! Two-factor tables: `totp_credentials`, `recovery_codes` and `mfa_challenges`.

use uuid::Uuid;

use super::{Store, StoreError, Tx, on_pool, on_tx};

const RECOVERY_CODES_LEFT: &str =
    "SELECT COUNT(*) FROM recovery_codes WHERE user_id = $1 AND used_at IS NULL";

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TotpCredential {
    pub secret_sealed: Vec<u8>,
    pub enabled_at: Option<i64>,
    pub last_step: Option<i64>,
}

/// A password step that still waits for its second factor.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MfaChallenge {
    pub user_id: Uuid,
    pub remember: bool,
    pub kind: String,
    pub failures: i32,
    pub expires_at: i64,
}

impl Store {
    pub async fn totp_of(&self, user_id: Uuid) -> Result<Option<TotpCredential>, StoreError> {
        Ok(on_pool!(self, p => sqlx::query_as::<_, TotpCredential>(
            "SELECT secret_sealed, enabled_at, last_step FROM totp_credentials WHERE user_id = $1",
        )
        .bind(user_id)
        .fetch_optional(p)
        .await)?)
    }

    /// Stores a new pending secret, replacing an earlier unconfirmed one but never an
    /// enabled one. False when 2FA is already on.
    pub async fn put_pending_totp(
        &self,
        user_id: Uuid,
        sealed: &[u8],
        now: i64,
    ) -> Result<bool, StoreError> {
        let n = on_pool!(self, p => sqlx::query(
            "INSERT INTO totp_credentials (user_id, secret_sealed, created_at) VALUES ($1, $2, $3)
             ON CONFLICT (user_id) DO UPDATE
                SET secret_sealed = excluded.secret_sealed, created_at = excluded.created_at, last_step = NULL
                WHERE totp_credentials.enabled_at IS NULL",
        )
        .bind(user_id)
        .bind(sealed)
        .bind(now)
        .execute(p)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(n == 1)
    }

    /// Every sealed TOTP seed, for `rotate-key`.
    pub async fn totp_seeds(&self) -> Result<Vec<(Uuid, Vec<u8>)>, StoreError> {
        Ok(on_pool!(self, p => sqlx::query_as::<_, (Uuid, Vec<u8>)>(
            "SELECT user_id, secret_sealed FROM totp_credentials ORDER BY user_id",
        )
        .fetch_all(p)
        .await)?)
    }

    /// Replaces a sealed seed with the same seed sealed under another key, unless the seed
    /// changed meanwhile (a new set-up). False when it did.
    pub async fn reseal_totp(
        &self,
        user_id: Uuid,
        old: &[u8],
        new: &[u8],
    ) -> Result<bool, StoreError> {
        let n = on_pool!(self, p => sqlx::query(
            "UPDATE totp_credentials SET secret_sealed = $1 WHERE user_id = $2 AND secret_sealed = $3",
        )
        .bind(new)
        .bind(user_id)
        .bind(old)
        .execute(p)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(n == 1)
    }

    /// Accounts holding unused recovery codes that were not made under the key `key_id`
    /// (stored as that id and a 32-byte hash): they still need a previous key.
    pub async fn accounts_with_codes_not_under(&self, key_id: &[u8]) -> Result<i64, StoreError> {
        Ok(on_pool!(self, p => sqlx::query_scalar::<_, i64>(
            "SELECT COUNT(DISTINCT user_id) FROM recovery_codes
             WHERE used_at IS NULL AND (length(code_hash) <> 36 OR substr(code_hash, 1, 4) <> $1)",
        )
        .bind(key_id)
        .fetch_one(p)
        .await)?)
    }

    pub async fn recovery_codes_left(&self, user_id: Uuid) -> Result<i64, StoreError> {
        let left = on_pool!(self, p => sqlx::query_scalar::<_, i64>(RECOVERY_CODES_LEFT)
            .bind(user_id)
            .fetch_one(p)
            .await)?;
        Ok(left)
    }

    pub async fn insert_mfa_challenge(
        &self,
        token_hash: &[u8],
        user_id: Uuid,
        remember: bool,
        kind: &str,
        now: i64,
        expires_at: i64,
    ) -> Result<(), StoreError> {
        on_pool!(self, p => sqlx::query(
            "INSERT INTO mfa_challenges (token_hash, user_id, remember, kind, created_at, expires_at)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(token_hash)
        .bind(user_id)
        .bind(remember)
        .bind(kind)
        .bind(now)
        .bind(expires_at)
        .execute(p)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(())
    }

    pub async fn mfa_challenge(
        &self,
        token_hash: &[u8],
    ) -> Result<Option<MfaChallenge>, StoreError> {
        Ok(on_pool!(self, p => sqlx::query_as::<_, MfaChallenge>(
            "SELECT user_id, remember, kind, failures, expires_at FROM mfa_challenges WHERE token_hash = $1",
        )
        .bind(token_hash)
        .fetch_optional(p)
        .await)?)
    }
}

/// A second step and what it spends are written by one transaction, which first holds the step
/// (`hold_mfa_challenge`): answers to the same step take turns, a code is spent only by the
/// sign-in it makes, and a refusal is counted without spending anything.
impl Tx {
    /// Holds the pending step `token_hash` for this transaction, unless it expired by `now` or
    /// had `max_failures` wrong answers. A write, though it changes nothing: PostgreSQL locks
    /// the row and SQLite takes its write lock, so another answer to the same step waits here
    /// until this one commits or rolls back, then finds the step as this one left it.
    pub async fn hold_mfa_challenge(
        &mut self,
        token_hash: &[u8],
        now: i64,
        max_failures: i32,
    ) -> Result<Option<MfaChallenge>, StoreError> {
        Ok(on_tx!(self, c => sqlx::query_as::<_, MfaChallenge>(
            "UPDATE mfa_challenges SET failures = failures
             WHERE token_hash = $1 AND expires_at > $2 AND failures < $3
             RETURNING user_id, remember, kind, failures, expires_at",
        )
        .bind(token_hash)
        .bind(now)
        .bind(max_failures)
        .fetch_optional(c)
        .await)?)
    }

    /// Completes a second step: the sign-in that takes it is the only one it makes.
    pub async fn take_mfa_challenge(&mut self, token_hash: &[u8]) -> Result<bool, StoreError> {
        let n = on_tx!(self, c => sqlx::query("DELETE FROM mfa_challenges WHERE token_hash = $1")
            .bind(token_hash)
            .execute(c)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(n == 1)
    }

    /// Counts a wrong answer; the challenge is gone once it has `max_failures`.
    pub async fn mfa_challenge_failed(
        &mut self,
        token_hash: &[u8],
        max_failures: i32,
    ) -> Result<(), StoreError> {
        on_tx!(self, c => sqlx::query("UPDATE mfa_challenges SET failures = failures + 1 WHERE token_hash = $1")
            .bind(token_hash)
            .execute(c)
            .await
            .map(|r| r.rows_affected()))?;
        on_tx!(self, c => sqlx::query("DELETE FROM mfa_challenges WHERE token_hash = $1 AND failures >= $2")
            .bind(token_hash)
            .bind(max_failures)
            .execute(c)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Holds the account's enabled authenticator for this transaction and reads it. A write
    /// first, like `hold_mfa_challenge`: a transaction that starts here takes SQLite's write
    /// lock now, where a read first would fail it when it upgrades after another writer.
    pub async fn hold_totp(&mut self, user_id: Uuid) -> Result<Option<TotpCredential>, StoreError> {
        Ok(on_tx!(self, c => sqlx::query_as::<_, TotpCredential>(
            "UPDATE totp_credentials SET last_step = last_step
             WHERE user_id = $1 AND enabled_at IS NOT NULL
             RETURNING secret_sealed, enabled_at, last_step",
        )
        .bind(user_id)
        .fetch_optional(c)
        .await)?)
    }

    /// Accepts time step `step` for the account unless it (or a later one) was used already.
    pub async fn claim_totp_step(&mut self, user_id: Uuid, step: i64) -> Result<bool, StoreError> {
        let n = on_tx!(self, c => sqlx::query(
            "UPDATE totp_credentials SET last_step = $1
             WHERE user_id = $2 AND enabled_at IS NOT NULL AND (last_step IS NULL OR last_step < $1)",
        )
        .bind(step)
        .bind(user_id)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(n == 1)
    }

    /// Spends a recovery code stored as any of `code_hashes` (its forms under each key) and
    /// says how many unused codes the account has left; `None` if the code is unknown or
    /// already spent.
    pub async fn use_recovery_code(
        &mut self,
        user_id: Uuid,
        code_hashes: &[Vec<u8>],
        now: i64,
    ) -> Result<Option<i64>, StoreError> {
        for code_hash in code_hashes {
            let n = on_tx!(self, c => sqlx::query(
                "UPDATE recovery_codes SET used_at = $1
                 WHERE user_id = $2 AND code_hash = $3 AND used_at IS NULL",
            )
            .bind(now)
            .bind(user_id)
            .bind(code_hash)
            .execute(c)
            .await
            .map(|r| r.rows_affected()))?;
            if n == 1 {
                let left = on_tx!(self, c => sqlx::query_scalar::<_, i64>(RECOVERY_CODES_LEFT)
                    .bind(user_id)
                    .fetch_one(c)
                    .await)?;
                return Ok(Some(left));
            }
        }
        Ok(None)
    }
}

impl Tx {
    /// Turns a pending secret on, accepting `step` as its first used code.
    pub async fn enable_totp(
        &mut self,
        user_id: Uuid,
        step: i64,
        now: i64,
    ) -> Result<bool, StoreError> {
        let n = on_tx!(self, c => sqlx::query(
            "UPDATE totp_credentials SET enabled_at = $1, last_step = $2
             WHERE user_id = $3 AND enabled_at IS NULL",
        )
        .bind(now)
        .bind(step)
        .bind(user_id)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
        if n == 1 {
            self.set_mfa_flag(user_id, true).await?;
        }
        Ok(n == 1)
    }

    /// Turns 2FA off: the secret, every recovery code and every security key go.
    pub async fn disable_mfa(&mut self, user_id: Uuid) -> Result<bool, StoreError> {
        let n = on_tx!(self, c => sqlx::query("DELETE FROM totp_credentials WHERE user_id = $1 AND enabled_at IS NOT NULL")
            .bind(user_id)
            .execute(c)
            .await
            .map(|r| r.rows_affected()))?;
        on_tx!(self, c => sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1")
            .bind(user_id)
            .execute(c)
            .await
            .map(|r| r.rows_affected()))?;
        // Security keys come on top of the authenticator app; without it they go too.
        self.delete_security_keys_of(user_id).await?;
        self.set_mfa_flag(user_id, false).await?;
        Ok(n == 1)
    }

    /// Replaces the account's recovery codes: the old set stops working in the same commit.
    pub async fn replace_recovery_codes(
        &mut self,
        user_id: Uuid,
        hashes: &[Vec<u8>],
        now: i64,
    ) -> Result<(), StoreError> {
        on_tx!(self, c => sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1")
            .bind(user_id)
            .execute(c)
            .await
            .map(|r| r.rows_affected()))?;
        for hash in hashes {
            on_tx!(self, c => sqlx::query(
                "INSERT INTO recovery_codes (user_id, code_hash, created_at) VALUES ($1, $2, $3)",
            )
            .bind(user_id)
            .bind(hash)
            .bind(now)
            .execute(c)
            .await
            .map(|r| r.rows_affected()))?;
        }
        Ok(())
    }
}
