//! Run leases (`run_leases`): which natpilot process drives a run, until when. One engine
//! per run whatever the number of processes on the database: a job takes its run's lease
//! before driving it, a heartbeat renews it, the job releases it at the end, and every
//! mutating cloud call is fenced by it (see `ledger::begin`, which writes the call's row only
//! while the lease is held). A process that dies stops renewing; once the lease has expired
//! another process may take the run over.
//!
//! Expiry is compared with the clock of the process asking; processes sharing a database
//! must keep their clocks in sync (NTP) to well under the lease period.

use chrono::{DateTime, Utc};
use sqlx::{AnyExecutor, Row};

use super::types::{RunId, from_millis, now_millis};

/// Who holds a run's lease and until when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    pub run_id: RunId,
    /// The holding process's id (random per process, see `wizard::engine`).
    pub holder: String,
    pub acquired_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

impl Lease {
    pub fn is_live(&self, now: DateTime<Utc>) -> bool {
        self.expires_at > now
    }
}

fn ms(d: std::time::Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// Takes the run's lease for `holder` for `ttl` — when nobody holds it, when it expired, or
/// when `holder` already holds it (then it is renewed) — in one statement, so two processes
/// racing for it cannot both win. `Err` carries the lease as another live holder has it.
pub async fn take(
    conn: impl AnyExecutor<'_> + Clone,
    run: RunId,
    holder: &str,
    ttl: std::time::Duration,
) -> sqlx::Result<Result<Lease, Lease>> {
    let now = now_millis();
    let row = crate::store::sql::query(
        "INSERT INTO run_leases (run_id, holder, acquired_at, expires_at) VALUES (?1, ?2, ?3, ?4) \
         ON CONFLICT (run_id) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at, \
           acquired_at = CASE WHEN run_leases.holder = excluded.holder THEN run_leases.acquired_at \
                              ELSE excluded.acquired_at END \
         WHERE run_leases.holder = excluded.holder OR run_leases.expires_at <= ?3 \
         RETURNING *",
    )
    .bind(run.to_string())
    .bind(holder)
    .bind(now)
    .bind(now.saturating_add(ms(ttl)))
    .fetch_optional(conn.clone())
    .await?;
    match row {
        Some(r) => Ok(Ok(from_row(&r, run)?)),
        None => match get(conn, run).await? {
            Some(other) => Ok(Err(other)),
            // Released between the two statements: say so as a lease that just ended.
            None => Ok(Err(Lease {
                run_id: run,
                holder: String::new(),
                acquired_at: from_millis(now),
                expires_at: from_millis(now),
            })),
        },
    }
}

/// Extends `holder`'s lease by `ttl` from now. `false` when another process holds it now
/// (ours expired and was taken over): the caller must stop driving the run. A lease of ours
/// that expired but that nobody took is renewed: nobody else can have driven the run meanwhile.
pub async fn renew(
    conn: impl AnyExecutor<'_>,
    run: RunId,
    holder: &str,
    ttl: std::time::Duration,
) -> sqlx::Result<bool> {
    let until = now_millis().saturating_add(ms(ttl));
    let done = crate::store::sql::query(
        "UPDATE run_leases SET expires_at = ? WHERE run_id = ? AND holder = ?",
    )
    .bind(until)
    .bind(run.to_string())
    .bind(holder)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Gives the lease up (the job ended). Does nothing when `holder` no longer holds it.
pub async fn release(conn: impl AnyExecutor<'_>, run: RunId, holder: &str) -> sqlx::Result<()> {
    crate::store::sql::query("DELETE FROM run_leases WHERE run_id = ? AND holder = ?")
        .bind(run.to_string())
        .bind(holder)
        .execute(conn)
        .await?;
    Ok(())
}

/// Ends `holder`'s lease now but keeps the row, as if it had expired: what a test's crash
/// hook leaves, so that the next engine can take over at once.
pub async fn expire(conn: impl AnyExecutor<'_>, run: RunId, holder: &str) -> sqlx::Result<()> {
    crate::store::sql::query(
        "UPDATE run_leases SET expires_at = ? WHERE run_id = ? AND holder = ?",
    )
    .bind(now_millis())
    .bind(run.to_string())
    .bind(holder)
    .execute(conn)
    .await?;
    Ok(())
}

/// Whether `holder` holds the run's lease now (checked in the transaction that records a job's end).
pub async fn held(conn: impl AnyExecutor<'_>, run: RunId, holder: &str) -> sqlx::Result<bool> {
    let row = crate::store::sql::query(
        "SELECT 1 FROM run_leases WHERE run_id = ? AND holder = ? AND expires_at > ?",
    )
    .bind(run.to_string())
    .bind(holder)
    .bind(now_millis())
    .fetch_optional(conn)
    .await?;
    Ok(row.is_some())
}

/// The run's lease row, live or expired.
pub async fn get(conn: impl AnyExecutor<'_>, run: RunId) -> sqlx::Result<Option<Lease>> {
    let row = crate::store::sql::query("SELECT * FROM run_leases WHERE run_id = ?")
        .bind(run.to_string())
        .fetch_optional(conn)
        .await?;
    row.map(|r| from_row(&r, run)).transpose()
}

fn from_row(r: &sqlx::any::AnyRow, run: RunId) -> sqlx::Result<Lease> {
    Ok(Lease {
        run_id: run,
        holder: r.try_get("holder")?,
        acquired_at: from_millis(r.try_get("acquired_at")?),
        expires_at: from_millis(r.try_get("expires_at")?),
    })
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::store::runs::{self, NewRun};
    use crate::store::tests::temp_store;

    async fn some_run(store: &crate::store::Store) -> RunId {
        let new = NewRun {
            account: "acct",
            region: "ap-guangzhou",
            vpc_id: "vpc-1",
            started_by: "alice",
        };
        runs::insert(store, &new).await.unwrap().id
    }

    const TTL: Duration = Duration::from_secs(15);

    #[tokio::test]
    async fn a_live_lease_is_taken_by_one_process_only_and_renewed_only_by_it() {
        let (_dir, store) = temp_store().await;
        let run = some_run(&store).await;
        let w = store.writer();
        let mine = take(w.clone(), run, "a", TTL).await.unwrap().unwrap();
        assert_eq!(mine.holder, "a");
        let refused = take(w.clone(), run, "b", TTL).await.unwrap().unwrap_err();
        assert_eq!(refused.holder, "a");
        assert!(renew(w.clone(), run, "a", TTL).await.unwrap());
        assert!(!renew(w.clone(), run, "b", TTL).await.unwrap());
        assert!(held(w.clone(), run, "a").await.unwrap());
        assert!(!held(w.clone(), run, "b").await.unwrap());
        // Taking again as the holder keeps it (and when it was first taken).
        let again = take(w.clone(), run, "a", TTL).await.unwrap().unwrap();
        assert_eq!(again.acquired_at, mine.acquired_at);
    }

    #[tokio::test]
    async fn an_expired_lease_can_be_taken_over_and_the_old_holder_cannot_renew_it() {
        let (_dir, store) = temp_store().await;
        let run = some_run(&store).await;
        let w = store.writer();
        take(w.clone(), run, "a", TTL).await.unwrap().unwrap();
        expire(w.clone(), run, "a").await.unwrap();
        assert!(!held(w.clone(), run, "a").await.unwrap());
        let taken = take(w.clone(), run, "b", TTL).await.unwrap().unwrap();
        assert_eq!(taken.holder, "b");
        assert!(!renew(w.clone(), run, "a", TTL).await.unwrap());
        release(w.clone(), run, "a").await.unwrap();
        assert_eq!(get(w.clone(), run).await.unwrap().unwrap().holder, "b");
        release(w.clone(), run, "b").await.unwrap();
        assert_eq!(get(w.clone(), run).await.unwrap(), None);
    }
}
