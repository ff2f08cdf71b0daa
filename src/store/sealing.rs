//! Seals personal data still in the clear (rows from before migration 0011, or written by
//! `bench seed`) and, for `rotate-key`, reseals and reindexes what older keys sealed.

use uuid::Uuid;

use super::pii::{Field, Kind, device_pair};
use super::{Store, StoreError, on_pool};

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
        // The stored index comes last, so a reseal can tell whether it is already current.
        let stored_index = c.index.map_or("NULL", |(column, _)| column);
        let select = format!(
            "SELECT {}, {}, {}, {stored_index} FROM {}{filter}",
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
                    let index: Option<String> = if c.index.is_some() {
                        r.try_get(c.clear.len() + 2)?
                    } else {
                        None
                    };
                    Ok((key, sealed, clear, index))
                })
                .collect::<Result<Vec<_>, sqlx::Error>>()?
        });
        // The blind index is keyed from `secret.key` even when a PKCS#11 token seals, so a
        // seal the token made is current while its index may not be: with `everything`, an
        // indexed value is opened to check its index whatever sealed it.
        let check_index = everything && c.index.is_some();
        for (key, old, clear, stored_index) in rows {
            let current = old
                .as_deref()
                .is_some_and(|s| pii.sealer(c.field).is_current(s));
            if current && !check_index {
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
            if current && index == stored_index {
                continue;
            }
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
