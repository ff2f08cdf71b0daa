//! A cache of session lookups, so the check every authenticated request makes rarely reaches
//! the database. Correctness comes first, and holds by construction rather than by discipline.
//!
//! The rule: a transaction that changes or deletes rows of `users` or `sessions` (the rows a
//! lookup reads) evicts the accounts of those rows when it commits, here and, on PostgreSQL,
//! on every other server through `NOTIFY` on `CHANNEL`. A lookup that raced with an eviction is
//! not cached (`generation`), and even an entry nobody evicted is re-read after `TTL`.
//!
//! How it is kept:
//! - all SQL writing those tables is in `super::writes`, where every `UPDATE` and `DELETE`
//!   ends `RETURNING` the accounts it changed and the transaction records them itself (a user's
//!   deletion records the user, whose sessions go by `ON DELETE CASCADE`); `Tx::commit` evicts
//!   them. Only inserts of new rows (nothing cached yet) and the `last_seen_at` write of
//!   `Store::touch_session` (which updates the cached copy, `seen`) evict nothing;
//! - `tests/api/store_writes.rs` reads `src/` and fails on SQL writing either table anywhere
//!   else;
//! - in debug builds every cache hit is checked against the database (`super::coherence`), so
//!   the whole test suite checks that cache and database agree; release builds do not read.
//!
//! Outside the rule: sealing (`super::sealing`) rewrites sealed columns of these tables with
//! the same values sealed anew, which no cached copy can tell apart; and on SQLite nothing
//! announces a write made by another process on the same file (`rotate-key` run beside a
//! server): that server sees it within `TTL`.

use std::collections::HashMap;
use std::sync::RwLock;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use uuid::Uuid;

use super::SessionWithUser;

/// A safety net: even an entry nobody evicted is re-read this often.
const TTL: Duration = Duration::from_secs(30);
/// Beyond this many entries the cache starts over rather than grow.
const MAX_ENTRIES: usize = 100_000;

/// The PostgreSQL channel on which servers announce accounts whose cached sessions are stale.
pub const CHANNEL: &str = "latchkey_sessions";

/// What the debug coherence check's marker on `CHANNEL` starts with (an account id never does).
#[cfg(debug_assertions)]
pub const MARKER: &str = "coherence-marker:";

#[derive(Default)]
pub struct SessionCache {
    entries: RwLock<Entries>,
    /// Bumped by every eviction: a lookup started before one must not be cached after it.
    generation: AtomicU64,
    /// Transactions that are committing or have committed changes to accounts whose entries
    /// they have not evicted yet: until they have, the cache may be behind the database.
    writing: AtomicUsize,
    /// Debug builds: the sync markers a coherence check waits to hear back (`coherence`).
    #[cfg(debug_assertions)]
    markers: std::sync::Mutex<HashMap<Uuid, tokio::sync::oneshot::Sender<()>>>,
}

#[derive(Default)]
struct Entries {
    by_token: HashMap<Vec<u8>, (SessionWithUser, Instant)>,
    /// The token hashes cached for each account, so an eviction does not scan the whole cache.
    by_user: HashMap<Uuid, Vec<Vec<u8>>>,
}

impl Entries {
    fn insert(&mut self, token_hash: &[u8], found: &SessionWithUser) {
        let user = found.user.id;
        let old = self
            .by_token
            .insert(token_hash.to_vec(), (found.clone(), Instant::now()));
        match old {
            Some((old, _)) if old.user.id == user => {}
            Some((old, _)) => {
                self.forget_hash(old.user.id, token_hash);
                self.by_user
                    .entry(user)
                    .or_default()
                    .push(token_hash.to_vec());
            }
            None => self
                .by_user
                .entry(user)
                .or_default()
                .push(token_hash.to_vec()),
        }
    }

    fn forget_hash(&mut self, user: Uuid, token_hash: &[u8]) {
        if let Some(hashes) = self.by_user.get_mut(&user) {
            hashes.retain(|h| h != token_hash);
            if hashes.is_empty() {
                self.by_user.remove(&user);
            }
        }
    }

    fn evict(&mut self, user: Uuid) {
        for hash in self.by_user.remove(&user).unwrap_or_default() {
            self.by_token.remove(&hash);
        }
    }

    fn clear(&mut self) {
        self.by_token.clear();
        self.by_user.clear();
    }
}

/// Counts a committing write in `SessionCache::writing` until dropped.
pub struct Writing<'a>(&'a SessionCache);

impl Drop for Writing<'_> {
    fn drop(&mut self) {
        self.0.writing.fetch_sub(1, Ordering::SeqCst);
    }
}

impl SessionCache {
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    pub fn get(&self, token_hash: &[u8]) -> Option<SessionWithUser> {
        let entries = self.entries.read().ok()?;
        let (found, at) = entries.by_token.get(token_hash)?;
        (at.elapsed() < TTL).then(|| found.clone())
    }

    /// Caches a lookup made when the generation was `generation`, unless something was evicted
    /// since (the lookup may have read what that eviction was about).
    pub fn put(&self, token_hash: &[u8], found: &SessionWithUser, generation: u64) {
        let Ok(mut entries) = self.entries.write() else {
            return;
        };
        if self.generation() != generation {
            return;
        }
        if entries.by_token.len() >= MAX_ENTRIES {
            entries.clear();
        }
        entries.insert(token_hash, found);
    }

    /// Records a `last_seen_at` write in the cached copy.
    pub fn seen(&self, token_hash: &[u8], now: i64) {
        if let Ok(mut entries) = self.entries.write()
            && let Some((found, _)) = entries.by_token.get_mut(token_hash)
        {
            found.last_seen_at = now;
        }
    }

    /// Marks a transaction that changed accounts as committing: taken before its commit and
    /// dropped once it has evicted them.
    pub fn writing(&self) -> Writing<'_> {
        self.writing.fetch_add(1, Ordering::SeqCst);
        Writing(self)
    }

    pub fn evict_user(&self, user_id: Uuid) {
        self.generation.fetch_add(1, Ordering::SeqCst);
        if let Ok(mut entries) = self.entries.write() {
            entries.evict(user_id);
        }
    }

    pub fn clear(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
        if let Ok(mut entries) = self.entries.write() {
            entries.clear();
        }
    }

    /// Acts on what another server announced on `CHANNEL`: an account to evict (anything
    /// else not understood clears the cache).
    pub fn heard(&self, payload: &str) {
        if let Ok(user) = payload.parse::<Uuid>() {
            self.evict_user(user);
            return;
        }
        #[cfg(debug_assertions)]
        if let Some(marker) = payload.strip_prefix(MARKER) {
            self.marker_heard(marker);
            return;
        }
        self.clear();
    }
}

/// Debug builds: what the coherence check (`super::coherence`) needs of the cache.
#[cfg(debug_assertions)]
impl SessionCache {
    /// Commits counted by `writing` whose evictions are not done yet.
    pub fn writes_in_flight(&self) -> usize {
        self.writing.load(Ordering::SeqCst)
    }

    /// Asks to be told when the eviction listener hears marker `nonce`.
    pub fn expect_marker(&self, nonce: Uuid) -> tokio::sync::oneshot::Receiver<()> {
        let (tell, told) = tokio::sync::oneshot::channel();
        if let Ok(mut markers) = self.markers.lock() {
            markers.insert(nonce, tell);
        }
        told
    }

    pub fn forget_marker(&self, nonce: Uuid) {
        if let Ok(mut markers) = self.markers.lock() {
            markers.remove(&nonce);
        }
    }

    /// Another server's markers are none of this one's business.
    fn marker_heard(&self, marker: &str) {
        let Ok(nonce) = marker.parse::<Uuid>() else {
            return;
        };
        if let Some(tell) = self.markers.lock().ok().and_then(|mut m| m.remove(&nonce)) {
            let _ = tell.send(());
        }
    }
}
