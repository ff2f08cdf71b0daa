//! `latchkey rotate-key`: after `secret_key_file` names a new key and the old one is listed in
//! `previous_secret_key_files`, reseals what an old key sealed under the new one, so the old
//! key can be dropped. Safe while servers run: each row is replaced only if it still holds
//! what was read, and servers open both forms meanwhile.
//!
//! An operator's command that reseals what several modules sealed (two-factor secrets,
//! password hashes, personal data) and counts what still needs an old key (the outbox,
//! recovery codes): it sits above them, beside the CLI that runs it.

use std::fmt;

use crate::auth::pepper::{self, Reseal};
use crate::keys::{KeyRing, OUTBOX_SEAL, PEPPER, RECOVERY_KEY, TOTP_SEAL, key_id};
use crate::store::Store;

#[derive(Debug, Default)]
pub struct Report {
    pub key_id: String,
    pub totp_resealed: u64,
    /// Seeds none of the keys opens: sealed under a key that was not given.
    pub totp_unreadable: u64,
    pub passwords_resealed: u64,
    /// Password hashes peppered under a key that was not given.
    pub passwords_unreadable: u64,
    /// Mail waiting for delivery, sealed under an older key: it needs that key until sent.
    pub mail_on_old_keys: usize,
    /// Accounts with unused recovery codes hashed under an older key. A keyed hash cannot be
    /// redone without the code, so those codes need their key until used or regenerated.
    pub accounts_with_old_codes: i64,
    /// Personal data (addresses, names, sessions' clients, mail headers) resealed, with the
    /// blind indexes of addresses redone under the new key.
    pub personal_resealed: u64,
    /// Sealed personal data none of the keys given opens.
    pub personal_unreadable: u64,
}

pub async fn rotate(store: &Store, keys: &KeyRing) -> anyhow::Result<Report> {
    let mut report = Report {
        key_id: keys.sealing_key_name(),
        ..Report::default()
    };
    let sealer = keys.sealer(TOTP_SEAL);
    for (user, sealed) in store.totp_seeds().await? {
        if sealer.is_current(&sealed) {
            continue;
        }
        let Some(seed) = sealer.open(&sealed, user.as_bytes()) else {
            tracing::warn!(%user, "a two-factor secret opens with none of the keys given");
            report.totp_unreadable += 1;
            continue;
        };
        // A row changed meanwhile was just sealed under the current key by a new set-up.
        if store
            .reseal_totp(user, &sealed, &sealer.seal(&seed, user.as_bytes()))
            .await?
        {
            report.totp_resealed += 1;
        }
    }
    reseal_passwords(store, keys, &mut report).await?;
    let personal = store.seal_personal_data(true).await?;
    report.personal_resealed = personal.sealed;
    report.personal_unreadable = personal.unreadable;
    let outbox = keys.sealer(OUTBOX_SEAL);
    report.mail_on_old_keys = store
        .unsent_sealed_bodies()
        .await?
        .iter()
        .filter(|sealed| !outbox.is_current(sealed))
        .count();
    let codes_key = key_id(&keys.derive(RECOVERY_KEY));
    report.accounts_with_old_codes = store.accounts_with_codes_not_under(&codes_key).await?;
    Ok(report)
}

/// Peppers password hashes made before the pepper and moves older ones to the current key;
/// no password is needed, since the pepper seals the finished hash.
async fn reseal_passwords(
    store: &Store,
    keys: &KeyRing,
    report: &mut Report,
) -> anyhow::Result<()> {
    let pepper = keys.sealer(PEPPER);
    let mut tx = store.begin().await?;
    for (user, stored) in tx.password_hashes().await? {
        match pepper::reseal(&pepper, &stored) {
            Reseal::Current => {}
            Reseal::Unreadable => {
                tracing::warn!(%user, "a password hash opens with none of the keys given");
                report.passwords_unreadable += 1;
            }
            // A hash changed meanwhile was just made under the current key.
            Reseal::New(new) => {
                if tx.upgrade_password_hash(user, &stored, &new).await? {
                    report.passwords_resealed += 1;
                }
            }
        }
    }
    tx.commit().await?;
    Ok(())
}

impl Report {
    /// Whether anything still needs a previous key.
    pub fn previous_keys_needed(&self) -> bool {
        self.totp_unreadable > 0
            || self.passwords_unreadable > 0
            || self.personal_unreadable > 0
            || self.mail_on_old_keys > 0
            || self.accounts_with_old_codes > 0
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.totp_resealed;
        let s = if n == 1 { "" } else { "s" };
        writeln!(
            f,
            "Resealed {n} two-factor secret{s} under key {}.",
            self.key_id
        )?;
        let n = self.passwords_resealed;
        let s = if n == 1 { "" } else { "es" };
        writeln!(f, "Resealed {n} password hash{s}.")?;
        writeln!(
            f,
            "Resealed {} personal data value(s) and their blind indexes.",
            self.personal_resealed
        )?;
        if self.personal_unreadable > 0 {
            writeln!(
                f,
                "{} personal data value(s) open with none of the keys given and were left as \
                 they are: add the key that sealed them to previous_secret_key_files and run again.",
                self.personal_unreadable
            )?;
        }
        if self.passwords_unreadable > 0 {
            writeln!(
                f,
                "{} password hashes open with none of the keys given and were left as they \
                 are: add the key that sealed them to previous_secret_key_files and run again.",
                self.passwords_unreadable
            )?;
        }
        if self.mail_on_old_keys > 0 {
            writeln!(
                f,
                "{} message(s) waiting in the outbox were sealed under an older key and need it \
                 until delivered: run again once the mail server has taken them.",
                self.mail_on_old_keys
            )?;
        }
        if self.totp_unreadable > 0 {
            writeln!(
                f,
                "{} two-factor secrets open with none of the keys given and were left as they \
                 are: add the key that sealed them to previous_secret_key_files and run again.",
                self.totp_unreadable
            )?;
        }
        if self.accounts_with_old_codes > 0 {
            writeln!(
                f,
                "{} account(s) hold recovery codes made under an older key. They keep working \
                 while that key is in previous_secret_key_files, and stop working once it is \
                 removed; new codes (account settings) are made under the current key.",
                self.accounts_with_old_codes
            )?;
        }
        if !self.previous_keys_needed() {
            writeln!(
                f,
                "Nothing needs the previous keys any more: remove previous_secret_key_files \
                 and destroy the old key files."
            )?;
        }
        Ok(())
    }
}
