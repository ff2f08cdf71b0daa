//! Wall-clock time as the store keeps it: Unix seconds (and milliseconds for throttling).
//!
//! Every use-case reads the time from the [`Clock`] in `AppState`, never from the system
//! directly, so that a test can let an hour or a month pass without editing rows behind the
//! server's back. In production the clock is the system's and nothing moves it.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use time::OffsetDateTime;

/// The system clock, plus however far it has been moved forward (zero unless a test moved it).
/// Clones share the offset, so every part of one server agrees on the time.
#[derive(Clone, Debug, Default)]
pub struct Clock {
    ahead_ms: Arc<AtomicI64>,
}

impl Clock {
    /// Unix seconds.
    pub fn now(&self) -> i64 {
        self.now_ms().div_euclid(1000)
    }

    /// Unix milliseconds.
    pub fn now_ms(&self) -> i64 {
        system_ms().saturating_add(self.ahead_ms.load(Ordering::Relaxed))
    }

    /// Moves this server's time forward: the way tests let sessions, links and codes expire.
    pub fn advance(&self, secs: i64) {
        self.ahead_ms
            .fetch_add(secs.saturating_mul(1000), Ordering::Relaxed);
    }
}

fn system_ms() -> i64 {
    i64::try_from(OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

/// RFC 3339, as the API shows timestamps.
pub fn rfc3339(unix: i64) -> String {
    OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clones_move_together_and_only_forward_by_what_was_asked() {
        let clock = Clock::default();
        let other = clock.clone();
        let before = clock.now();
        other.advance(3600);
        let after = clock.now();
        assert!(
            (3600..3605).contains(&(after - before)),
            "{before} → {after}"
        );
    }
}
