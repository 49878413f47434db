//! A short-lived copy of recently read history pages, so that many people (or a wall screen)
//! reloading the same history page do not each pay the database round trip, which is most of
//! a page's time (history benchmark, issue 11 item 7: 0.17 of 0.30 ms at one connection).
//!
//! Freshness, as for the session cache: every write this process commits bumps the store's
//! `write_generation`, and a page read under an older generation is read again; every page
//! expires after [`TTL`] anyway, which bounds how long a run started or finished by another
//! process (`natpilot serve` twice on one database) goes unseen on this one's history page.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::runs::{Cursor, RunFilter, RunPage};

/// How long a cached page is trusted at most.
pub const TTL: Duration = Duration::from_secs(1);

/// Beyond this many pages the cache starts over (it only bounds memory).
const MAX_PAGES: usize = 256;

struct Entry {
    page: Arc<RunPage>,
    generation: u64,
    fetched: Instant,
}

#[derive(Default)]
pub struct HistoryCache {
    pages: Mutex<HashMap<String, Entry>>,
}

impl std::fmt::Debug for HistoryCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("HistoryCache")
    }
}

/// What a page is cached under: everything that selects its rows.
pub(super) fn key(filter: &RunFilter, after: Option<&Cursor>, limit: u32) -> String {
    format!("{filter:?}|{after:?}|{limit}")
}

impl HistoryCache {
    /// The page cached under `key` if it was read under `generation` less than [`TTL`] ago.
    pub(super) fn get(&self, key: &str, generation: u64, now: Instant) -> Option<Arc<RunPage>> {
        let pages = self.pages.lock().unwrap_or_else(|e| e.into_inner());
        pages
            .get(key)
            .filter(|e| e.generation == generation && now.duration_since(e.fetched) < TTL)
            .map(|e| e.page.clone())
    }

    /// Remembers a page read from the database; `generation` must have been taken before the
    /// read, so a write committed meanwhile makes the entry stale.
    pub(super) fn put(&self, key: String, page: Arc<RunPage>, generation: u64, now: Instant) {
        let mut pages = self.pages.lock().unwrap_or_else(|e| e.into_inner());
        if pages.len() >= MAX_PAGES {
            pages.clear();
        }
        let entry = Entry {
            page,
            generation,
            fetched: now,
        };
        pages.insert(key, entry);
    }
}
