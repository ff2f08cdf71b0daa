//! The `users` table.

use uuid::Uuid;

use super::pii::{Field, Kind, Pii};
use super::{Store, StoreError, Tx, on_pool, on_tx};

/// An account, its address and name opened.
#[derive(Debug, Clone, PartialEq, Eq)]
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

/// A `users` row as stored: address and name sealed (or, from before, in the clear columns).
#[derive(Debug, Clone, sqlx::FromRow)]
pub(super) struct UserRow {
    id: Uuid,
    email: String,
    email_sealed: Option<Vec<u8>>,
    email_verified_at: Option<i64>,
    username: String,
    password_hash: Option<String>,
    name: String,
    name_sealed: Option<Vec<u8>>,
    role: String,
    mfa_enabled: bool,
    managed_by: Option<String>,
    created_at: i64,
}

impl UserRow {
    pub(super) fn open(self, pii: &Pii) -> Result<User, StoreError> {
        let row = self.id.as_bytes();
        Ok(User {
            id: self.id,
            email: pii.read_one(
                Field::UserEmail,
                row,
                self.email_sealed.as_deref(),
                self.email,
            )?,
            email_verified_at: self.email_verified_at,
            username: self.username,
            password_hash: self.password_hash,
            name: pii.read_one(Field::UserName, row, self.name_sealed.as_deref(), self.name)?,
            role: self.role,
            mfa_enabled: self.mfa_enabled,
            managed_by: self.managed_by,
            created_at: self.created_at,
        })
    }
}

pub(super) const USER_COLUMNS: &str = "id, email, email_sealed, email_verified_at, username, password_hash, name, name_sealed, role, mfa_enabled, managed_by, created_at";

/// `USER_COLUMNS` of the `users` table aliased `u`.
pub(super) const U_COLUMNS: &str = "u.id, u.email, u.email_sealed, u.email_verified_at, u.username, u.password_hash, u.name, u.name_sealed, u.role, u.mfa_enabled, u.managed_by, u.created_at";

impl Tx {
    /// The account, read on this transaction's own connection: asking the pool for a second
    /// one while this transaction holds locks can starve the pool (issue 16).
    pub async fn user_by_id(&mut self, id: Uuid) -> Result<Option<User>, StoreError> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1");
        let row = on_tx!(self, c => sqlx::query_as::<_, UserRow>(sqlx::AssertSqlSafe(sql.as_str()))
            .bind(id)
            .fetch_optional(c)
            .await)?;
        let pii = self.pii()?;
        row.map(|r| r.open(&pii)).transpose()
    }

    /// Between a key change and `rotate-key`, an address may be indexed under a previous key,
    /// where the UNIQUE constraint cannot see it: taken all the same.
    pub(super) async fn refuse_address_indexed_under_old_keys(
        &mut self,
        pii: &Pii,
        user_id: Uuid,
        email_norm: &str,
    ) -> Result<(), StoreError> {
        for index in pii.indexes(Kind::Email, email_norm).into_iter().skip(1) {
            let taken = on_tx!(self, c => sqlx::query_scalar::<_, i64>(
                "SELECT COUNT(*) FROM users WHERE email_index = $1 AND id <> $2",
            )
            .bind(index)
            .bind(user_id)
            .fetch_one(c)
            .await)?;
            if taken > 0 {
                return Err(StoreError::Duplicate(super::Unique::Email));
            }
        }
        Ok(())
    }
}

impl Store {
    /// Finds an account by username or email, given already lower-cased.
    pub async fn user_by_login(&self, login_norm: &str) -> Result<Option<User>, StoreError> {
        let sql = format!(
            "SELECT {USER_COLUMNS} FROM users WHERE username_norm = $1 OR email_index = $2"
        );
        for index in self.pii()?.indexes(Kind::Email, login_norm) {
            let row = on_pool!(self, p => sqlx::query_as::<_, UserRow>(sqlx::AssertSqlSafe(sql.as_str()))
                .bind(login_norm)
                .bind(index)
                .fetch_optional(p)
                .await)?;
            if row.is_some() {
                return self.open_user(row);
            }
        }
        Ok(None)
    }

    pub async fn user_by_id(&self, id: Uuid) -> Result<Option<User>, StoreError> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1");
        let row = on_pool!(self, p => sqlx::query_as::<_, UserRow>(sqlx::AssertSqlSafe(sql.as_str()))
            .bind(id)
            .fetch_optional(p)
            .await)?;
        self.open_user(row)
    }

    pub(super) fn open_user(&self, row: Option<UserRow>) -> Result<Option<User>, StoreError> {
        row.map(|r| r.open(self.pii()?)).transpose()
    }

    pub(super) fn open_users(&self, rows: Vec<UserRow>) -> Result<Vec<User>, StoreError> {
        let pii = self.pii()?;
        rows.into_iter().map(|r| r.open(pii)).collect()
    }
}
