//! Argon2id hashing on a small pool of dedicated threads, one per core. Each thread keeps its
//! own 19 MiB working memory and reuses it for every hash, so memory stays flat however many
//! sign-ins arrive (allocating it per hash let the allocator's per-thread arenas grow to
//! hundreds of MB under load). Jobs wait in a short queue; when it is full, callers get
//! `Overloaded` (503 with Retry-After) at once instead of piling up. Hashes are stored
//! peppered (`auth::pepper`).

use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};

use anyhow::anyhow;
use argon2::password_hash::phc::PasswordHash;
use argon2::{Algorithm, Argon2, Block, Params, Version};
use base64::Engine;
use base64::engine::general_purpose::STANDARD_NO_PAD;
use secrecy::{ExposeSecret, SecretString};
use subtle::ConstantTimeEq;
use tokio::sync::oneshot;

use super::pepper;
use crate::config::Argon2Config;
use crate::error::{Error, Result};
use crate::keys::Sealer;

#[derive(Clone)]
pub struct Hasher {
    jobs: SyncSender<Job>,
    /// Verified against when the account does not exist, so unknown users cost the same time.
    dummy_hash: Arc<str>,
    /// What new hashes are made with; a stored hash made otherwise is replaced at sign-in.
    params: Params,
    pepper: Sealer,
}

enum Job {
    Hash(SecretString, oneshot::Sender<String>),
    Verify(SecretString, String, oneshot::Sender<bool>),
}

impl Hasher {
    pub fn new(config: &Argon2Config, pepper: Sealer) -> anyhow::Result<Self> {
        let params = Params::new(
            config.memory_kib,
            config.iterations,
            config.parallelism,
            None,
        )
        .map_err(|e| anyhow!("argon2 parameters: {e}"))?;
        let workers = config
            .workers
            .unwrap_or_else(|| {
                std::thread::available_parallelism().map_or(2, std::num::NonZero::get)
            })
            .max(1);
        let (jobs, queue) = mpsc::sync_channel(config.queue);
        let queue = Arc::new(Mutex::new(queue));
        for n in 0..workers {
            let (queue, params) = (queue.clone(), params.clone());
            std::thread::Builder::new()
                .name(format!("argon2-{n}"))
                .spawn(move || work(&queue, &params))?;
        }
        let mut seed = [0u8; 24];
        rand::fill(&mut seed);
        let mut blocks = Vec::new();
        let dummy_hash = hash_with(&params, &hex::encode(seed), &mut blocks)?;
        let dummy_hash = pepper::peppered(&pepper, &dummy_hash)
            .ok_or_else(|| anyhow!("the dummy hash is not Argon2id"))?
            .into();
        Ok(Self {
            jobs,
            dummy_hash,
            params,
            pepper,
        })
    }

    /// A new hash of `password`, peppered, as stored.
    pub async fn hash(&self, password: &str) -> Result<String> {
        let (reply, answer) = oneshot::channel();
        self.submit(Job::Hash(SecretString::from(password), reply))?;
        let plain = answer
            .await
            .map_err(|_| Error::Internal(anyhow!("the hashing thread stopped")))?;
        pepper::peppered(&self.pepper, &plain)
            .ok_or_else(|| Error::Internal(anyhow!("a new hash is not Argon2id")))
    }

    /// Checks `password` against a stored hash, or against a dummy hash when there is none
    /// (or it is peppered under a key this server lacks), so the answer takes as long for an
    /// unknown account as for a known one.
    pub async fn verify(&self, password: &str, hash: Option<String>) -> Result<bool> {
        let plain = hash.and_then(|stored| pepper::unpeppered(&self.pepper, &stored));
        let known = plain.is_some();
        let hash = plain.unwrap_or_else(|| {
            pepper::unpeppered(&self.pepper, &self.dummy_hash).unwrap_or_default()
        });
        let (reply, answer) = oneshot::channel();
        self.submit(Job::Verify(SecretString::from(password), hash, reply))?;
        let matched = answer
            .await
            .map_err(|_| Error::Internal(anyhow!("the hashing thread stopped")))?;
        Ok(known && matched)
    }

    /// Whether `stored` was made as new hashes are now: Argon2id, version 19, with the
    /// configured memory, passes and lanes. Verification reads the parameters from each hash, so
    /// older ones keep working; this says which to replace once the password is known.
    /// Also false for a hash not peppered under the current key: the next sign-in peppers it.
    pub fn is_current(&self, stored: &str) -> bool {
        pepper::is_current(&self.pepper, stored)
            && pepper::unpeppered(&self.pepper, stored)
                .is_some_and(|plain| is_made_with(&plain, &self.params))
    }

    fn submit(&self, job: Job) -> Result<()> {
        self.jobs.try_send(job).map_err(|e| match e {
            TrySendError::Full(_) => Error::Overloaded {
                retry_after_secs: 1,
            },
            TrySendError::Disconnected(_) => {
                Error::Internal(anyhow!("the hashing threads stopped"))
            }
        })
    }
}

fn work(queue: &Mutex<Receiver<Job>>, params: &Params) {
    let mut blocks: Vec<Block> = Vec::new();
    loop {
        let job = {
            let Ok(rx) = queue.lock() else { return };
            match rx.recv() {
                Ok(job) => job,
                Err(_) => return,
            }
        };
        match job {
            Job::Hash(password, reply) => {
                match hash_with(params, password.expose_secret(), &mut blocks) {
                    Ok(hash) => {
                        let _ = reply.send(hash);
                    }
                    Err(e) => tracing::error!(error = %e, "argon2 hashing failed"),
                }
            }
            Job::Verify(password, hash, reply) => {
                let _ = reply.send(verify_with(password.expose_secret(), &hash, &mut blocks));
            }
        }
    }
}

/// Grows the reusable working memory to what `params` needs and lends it out.
fn memory<'a>(blocks: &'a mut Vec<Block>, params: &Params) -> &'a mut [Block] {
    let n = params.block_count();
    if blocks.len() < n {
        blocks.resize(n, Block::default());
    }
    &mut blocks[..n]
}

/// A new PHC string (`$argon2id$v=19$m=…,t=…,p=…$salt$hash`), the format every Argon2
/// library reads.
fn hash_with(params: &Params, password: &str, blocks: &mut Vec<Block>) -> anyhow::Result<String> {
    let mut salt = [0u8; 16];
    rand::fill(&mut salt);
    let mut out = [0u8; 32];
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone())
        .hash_password_into_with_memory(
            password.as_bytes(),
            &salt,
            &mut out,
            memory(blocks, params),
        )
        .map_err(|e| anyhow!("argon2: {e}"))?;
    Ok(format!(
        "$argon2id$v=19$m={},t={},p={}${}${}",
        params.m_cost(),
        params.t_cost(),
        params.p_cost(),
        STANDARD_NO_PAD.encode(salt),
        STANDARD_NO_PAD.encode(out)
    ))
}

fn is_made_with(stored: &str, params: &Params) -> bool {
    let Ok(parsed) = PasswordHash::new(stored) else {
        return false;
    };
    let Ok(theirs) = Params::try_from(&parsed) else {
        return false;
    };
    parsed.algorithm.as_str() == "argon2id"
        && parsed.version == Some(0x13)
        && (theirs.m_cost(), theirs.t_cost(), theirs.p_cost())
            == (params.m_cost(), params.t_cost(), params.p_cost())
}

/// Checks a password against a stored PHC string with the parameters it was made with.
fn verify_with(password: &str, stored: &str, blocks: &mut Vec<Block>) -> bool {
    let Ok(parsed) = PasswordHash::new(stored) else {
        return false;
    };
    let (Some(salt), Some(expected)) = (&parsed.salt, &parsed.hash) else {
        return false;
    };
    if parsed.algorithm.as_str() != "argon2id" {
        return false;
    }
    let Ok(params) = Params::try_from(&parsed) else {
        return false;
    };
    let mut out = vec![0u8; expected.len()];
    let computed = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone())
        .hash_password_into_with_memory(
            password.as_bytes(),
            salt.as_ref(),
            &mut out,
            memory(blocks, &params),
        );
    computed.is_ok() && bool::from(out.ct_eq(expected.as_bytes()))
}

#[cfg(test)]
mod tests {
    use argon2::password_hash::{PasswordHasher, PasswordVerifier};

    use super::*;

    fn small() -> Params {
        Params::new(1024, 1, 1, None).unwrap()
    }

    #[test]
    fn our_hashes_and_the_argon2_crates_read_each_other() {
        let mut blocks = Vec::new();
        let ours = hash_with(&small(), "hunter2 hunter2", &mut blocks).unwrap();
        let theirs_verifier = Argon2::new(Algorithm::Argon2id, Version::V0x13, small());
        assert!(
            theirs_verifier
                .verify_password(b"hunter2 hunter2", ours.as_str())
                .is_ok()
        );
        assert!(
            theirs_verifier
                .verify_password(b"hunter3 hunter3", ours.as_str())
                .is_err()
        );

        let theirs = theirs_verifier
            .hash_password(b"correct horse")
            .unwrap()
            .to_string();
        assert!(verify_with("correct horse", &theirs, &mut blocks));
        assert!(!verify_with("incorrect horse", &theirs, &mut blocks));
        assert!(!verify_with(
            "correct horse",
            "not a phc string",
            &mut blocks
        ));
    }

    /// ASVS 4.0.3 V6.2.4: a hash made with other parameters, or by another Argon2 variant, is
    /// told apart from one made as new hashes are, so sign-in can replace it.
    #[test]
    fn hashes_made_with_other_parameters_are_not_current() {
        let mut blocks = Vec::new();
        let ours = hash_with(&small(), "old password", &mut blocks).unwrap();
        assert!(is_made_with(&ours, &small()));
        assert!(!is_made_with(
            &ours,
            &Params::new(2048, 1, 1, None).unwrap()
        ));
        assert!(!is_made_with(
            &ours,
            &Params::new(1024, 2, 1, None).unwrap()
        ));
        let argon2i = Argon2::new(Algorithm::Argon2i, Version::V0x13, small())
            .hash_password(b"old password")
            .unwrap()
            .to_string();
        assert!(!is_made_with(&argon2i, &small()));
        assert!(!is_made_with("not a phc string", &small()));
    }

    /// ASVS 4.0.3 V2.4.2: every stored hash gets its own random salt of 128 bits (≥ 32 asked),
    /// so equal passwords never share a hash.
    #[test]
    fn every_hash_gets_its_own_sixteen_byte_salt() {
        let mut blocks = Vec::new();
        let first = hash_with(&small(), "same password", &mut blocks).unwrap();
        let second = hash_with(&small(), "same password", &mut blocks).unwrap();
        let salt = |phc: &str| {
            PasswordHash::new(phc)
                .unwrap()
                .salt
                .expect("a salt")
                .as_ref()
                .to_vec()
        };
        assert_eq!(salt(&first).len(), 16);
        assert_eq!(salt(&second).len(), 16);
        assert_ne!(salt(&first), salt(&second));
        assert_ne!(first, second);
        assert!(verify_with("same password", &first, &mut blocks));
        assert!(verify_with("same password", &second, &mut blocks));
    }
}
