//! The `users` table.

use uuid::Uuid;

use super::{Store, StoreError, Tx, classify, on_pool, on_tx};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct User {
    pub id: Uuid,
    pub email: String,
    pub email_verified_at: Option<i64>,
    pub username: String,
    pub password_hash: Option<String>,
    pub name: String,
    pub role: String,
    pub mfa_enabled: bool,
    /// The enterprise team managing the account; it cannot change its own email or password.
    pub managed_by: Option<String>,
    pub created_at: i64,
}

pub struct NewUser<'a> {
    pub id: Uuid,
    pub email: &'a str,
    pub email_norm: &'a str,
    pub username: &'a str,
    pub username_norm: &'a str,
    pub password_hash: &'a str,
    pub name: &'a str,
    pub now: i64,
}

pub(super) const USER_COLUMNS: &str = "id, email, email_verified_at, username, password_hash, name, role, mfa_enabled, managed_by, created_at";

impl Tx {
    pub async fn insert_user(&mut self, u: &NewUser<'_>) -> Result<(), StoreError> {
        on_tx!(self, c => sqlx::query(
            "INSERT INTO users (id, email, email_norm, username, username_norm, password_hash, name,
                                terms_accepted_at, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8, $8)",
        )
        .bind(u.id)
        .bind(u.email)
        .bind(u.email_norm)
        .bind(u.username)
        .bind(u.username_norm)
        .bind(u.password_hash)
        .bind(u.name)
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
        self.touch_user(user_id);
        let done = on_tx!(self, c => sqlx::query(
            "UPDATE users SET email_verified_at = $1, updated_at = $1
             WHERE id = $2 AND email = $3",
        )
        .bind(now)
        .bind(user_id)
        .bind(email)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(done == 1)
    }
}

impl Store {
    /// Finds an account by username or email, given already lower-cased.
    pub async fn user_by_login(&self, login_norm: &str) -> Result<Option<User>, StoreError> {
        let sql =
            format!("SELECT {USER_COLUMNS} FROM users WHERE username_norm = $1 OR email_norm = $1");
        Ok(
            on_pool!(self, p => sqlx::query_as::<_, User>(sqlx::AssertSqlSafe(sql.as_str()))
            .bind(login_norm)
            .fetch_optional(p)
            .await)?,
        )
    }

    pub async fn user_by_id(&self, id: Uuid) -> Result<Option<User>, StoreError> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1");
        Ok(
            on_pool!(self, p => sqlx::query_as::<_, User>(sqlx::AssertSqlSafe(sql.as_str()))
            .bind(id)
            .fetch_optional(p)
            .await)?,
        )
    }

    pub async fn update_profile(
        &self,
        id: Uuid,
        name: Option<&str>,
        role: Option<&str>,
        now: i64,
    ) -> Result<(), StoreError> {
        on_pool!(self, p => sqlx::query(
            "UPDATE users SET name = COALESCE($1, name), role = COALESCE($2, role), updated_at = $3
             WHERE id = $4",
        )
        .bind(name)
        .bind(role)
        .bind(now)
        .bind(id)
        .execute(p)
        .await
        .map(|r| r.rows_affected()))?;
        self.evict_user(id).await?;
        Ok(())
    }
}
