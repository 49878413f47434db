//! SQLite persistence through sqlx: one writer connection plus a pool of readers, WAL,
//! embedded migrations. Query functions live in small submodules next to the data they own;
//! nothing here talks to the cloud, and no transaction is ever held across a cloud call.

pub mod api_tokens;
pub mod approvals;
pub mod audit;
pub mod backup;
pub mod campaigns;
pub mod drift;
pub mod estate;
pub mod estate_totals;
pub mod estate_trend;
pub mod events;
pub mod exposure;
pub mod exposure_counts;
pub mod health;
pub mod inventories;
pub mod keep_egress;
pub mod kept_eips;
pub mod lease;
pub mod ledger;
pub mod nat_gateways;
pub mod notifications;
pub mod protection_rules;
pub mod read_cache;
pub mod rehearsals;
pub mod results;
pub mod retire_exceptions;
pub mod route_views;
pub mod run_views;
pub mod runs;
pub mod sessions;
pub mod sso_identities;
pub mod steps;
pub mod types;
pub mod undo;
pub mod users;
pub mod verify_rows;

#[cfg(test)]
mod tests;

pub use types::{
    EgressOutcome, EgressPhase, EventLevel, ReportKind, RunId, RunStatus, Step, StepState,
    UndoState,
};

use std::{
    path::Path,
    str::FromStr,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use sqlx::{
    Sqlite, SqlitePool, Transaction,
    sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous},
};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

mod files;
use files::{check_writable, create_private};

/// Handles to the database. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Store {
    /// Exactly one connection: SQLite allows one writer at a time, and queueing writers here
    /// (instead of in SQLite's busy handler) is what keeps `database is locked` away.
    writer: SqlitePool,
    readers: SqlitePool,
    /// Bumped by every commit of the writer; lets the portal's session cache know that a
    /// cached sign-in may be stale (see `write_generation`).
    write_generation: Arc<AtomicU64>,
    /// Recently read history pages (`runs::list_cached`).
    history: Arc<read_cache::ReadCache<Arc<runs::RunPage>>>,
    /// Recent counts of pending approvals per user and role (`approvals::count_for_cached`).
    approval_counts: Arc<read_cache::ReadCache<i64>>,
    /// Whether the database answered the last probe (`health::probe`, for `/healthz`).
    health: health::StoreHealth,
}

impl Store {
    /// Opens (creating if needed, mode 0600) the database file, checks that it can be
    /// written and applies pending migrations.
    pub async fn open(path: &Path) -> anyhow::Result<Store> {
        create_private(path)?;
        let url = format!("sqlite://{}", path.display());
        let options = SqliteConnectOptions::from_str(&url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        let write_generation = Arc::new(AtomicU64::new(0));
        let hooked = write_generation.clone();
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            // Every write of this process goes through this connection, whichever code path
            // made it, so a commit hook here sees every change to who may sign in. (A commit
            // hook, not an update hook: SQLite skips update hooks for WITHOUT ROWID tables
            // such as `sessions`.)
            .after_connect(move |conn, _| {
                let generation = hooked.clone();
                Box::pin(async move {
                    conn.lock_handle().await?.set_commit_hook(move || {
                        generation.fetch_add(1, Ordering::SeqCst);
                        true // let the commit proceed
                    });
                    Ok(())
                })
            })
            .connect_with(options.clone())
            .await
            .map_err(|e| anyhow::anyhow!("cannot open database {}: {e}", path.display()))?;
        check_writable(&writer, path).await?;
        MIGRATOR
            .run(&writer)
            .await
            .map_err(|e| anyhow::anyhow!("cannot migrate database {}: {e}", path.display()))?;
        let readers = SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(options.read_only(true))
            .await?;
        Ok(Store {
            writer,
            readers,
            write_generation,
            history: Default::default(),
            approval_counts: Default::default(),
            health: Default::default(),
        })
    }

    /// How many write transactions this store has committed (counted as each commit
    /// starts, so a reader that sees an unchanged number may still race the very last one).
    pub fn write_generation(&self) -> u64 {
        self.write_generation.load(Ordering::SeqCst)
    }

    pub fn readers(&self) -> &SqlitePool {
        &self.readers
    }

    fn history(&self) -> &read_cache::ReadCache<Arc<runs::RunPage>> {
        &self.history
    }

    fn approval_counts(&self) -> &read_cache::ReadCache<i64> {
        &self.approval_counts
    }

    pub fn writer(&self) -> &SqlitePool {
        &self.writer
    }

    /// The last health probe's outcome.
    pub fn health(&self) -> &health::StoreHealth {
        &self.health
    }

    /// Starts a write transaction with `BEGIN IMMEDIATE`, so it takes the write lock up front
    /// instead of failing with `SQLITE_BUSY` when it first writes.
    pub async fn begin_write(&self) -> sqlx::Result<Transaction<'static, Sqlite>> {
        self.writer.begin_with("BEGIN IMMEDIATE").await
    }
}
