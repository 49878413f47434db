//! `natpilot backup`: a consistent copy of the SQLite database while the portal runs
//! (`VACUUM INTO` reads one snapshot of the database, WAL included, and writes a compact
//! file), created 0600 like the database itself and checked before it is called done. It
//! never overwrites a file: a backup that replaces an older one by accident is a backup lost.

use std::path::Path;
use std::str::FromStr;

use anyhow::Context;
use sqlx::{Connection, Row, sqlite::SqliteConnectOptions};

/// What a finished backup holds (printed by the command).
#[derive(Debug, PartialEq, Eq)]
pub struct BackupSummary {
    pub runs: i64,
    pub users: i64,
    pub bytes: u64,
}

/// Copies the database at `database` to `to` (which must not exist), then opens the copy
/// and checks its integrity.
pub async fn to_file(database: &Path, to: &Path) -> anyhow::Result<BackupSummary> {
    anyhow::ensure!(
        database.exists(),
        "there is no database at {} (set server.database or --database)",
        database.display()
    );
    anyhow::ensure!(
        !to.exists(),
        "{} already exists: natpilot never overwrites a backup; choose a new file name",
        to.display()
    );
    let to_text = to
        .to_str()
        .with_context(|| format!("the backup path {} is not valid UTF-8", to.display()))?;
    // An empty private file first: VACUUM INTO accepts an empty target and keeps its mode,
    // so the copy (sessions, audit log, run history) is never readable by other users.
    super::files::create_private(to)?;
    let source = SqliteConnectOptions::from_str(&format!("sqlite://{}", database.display()))?
        .read_only(true);
    let copied = async {
        let mut conn = sqlx::SqliteConnection::connect_with(&source)
            .await
            .with_context(|| format!("cannot open database {}", database.display()))?;
        sqlx::query("VACUUM INTO ?")
            .bind(to_text)
            .execute(&mut conn)
            .await
            .with_context(|| format!("cannot copy {} to {}", database.display(), to.display()))?;
        conn.close().await?;
        verify(to).await
    }
    .await;
    if copied.is_err() {
        // A half-written copy must not pass for a backup.
        let _ = std::fs::remove_file(to);
    }
    copied
}

/// Opens a backup read-only, runs SQLite's integrity check and counts what it holds.
pub async fn verify(path: &Path) -> anyhow::Result<BackupSummary> {
    let options =
        SqliteConnectOptions::from_str(&format!("sqlite://{}", path.display()))?.read_only(true);
    let mut conn = sqlx::SqliteConnection::connect_with(&options).await?;
    let check: String = sqlx::query("PRAGMA integrity_check")
        .fetch_one(&mut conn)
        .await?
        .get(0);
    anyhow::ensure!(
        check == "ok",
        "the copy {} is damaged: {check}",
        path.display()
    );
    let runs: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM runs")
        .fetch_one(&mut conn)
        .await?;
    let users: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users")
        .fetch_one(&mut conn)
        .await?;
    conn.close().await?;
    Ok(BackupSummary {
        runs,
        users,
        bytes: std::fs::metadata(path)?.len(),
    })
}
