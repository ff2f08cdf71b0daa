//! Argon2id hashing on a bounded pool. Hashes are CPU- and memory-heavy by design, so they run
//! on blocking threads (never the async workers), at most one per core at a time, with a short
//! queue: beyond it callers get `Overloaded` at once instead of piling up memory.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use anyhow::anyhow;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Algorithm, Argon2, Params, Version};
use secrecy::{ExposeSecret, SecretString};
use tokio::sync::Semaphore;

use crate::config::Argon2Config;
use crate::error::{Error, Result};

#[derive(Clone)]
pub struct Hasher {
    inner: Arc<Inner>,
}

struct Inner {
    argon: Argon2<'static>,
    workers: Semaphore,
    waiting: AtomicUsize,
    queue: usize,
    /// Verified against when the account does not exist, so unknown users cost the same time.
    dummy_hash: String,
}

impl Hasher {
    pub fn new(config: &Argon2Config) -> anyhow::Result<Self> {
        let params = Params::new(
            config.memory_kib,
            config.iterations,
            config.parallelism,
            None,
        )
        .map_err(|e| anyhow!("argon2 parameters: {e}"))?;
        let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
        let mut seed = [0u8; 24];
        rand::fill(&mut seed);
        let dummy_hash = argon
            .hash_password(&seed)
            .map_err(|e| anyhow!("argon2: {e}"))?
            .to_string();
        let workers = config.workers.unwrap_or_else(|| {
            std::thread::available_parallelism().map_or(2, std::num::NonZero::get)
        });
        Ok(Self {
            inner: Arc::new(Inner {
                argon,
                workers: Semaphore::new(workers.max(1)),
                waiting: AtomicUsize::new(0),
                queue: config.queue,
                dummy_hash,
            }),
        })
    }

    pub async fn hash(&self, password: &str) -> Result<String> {
        let password = SecretString::from(password);
        self.run(move |argon| {
            argon
                .hash_password(password.expose_secret().as_bytes())
                .map(|h| h.to_string())
                .map_err(|e| Error::Internal(anyhow!("argon2: {e}")))
        })
        .await
    }

    /// Checks `password` against `hash`, or against a dummy hash when there is none, so the
    /// answer takes as long for an unknown account as for a known one.
    pub async fn verify(&self, password: &str, hash: Option<String>) -> Result<bool> {
        let password = SecretString::from(password);
        let known = hash.is_some();
        let hash = hash.unwrap_or_else(|| self.inner.dummy_hash.clone());
        let matched = self
            .run(move |argon| {
                Ok(argon
                    .verify_password(password.expose_secret().as_bytes(), hash.as_str())
                    .is_ok())
            })
            .await?;
        Ok(known && matched)
    }

    async fn run<T: Send + 'static>(
        &self,
        job: impl FnOnce(&Argon2<'static>) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let inner = &self.inner;
        if inner.waiting.fetch_add(1, Ordering::AcqRel) >= inner.queue {
            inner.waiting.fetch_sub(1, Ordering::AcqRel);
            return Err(Error::Overloaded {
                retry_after_secs: 1,
            });
        }
        let permit = inner.workers.acquire().await;
        inner.waiting.fetch_sub(1, Ordering::AcqRel);
        let _permit = permit.map_err(|e| Error::Internal(e.into()))?;
        let argon = inner.argon.clone();
        tokio::task::spawn_blocking(move || job(&argon))
            .await
            .map_err(|e| Error::Internal(e.into()))?
    }
}
