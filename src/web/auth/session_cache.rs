//! A short-lived in-memory copy of live session rows, so a signed-in page view does not pay
//! a database round trip for the session check (history benchmark, issue 5).
//!
//! Freshness, in order of strength:
//! - every write this process commits (among them sign-out, disabling a user, a role
//!   change) bumps the store's `write_generation`, and every entry read under an older
//!   generation is ignored, so the next request reads the database again;
//! - every entry expires after [`TTL`] anyway, which bounds how long a change made by
//!   another process (`natpilot user disable …`) or a request racing the very write can
//!   go unseen;
//! - the idle and absolute timeouts are checked again on every request by the caller.

use std::{
    collections::HashMap,
    sync::Mutex,
    time::{Duration, Instant},
};

use crate::store::sessions::SessionRow;

/// How long a cached session row is trusted at most.
pub const TTL: Duration = Duration::from_secs(1);

/// Beyond this many entries the cache starts over (only live sessions get in, so this is
/// far more than a team uses; it only bounds memory).
const MAX_ENTRIES: usize = 10_000;

struct Entry {
    row: SessionRow,
    version: u64,
    fetched: Instant,
}

#[derive(Default)]
pub struct SessionCache {
    entries: Mutex<HashMap<String, Entry>>,
}

impl SessionCache {
    /// The cached row for `id_hash` if it was read under `version` less than [`TTL`] ago.
    pub fn get(&self, id_hash: &str, version: u64, now: Instant) -> Option<SessionRow> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries
            .get(id_hash)
            .filter(|e| e.version == version && now.duration_since(e.fetched) < TTL)
            .map(|e| e.row.clone())
    }

    /// Remembers a row read from the database; `version` must be the store's
    /// `write_generation` taken before the read, so a write committed meanwhile makes the
    /// entry stale.
    pub fn put(&self, row: SessionRow, version: u64, now: Instant) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= MAX_ENTRIES {
            entries.clear();
        }
        let entry = Entry {
            row,
            version,
            fetched: now,
        };
        entries.insert(entry.row.id_hash.clone(), entry);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: &str) -> SessionRow {
        SessionRow {
            id_hash: id.into(),
            created_at: 1,
            last_seen_at: 2,
            user_id: Some(7),
            user_name: Some("olga".into()),
            user_role: Some("operator".into()),
        }
    }

    #[test]
    fn a_row_is_served_under_the_same_version_within_the_ttl() {
        let (cache, t0) = (SessionCache::default(), Instant::now());
        cache.put(row("a"), 3, t0);
        assert_eq!(cache.get("a", 3, t0 + TTL / 2), Some(row("a")));
        assert_eq!(cache.get("b", 3, t0), None);
    }

    #[test]
    fn any_committed_write_makes_every_entry_stale() {
        let (cache, t0) = (SessionCache::default(), Instant::now());
        cache.put(row("a"), 3, t0);
        assert_eq!(cache.get("a", 4, t0), None);
    }

    #[test]
    fn entries_expire_after_the_ttl_whatever_the_version() {
        let (cache, t0) = (SessionCache::default(), Instant::now());
        cache.put(row("a"), 3, t0);
        assert_eq!(cache.get("a", 3, t0 + TTL), None);
    }
}
