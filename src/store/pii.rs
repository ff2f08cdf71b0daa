//! Personal data at rest (ASVS V6.1.1): addresses, names, IP addresses, user agents and mail
//! headers are sealed with keys derived from the server key, each bound to its column and row
//! so a value cannot be moved to another row. What SQL must compare (an address that signs in
//! or must stay unique, a known device, a throttle key) is a keyed blind index instead:
//! HMAC-SHA256 under a key derived from the current server key.
//!
//! Rows from before (or written by `bench seed`) are sealed by `seal_personal_data`, which
//! the store's migrate path runs at start-up; `rotate-key` runs it over every row to reseal
//! and reindex under a new key.

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use uuid::Uuid;

use super::{Store, StoreError, on_pool};
use crate::keys::{KeyRing, Sealer};

/// A sealed column: its purpose (its own key) and the name that binds values to it.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Field {
    UserEmail,
    UserName,
    SessionClient,
    VerificationEmail,
    UndoEmail,
    InvitationEmail,
    MailHeader,
}

const FIELDS: [Field; 7] = [
    Field::UserEmail,
    Field::UserName,
    Field::SessionClient,
    Field::VerificationEmail,
    Field::UndoEmail,
    Field::InvitationEmail,
    Field::MailHeader,
];

impl Field {
    fn purpose(self) -> &'static str {
        match self {
            Self::UserEmail => "latchkey pii users.email v1",
            Self::UserName => "latchkey pii users.name v1",
            Self::SessionClient => "latchkey pii sessions.client v1",
            Self::VerificationEmail => "latchkey pii email_verifications.email v1",
            Self::UndoEmail => "latchkey pii email_change_undos.old_email v1",
            Self::InvitationEmail => "latchkey pii team_invitations.email v1",
            Self::MailHeader => "latchkey pii outbox.header v1",
        }
    }
}

/// What a blind index is of; part of the MAC input, so equal strings of different kinds
/// never share an index.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Kind {
    Email,
    Recipient,
    DevicePair,
    Throttle,
}

impl Kind {
    fn tag(self) -> &'static [u8] {
        match self {
            Self::Email => b"email",
            Self::Recipient => b"recipient",
            Self::DevicePair => b"device pair",
            Self::Throttle => b"throttle",
        }
    }
}

pub(crate) const BLIND_INDEX: &str = "latchkey blind index v1";

/// The keys for personal data: a sealer per column, and the blind-index keys (current first).
pub struct Pii {
    sealers: Vec<Sealer>,
    index_keys: Vec<[u8; 32]>,
}

impl Pii {
    pub fn new(keys: &KeyRing) -> Self {
        Self {
            sealers: FIELDS.iter().map(|f| keys.sealer(f.purpose())).collect(),
            index_keys: keys.derive_all(BLIND_INDEX),
        }
    }

    fn sealer(&self, field: Field) -> &Sealer {
        &self.sealers[field as usize]
    }

    /// Seals the values of one row's column; `row` is its key (id or token hash).
    pub(crate) fn seal(&self, field: Field, row: &[u8], values: &[&str]) -> Vec<u8> {
        let plain = serde_json::to_vec(values).expect("strings always serialise");
        self.sealer(field).seal(&plain, &bound_to(field, row))
    }

    fn open(&self, field: Field, row: &[u8], sealed: &[u8]) -> Option<Vec<String>> {
        let plain = self.sealer(field).open(sealed, &bound_to(field, row))?;
        serde_json::from_slice(&plain).ok()
    }

    /// The column's values: opened, or the clear ones of a row not sealed yet.
    pub(crate) fn read(
        &self,
        field: Field,
        row: &[u8],
        sealed: Option<&[u8]>,
        clear: Vec<String>,
    ) -> Result<Vec<String>, StoreError> {
        let Some(sealed) = sealed else {
            return Ok(clear);
        };
        match self.open(field, row, sealed) {
            Some(values) if values.len() == clear.len() => Ok(values),
            _ => Err(StoreError::Unreadable(field.purpose())),
        }
    }

    /// One value, as `read` gives it.
    pub(crate) fn read_one(
        &self,
        field: Field,
        row: &[u8],
        sealed: Option<&[u8]>,
        clear: String,
    ) -> Result<String, StoreError> {
        Ok(self
            .read(field, row, sealed, vec![clear])?
            .pop()
            .unwrap_or_default())
    }

    /// The blind index of `value` under the current key, as stored.
    pub(crate) fn index(&self, kind: Kind, value: &str) -> String {
        index_under(&self.index_keys[0], kind, value)
    }

    /// The index under every configured key, current first: rows indexed before a key change
    /// are still found until `rotate-key` has reindexed them.
    pub(crate) fn indexes(&self, kind: Kind, value: &str) -> Vec<String> {
        self.index_keys
            .iter()
            .map(|k| index_under(k, kind, value))
            .collect()
    }
}

fn bound_to(field: Field, row: &[u8]) -> Vec<u8> {
    [field.purpose().as_bytes(), &[0], row].concat()
}

fn index_under(key: &[u8; 32], kind: Kind, value: &str) -> String {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(key).expect("HMAC takes any key");
    mac.update(kind.tag());
    mac.update(&[0]);
    mac.update(value.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// The blind index of a device and IP address an account signed in from.
pub(crate) fn device_pair(user_id: Uuid, device: &str, ip: &str) -> String {
    // Length-prefixed so no device string can pass for another pair.
    format!("{user_id}\n{}\n{device}\n{ip}", device.len())
}

/// What `seal_personal_data` did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct SealReport {
    /// Columns of rows sealed (or resealed) and reindexed.
    pub sealed: u64,
    /// Sealed values none of the configured keys opens; left as they are.
    pub unreadable: u64,
}

/// A table column `seal_personal_data` looks after.
struct Column {
    table: &'static str,
    /// The row's key: `id` (a UUID) or `token_hash` (bytes).
    key: &'static str,
    sealed: &'static str,
    /// The clear columns whose values are sealed together, emptied once sealed.
    clear: &'static [&'static str],
    field: Field,
    /// A blind-index column kept in step, of the first clear value lower-cased.
    index: Option<(&'static str, Kind)>,
    /// Clear columns emptied as well, without being sealed.
    also_empty: &'static [&'static str],
}

const COLUMNS: [Column; 7] = [
    Column {
        table: "users",
        key: "id",
        sealed: "email_sealed",
        clear: &["email"],
        field: Field::UserEmail,
        index: Some(("email_index", Kind::Email)),
        also_empty: &[],
    },
    Column {
        table: "users",
        key: "id",
        sealed: "name_sealed",
        clear: &["name"],
        field: Field::UserName,
        index: None,
        also_empty: &[],
    },
    Column {
        table: "sessions",
        key: "id",
        sealed: "client_sealed",
        clear: &["ip", "user_agent"],
        field: Field::SessionClient,
        index: None,
        also_empty: &[],
    },
    Column {
        table: "email_verifications",
        key: "token_hash",
        sealed: "email_sealed",
        clear: &["email"],
        field: Field::VerificationEmail,
        index: None,
        also_empty: &[],
    },
    Column {
        table: "email_change_undos",
        key: "token_hash",
        sealed: "old_email_sealed",
        clear: &["old_email"],
        field: Field::UndoEmail,
        index: None,
        also_empty: &[],
    },
    Column {
        table: "team_invitations",
        key: "id",
        sealed: "email_sealed",
        clear: &["email"],
        field: Field::InvitationEmail,
        index: None,
        also_empty: &["email_norm"],
    },
    Column {
        table: "outbox",
        key: "id",
        sealed: "header_sealed",
        clear: &["recipient", "subject"],
        field: Field::MailHeader,
        index: Some(("recipient_index", Kind::Recipient)),
        also_empty: &[],
    },
];

/// A row's key as read: bound back as it came.
enum RowKey {
    Id(Uuid),
    Hash(Vec<u8>),
}

impl RowKey {
    fn bytes(&self) -> &[u8] {
        match self {
            Self::Id(id) => id.as_bytes(),
            Self::Hash(h) => h,
        }
    }
}

impl Store {
    /// Seals what is still in clear columns and moves known devices to their blind index;
    /// with `everything`, also reseals and reindexes what older keys sealed (`rotate-key`).
    /// Idempotent, and safe while servers run: a row is replaced only if its sealed column
    /// still holds what was read.
    pub async fn seal_personal_data(&self, everything: bool) -> Result<SealReport, StoreError> {
        let mut report = SealReport::default();
        for column in &COLUMNS {
            self.seal_column(column, everything, &mut report).await?;
        }
        report.sealed += self.move_known_devices().await?;
        Ok(report)
    }

    async fn seal_column(
        &self,
        c: &Column,
        everything: bool,
        report: &mut SealReport,
    ) -> Result<(), StoreError> {
        use sqlx::Row;
        let pii = self.pii()?;
        let filter = if everything {
            String::new()
        } else {
            format!(" WHERE {} IS NULL", c.sealed)
        };
        let select = format!(
            "SELECT {}, {}, {} FROM {}{filter}",
            c.key,
            c.sealed,
            c.clear.join(", "),
            c.table
        );
        let mut empty: Vec<String> = c
            .clear
            .iter()
            .chain(c.also_empty)
            .map(|col| format!("{col} = ''"))
            .collect();
        if let Some((index, _)) = c.index {
            empty.push(format!("{index} = $4"));
        }
        let update = format!(
            "UPDATE {} SET {} = $1, {} WHERE {} = $2 AND {} IS NOT DISTINCT FROM $3",
            c.table,
            c.sealed,
            empty.join(", "),
            c.key,
            c.sealed
        );
        let rows = on_pool!(self, p => {
            let rows = sqlx::query(sqlx::AssertSqlSafe(select.as_str())).fetch_all(p).await?;
            rows.iter()
                .map(|r| {
                    let key = if c.key == "id" {
                        RowKey::Id(r.try_get(0)?)
                    } else {
                        RowKey::Hash(r.try_get(0)?)
                    };
                    let sealed: Option<Vec<u8>> = r.try_get(1)?;
                    let clear = (0..c.clear.len())
                        .map(|i| r.try_get::<String, _>(i + 2))
                        .collect::<Result<Vec<_>, _>>()?;
                    Ok((key, sealed, clear))
                })
                .collect::<Result<Vec<_>, sqlx::Error>>()?
        });
        for (key, old, clear) in rows {
            if old
                .as_deref()
                .is_some_and(|s| pii.sealer(c.field).is_current(s))
            {
                continue;
            }
            let Ok(values) = pii.read(c.field, key.bytes(), old.as_deref(), clear) else {
                tracing::warn!(
                    table = c.table,
                    column = c.sealed,
                    "a sealed value opens with none of the keys given"
                );
                report.unreadable += 1;
                continue;
            };
            let refs: Vec<&str> = values.iter().map(String::as_str).collect();
            let sealed = pii.seal(c.field, key.bytes(), &refs);
            let index = c
                .index
                .map(|(_, kind)| pii.index(kind, &values[0].to_lowercase()));
            let done = on_pool!(self, p => {
                let q = sqlx::query(sqlx::AssertSqlSafe(update.as_str())).bind(&sealed);
                let q = match &key {
                    RowKey::Id(id) => q.bind(*id),
                    RowKey::Hash(h) => q.bind(h.clone()),
                };
                let q = q.bind(old.clone());
                // Only a column with an index has a fourth placeholder.
                let q = match &index {
                    Some(index) => q.bind(index.clone()),
                    None => q,
                };
                q.execute(p).await?.rows_affected()
            });
            report.sealed += done;
        }
        Ok(())
    }

    /// Rows of `known_devices` (clear, from before) become blind indexes in
    /// `known_device_pairs`.
    async fn move_known_devices(&self) -> Result<u64, StoreError> {
        let pii = self.pii()?;
        let rows: Vec<(Uuid, String, String, i64)> = on_pool!(self, p => sqlx::query_as(
            "SELECT user_id, device, ip, last_seen_at FROM known_devices",
        )
        .fetch_all(p)
        .await)?;
        let mut moved = 0;
        for (user, device, ip, seen) in rows {
            let index = pii.index(Kind::DevicePair, &device_pair(user, &device, &ip));
            on_pool!(self, p => {
                let mut tx = p.begin().await?;
                sqlx::query(
                    "INSERT INTO known_device_pairs (user_id, pair_index, last_seen_at) VALUES ($1, $2, $3)
                     ON CONFLICT (user_id, pair_index) DO UPDATE SET last_seen_at =
                         CASE WHEN known_device_pairs.last_seen_at > excluded.last_seen_at
                              THEN known_device_pairs.last_seen_at ELSE excluded.last_seen_at END",
                )
                .bind(user)
                .bind(&index)
                .bind(seen)
                .execute(&mut *tx)
                .await?;
                sqlx::query("DELETE FROM known_devices WHERE user_id = $1 AND device = $2 AND ip = $3")
                    .bind(user)
                    .bind(&device)
                    .bind(&ip)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
            });
            moved += 1;
        }
        Ok(moved)
    }
}
