//! Whether the store answers, for `/healthz` (issue 15 "Operations"): a probe asks both pools
//! for `SELECT 1` every few seconds and keeps the outcome, so a load balancer's health check
//! costs no database round trip of its own and never queues behind the one writer.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::watch;

use super::Store;

/// How often the probe asks, and how long one answer may take before the store counts as
/// unreachable: the readers must answer within `PROBE_BUDGET`. The writer is one connection
/// that every write of this process queues for, so a long write (step 4's rows of a large
/// VPC on a loaded machine) can hold it for seconds while the store is perfectly healthy;
/// it counts as unreachable only after `WRITER_BUDGET`, so `/healthz` does not flap behind
/// ordinary work and a load balancer does not take a busy replica out.
pub const PROBE_EVERY: Duration = Duration::from_secs(2);
pub const PROBE_BUDGET: Duration = Duration::from_secs(5);
pub const WRITER_BUDGET: Duration = Duration::from_secs(30);

/// The last probe's outcome: `None` when the store answered (or before the first probe, the
/// store having just opened and migrated), else what went wrong.
#[derive(Clone, Debug, Default)]
pub struct StoreHealth(Arc<Mutex<Option<String>>>);

impl StoreHealth {
    pub fn problem(&self) -> Option<String> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn set(&self, problem: Option<String>) {
        let mut current = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if current.is_none() && problem.is_some() {
            tracing::error!(
                problem = problem.as_deref(),
                "the database stopped answering"
            );
        } else if current.is_some() && problem.is_none() {
            tracing::info!("the database answers again");
        }
        *current = problem;
    }
}

impl Store {
    /// One probe: `SELECT 1` through the readers and through the writer.
    pub async fn ping(&self) -> Result<(), String> {
        for (name, pool, budget) in [
            ("readers", self.readers(), PROBE_BUDGET),
            ("writer", &self.writer, WRITER_BUDGET),
        ] {
            let asked = tokio::time::timeout(
                budget,
                crate::store::sql::query_scalar::<i64>("SELECT 1").fetch_one(pool),
            )
            .await;
            match asked {
                Ok(Ok(1)) => {}
                Ok(Ok(other)) => return Err(format!("the {name} answered {other} to SELECT 1")),
                Ok(Err(e)) => return Err(format!("the {name} failed: {e}")),
                Err(_) => {
                    return Err(format!(
                        "the {name} did not answer within {} s",
                        budget.as_secs()
                    ));
                }
            }
        }
        self.schema_known().await
    }

    /// Whether this binary knows every migration the database has: a replica left on an
    /// older version after another one migrated the shared database to a newer schema must
    /// not go on serving (fail closed) — its queries were written for the old one.
    async fn schema_known(&self) -> Result<(), String> {
        let newest: Option<i64> =
            crate::store::sql::query_scalar("SELECT MAX(version) FROM _sqlx_migrations")
                .fetch_one(self.readers())
                .await
                .map_err(|e| format!("the readers failed: {e}"))?;
        let known = super::newest_known_migration();
        match newest {
            Some(v) if v > known => Err(format!(
                "the database was migrated by a newer natpilot (migration {v}; this one knows \
                 up to {known}): upgrade this replica, or stop it"
            )),
            _ => Ok(()),
        }
    }
}

/// Probes `store` until `stop` turns true, keeping the outcome in `store.health()`.
pub async fn probe(store: Store, mut stop: watch::Receiver<bool>) {
    loop {
        store.health().set(store.ping().await.err());
        tokio::select! {
            () = tokio::time::sleep(PROBE_EVERY) => {}
            _ = stop.wait_for(|stopped| *stopped) => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::store::{sql, test_store};

    #[tokio::test]
    async fn a_database_migrated_by_a_newer_natpilot_is_unhealthy_here() {
        let dir = tempfile::tempdir().unwrap();
        let store = test_store::open(dir.path()).await.unwrap();
        assert_eq!(store.ping().await, Ok(()));
        let future = super::super::newest_known_migration() + 10;
        let insert = match sql::dialect() {
            sql::Dialect::Sqlite => {
                "INSERT INTO _sqlx_migrations (version, description, success, checksum, \
                 execution_time) VALUES (?, 'from a newer natpilot', 1, X'00', 0)"
            }
            sql::Dialect::Postgres => {
                "INSERT INTO _sqlx_migrations (version, description, success, checksum, \
                 execution_time) VALUES (?, 'from a newer natpilot', TRUE, '\\x00', 0)"
            }
        };
        sql::query(insert)
            .bind(future)
            .execute(store.writer())
            .await
            .unwrap();
        let problem = store.ping().await.unwrap_err();
        assert!(
            problem.contains(&format!("migration {future}")) && problem.contains("upgrade"),
            "{problem}"
        );
    }
}
