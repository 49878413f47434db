//! The `rehearsals` table (issue 13 item 7): which real (account, region, VPC) a rehearsal run
//! rehearses on its simulated twin. The run is an ordinary `runs` row; this is its typed
//! "rehearsal of" field, read back strictly.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{AnyExecutor, Row, any::AnyRow};

pub use super::types::RehearsalPhase;
use super::types::{RunId, RunStatus, Step, decode, from_millis, now_millis};

/// The real VPC a rehearsal copies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RehearsalOf {
    pub account: String,
    pub region: String,
    pub vpc_id: String,
}

impl std::fmt::Display for RehearsalOf {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} / {} / {}", self.account, self.region, self.vpc_id)
    }
}

/// How far the copy of the real VPC is: `what` (in words, e.g. "instances") as listed by
/// `action` (e.g. `DescribeInstances`), `listed` so far, of `total` when the cloud said.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CopyProgress {
    pub what: String,
    pub action: String,
    pub listed: i64,
    pub total: Option<i64>,
}

/// One rehearsal with where its run stands, for the estate page's list.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Rehearsal {
    pub run: RunId,
    pub of: RehearsalOf,
    /// What the read-only snapshot could not capture (e.g. no DNSPod permission).
    pub warnings: Vec<String>,
    pub status: RunStatus,
    pub current_step: Step,
    pub started_by: String,
    pub started_at: DateTime<Utc>,
    /// Why natpilot ended the run itself (the twin was lost at a restart).
    pub ended_reason: Option<String>,
    /// The process (engine lease holder) whose memory holds the twin, and until when its
    /// heartbeat vouches for it; `None` for a rehearsal from before owners were recorded.
    pub owner: Option<String>,
    pub owner_until: Option<DateTime<Utc>>,
    pub phase: RehearsalPhase,
    /// What the copy lists now (while copying; where it stopped, for a copy that failed).
    pub copy: Option<CopyProgress>,
}

impl Rehearsal {
    /// Whether the process that holds the twin still renews its claim at `now`.
    pub fn owner_alive(&self, now: DateTime<Utc>) -> bool {
        self.owner.is_some() && self.owner_until.is_some_and(|u| u > now)
    }
}

const SELECT: &str = "SELECT h.run_id, h.of_account, h.of_region, h.of_vpc_id, h.warnings, \
     h.created_at, h.ended_reason, h.owner, h.owner_until, h.phase, h.copy_what, h.copy_action, h.copy_listed, h.copy_total, \
     r.status, r.current_step, r.started_by \
     FROM rehearsals h JOIN runs r ON r.id = h.run_id";

fn from_row(row: &AnyRow) -> sqlx::Result<Rehearsal> {
    let run: String = row.try_get("run_id")?;
    let warnings: String = row.try_get("warnings")?;
    let status: String = row.try_get("status")?;
    let phase: String = row.try_get("phase")?;
    let copy = match (row.try_get("copy_what")?, row.try_get("copy_action")?) {
        (Some(what), Some(action)) => Some(CopyProgress {
            what,
            action,
            listed: row.try_get::<Option<i64>, _>("copy_listed")?.unwrap_or(0),
            total: row.try_get("copy_total")?,
        }),
        _ => None,
    };
    Ok(Rehearsal {
        phase: decode(phase.parse())?,
        copy,
        run: decode(run.parse())?,
        of: RehearsalOf {
            account: row.try_get("of_account")?,
            region: row.try_get("of_region")?,
            vpc_id: row.try_get("of_vpc_id")?,
        },
        warnings: decode(serde_json::from_str(&warnings))?,
        status: decode(status.parse())?,
        current_step: decode(Step::from_number(row.try_get("current_step")?))?,
        started_by: row.try_get("started_by")?,
        started_at: from_millis(row.try_get("created_at")?),
        ended_reason: row.try_get("ended_reason")?,
        owner: row.try_get("owner")?,
        owner_until: row
            .try_get::<Option<i64>, _>("owner_until")?
            .map(from_millis),
    })
}

/// Who owns a rehearsal's twin: a process's lease holder id, vouched for until `until`.
pub struct Owner<'a> {
    pub holder: &'a str,
    pub until: DateTime<Utc>,
}

fn warnings_json(warnings: &[String]) -> sqlx::Result<String> {
    serde_json::to_string(warnings).map_err(|e| sqlx::Error::Encode(e.into()))
}

/// Marks `run` as a rehearsal of `of`, in `phase`, whose twin `owner` holds (in the
/// transaction that starts the run).
pub async fn insert(
    conn: impl AnyExecutor<'_>,
    run: RunId,
    of: &RehearsalOf,
    phase: RehearsalPhase,
    owner: &Owner<'_>,
) -> sqlx::Result<()> {
    let warnings = warnings_json(&[])?;
    crate::store::sql::query(
        "INSERT INTO rehearsals (run_id, of_account, of_region, of_vpc_id, warnings, created_at, \
         owner, owner_until, phase) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(run.to_string())
    .bind(&of.account)
    .bind(&of.region)
    .bind(&of.vpc_id)
    .bind(warnings)
    .bind(now_millis())
    .bind(owner.holder)
    .bind(owner.until.timestamp_millis())
    .bind(phase.as_str())
    .execute(conn)
    .await?;
    Ok(())
}

/// Records how far the copy of a rehearsal still copying is.
pub async fn set_copy_progress(
    conn: impl AnyExecutor<'_>,
    run: RunId,
    copy: &CopyProgress,
) -> sqlx::Result<()> {
    crate::store::sql::query(
        "UPDATE rehearsals SET copy_what = ?, copy_action = ?, copy_listed = ?, copy_total = ? \
         WHERE run_id = ? AND phase = 'copying'",
    )
    .bind(&copy.what)
    .bind(&copy.action)
    .bind(copy.listed)
    .bind(copy.total)
    .bind(run.to_string())
    .execute(conn)
    .await?;
    Ok(())
}

/// The copy is done: the rehearsal goes on on its twin, with what the snapshot could not
/// capture. False, changing nothing, when the rehearsal was not copying.
pub async fn copied(
    conn: impl AnyExecutor<'_>,
    run: RunId,
    warnings: &[String],
) -> sqlx::Result<bool> {
    let done = crate::store::sql::query(
        "UPDATE rehearsals SET phase = 'rehearsing', warnings = ?, copy_what = NULL, \
         copy_action = NULL, copy_listed = NULL, copy_total = NULL \
         WHERE run_id = ? AND phase = 'copying'",
    )
    .bind(warnings_json(warnings)?)
    .bind(run.to_string())
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The owner's heartbeat: every rehearsal `owner.holder` owns is vouched for until
/// `owner.until` (an `until` in the past gives them up, as a process shutting down does).
pub async fn renew_owner(conn: impl AnyExecutor<'_>, owner: &Owner<'_>) -> sqlx::Result<u64> {
    let done = crate::store::sql::query("UPDATE rehearsals SET owner_until = ? WHERE owner = ?")
        .bind(owner.until.timestamp_millis())
        .bind(owner.holder)
        .execute(conn)
        .await?;
    Ok(done.rows_affected())
}

/// The rehearsal a run is, if it is one.
pub async fn get(conn: impl AnyExecutor<'_>, run: RunId) -> sqlx::Result<Option<Rehearsal>> {
    let sql = format!("{SELECT} WHERE h.run_id = ?");
    let row = crate::store::sql::query(sqlx::AssertSqlSafe(sql))
        .bind(run.to_string())
        .fetch_optional(conn)
        .await?;
    row.as_ref().map(from_row).transpose()
}

/// The newest rehearsals first.
pub async fn recent(conn: impl AnyExecutor<'_>, limit: i64) -> sqlx::Result<Vec<Rehearsal>> {
    let sql = format!("{SELECT} ORDER BY h.created_at DESC, h.run_id DESC LIMIT ?");
    let rows = crate::store::sql::query(sqlx::AssertSqlSafe(sql))
        .bind(limit)
        .fetch_all(conn)
        .await?;
    rows.iter().map(from_row).collect()
}

/// Rehearsal runs not yet ended (their twin lives only as long as the process that made it).
pub async fn unfinished(conn: impl AnyExecutor<'_>) -> sqlx::Result<Vec<Rehearsal>> {
    let sql = format!(
        "{SELECT} WHERE r.status IN ('active', 'applying', 'failed', 'rolling_back') \
         ORDER BY h.created_at"
    );
    let rows = crate::store::sql::query(sqlx::AssertSqlSafe(sql))
        .fetch_all(conn)
        .await?;
    rows.iter().map(from_row).collect()
}

/// How many unfinished rehearsals are still copying their real VPC (each will hold a twin).
pub async fn copying(conn: impl AnyExecutor<'_>) -> sqlx::Result<i64> {
    crate::store::sql::query_scalar(
        "SELECT COUNT(*) FROM rehearsals h JOIN runs r ON r.id = h.run_id \
         WHERE h.phase = 'copying' AND r.status IN ('active', 'applying', 'failed', 'rolling_back')",
    )
    .fetch_one(conn)
    .await
}

/// Records why natpilot ended the rehearsal's run itself.
pub async fn set_ended_reason(
    conn: impl AnyExecutor<'_>,
    run: RunId,
    reason: &str,
) -> sqlx::Result<()> {
    crate::store::sql::query("UPDATE rehearsals SET ended_reason = ? WHERE run_id = ?")
        .bind(reason)
        .bind(run.to_string())
        .execute(conn)
        .await?;
    Ok(())
}
