//! Failure throttling with GCRA: a key may fail `burst` times at once, then once per
//! `interval`. With the defaults (10, 90 s) one account can see at most 10 + 40 = 50 failed
//! sign-ins in any hour, and a person locked out by someone else's guessing waits 90 seconds
//! per failure the attacker stops making, not hours (ASVS V2.2.1).

use crate::error::{Error, Result};
use crate::state::AppState;
use crate::store::Store;

#[derive(Debug, Clone, Copy)]
pub struct Rule {
    pub burst: u32,
    pub interval_secs: u32,
}

impl Rule {
    fn interval_ms(self) -> i64 {
        i64::from(self.interval_secs) * 1000
    }

    fn tolerance_ms(self) -> i64 {
        i64::from(self.burst.saturating_sub(1)) * self.interval_ms()
    }
}

/// Refuses with `RateLimited` (and when to retry) if the key has spent its allowance.
/// Otherwise says whether the key has recent events at all (if not, there is nothing to clear).
pub async fn check(state: &AppState, key: &str, rule: Rule) -> Result<bool> {
    let now = state.clock.now_ms();
    if let Some(tat) = state.store.throttle_tat(key).await? {
        let over = tat - now - rule.tolerance_ms();
        if over > 0 {
            let retry_after_secs = u64::try_from((over + 999) / 1000).unwrap_or(1).max(1);
            return Err(Error::RateLimited { retry_after_secs });
        }
        return Ok(true);
    }
    Ok(false)
}

pub async fn hit(state: &AppState, key: &str, rule: Rule) -> Result<()> {
    state
        .store
        .throttle_hit(key, state.clock.now_ms(), rule.interval_ms())
        .await?;
    Ok(())
}

pub async fn clear(store: &Store, key: &str) -> Result<()> {
    store.throttle_clear(key).await?;
    Ok(())
}
