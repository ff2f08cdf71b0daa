//! Debug builds only: every session lookup the cache answers is read from the database as
//! well, and the two must agree, so the whole test suite checks that no write forgot to evict.
//!
//! They may disagree for a moment without anything being wrong, and the check must not cry
//! wolf then:
//! - a write of this server shows in the database when it commits, and evicts just after:
//!   `SessionCache::writing` counts such writes until their evictions are done, and an
//!   eviction moves the cache's generation;
//! - a write of another server (PostgreSQL) evicts here when its `NOTIFY` arrives. Notifications
//!   come in commit order, so the check sends one of its own (a marker) after its read and waits
//!   to hear it: by then this server has heard of every commit that read could see.
//!
//! Only a disagreement that survives all of that panics, showing both values.

use std::time::Duration;

use uuid::Uuid;

use super::{Db, SessionWithUser, Store, cache};

/// How long to wait for this server's listener to hear a marker. Without a listener (a store
/// that does not `follow_evictions`) none is heard, and nothing can be concluded.
const MARKER_WAIT: Duration = Duration::from_secs(5);

impl Store {
    /// Checks the cached lookup `cached` of `token_hash`, read from the cache while the
    /// generation was `generation`, against the database.
    pub(super) async fn assert_coherent(
        &self,
        token_hash: &[u8],
        cached: &SessionWithUser,
        generation: u64,
    ) {
        let fresh = match self.read_session(token_hash).await {
            Ok(fresh) => fresh,
            Err(e) => {
                tracing::debug!(error = %e, "coherence check skipped: cannot read the session");
                return;
            }
        };
        if agree(cached, fresh.as_ref()) || self.raced(generation) {
            return;
        }
        if let Db::Postgres(pool) = &self.db {
            let nonce = Uuid::new_v4();
            let heard = self.cache.expect_marker(nonce);
            let sent = sqlx::query("SELECT pg_notify($1, $2)")
                .bind(cache::CHANNEL)
                .bind(format!("{}{nonce}", cache::MARKER))
                .execute(pool)
                .await;
            let heard = sent.is_ok()
                && matches!(tokio::time::timeout(MARKER_WAIT, heard).await, Ok(Ok(())));
            self.cache.forget_marker(nonce);
            if !heard {
                tracing::debug!("coherence check skipped: the eviction listener is not answering");
                return;
            }
            if self.raced(generation) {
                return;
            }
        }
        panic!(
            "the session cache disagrees with the database (a write to `users` or `sessions` \
             did not evict)\ncached:   {:?}\ndatabase: {:?}",
            shown(cached),
            fresh.as_ref().map(shown)
        );
    }

    /// Whether an eviction may be under way: a write of this server is committing, or the
    /// cache evicted something since the lookup.
    fn raced(&self, generation: u64) -> bool {
        self.cache.writes_in_flight() > 0 || self.cache.generation() != generation
    }
}

/// The same session and account, `last_seen_at` aside: the cache moves that itself
/// (`Store::touch_session`).
fn agree(cached: &SessionWithUser, fresh: Option<&SessionWithUser>) -> bool {
    fresh.is_some_and(|fresh| {
        let mut cached = cached.clone();
        cached.last_seen_at = fresh.last_seen_at;
        cached == *fresh
    })
}

/// A lookup as a panic shows it: the password hash only as a fingerprint.
fn shown(s: &SessionWithUser) -> SessionWithUser {
    use sha2::Digest;
    let mut s = s.clone();
    s.user.password_hash = s
        .user
        .password_hash
        .map(|h| format!("sha256:{}…", hex::encode(&sha2::Sha256::digest(h)[..6])));
    s
}
