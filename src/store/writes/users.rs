//! Writes to `users`: new accounts, profile, password, address, deletion.

use uuid::Uuid;

use crate::store::pii::{Field, Kind};
use crate::store::{NewUser, StoreError, Tx, classify, on_tx};

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

    /// Changes the password if the stored hash is still `old`, the one the caller checked the
    /// current password against; false if another change came first.
    pub async fn change_password(
        &mut self,
        user_id: Uuid,
        old: &str,
        new: &str,
        now: i64,
    ) -> Result<bool, StoreError> {
        let done = changing!(
            self,
            "UPDATE users SET password_hash = $1, updated_at = $2
             WHERE id = $3 AND password_hash = $4 RETURNING id",
            new,
            now,
            user_id,
            old,
        )?;
        Ok(done.len() == 1)
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
    /// Renames the account if its name is still `old_norm`; false if a rename came first.
    pub(in crate::store) async fn set_username(
        &mut self,
        user_id: Uuid,
        old_norm: &str,
        username: &str,
        username_norm: &str,
        now: i64,
    ) -> Result<bool, StoreError> {
        let done = changing!(
            self,
            "UPDATE users SET username = $1, username_norm = $2, updated_at = $3
             WHERE id = $4 AND username_norm = $5 RETURNING id",
            username,
            username_norm,
            now,
            user_id,
            old_norm,
        )
        .map_err(classify)?;
        Ok(done.len() == 1)
    }

    /// Whether 2FA is on, as a session lookup reads it.
    pub(in crate::store) async fn set_mfa_flag(
        &mut self,
        user_id: Uuid,
        on: bool,
    ) -> Result<(), StoreError> {
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
    pub(in crate::store) async fn delete_user_row(
        &mut self,
        user_id: Uuid,
    ) -> Result<(), StoreError> {
        changing!(
            self,
            "DELETE FROM users WHERE id = $1 RETURNING id",
            user_id
        )?;
        Ok(())
    }
}
