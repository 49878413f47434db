//! A short-lived copy of recent reads that every page repeats, so that many people (or a wall
//! screen) reloading pages do not each pay the database round trip, which is most of a page's
//! time (history benchmark, issue 11 item 7: 0.17 of 0.30 ms at one connection). Two reads use
//! it: history pages (`runs::list_cached`) and the nav's count of pending approvals
//! (`approvals::count_for_cached`), which every signed-in page shows.
//!
//! Freshness, as for the session cache: every write this process commits bumps the store's
//! `write_generation`, and a value read under an older generation is read again; every value
//! expires after [`TTL`] anyway, which bounds how long a change made by another process
//! (`natpilot serve` twice on one database), or an approval request expiring by the clock,
//! goes unseen on this one's pages.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long a cached value is trusted at most.
pub const TTL: Duration = Duration::from_secs(1);

/// Beyond this many entries the cache starts over (it only bounds memory).
const MAX_ENTRIES: usize = 256;

struct Entry<V> {
    value: V,
    generation: u64,
    fetched: Instant,
}

pub struct ReadCache<V> {
    entries: Mutex<HashMap<String, Entry<V>>>,
}

impl<V> Default for ReadCache<V> {
    fn default() -> Self {
        ReadCache {
            entries: Mutex::new(HashMap::new()),
        }
    }
}

impl<V> std::fmt::Debug for ReadCache<V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ReadCache")
    }
}

impl<V: Clone> ReadCache<V> {
    /// The value cached under `key` if it was read under `generation` less than [`TTL`] ago.
    pub(super) fn get(&self, key: &str, generation: u64, now: Instant) -> Option<V> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries
            .get(key)
            .filter(|e| e.generation == generation && now.duration_since(e.fetched) < TTL)
            .map(|e| e.value.clone())
    }

    /// Remembers a value read from the database; `generation` must have been taken before the
    /// read, so a write committed meanwhile makes the entry stale.
    pub(super) fn put(&self, key: String, value: V, generation: u64, now: Instant) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= MAX_ENTRIES {
            entries.clear();
        }
        let entry = Entry {
            value,
            generation,
            fetched: now,
        };
        entries.insert(key, entry);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_is_read_again_after_a_write_or_after_its_ttl() {
        let cache = ReadCache::<i64>::default();
        let t0 = Instant::now();
        cache.put("k".into(), 3, 7, t0);
        assert_eq!(cache.get("k", 7, t0), Some(3));
        assert_eq!(
            cache.get("k", 8, t0),
            None,
            "a commit since the read makes it stale"
        );
        assert_eq!(cache.get("k", 7, t0 + TTL), None, "expired");
        assert_eq!(cache.get("other", 7, t0), None);
    }
}
