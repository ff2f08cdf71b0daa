//! `latchkey bench seed --users N`: fills a database with N confirmed accounts (`seed0` …,
//! password `benchmark password`), each with a session, using one precomputed hash so that a
//! million accounts take seconds, not days. Those are default accounts with a known password,
//! so it refuses a database that holds anyone else's account (ASVS V2.5.4).

use std::time::Instant;

use anyhow::{anyhow, bail};
use argon2::password_hash::PasswordHasher;
use argon2::{Algorithm, Argon2, Params, Version};
use uuid::Uuid;

use crate::config::Argon2Config;
use crate::domain::{SecretToken, TokenKind};
use crate::keys::Sealer;
use crate::store::{SeedAccount, Store};

pub const PASSWORD: &str = "benchmark password";
const BATCH: usize = 1000;

/// The pepper of the server that will use `config`'s database (its key is created if new), so
/// seeded hashes are peppered as its own are and not redone at their first sign-in.
pub fn server_pepper(config: &crate::config::Config) -> anyhow::Result<Sealer> {
    let keys = crate::keys::KeyRing::from_config(config)?;
    Ok(keys.sealer(crate::keys::PEPPER))
}

/// Adds accounts until the store holds `users` in all; returns how many were added. Refuses,
/// adding none, when the store holds an account an earlier seeding did not make.
pub async fn seed(
    store: &Store,
    users: u64,
    argon: &Argon2Config,
    pepper: &Sealer,
) -> anyhow::Result<u64> {
    let others = store.non_seed_user_count().await?;
    if others > 0 {
        bail!(
            "this database holds {others} account(s) that `bench seed` did not make; seeding \
             would add accounts anyone can sign in to with the password \"{PASSWORD}\". \
             Point it at an empty database (--data-dir or --database-url) instead"
        );
    }
    let params = Params::new(argon.memory_kib, argon.iterations, argon.parallelism, None)
        .map_err(|e| anyhow!("{e}"))?;
    let hash = Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
        .hash_password(PASSWORD.as_bytes())
        .map_err(|e| anyhow!("{e}"))?
        .to_string();
    let hash = crate::auth::pepper::peppered(pepper, &hash)
        .ok_or_else(|| anyhow!("the seed hash is not Argon2id"))?;
    let have = u64::try_from(store.user_count().await?)?;
    let started = Instant::now();
    let now = crate::clock::Clock::default().now();
    let mut next = have;
    while next < users {
        let end = (next + BATCH as u64).min(users);
        let batch: Vec<SeedAccount> = (next..end)
            .map(|i| SeedAccount {
                id: Uuid::now_v7(),
                username: format!("seed{i}"),
                email: format!("seed{i}@bench.test"),
                session_id: Uuid::now_v7(),
                token_hash: SecretToken::generate(TokenKind::Session).hash().0,
            })
            .collect();
        store.seed_accounts(&batch, &hash, now).await?;
        next = end;
    }
    tracing::info!(
        added = next - have,
        secs = started.elapsed().as_secs_f64(),
        "seeded"
    );
    Ok(next - have)
}
