//! The `outbox` table: mail waiting to be delivered, claimed by workers with a lease so several
//! servers sharing one database never send a message twice at once. Bodies rest sealed: they
//! hold live reset, confirmation and invitation links (ASVS V2.5.1).

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::pii::{Field, Kind, Pii};
use super::{Store, StoreError, Tx, on_pool, on_tx};
use crate::keys::Sealer;

/// How long delivered mail stays (for `/_dev/mail` and an operator's questions) before it is
/// deleted.
const KEEP_SENT_SECS: i64 = 7 * 24 * 3600;

/// A rendered message, ready to queue.
#[derive(Debug, Clone)]
pub struct OutboxMessage {
    pub recipient: String,
    pub subject: String,
    pub text_body: String,
    pub html_body: String,
}

/// A queued message with its bodies opened. `unreadable` marks a row sealed under a key this
/// server does not have: it can never be sent from here.
#[derive(Debug, Clone)]
pub struct QueuedMail {
    pub id: Uuid,
    pub recipient: String,
    pub subject: String,
    pub text_body: String,
    pub html_body: String,
    pub unreadable: bool,
    pub created_at: i64,
    pub attempts: i32,
    pub next_attempt_at: i64,
    pub sent_at: Option<i64>,
}

#[derive(sqlx::FromRow)]
struct MailRow {
    id: Uuid,
    recipient: String,
    subject: String,
    header_sealed: Option<Vec<u8>>,
    text_body: String,
    html_body: String,
    sealed_body: Option<Vec<u8>>,
    created_at: i64,
    attempts: i32,
    next_attempt_at: i64,
    sent_at: Option<i64>,
}

/// What `sealed_body` holds once opened.
#[derive(Serialize, Deserialize)]
struct Bodies {
    text: String,
    html: String,
}

const MAIL_COLUMNS: &str = "id, recipient, subject, header_sealed, text_body, html_body, sealed_body, created_at, \
                            attempts, next_attempt_at, sent_at";

/// What a sealed body is bound to: its row and its recipient, so it opens for no other.
fn bound_to(id: Uuid, recipient: &str) -> Vec<u8> {
    [id.as_bytes(), recipient.as_bytes()].concat()
}

impl MailRow {
    fn open(self, sealer: Option<&Sealer>, pii: &Pii) -> QueuedMail {
        // A header no key opens leaves the message unreadable, as a body would.
        let header = pii.read(
            Field::MailHeader,
            self.id.as_bytes(),
            self.header_sealed.as_deref(),
            vec![self.recipient, self.subject],
        );
        let (recipient, subject, header_ok) = match header {
            Ok(mut h) => {
                let subject = h.pop().unwrap_or_default();
                (h.pop().unwrap_or_default(), subject, true)
            }
            Err(_) => (String::new(), String::new(), false),
        };
        // Rows queued before bodies were sealed carry them in the clear columns.
        let (text_body, html_body, unreadable) = match &self.sealed_body {
            _ if !header_ok => (String::new(), String::new(), true),
            None => (self.text_body, self.html_body, false),
            Some(sealed) => sealer
                .and_then(|s| s.open(sealed, &bound_to(self.id, &recipient)))
                .and_then(|plain| serde_json::from_slice::<Bodies>(&plain).ok())
                .map_or((String::new(), String::new(), true), |b| {
                    (b.text, b.html, false)
                }),
        };
        QueuedMail {
            id: self.id,
            recipient,
            subject,
            text_body,
            html_body,
            unreadable,
            created_at: self.created_at,
            attempts: self.attempts,
            next_attempt_at: self.next_attempt_at,
            sent_at: self.sent_at,
        }
    }
}

impl Tx {
    pub async fn enqueue_mail(&mut self, m: &OutboxMessage, now: i64) -> Result<(), StoreError> {
        let sealer = self.outbox.clone().ok_or(StoreError::NoOutboxKey)?;
        let id = Uuid::now_v7();
        let bodies = serde_json::to_vec(&Bodies {
            text: m.text_body.clone(),
            html: m.html_body.clone(),
        })
        .expect("two strings always serialise");
        let pii = self.pii()?;
        on_tx!(self, c => sqlx::query(
            "INSERT INTO outbox (id, recipient, subject, header_sealed, recipient_index, text_body, html_body,
                                 sealed_body, created_at, next_attempt_at)
             VALUES ($1, '', '', $2, $3, '', '', $4, $5, $5)",
        )
        .bind(id)
        .bind(pii.seal(Field::MailHeader, id.as_bytes(), &[m.recipient.as_str(), m.subject.as_str()]))
        .bind(pii.index(Kind::Recipient, &m.recipient.to_lowercase()))
        .bind(sealer.seal(&bodies, &bound_to(id, &m.recipient)))
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
        let rows = on_pool!(self, p => sqlx::query_as::<_, MailRow>(sqlx::AssertSqlSafe(sql.as_str()))
            .bind(now)
            .bind(limit)
            .fetch_all(p)
            .await)?;
        self.open_rows(rows)
    }

    fn open_rows(&self, rows: Vec<MailRow>) -> Result<Vec<QueuedMail>, StoreError> {
        let pii = self.pii()?;
        Ok(rows
            .into_iter()
            .map(|r| r.open(self.outbox.as_ref(), pii))
            .collect())
    }

    /// The sealed bodies of mail not delivered yet, for `rotate-key` to count.
    pub async fn unsent_sealed_bodies(&self) -> Result<Vec<Vec<u8>>, StoreError> {
        Ok(on_pool!(self, p => sqlx::query_scalar::<_, Vec<u8>>(
            "SELECT sealed_body FROM outbox WHERE sent_at IS NULL AND sealed_body IS NOT NULL",
        )
        .fetch_all(p)
        .await)?)
    }

    /// Deletes mail delivered more than a week before `now`.
    pub async fn purge_sent_mail(&self, now: i64) -> Result<u64, StoreError> {
        Ok(
            on_pool!(self, p => sqlx::query("DELETE FROM outbox WHERE sent_at < $1")
            .bind(now - KEEP_SENT_SECS)
            .execute(p)
            .await
            .map(|r| r.rows_affected()))?,
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
        let rows = on_pool!(self, p => sqlx::query_as::<_, MailRow>(sqlx::AssertSqlSafe(sql.as_str()))
            .bind(limit)
            .fetch_all(p)
            .await)?;
        self.open_rows(rows)
    }
}
