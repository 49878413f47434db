//! A fresh store for a test: a SQLite file in the test's directory, or — when
//! `NATPILOT_TEST_POSTGRES` holds the URL of a PostgreSQL server (`.ci/run` starts one on
//! loopback) — a new database of its own on that server, so the same tests run on both.

use std::path::Path;

use super::{Database, Store};

/// The variable that points the tests at a PostgreSQL server.
pub const POSTGRES_VAR: &str = "NATPILOT_TEST_POSTGRES";

/// Opens a new, empty store for one test. `dir` holds the SQLite file (and outlives the store).
pub async fn open(dir: &Path) -> anyhow::Result<Store> {
    Store::connect(&database(dir).await?).await
}

/// A new, empty database for one test, to open (again) with `Store::connect`, as a second
/// process on the same database would: a SQLite file in `dir`, or a new PostgreSQL database.
pub async fn database(dir: &Path) -> anyhow::Result<Database> {
    match std::env::var(POSTGRES_VAR) {
        Ok(server) if !server.is_empty() => new_postgres_database(&server).await,
        _ => Ok(Database::Sqlite(dir.join("t.db"))),
    }
}

/// Whether this test run's store is PostgreSQL.
pub fn postgres() -> bool {
    std::env::var(POSTGRES_VAR).is_ok_and(|v| !v.is_empty())
}

/// A test of the SQLite file itself (its mode, its -wal file) has nothing to check when the
/// run's store is PostgreSQL, and cannot open a SQLite store in that process. It says so and
/// is skipped there; it runs in the SQLite run of the same suite.
pub fn skip_sqlite_file_test() -> bool {
    let skip = postgres();
    if skip {
        eprintln!("skipped: a test of the SQLite file, and this run's store is PostgreSQL");
    }
    skip
}

async fn new_postgres_database(server: &str) -> anyhow::Result<Database> {
    use sqlx::Connection;
    sqlx::any::install_default_drivers();
    let name = format!("natpilot_t_{}", uuid::Uuid::new_v4().simple());
    let mut admin = sqlx::AnyConnection::connect(server)
        .await
        .map_err(|e| anyhow::anyhow!("{POSTGRES_VAR}: cannot connect: {e}"))?;
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut admin)
        .await?;
    admin.close().await?;
    let mut url = reqwest::Url::parse(server)?;
    url.set_path(&name);
    Database::parse(url.as_str()).map_err(|e| anyhow::anyhow!("{POSTGRES_VAR}: {e}"))
}

/// Everything the database holds, as bytes to search (a test that no secret is stored): the
/// SQLite file and its WAL, or every row of every table as text on PostgreSQL.
pub async fn contents(store: &Store, database: &Database) -> Vec<u8> {
    match database {
        Database::Sqlite(path) => {
            let mut bytes = std::fs::read(path).unwrap_or_default();
            let mut wal = path.clone().into_os_string();
            wal.push("-wal");
            bytes.extend(std::fs::read(wal).unwrap_or_default());
            bytes
        }
        Database::Postgres(_) => {
            let tables: Vec<String> = super::sql::query_scalar(
                "SELECT table_name::text FROM information_schema.tables \
                 WHERE table_schema = 'public' AND table_type = 'BASE TABLE'",
            )
            .fetch_all(store.readers())
            .await
            .expect("the table list");
            let mut bytes = Vec::new();
            for table in tables {
                let rows: Vec<String> = super::sql::query_scalar(sqlx::AssertSqlSafe(format!(
                    "SELECT t::text FROM \"{table}\" AS t"
                )))
                .fetch_all(store.readers())
                .await
                .expect("a table's rows");
                for row in rows {
                    bytes.extend(row.into_bytes());
                    bytes.push(b'\n');
                }
            }
            bytes
        }
    }
}

/// Makes every insert into `table` fail with `reason` (a fault for a test to inject), on
/// either database, until `allow_inserts`.
pub async fn refuse_inserts(store: &Store, table: &str, reason: &str) -> sqlx::Result<()> {
    use sqlx::AssertSqlSafe;
    let statements = match super::sql::dialect() {
        super::sql::Dialect::Sqlite => vec![format!(
            "CREATE TRIGGER refuse_{table} BEFORE INSERT ON {table} \
             BEGIN SELECT RAISE(ABORT, '{reason}'); END"
        )],
        super::sql::Dialect::Postgres => vec![
            format!(
                "CREATE FUNCTION refuse_{table}() RETURNS trigger LANGUAGE plpgsql AS \
                 'BEGIN RAISE EXCEPTION ''{reason}''; END'"
            ),
            format!(
                "CREATE TRIGGER refuse_{table} BEFORE INSERT ON {table} \
                 FOR EACH ROW EXECUTE FUNCTION refuse_{table}()"
            ),
        ],
    };
    for sql in statements {
        super::sql::query(AssertSqlSafe(sql))
            .execute(store.writer())
            .await?;
    }
    Ok(())
}

/// Ends `refuse_inserts` on `table`.
pub async fn allow_inserts(store: &Store, table: &str) -> sqlx::Result<()> {
    let sql = match super::sql::dialect() {
        super::sql::Dialect::Sqlite => format!("DROP TRIGGER refuse_{table}"),
        super::sql::Dialect::Postgres => format!("DROP TRIGGER refuse_{table} ON {table}"),
    };
    super::sql::query(sqlx::AssertSqlSafe(sql))
        .execute(store.writer())
        .await?;
    Ok(())
}
