//! Personal data at rest (ASVS V6.1.1): addresses, names, IP addresses, user agents and mail
//! headers are sealed with keys derived from the server key, each bound to its column and row
//! so a value cannot be moved to another row. What SQL must compare (an address that signs in
//! or must stay unique, a known device, a throttle key) is a keyed blind index instead:
//! HMAC-SHA256 under a key derived from the current server key.
//!
//! Rows from before (or written by `bench seed`) are sealed by `seal_personal_data`
//! (`sealing.rs`), which the store's migrate path runs at start-up; `rotate-key` runs it over
//! every row to reseal and reindex under a new key.

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use uuid::Uuid;

use super::StoreError;
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

    pub(super) fn sealer(&self, field: Field) -> &Sealer {
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
