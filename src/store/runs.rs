//! The `runs` table: starting a run (refused while another run holds the VPC), status
//! transitions, and the history listing with keyset pagination.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
// Dynamic SQL here is assembled only from constant fragments; values always go through `bind`.
use sqlx::{AnyExecutor, AssertSqlSafe, Row, any::AnyRow};

use super::Store;
use super::types::{RunId, RunStatus, Step, decode, from_millis, now_millis, to_millis};

/// A failed cloud call or step, as the operator must see it (DESIGN: code, message, RequestId).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Failure {
    pub step: Step,
    /// `apply` or `rollback`.
    pub phase: String,
    pub code: String,
    pub message: String,
    pub request_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Run {
    pub id: RunId,
    pub account: String,
    pub region: String,
    pub vpc_id: String,
    pub started_by: String,
    pub status: RunStatus,
    pub current_step: Step,
    pub last_error: Option<Failure>,
    pub started_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub finished_by: Option<String>,
}

impl Run {
    /// The real VPC this run rehearses, when its account is a simulated twin's (issue 13
    /// item 7); `None` for a run on a real account.
    pub fn rehearsal_of(&self) -> Option<super::rehearsals::RehearsalOf> {
        crate::rehearsal::TwinLabel::parse(&self.account).map(|l| super::rehearsals::RehearsalOf {
            account: l.of_account,
            region: self.region.clone(),
            vpc_id: self.vpc_id.clone(),
        })
    }

    pub fn is_rehearsal(&self) -> bool {
        crate::rehearsal::TwinLabel::is_twin(&self.account)
    }
}

#[derive(Debug, Clone)]
pub struct NewRun<'a> {
    pub account: &'a str,
    pub region: &'a str,
    pub vpc_id: &'a str,
    pub started_by: &'a str,
}

/// Who holds a VPC, for the "busy" refusal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Holder {
    pub run: RunId,
    pub started_by: String,
    pub since: DateTime<Utc>,
}

#[derive(Debug, thiserror::Error)]
pub enum InsertRunError {
    #[error("VPC is busy: run {} started by {} at {} is still active", .0.run, .0.started_by, .0.since)]
    VpcBusy(Holder),
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

const COLUMNS: &str = "id, account, region, vpc_id, started_by, status, current_step, \
     last_error, started_at, updated_at, finished_at, finished_by";

fn run_from_row(row: &AnyRow) -> sqlx::Result<Run> {
    run_from_tuple((
        row.try_get("id")?,
        row.try_get("account")?,
        row.try_get("region")?,
        row.try_get("vpc_id")?,
        row.try_get("started_by")?,
        row.try_get("status")?,
        row.try_get("current_step")?,
        row.try_get("last_error")?,
        row.try_get("started_at")?,
        row.try_get("updated_at")?,
        row.try_get("finished_at")?,
        row.try_get("finished_by")?,
    ))
}

/// One run's columns in `COLUMNS` order: a row's, or an element of the history page's
/// one-row JSON form.
type RunTuple = (
    String,
    String,
    String,
    String,
    String,
    String,
    i64,
    Option<String>,
    i64,
    i64,
    Option<i64>,
    Option<String>,
);

fn run_from_tuple(t: RunTuple) -> sqlx::Result<Run> {
    let (id, account, region, vpc_id, started_by, status, step, last_error) =
        (t.0, t.1, t.2, t.3, t.4, t.5, t.6, t.7);
    let (started, updated, finished, finished_by) = (t.8, t.9, t.10, t.11);
    Ok(Run {
        id: decode(id.parse())?,
        account,
        region,
        vpc_id,
        started_by,
        status: decode(status.parse())?,
        current_step: decode(Step::from_number(step))?,
        last_error: last_error
            .map(|j| decode(serde_json::from_str(&j)))
            .transpose()?,
        started_at: from_millis(started),
        updated_at: from_millis(updated),
        finished_at: finished.map(from_millis),
        finished_by,
    })
}

/// Inserts a new `active` run at step 1. The unique partial index decides races: whoever
/// loses gets `VpcBusy` naming the holder.
#[tracing::instrument(skip_all)]
pub async fn insert(store: &Store, new: &NewRun<'_>) -> Result<Run, InsertRunError> {
    let id = RunId::new();
    let now = now_millis();
    let mut tx = store.begin_write().await?;
    let inserted = crate::store::sql::query(
        "INSERT INTO runs (id, account, region, vpc_id, started_by, status, current_step, \
         started_at, updated_at) VALUES (?, ?, ?, ?, ?, 'active', 1, ?, ?) \
         ON CONFLICT DO NOTHING",
    )
    .bind(id.to_string())
    .bind(new.account)
    .bind(new.region)
    .bind(new.vpc_id)
    .bind(new.started_by)
    .bind(now)
    .bind(now)
    .execute(&mut *tx)
    .await;
    // A conflict is told by no row inserted, not by an error: on PostgreSQL an error ends
    // the transaction, and the holder is read in the same one.
    match inserted {
        Ok(done) if done.rows_affected() == 1 => {
            let run = get(&mut *tx, id).await?.ok_or(sqlx::Error::RowNotFound)?;
            tx.commit().await?;
            Ok(run)
        }
        Ok(_) => {
            let holder = active_holder(&mut *tx, new.account, new.region, new.vpc_id).await?;
            tx.rollback().await?;
            Err(InsertRunError::VpcBusy(
                holder.ok_or(sqlx::Error::RowNotFound)?,
            ))
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn active_holder(
    conn: impl AnyExecutor<'_>,
    account: &str,
    region: &str,
    vpc_id: &str,
) -> sqlx::Result<Option<Holder>> {
    let row = crate::store::sql::query(
        "SELECT id, started_by, started_at FROM runs WHERE account = ? AND region = ? AND \
         vpc_id = ? AND status IN ('active', 'applying', 'failed', 'rolling_back')",
    )
    .bind(account)
    .bind(region)
    .bind(vpc_id)
    .fetch_optional(conn)
    .await?;
    row.map(|r| {
        let id: String = r.try_get("id")?;
        Ok(Holder {
            run: decode(id.parse())?,
            started_by: r.try_get("started_by")?,
            since: from_millis(r.try_get("started_at")?),
        })
    })
    .transpose()
}

pub async fn get(conn: impl AnyExecutor<'_>, id: RunId) -> sqlx::Result<Option<Run>> {
    let sql = format!("SELECT {COLUMNS} FROM runs WHERE id = ?");
    let row = crate::store::sql::query(AssertSqlSafe(sql))
        .bind(id.to_string())
        .fetch_optional(conn)
        .await?;
    row.as_ref().map(run_from_row).transpose()
}

/// What a run's live view depends on that another process can change, read in one indexed
/// lookup: its status, its last update and its newest event. Equal marks mean the view of a
/// run that is not being applied cannot have changed (issue 11: a waiting run's stream no
/// longer re-renders its fragment every second).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunMark {
    pub status: RunStatus,
    pub updated_at_ms: i64,
    pub last_event: i64,
}

pub async fn mark(conn: impl AnyExecutor<'_>, id: RunId) -> sqlx::Result<Option<RunMark>> {
    let row: Option<(String, i64, i64)> = crate::store::sql::query_as(
        "SELECT status, updated_at, \
         COALESCE((SELECT MAX(id) FROM run_events WHERE run_id = runs.id), 0) \
         FROM runs WHERE id = ?",
    )
    .bind(id.to_string())
    .fetch_optional(conn)
    .await?;
    row.map(|(status, updated_at_ms, last_event)| {
        Ok(RunMark {
            status: decode(status.parse())?,
            updated_at_ms,
            last_event,
        })
    })
    .transpose()
}

/// Records a transition. `last_error` is replaced (None clears it); a terminal status also
/// stamps `finished_at`/`finished_by`.
pub async fn set_status(
    conn: impl AnyExecutor<'_>,
    id: RunId,
    status: RunStatus,
    step: Step,
    last_error: Option<&Failure>,
    actor: Option<&str>,
) -> sqlx::Result<()> {
    let now = now_millis();
    let finished = (!status.holds_vpc()).then_some(now);
    let err = last_error.map(|e| serde_json::to_string(e).unwrap_or_default());
    crate::store::sql::query(
        "UPDATE runs SET status = ?, current_step = ?, last_error = ?, updated_at = ?, \
         finished_at = ?, finished_by = CASE WHEN ? IS NULL THEN NULL ELSE ? END WHERE id = ?",
    )
    .bind(status.as_str())
    .bind(step.number())
    .bind(err)
    .bind(now)
    .bind(finished)
    .bind(finished)
    .bind(actor)
    .bind(id.to_string())
    .execute(conn)
    .await?;
    Ok(())
}

/// Moves a run from one of `from` to `to` (and `step`), clearing `last_error`. Returns false,
/// changing nothing, when the run is not in one of `from`: that is how two operators pressing
/// the same button at once cannot both start work.
pub async fn transition(
    conn: impl AnyExecutor<'_>,
    id: RunId,
    from: &[RunStatus],
    to: RunStatus,
    step: Step,
    actor: Option<&str>,
) -> sqlx::Result<bool> {
    let now = now_millis();
    let finished = (!to.holds_vpc()).then_some(now);
    let mut done = crate::store::sql::query(AssertSqlSafe(format!(
        "UPDATE runs SET status = ?, current_step = ?, last_error = NULL, updated_at = ?, \
         finished_at = ?, finished_by = CASE WHEN ? IS NULL THEN NULL ELSE ? END \
         WHERE id = ? AND status IN ({})",
        crate::store::sql::placeholders(from.len())
    )))
    .bind(to.as_str())
    .bind(step.number())
    .bind(now)
    .bind(finished)
    .bind(finished)
    .bind(actor)
    .bind(id.to_string());
    for status in from {
        done = done.bind(status.as_str());
    }
    if from.is_empty() {
        done = done.bind(""); // the one placeholder of an empty list: matches no status
    }
    let done = done.execute(conn).await?;
    Ok(done.rows_affected() == 1)
}

/// Whether run `id` stands at `status` on `step`, holding its row (a write that changes
/// nothing) until the transaction ends: a transition made meanwhile by another transaction
/// waits for it, or was made before and makes this false.
pub async fn still(
    conn: impl AnyExecutor<'_>,
    id: RunId,
    status: RunStatus,
    step: Step,
) -> sqlx::Result<bool> {
    let done = crate::store::sql::query(
        "UPDATE runs SET updated_at = updated_at WHERE id = ? AND status = ? AND current_step = ?",
    )
    .bind(id.to_string())
    .bind(status.as_str())
    .bind(step.number())
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Runs the engine must pick up again after a restart.
pub async fn unfinished_work(conn: impl AnyExecutor<'_>) -> sqlx::Result<Vec<Run>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM runs WHERE status IN ('applying', 'rolling_back') ORDER BY started_at"
    );
    let rows = crate::store::sql::query(AssertSqlSafe(sql))
        .fetch_all(conn)
        .await?;
    rows.iter().map(run_from_row).collect()
}

/// Filters of the history page; `None` means "any".
#[derive(Debug, Clone, Default)]
pub struct RunFilter {
    pub status: Option<RunStatus>,
    pub vpc_id: Option<String>,
    pub started_by: Option<String>,
    /// Runs started at or after this instant.
    pub from: Option<DateTime<Utc>>,
    /// Runs started before this instant.
    pub until: Option<DateTime<Utc>>,
}

/// Position after the last row of a page: (started_at, id). Opaque text for URLs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    pub started_at: i64,
    pub id: String,
}

impl Cursor {
    pub fn encode(&self) -> String {
        format!("{}_{}", self.started_at, self.id)
    }

    /// Parses what `encode` produced; anything else is `None` (a bad link shows page one).
    pub fn decode(s: &str) -> Option<Cursor> {
        let (ms, id) = s.split_once('_')?;
        let id: RunId = id.parse().ok()?;
        Some(Cursor {
            started_at: ms.parse().ok()?,
            id: id.to_string(),
        })
    }
}

#[derive(Debug, Clone)]
pub struct RunPage {
    pub runs: Vec<Run>,
    /// Cursor for the next (older) page, if there is one.
    pub next: Option<Cursor>,
}

/// One page of history, newest first. Keyset pagination on (started_at, id) rides the
/// `runs_by_*` indexes, so page N costs the same as page 1 at a million runs.
#[tracing::instrument(skip_all)]
pub async fn list(
    conn: impl AnyExecutor<'_>,
    filter: &RunFilter,
    after: Option<&Cursor>,
    limit: u32,
) -> sqlx::Result<RunPage> {
    let limit = limit.clamp(1, 500);
    let mut sql = format!("SELECT {COLUMNS} FROM runs WHERE 1 = 1");
    if filter.status.is_some() {
        sql.push_str(" AND status = ?");
    }
    if filter.vpc_id.is_some() {
        sql.push_str(" AND vpc_id = ?");
    }
    if filter.started_by.is_some() {
        sql.push_str(" AND started_by = ?");
    }
    if filter.from.is_some() {
        sql.push_str(" AND started_at >= ?");
    }
    if filter.until.is_some() {
        sql.push_str(" AND started_at < ?");
    }
    if after.is_some() {
        sql.push_str(" AND (started_at, id) < (?, ?)");
    }
    // The limit is written into the SQL, not bound: SQLite re-prepares a statement on every
    // execution when `LIMIT ?` is bound (it plans with the bound value), which cost more
    // than the query itself. `limit` is our own clamped integer, so this is not injection.
    sql.push_str(&format!(
        " ORDER BY started_at DESC, id DESC LIMIT {}",
        limit + 1
    ));
    // The page comes back as ONE row holding a JSON array of rows: sqlx hands every SQLite
    // row from its worker thread to the async task separately, and for a 51-row page those
    // hand-overs cost more than the query itself (history benchmark, issue 5).
    let sql = match crate::store::sql::dialect() {
        crate::store::sql::Dialect::Sqlite => format!(
            "SELECT json_group_array(json_array({COLUMNS}) ORDER BY started_at DESC, id DESC) \
             FROM ({sql}) AS page"
        ),
        crate::store::sql::Dialect::Postgres => format!(
            "SELECT COALESCE(json_agg(json_build_array({COLUMNS}) \
             ORDER BY started_at DESC, id DESC), '[]')::text FROM ({sql}) AS page"
        ),
    };
    let mut q = crate::store::sql::query_scalar::<String>(AssertSqlSafe(sql));
    if let Some(s) = filter.status {
        q = q.bind(s.as_str());
    }
    if let Some(v) = &filter.vpc_id {
        q = q.bind(v.clone());
    }
    if let Some(u) = &filter.started_by {
        q = q.bind(u.clone());
    }
    if let Some(t) = filter.from {
        q = q.bind(to_millis(t));
    }
    if let Some(t) = filter.until {
        q = q.bind(to_millis(t));
    }
    if let Some(c) = after {
        q = q.bind(c.started_at).bind(c.id.clone());
    }
    let page = q.fetch_one(conn).await?;
    let rows: Vec<RunTuple> = decode(serde_json::from_str(&page))?;
    let mut runs = rows
        .into_iter()
        .map(run_from_tuple)
        .collect::<sqlx::Result<Vec<_>>>()?;
    let next = (runs.len() > limit as usize).then(|| {
        runs.truncate(limit as usize);
        let last = runs.last().expect("limit is at least 1");
        Cursor {
            started_at: to_millis(last.started_at),
            id: last.id.to_string(),
        }
    });
    Ok(RunPage { runs, next })
}

/// [`list`] through the store's short-lived page cache (`read_cache`): the history page.
pub async fn list_cached(
    store: &Store,
    filter: &RunFilter,
    after: Option<&Cursor>,
    limit: u32,
) -> sqlx::Result<Arc<RunPage>> {
    let key = format!("{filter:?}|{after:?}|{limit}");
    // Taken before the read: a write committed during it leaves the entry stale.
    let (generation, now) = (store.write_generation(), std::time::Instant::now());
    if let Some(page) = store.history().get(&key, generation, now) {
        return Ok(page);
    }
    let page = Arc::new(list(store.readers(), filter, after, limit).await?);
    store.history().put(key, page.clone(), generation, now);
    Ok(page)
}

/// How many runs are in each status (the `natpilot_runs` gauge). Uses the status index.
pub async fn count_by_status(conn: impl AnyExecutor<'_>) -> sqlx::Result<Vec<(String, i64)>> {
    crate::store::sql::query_as("SELECT status, COUNT(*) FROM runs GROUP BY status ORDER BY status")
        .fetch_all(conn)
        .await
}
