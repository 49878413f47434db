//! SQLite persistence through sqlx: one writer connection plus a pool of readers, WAL,
//! embedded migrations. Query functions live in small submodules next to the data they own;
//! nothing here talks to the cloud, and no transaction is ever held across a cloud call.

pub mod api_tokens;
pub mod approvals;
pub mod audit;
pub mod backup;
pub mod campaigns;
pub mod change_notices;
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
pub mod location;
pub mod login_buckets;
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
pub mod sql;
pub mod sso_identities;
pub mod steps;
pub mod test_store;
pub mod types;
pub mod undo;
pub mod users;
pub mod verify_rows;
mod writer;

pub use location::{Database, PostgresUrl};
pub use writer::{WriteTx, Writer};

#[cfg(test)]
mod tests;

pub use types::{
    EgressOutcome, EgressPhase, EventLevel, ReportKind, RunId, RunStatus, Step, StepState,
    UndoState,
};

use std::{
    path::Path,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
};

use sqlx::{AnyPool, any::AnyPoolOptions};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");
/// The same schema for PostgreSQL (`migrations/postgres/`; `tests::migrations_come_in_pairs`).
static PG_MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// The newest migration this binary has for the store in use.
fn newest_known_migration() -> i64 {
    let migrator = match sql::dialect() {
        sql::Dialect::Sqlite => &MIGRATOR,
        sql::Dialect::Postgres => &PG_MIGRATOR,
    };
    migrator.iter().map(|m| m.version).max().unwrap_or(0)
}

mod files;
use files::{check_writable, create_private};

/// `host:port/database` of a PostgreSQL URL, for messages (the URL may hold a password).
fn pg_place(url: &str) -> anyhow::Result<String> {
    let parsed = reqwest::Url::parse(url)
        .map_err(|e| anyhow::anyhow!("the PostgreSQL URL does not parse ({e}); write it as postgres://user@host:port/database"))?;
    Ok(format!(
        "{}:{}{}",
        parsed.host_str().unwrap_or("localhost"),
        parsed.port().unwrap_or(5432),
        parsed.path()
    ))
}

/// What every SQLite connection is set to (through `Any`, which takes only a URL).
const SQLITE_PRAGMAS: &str = "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
     PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000;";

fn sqlite_pragmas(
    conn: &mut sqlx::AnyConnection,
    _: sqlx::pool::PoolConnectionMetadata,
) -> futures_util::future::BoxFuture<'_, sqlx::Result<()>> {
    Box::pin(async move {
        sqlx::raw_sql(SQLITE_PRAGMAS).execute(conn).await?;
        Ok(())
    })
}

/// Handles to the database. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Store {
    /// Exactly one connection: SQLite allows one writer at a time, and queueing writers here
    /// (instead of in SQLite's busy handler) is what keeps `database is locked` away.
    writer: AnyPool,
    readers: AnyPool,
    /// Counted after every write of this process (`writer::Bump`); lets the portal's caches
    /// know that a cached value may be stale (see `write_generation`).
    write_generation: Arc<AtomicU64>,
    /// Recently read history pages (`runs::list_cached`).
    history: Arc<read_cache::ReadCache<Arc<runs::RunPage>>>,
    /// Recent counts of pending approvals per user and role (`approvals::count_for_cached`).
    approval_counts: Arc<read_cache::ReadCache<i64>>,
    /// Whether the database answered the last probe (`health::probe`, for `/healthz`).
    health: health::StoreHealth,
    /// The PostgreSQL URL, for the listener of other replicas' changes; None on SQLite.
    postgres_url: Option<Arc<secrecy::SecretString>>,
    /// Other processes' changes heard by that listener (`change_notices`).
    notices: change_notices::ChangeNotices,
}

impl Store {
    /// Opens (creating if needed, mode 0600) the database file, checks that it can be
    /// written and applies pending migrations.
    pub async fn open(path: &Path) -> anyhow::Result<Store> {
        create_private(path)?;
        sql::set_dialect(sql::Dialect::Sqlite)?;
        sqlx::any::install_default_drivers();
        let url = format!("sqlite://{}", path.display());
        let writer = AnyPoolOptions::new()
            .max_connections(1)
            .after_connect(sqlite_pragmas)
            .connect(&url)
            .await
            .map_err(|e| anyhow::anyhow!("cannot open database {}: {e}", path.display()))?;
        let write_generation = Arc::new(AtomicU64::new(0));
        check_writable(&writer, path).await?;
        MIGRATOR
            .run(&writer)
            .await
            .map_err(|e| anyhow::anyhow!("cannot migrate database {}: {e}", path.display()))?;
        let readers = AnyPoolOptions::new()
            .max_connections(8)
            .after_connect(sqlite_pragmas)
            .connect(&format!("{url}?mode=ro"))
            .await?;
        Ok(Store::from_pools(writer, readers, write_generation))
    }

    /// Opens the configured database: the SQLite file, or the PostgreSQL server.
    pub async fn connect(database: &Database) -> anyhow::Result<Store> {
        match database {
            Database::Sqlite(path) => Store::open(path).await,
            Database::Postgres(url) => Store::open_postgres(url.expose()).await,
        }
    }

    /// Connects to the PostgreSQL database at `url` (`postgres://user@host:port/db`) and
    /// applies pending migrations. Errors name the server and database, never the URL (it may
    /// hold a password).
    pub async fn open_postgres(url: &str) -> anyhow::Result<Store> {
        sql::set_dialect(sql::Dialect::Postgres)?;
        sqlx::any::install_default_drivers();
        let place = pg_place(url)?;
        // One writer connection, as on SQLite: within a process writes queue here; across
        // processes each write transaction takes an advisory lock (`sql::begin_write`).
        let writer = AnyPoolOptions::new()
            .max_connections(1)
            .connect(url)
            .await
            .map_err(|e| anyhow::anyhow!("cannot connect to PostgreSQL {place}: {e}"))?;
        PG_MIGRATOR
            .run(&writer)
            .await
            .map_err(|e| anyhow::anyhow!("cannot migrate PostgreSQL {place}: {e}"))?;
        let readers = AnyPoolOptions::new()
            .max_connections(8)
            .connect(url)
            .await
            .map_err(|e| anyhow::anyhow!("cannot connect to PostgreSQL {place}: {e}"))?;
        let mut store = Store::from_pools(writer, readers, Arc::new(AtomicU64::new(0)));
        store.postgres_url = Some(Arc::new(secrecy::SecretString::from(url.to_owned())));
        Ok(store)
    }

    fn from_pools(writer: AnyPool, readers: AnyPool, write_generation: Arc<AtomicU64>) -> Store {
        Store {
            writer,
            readers,
            write_generation,
            history: Default::default(),
            approval_counts: Default::default(),
            health: Default::default(),
            postgres_url: None,
            notices: Default::default(),
        }
    }

    /// How many writes of this store are over (each counted after its statement or its
    /// transaction ended, so a reader that sees an unchanged number read after them).
    pub fn write_generation(&self) -> u64 {
        self.write_generation.load(Ordering::SeqCst)
    }

    pub fn readers(&self) -> &AnyPool {
        &self.readers
    }

    fn history(&self) -> &read_cache::ReadCache<Arc<runs::RunPage>> {
        &self.history
    }

    fn approval_counts(&self) -> &read_cache::ReadCache<i64> {
        &self.approval_counts
    }

    /// The writer, for one statement; the write is counted once it is over.
    pub fn writer(&self) -> Writer<'_> {
        Writer {
            pool: &self.writer,
            bump: writer::Bump(self.write_generation.clone()),
        }
    }

    /// The last health probe's outcome.
    pub fn health(&self) -> &health::StoreHealth {
        &self.health
    }

    /// Starts a write transaction (`BEGIN IMMEDIATE` on SQLite, so it takes the write lock
    /// up front instead of failing with `SQLITE_BUSY` when it first writes).
    pub async fn begin_write(&self) -> sqlx::Result<WriteTx> {
        self.writer().begin().await
    }
}
