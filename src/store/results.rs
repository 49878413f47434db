//! Per-run findings: egress test results (baseline and after), protected-host decisions and
//! the stored reports (exposure, final, rollback).

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{AnyExecutor, Row};

use super::types::{
    EgressOutcome, EgressPhase, ReportKind, RunId, decode, from_millis, now_millis,
};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EgressResult {
    pub instance_id: String,
    pub phase: EgressPhase,
    pub outcome: EgressOutcome,
    pub ip: Option<String>,
    pub detail: String,
    pub at: DateTime<Utc>,
}

/// Stores (or replaces, on a re-test) one instance's egress result.
pub async fn put_egress(
    conn: impl AnyExecutor<'_>,
    run: RunId,
    r: &EgressResult,
) -> sqlx::Result<()> {
    crate::store::sql::query(
        "INSERT INTO egress_results (run_id, phase, instance_id, outcome, ip, detail, at) \
         VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (run_id, phase, instance_id) DO UPDATE SET \
         outcome = excluded.outcome, ip = excluded.ip, detail = excluded.detail, at = excluded.at",
    )
    .bind(run.to_string())
    .bind(r.phase.as_str())
    .bind(&r.instance_id)
    .bind(r.outcome.as_str())
    .bind(&r.ip)
    .bind(&r.detail)
    .bind(r.at.timestamp_millis())
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn list_egress(
    conn: impl AnyExecutor<'_>,
    run: RunId,
    phase: EgressPhase,
) -> sqlx::Result<Vec<EgressResult>> {
    let rows = crate::store::sql::query(
        "SELECT * FROM egress_results WHERE run_id = ? AND phase = ? ORDER BY instance_id",
    )
    .bind(run.to_string())
    .bind(phase.as_str())
    .fetch_all(conn)
    .await?;
    egress_rows(&rows, phase)
}

/// One instance's result of `phase`, if it has one (none or one: the key is per instance).
pub async fn egress_of(
    conn: impl AnyExecutor<'_>,
    run: RunId,
    phase: EgressPhase,
    instance_id: &str,
) -> sqlx::Result<Vec<EgressResult>> {
    let rows = crate::store::sql::query(
        "SELECT * FROM egress_results WHERE run_id = ? AND phase = ? AND instance_id = ?",
    )
    .bind(run.to_string())
    .bind(phase.as_str())
    .bind(instance_id)
    .fetch_all(conn)
    .await?;
    egress_rows(&rows, phase)
}

fn egress_rows(rows: &[sqlx::any::AnyRow], phase: EgressPhase) -> sqlx::Result<Vec<EgressResult>> {
    rows.iter()
        .map(|r| {
            let outcome: String = r.try_get("outcome")?;
            Ok(EgressResult {
                instance_id: r.try_get("instance_id")?,
                phase,
                outcome: decode(outcome.parse())?,
                ip: r.try_get("ip")?,
                detail: r.try_get("detail")?,
                at: from_millis(r.try_get("at")?),
            })
        })
        .collect()
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProtectedHost {
    pub instance_id: String,
    pub protected: bool,
    /// `dns`, `tag` or `operator`.
    pub reason: String,
    pub detail: String,
    pub decided_by: String,
    pub at: DateTime<Utc>,
}

pub async fn put_protected(
    conn: impl AnyExecutor<'_>,
    run: RunId,
    h: &ProtectedHost,
) -> sqlx::Result<()> {
    crate::store::sql::query(
        "INSERT INTO protected_hosts (run_id, instance_id, protected, reason, detail, decided_by, at) \
         VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (run_id, instance_id) DO UPDATE SET \
         protected = excluded.protected, reason = excluded.reason, detail = excluded.detail, \
         decided_by = excluded.decided_by, at = excluded.at",
    )
    .bind(run.to_string())
    .bind(&h.instance_id)
    .bind(i64::from(h.protected))
    .bind(&h.reason)
    .bind(&h.detail)
    .bind(&h.decided_by)
    .bind(h.at.timestamp_millis())
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn list_protected(
    conn: impl AnyExecutor<'_>,
    run: RunId,
) -> sqlx::Result<Vec<ProtectedHost>> {
    let rows = crate::store::sql::query(
        "SELECT * FROM protected_hosts WHERE run_id = ? ORDER BY instance_id",
    )
    .bind(run.to_string())
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(ProtectedHost {
                instance_id: r.try_get("instance_id")?,
                protected: crate::store::sql::flag(r, "protected")?,
                reason: r.try_get("reason")?,
                detail: r.try_get("detail")?,
                decided_by: r.try_get("decided_by")?,
                at: from_millis(r.try_get("at")?),
            })
        })
        .collect()
}

pub async fn put_report(
    conn: impl AnyExecutor<'_>,
    run: RunId,
    kind: ReportKind,
    body: &serde_json::Value,
) -> sqlx::Result<()> {
    crate::store::sql::query(
        "INSERT INTO run_reports (run_id, kind, body, at) VALUES (?, ?, ?, ?) \
         ON CONFLICT (run_id, kind) DO UPDATE SET body = excluded.body, at = excluded.at",
    )
    .bind(run.to_string())
    .bind(kind.as_str())
    .bind(body.to_string())
    .bind(now_millis())
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn get_report(
    conn: impl AnyExecutor<'_>,
    run: RunId,
    kind: ReportKind,
) -> sqlx::Result<Option<serde_json::Value>> {
    let body: Option<String> = crate::store::sql::query_scalar(
        "SELECT body FROM run_reports WHERE run_id = ? AND kind = ?",
    )
    .bind(run.to_string())
    .bind(kind.as_str())
    .fetch_optional(conn)
    .await?;
    body.map(|b| decode(serde_json::from_str(&b))).transpose()
}
