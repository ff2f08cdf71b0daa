//! `latchkey bench hash`: how many Argon2id verifications per second this machine does with
//! the configured parameters — the ceiling for password sign-ins — and, with `--target-ms`,
//! which parameters would make one hash take about that long (as `kratos hashers argon2
//! calibrate` does).

use std::time::{Duration, Instant};

use anyhow::anyhow;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Algorithm, Argon2, Params, Version};

use crate::config::Argon2Config;

pub struct HashReport {
    pub threads: usize,
    pub total_per_sec: f64,
    pub per_core_per_sec: f64,
    pub millis_per_hash: f64,
}

fn argon(memory_kib: u32, iterations: u32, parallelism: u32) -> anyhow::Result<Argon2<'static>> {
    let params =
        Params::new(memory_kib, iterations, parallelism, None).map_err(|e| anyhow!("{e}"))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// Verifies one password over and over on `threads` threads for `duration`.
pub fn measure(
    config: &Argon2Config,
    threads: usize,
    duration: Duration,
) -> anyhow::Result<HashReport> {
    let a = argon(config.memory_kib, config.iterations, config.parallelism)?;
    let hash = a
        .hash_password(b"benchmark password")
        .map_err(|e| anyhow!("{e}"))?
        .to_string();
    let started = Instant::now();
    let counts: Vec<u64> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                let (a, hash) = (a.clone(), hash.clone());
                s.spawn(move || {
                    let mut n = 0u64;
                    while started.elapsed() < duration {
                        assert!(
                            a.verify_password(b"benchmark password", hash.as_str())
                                .is_ok()
                        );
                        n += 1;
                    }
                    n
                })
            })
            .collect();
        workers.into_iter().map(|w| w.join().unwrap_or(0)).collect()
    });
    let secs = started.elapsed().as_secs_f64();
    #[allow(clippy::cast_precision_loss)]
    let total = counts.iter().sum::<u64>() as f64 / secs;
    #[allow(clippy::cast_precision_loss)]
    let per_core = total / threads as f64;
    Ok(HashReport {
        threads,
        total_per_sec: total,
        per_core_per_sec: per_core,
        millis_per_hash: 1000.0 / per_core,
    })
}

/// Iterations (at the configured memory) that make one hash take about `target_ms`.
pub fn calibrate(config: &Argon2Config, target_ms: f64) -> anyhow::Result<(u32, f64)> {
    let mut iterations = 1u32;
    loop {
        let a = argon(config.memory_kib, iterations, config.parallelism)?;
        let started = Instant::now();
        let rounds = 3u32;
        for _ in 0..rounds {
            a.hash_password(b"calibration")
                .map_err(|e| anyhow!("{e}"))?;
        }
        let ms = started.elapsed().as_secs_f64() * 1000.0 / f64::from(rounds);
        if ms >= target_ms || iterations >= 64 {
            return Ok((iterations, ms));
        }
        // Time grows linearly with iterations: jump close, then step.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let guess = (f64::from(iterations) * target_ms / ms).floor() as u32;
        iterations = guess.max(iterations + 1);
    }
}
