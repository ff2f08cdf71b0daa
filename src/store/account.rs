//! Account settings and recovery: passwords, email changes and their undo links, retired
//! usernames, spent CAPTCHA solutions, deletion.

use uuid::Uuid;

use super::pii::{Field, Kind};
use super::users::{USER_COLUMNS, UserRow};
use super::{Store, StoreError, Tx, User, on_pool, on_tx};

/// A consumed single-use link: whose it is and until when it was good.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TakenLink {
    pub user_id: Uuid,
    pub expires_at: i64,
}

#[derive(Debug, Clone)]
pub struct TakenUndo {
    pub user_id: Uuid,
    pub old_email: String,
    pub expires_at: i64,
}

#[derive(sqlx::FromRow)]
struct UndoRow {
    user_id: Uuid,
    old_email: String,
    old_email_sealed: Option<Vec<u8>>,
    expires_at: i64,
}

impl Store {
    pub async fn user_by_email(&self, email_norm: &str) -> Result<Option<User>, StoreError> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE email_index = $1");
        for index in self.pii()?.indexes(Kind::Email, email_norm) {
            let row = on_pool!(self, p => sqlx::query_as::<_, UserRow>(sqlx::AssertSqlSafe(sql.as_str()))
                .bind(index)
                .fetch_optional(p)
                .await)?;
            if row.is_some() {
                return self.open_user(row);
            }
        }
        Ok(None)
    }

    pub async fn user_by_username(&self, username_norm: &str) -> Result<Option<User>, StoreError> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE username_norm = $1");
        let row = on_pool!(self, p => sqlx::query_as::<_, UserRow>(sqlx::AssertSqlSafe(sql.as_str()))
            .bind(username_norm)
            .fetch_optional(p)
            .await)?;
        self.open_user(row)
    }

    /// A reset link, without using it up.
    pub async fn password_reset(&self, token_hash: &[u8]) -> Result<Option<TakenLink>, StoreError> {
        Ok(on_pool!(self, p => sqlx::query_as::<_, TakenLink>(
            "SELECT user_id, expires_at FROM password_resets WHERE token_hash = $1",
        )
        .bind(token_hash)
        .fetch_optional(p)
        .await)?)
    }

    /// Records an accepted CAPTCHA solution; false if it was accepted before.
    pub async fn spend_captcha(
        &self,
        signature: &str,
        expires_at: i64,
    ) -> Result<bool, StoreError> {
        let inserted = on_pool!(self, p => sqlx::query(
            "INSERT INTO captcha_spent (signature, expires_at) VALUES ($1, $2) ON CONFLICT (signature) DO NOTHING",
        )
        .bind(signature)
        .bind(expires_at)
        .execute(p)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(inserted == 1)
    }

    /// Slugs of the teams the account belongs to.
    pub async fn team_slugs_of(&self, user_id: Uuid) -> Result<Vec<String>, StoreError> {
        Ok(on_pool!(self, p => sqlx::query_scalar::<_, String>(
            "SELECT t.slug FROM team_members m JOIN teams t ON t.id = m.team_id
             WHERE m.user_id = $1 ORDER BY t.slug",
        )
        .bind(user_id)
        .fetch_all(p)
        .await)?)
    }

    /// Whether `username_norm` is reserved for someone other than `user_id` at `now`.
    pub async fn username_in_cooldown(
        &self,
        username_norm: &str,
        user_id: Option<Uuid>,
        now: i64,
    ) -> Result<bool, StoreError> {
        let owner = on_pool!(self, p => sqlx::query_scalar::<_, Uuid>(
            "SELECT user_id FROM retired_usernames WHERE username_norm = $1 AND available_at > $2",
        )
        .bind(username_norm)
        .bind(now)
        .fetch_optional(p)
        .await)?;
        Ok(owner.is_some_and(|o| Some(o) != user_id))
    }

    pub async fn purge_spent_captchas(&self, now: i64) -> Result<(), StoreError> {
        on_pool!(self, p => sqlx::query("DELETE FROM captcha_spent WHERE expires_at < $1")
            .bind(now)
            .execute(p)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }
}

impl Tx {
    /// Every stored password hash, for `rotate-key`.
    pub async fn password_hashes(&mut self) -> Result<Vec<(Uuid, String)>, StoreError> {
        Ok(on_tx!(self, c => sqlx::query_as::<_, (Uuid, String)>(
            "SELECT id, password_hash FROM users WHERE password_hash IS NOT NULL ORDER BY id",
        )
        .fetch_all(c)
        .await)?)
    }

    pub async fn insert_password_reset(
        &mut self,
        token_hash: &[u8],
        user_id: Uuid,
        now: i64,
        expires_at: i64,
    ) -> Result<(), StoreError> {
        on_tx!(self, c => sqlx::query(
            "INSERT INTO password_resets (token_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(token_hash)
        .bind(user_id)
        .bind(now)
        .bind(expires_at)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(())
    }

    pub async fn take_password_reset(
        &mut self,
        token_hash: &[u8],
    ) -> Result<Option<TakenLink>, StoreError> {
        Ok(on_tx!(self, c => sqlx::query_as::<_, TakenLink>(
            "DELETE FROM password_resets WHERE token_hash = $1 RETURNING user_id, expires_at",
        )
        .bind(token_hash)
        .fetch_optional(c)
        .await)?)
    }

    /// Voids every outstanding reset link of the account.
    pub async fn delete_password_resets(&mut self, user_id: Uuid) -> Result<(), StoreError> {
        on_tx!(self, c => sqlx::query("DELETE FROM password_resets WHERE user_id = $1")
            .bind(user_id)
            .execute(c)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Cancels email changes that were requested but not confirmed.
    pub async fn delete_pending_email_changes(&mut self, user_id: Uuid) -> Result<(), StoreError> {
        on_tx!(self, c => sqlx::query("DELETE FROM email_verifications WHERE user_id = $1 AND purpose = 'change'")
            .bind(user_id)
            .execute(c)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }

    pub async fn insert_email_change_undo(
        &mut self,
        token_hash: &[u8],
        user_id: Uuid,
        old_email: &str,
        now: i64,
        expires_at: i64,
    ) -> Result<(), StoreError> {
        let sealed = self.pii()?.seal(Field::UndoEmail, token_hash, &[old_email]);
        on_tx!(self, c => sqlx::query(
            "INSERT INTO email_change_undos (token_hash, user_id, old_email, old_email_sealed, created_at, expires_at)
             VALUES ($1, $2, '', $3, $4, $5)",
        )
        .bind(token_hash)
        .bind(user_id)
        .bind(sealed)
        .bind(now)
        .bind(expires_at)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(())
    }

    pub async fn take_email_change_undo(
        &mut self,
        token_hash: &[u8],
    ) -> Result<Option<TakenUndo>, StoreError> {
        let row = on_tx!(self, c => sqlx::query_as::<_, UndoRow>(
            "DELETE FROM email_change_undos WHERE token_hash = $1
             RETURNING user_id, old_email, old_email_sealed, expires_at",
        )
        .bind(token_hash)
        .fetch_optional(c)
        .await)?;
        let Some(row) = row else { return Ok(None) };
        Ok(Some(TakenUndo {
            user_id: row.user_id,
            old_email: self.pii()?.read_one(
                Field::UndoEmail,
                token_hash,
                row.old_email_sealed.as_deref(),
                row.old_email,
            )?,
            expires_at: row.expires_at,
        }))
    }

    /// Renames the account; the old name is reserved for its owner until `available_at`.
    pub async fn rename(
        &mut self,
        user_id: Uuid,
        old_norm: &str,
        username: &str,
        username_norm: &str,
        now: i64,
        available_at: i64,
    ) -> Result<bool, StoreError> {
        if !self
            .set_username(user_id, old_norm, username, username_norm, now)
            .await?
        {
            return Ok(false);
        }
        // Taking back one's own retired name clears its reservation.
        on_tx!(self, c => sqlx::query("DELETE FROM retired_usernames WHERE username_norm = $1")
            .bind(username_norm)
            .execute(c)
            .await
            .map(|r| r.rows_affected()))?;
        if old_norm != username_norm {
            self.retire_username(old_norm, user_id, available_at)
                .await?;
        }
        Ok(true)
    }

    pub async fn retire_username(
        &mut self,
        username_norm: &str,
        user_id: Uuid,
        available_at: i64,
    ) -> Result<(), StoreError> {
        on_tx!(self, c => sqlx::query(
            "INSERT INTO retired_usernames (username_norm, user_id, available_at) VALUES ($1, $2, $3)
             ON CONFLICT (username_norm) DO UPDATE SET user_id = excluded.user_id, available_at = excluded.available_at",
        )
        .bind(username_norm)
        .bind(user_id)
        .bind(available_at)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Deletes the account; its sessions, links, 2FA secrets and codes go with it (cascade).
    /// Mail still queued to `email` is dropped: the account it concerned no longer exists.
    pub async fn delete_user(&mut self, user_id: Uuid, email: &str) -> Result<(), StoreError> {
        for index in self.pii()?.indexes(Kind::Recipient, &email.to_lowercase()) {
            on_tx!(self, c => sqlx::query("DELETE FROM outbox WHERE recipient_index = $1 AND sent_at IS NULL")
                .bind(index)
                .execute(c)
                .await
                .map(|r| r.rows_affected()))?;
        }
        self.delete_user_row(user_id).await
    }
}
