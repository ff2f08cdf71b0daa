//! The `outbox` table: mail waiting to be delivered, claimed by workers with a lease so several
//! servers sharing one database never send a message twice at once.

use uuid::Uuid;

use super::{Store, StoreError, Tx, on_pool, on_tx};

/// A rendered message, ready to queue.
#[derive(Debug, Clone)]
pub struct OutboxMessage {
    pub recipient: String,
    pub subject: String,
    pub text_body: String,
    pub html_body: String,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct QueuedMail {
    pub id: Uuid,
    pub recipient: String,
    pub subject: String,
    pub text_body: String,
    pub html_body: String,
    pub created_at: i64,
    pub attempts: i32,
    pub next_attempt_at: i64,
    pub sent_at: Option<i64>,
}

const MAIL_COLUMNS: &str =
    "id, recipient, subject, text_body, html_body, created_at, attempts, next_attempt_at, sent_at";

impl Tx {
    pub async fn enqueue_mail(&mut self, m: &OutboxMessage, now: i64) -> Result<(), StoreError> {
        on_tx!(self, c => sqlx::query(
            "INSERT INTO outbox (id, recipient, subject, text_body, html_body, created_at, next_attempt_at)
             VALUES ($1, $2, $3, $4, $5, $6, $6)",
        )
        .bind(Uuid::now_v7())
        .bind(&m.recipient)
        .bind(&m.subject)
        .bind(&m.text_body)
        .bind(&m.html_body)
        .bind(now)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(())
    }
}

impl Store {
    pub async fn due_mail(&self, now: i64, limit: i64) -> Result<Vec<QueuedMail>, StoreError> {
        let sql = format!(
            "SELECT {MAIL_COLUMNS} FROM outbox WHERE sent_at IS NULL AND next_attempt_at <= $1
             ORDER BY next_attempt_at, id LIMIT $2"
        );
        Ok(
            on_pool!(self, p => sqlx::query_as::<_, QueuedMail>(sqlx::AssertSqlSafe(sql.as_str()))
            .bind(now)
            .bind(limit)
            .fetch_all(p)
            .await)?,
        )
    }

    /// Takes a lease on a message until `lease_until`; false if another worker got it first.
    pub async fn claim_mail(&self, m: &QueuedMail, lease_until: i64) -> Result<bool, StoreError> {
        let done = on_pool!(self, p => sqlx::query(
            "UPDATE outbox SET next_attempt_at = $1, attempts = attempts + 1
             WHERE id = $2 AND next_attempt_at = $3 AND attempts = $4 AND sent_at IS NULL",
        )
        .bind(lease_until)
        .bind(m.id)
        .bind(m.next_attempt_at)
        .bind(m.attempts)
        .execute(p)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(done == 1)
    }

    pub async fn mail_sent(&self, id: Uuid, now: i64) -> Result<(), StoreError> {
        on_pool!(self, p => sqlx::query("UPDATE outbox SET sent_at = $1, last_error = NULL WHERE id = $2")
            .bind(now)
            .bind(id)
            .execute(p)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }

    pub async fn mail_failed(
        &self,
        id: Uuid,
        retry_at: i64,
        error: &str,
    ) -> Result<(), StoreError> {
        on_pool!(self, p => sqlx::query("UPDATE outbox SET next_attempt_at = $1, last_error = $2 WHERE id = $3")
            .bind(retry_at)
            .bind(error)
            .bind(id)
            .execute(p)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Newest messages first, for the loopback-only `/_dev/mail` page.
    pub async fn recent_mail(&self, limit: i64) -> Result<Vec<QueuedMail>, StoreError> {
        let sql =
            format!("SELECT {MAIL_COLUMNS} FROM outbox ORDER BY created_at DESC, id DESC LIMIT $1");
        Ok(
            on_pool!(self, p => sqlx::query_as::<_, QueuedMail>(sqlx::AssertSqlSafe(sql.as_str()))
            .bind(limit)
            .fetch_all(p)
            .await)?,
        )
    }
}
