//! Drift findings (migration 0210): one live (open or accepted) row per (account, region,
//! VPC, kind, subject), raised, seen again, closed and accepted. SQL only; `estate::drift_scan`
//! decides. Rows are read back strictly: a finding or state that does not decode is an
//! error for the reader, never a row quietly left out of the page or the metrics.

use chrono::{DateTime, Utc};
use sqlx::{AnyExecutor, Row, any::AnyRow};

use super::types::{RunId, RunStatus, decode, from_millis, now_millis};
use crate::estate::drift::{DriftKind, VpcKey};

#[derive(Debug, thiserror::Error)]
#[error("drift finding {id} does not decode ({detail}); natpilot stops rather than guess")]
pub struct CorruptFinding {
    pub id: i64,
    pub detail: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FindingState {
    Open,
    /// Closed by an operator's reason; kept live so the scan does not raise it again.
    Accepted,
    Closed,
}

impl FindingState {
    fn parse(s: &str) -> Option<FindingState> {
        match s {
            "open" => Some(FindingState::Open),
            "accepted" => Some(FindingState::Accepted),
            "closed" => Some(FindingState::Closed),
            _ => None,
        }
    }
}

/// Why a finding closed by itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClosedHow {
    /// A later scan no longer saw it.
    Gone,
    /// A newer run on the VPC completed.
    NewRun,
}

impl ClosedHow {
    fn as_str(self) -> &'static str {
        match self {
            ClosedHow::Gone => "gone",
            ClosedHow::NewRun => "new_run",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub id: i64,
    pub at: VpcKey,
    pub run: RunId,
    pub finding: DriftKind,
    pub state: FindingState,
    pub first_seen: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
    /// The newest scan that saw it.
    pub last_scan: i64,
    pub accepted_by: Option<String>,
    pub accepted_at: Option<DateTime<Utc>>,
    pub accept_reason: Option<String>,
}

/// A static query over findings, `$tail` appended (values always bound).
macro_rules! findings_where {
    ($tail:literal) => {
        concat!(
            "SELECT id, account, region, vpc_id, run_id, kind, subject, finding, state, \
             first_seen, last_seen, last_scan, accepted_by, accepted_at, accept_reason \
             FROM drift_findings ",
            $tail
        )
    };
}

fn finding(r: &AnyRow) -> sqlx::Result<Finding> {
    let id: i64 = r.try_get("id")?;
    let corrupt = |detail: String| sqlx::Error::Decode(Box::new(CorruptFinding { id, detail }));
    let kind: String = r.try_get("kind")?;
    let subject: String = r.try_get("subject")?;
    let json: String = r.try_get("finding")?;
    let state: String = r.try_get("state")?;
    let run: String = r.try_get("run_id")?;
    Ok(Finding {
        id,
        at: VpcKey {
            account: r.try_get("account")?,
            region: r.try_get("region")?,
            vpc_id: r.try_get("vpc_id")?,
        },
        run: decode(run.parse())?,
        finding: DriftKind::decode(&kind, &subject, &json).map_err(corrupt)?,
        state: FindingState::parse(&state)
            .ok_or_else(|| corrupt(format!("unknown state {state:?}")))?,
        first_seen: from_millis(r.try_get("first_seen")?),
        last_seen: from_millis(r.try_get("last_seen")?),
        last_scan: r.try_get("last_scan")?,
        accepted_by: r.try_get("accepted_by")?,
        accepted_at: r.try_get::<Option<i64>, _>("accepted_at")?.map(from_millis),
        accept_reason: r.try_get("accept_reason")?,
    })
}

/// The newest run of (account, region, VPC) and its status.
pub async fn latest_run(
    conn: impl AnyExecutor<'_>,
    at: &VpcKey,
) -> sqlx::Result<Option<(RunId, RunStatus)>> {
    let row = crate::store::sql::query(
        "SELECT id, status FROM runs WHERE account = ? AND region = ? AND vpc_id = ? \
         ORDER BY started_at DESC, id DESC LIMIT 1",
    )
    .bind(&at.account)
    .bind(&at.region)
    .bind(&at.vpc_id)
    .fetch_optional(conn)
    .await?;
    row.map(|r| {
        let id: String = r.try_get("id")?;
        let status: String = r.try_get("status")?;
        Ok((decode(id.parse())?, decode(status.parse())?))
    })
    .transpose()
}

/// The open and accepted findings of one VPC.
pub async fn live_in(conn: impl AnyExecutor<'_>, at: &VpcKey) -> sqlx::Result<Vec<Finding>> {
    crate::store::sql::query(findings_where!(
        "WHERE account = ? AND region = ? AND vpc_id = ? \
         AND state IN ('open', 'accepted') ORDER BY id"
    ))
    .bind(&at.account)
    .bind(&at.region)
    .bind(&at.vpc_id)
    .fetch_all(conn)
    .await?
    .iter()
    .map(finding)
    .collect()
}

/// Every open finding, newest first (the estate page).
pub async fn open(conn: impl AnyExecutor<'_>) -> sqlx::Result<Vec<Finding>> {
    crate::store::sql::query(findings_where!("WHERE state = 'open' ORDER BY id DESC"))
        .fetch_all(conn)
        .await?
        .iter()
        .map(finding)
        .collect()
}

pub async fn get(conn: impl AnyExecutor<'_>, id: i64) -> sqlx::Result<Option<Finding>> {
    crate::store::sql::query(findings_where!("WHERE id = ?"))
        .bind(id)
        .fetch_optional(conn)
        .await?
        .as_ref()
        .map(finding)
        .transpose()
}

/// Raises a finding seen by `scan`; returns its id.
pub async fn raise(
    conn: impl AnyExecutor<'_>,
    at: &VpcKey,
    run: RunId,
    d: &DriftKind,
    scan: i64,
) -> sqlx::Result<i64> {
    let json = serde_json::to_string(d).map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
    let now = now_millis();
    crate::store::sql::query_scalar(
        "INSERT INTO drift_findings (account, region, vpc_id, run_id, kind, subject, finding, \
         state, first_seen, last_seen, first_scan, last_scan) \
         VALUES (?, ?, ?, ?, ?, ?, ?, 'open', ?, ?, ?, ?) RETURNING id",
    )
    .bind(&at.account)
    .bind(&at.region)
    .bind(&at.vpc_id)
    .bind(run.to_string())
    .bind(d.kind())
    .bind(d.subject())
    .bind(json)
    .bind(now)
    .bind(now)
    .bind(scan)
    .bind(scan)
    .fetch_one(conn)
    .await
}

/// `scan` saw a live finding again.
pub async fn seen_again(conn: impl AnyExecutor<'_>, id: i64, scan: i64) -> sqlx::Result<()> {
    crate::store::sql::query("UPDATE drift_findings SET last_seen = ?, last_scan = ? WHERE id = ?")
        .bind(now_millis())
        .bind(scan)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Closes a live finding by itself.
pub async fn close(conn: impl AnyExecutor<'_>, id: i64, how: ClosedHow) -> sqlx::Result<()> {
    crate::store::sql::query(
        "UPDATE drift_findings SET state = 'closed', closed_how = ?, closed_at = ? \
         WHERE id = ? AND state IN ('open', 'accepted')",
    )
    .bind(how.as_str())
    .bind(now_millis())
    .bind(id)
    .execute(conn)
    .await?;
    Ok(())
}

/// Run `run` on the VPC completed: findings against any other run are closed.
pub async fn close_for_new_run(
    conn: impl AnyExecutor<'_>,
    at: &VpcKey,
    run: RunId,
) -> sqlx::Result<u64> {
    let done = crate::store::sql::query(
        "UPDATE drift_findings SET state = 'closed', closed_how = 'new_run', closed_at = ? \
         WHERE account = ? AND region = ? AND vpc_id = ? AND run_id != ? \
         AND state IN ('open', 'accepted')",
    )
    .bind(now_millis())
    .bind(&at.account)
    .bind(&at.region)
    .bind(&at.vpc_id)
    .bind(run.to_string())
    .execute(conn)
    .await?;
    Ok(done.rows_affected())
}

/// An operator accepts an open finding with a reason; false when it is not open.
pub async fn accept(
    conn: impl AnyExecutor<'_>,
    id: i64,
    by: &str,
    reason: &str,
) -> sqlx::Result<bool> {
    let done = crate::store::sql::query(
        "UPDATE drift_findings SET state = 'accepted', accepted_by = ?, accepted_at = ?, \
         accept_reason = ? WHERE id = ? AND state = 'open'",
    )
    .bind(by)
    .bind(now_millis())
    .bind(reason)
    .bind(id)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Open findings per stored kind (kinds without any are absent).
pub async fn open_counts(conn: impl AnyExecutor<'_>) -> sqlx::Result<Vec<(String, i64)>> {
    crate::store::sql::query(
        "SELECT kind, COUNT(*) FROM drift_findings WHERE state = 'open' GROUP BY kind",
    )
    .fetch_all(conn)
    .await?
    .iter()
    .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
    .collect()
}
