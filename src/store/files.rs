//! The database file on disk: created private (0600) and checked writable before anything
//! else runs. SQLite opens a file it may not write read-only without saying so, and gives its
//! `-wal` / `-shm` files the database file's mode, so both checks belong at the very start.

use std::path::Path;

use anyhow::Context;
use sqlx::AnyPool;

/// Creates `path` with mode 0600 if it does not exist (SQLite would create it 0644 under the
/// usual umask, readable by every local user: sessions, audit log, the run history; ASVS 5.0
/// V13/V14). An existing file keeps its mode; a group- or world-readable one is logged.
pub(super) fn create_private(path: &Path) -> anyhow::Result<()> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
    {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            if let Ok(meta) = std::fs::metadata(path)
                && meta.permissions().mode() & 0o077 != 0
            {
                tracing::warn!(
                    path = %path.display(),
                    mode = format!("{:o}", meta.permissions().mode() & 0o777),
                    "the database file is readable by other users; `chmod 600` it (and its -wal/-shm files)"
                );
            }
            Ok(())
        }
        Err(e) => Err(e).with_context(|| {
            format!(
                "cannot create database {} (does its directory exist and can this user write it?)",
                path.display()
            )
        }),
    }
}

/// Refuses a database this process cannot write (read-only file, directory or file system):
/// otherwise it would be found only by the first write, and every page would answer 500.
/// The probe is a real write in a transaction that is rolled back, so it proves what the
/// portal needs and leaves nothing behind.
pub(super) async fn check_writable(writer: &AnyPool, path: &Path) -> anyhow::Result<()> {
    let probe = async {
        let mut tx = writer.begin_with("BEGIN IMMEDIATE").await?;
        crate::store::sql::query("CREATE TABLE natpilot_write_probe (x INTEGER)")
            .execute(&mut *tx)
            .await?;
        tx.rollback().await
    };
    probe.await.map_err(|e: sqlx::Error| {
        anyhow::anyhow!(
            "the database {} cannot be written: {e}. natpilot needs to write its database \
             (sessions, runs, the audit log): make the file, its -wal/-shm files and its \
             directory writable by the user running natpilot, or choose another file with \
             --database",
            path.display()
        )
    })
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use crate::store::Store;

    #[tokio::test]
    async fn a_new_database_and_its_wal_and_shm_files_are_readable_by_their_owner_only() {
        if crate::store::test_store::skip_sqlite_file_test() {
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("natpilot.db");
        let store = Store::open(&path).await.unwrap();
        // A committed write makes sure the -wal and -shm files exist.
        crate::store::sessions::delete_expired(store.writer(), 1, 1)
            .await
            .unwrap();
        for suffix in ["", "-wal", "-shm"] {
            let file = dir.path().join(format!("natpilot.db{suffix}"));
            let mode = std::fs::metadata(&file)
                .unwrap_or_else(|e| panic!("{}: {e}", file.display()))
                .permissions()
                .mode();
            assert_eq!(
                mode & 0o077,
                0,
                "{} has mode {:o}",
                file.display(),
                mode & 0o777
            );
        }
    }
}
