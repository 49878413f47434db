//! Read-only queries behind the run page and its live progress: step summaries without the
//! (large) plans, undo-record counts and pages, and the newest problems. Each answers in
//! time and size independent of the VPC's size where the page needs it (counts by SQL,
//! pages by keyset), so the run page of a 10,000-instance step stays small and quick.

use chrono::{DateTime, Utc};
use sqlx::{AnyExecutor, AssertSqlSafe, Row};

use super::events::Event;
use super::types::{RunId, Step, StepState, UndoState, decode, from_millis};
use super::undo::UndoRecord;

/// A step of a run as the run page shows it: its state, input and how many changes its
/// confirmed plan holds (counted by SQLite, the plan itself is not read).
#[derive(Debug, Clone)]
pub struct StepSummary {
    pub step: Step,
    pub state: StepState,
    pub input: serde_json::Value,
    pub confirmed_by: Option<String>,
    pub confirmed_at: Option<DateTime<Utc>>,
    pub changes: i64,
}

pub async fn step_summaries(
    conn: impl AnyExecutor<'_>,
    run: RunId,
) -> sqlx::Result<Vec<StepSummary>> {
    let rows = crate::store::sql::query(AssertSqlSafe(format!(
        "SELECT step, state, input, confirmed_by, confirmed_at, \
         COALESCE({}, 0) AS changes \
         FROM run_steps WHERE run_id = ? ORDER BY step",
        crate::store::sql::json_array_length("plan", "items")
    )))
    .bind(run.to_string())
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|r| {
            let state: String = r.try_get("state")?;
            let input: String = r.try_get("input")?;
            Ok(StepSummary {
                step: decode(Step::from_number(r.try_get("step")?))?,
                state: decode(state.parse())?,
                input: decode(serde_json::from_str(&input))?,
                confirmed_by: r.try_get("confirmed_by")?,
                confirmed_at: r
                    .try_get::<Option<i64>, _>("confirmed_at")?
                    .map(from_millis),
                changes: r.try_get("changes")?,
            })
        })
        .collect()
}

/// How many changes of each kind (the plan's `change.kind`, e.g. `return_normal_address`) a
/// step's confirmed plan holds. Reads the whole plan: callers keep the answer (a confirmed
/// plan does not change).
pub async fn plan_kinds(
    conn: impl AnyExecutor<'_>,
    run: RunId,
    step: Step,
) -> sqlx::Result<Vec<(String, i64)>> {
    let sql = match crate::store::sql::dialect() {
        crate::store::sql::Dialect::Sqlite => {
            "SELECT json_extract(e.value, '$.change.kind') AS kind, COUNT(*) AS n \
             FROM run_steps, json_each(run_steps.plan, '$.items') AS e \
             WHERE run_id = ? AND step = ? GROUP BY kind"
        }
        crate::store::sql::Dialect::Postgres => {
            "SELECT e -> 'change' ->> 'kind' AS kind, COUNT(*) AS n \
             FROM run_steps, json_array_elements(run_steps.plan::json -> 'items') AS e \
             WHERE run_id = ? AND step = ? GROUP BY 1"
        }
    };
    let rows = crate::store::sql::query(AssertSqlSafe(sql))
        .bind(run.to_string())
        .bind(step.number())
        .fetch_all(conn)
        .await?;
    rows.iter()
        .map(|r| {
            Ok((
                r.try_get::<Option<String>, _>("kind")?.unwrap_or_default(),
                r.try_get("n")?,
            ))
        })
        .collect()
}

/// How many of a step's changes whose key starts with each of `prefixes` (e.g. `return:`)
/// are no longer to be made: recorded and moved on from "under way" (done, failed, …).
pub async fn finished_by_key(
    conn: impl AnyExecutor<'_>,
    run: RunId,
    step: Step,
    prefixes: &[&str],
) -> sqlx::Result<Vec<i64>> {
    // One pass over the step's records, a sum per prefix: the live fragment asks this every
    // few hundred milliseconds while a 10,000-change step applies.
    let sums: Vec<String> = (0..prefixes.len())
        .map(|i| format!("COALESCE(SUM(CASE WHEN action LIKE ? THEN 1 ELSE 0 END), 0) AS n{i}"))
        .collect();
    let sql = format!(
        "SELECT {} FROM undo_records WHERE run_id = ? AND step = ? AND state <> 'pending'",
        sums.join(", ")
    );
    let mut query = crate::store::sql::query(AssertSqlSafe(sql));
    for prefix in prefixes {
        query = query.bind(format!("%\"key\":\"{prefix}%"));
    }
    let row = query
        .bind(run.to_string())
        .bind(step.number())
        .fetch_one(conn)
        .await?;
    (0..prefixes.len())
        .map(|i| row.try_get::<i64, _>(format!("n{i}").as_str()))
        .collect()
}

/// How many undo records of a run (of one step, or all) are in each state, and when the
/// first was written and the last moved on (the pace of the step).
#[derive(Debug, Clone, Default)]
pub struct UndoCounts {
    pub by_state: Vec<(UndoState, i64)>,
    pub first_at: Option<DateTime<Utc>>,
    pub last_at: Option<DateTime<Utc>>,
}

impl UndoCounts {
    pub fn get(&self, state: UndoState) -> i64 {
        self.by_state
            .iter()
            .find(|(s, _)| *s == state)
            .map_or(0, |(_, n)| *n)
    }

    pub fn total(&self) -> i64 {
        self.by_state.iter().map(|(_, n)| n).sum()
    }
}

pub async fn undo_counts(
    conn: impl AnyExecutor<'_>,
    run: RunId,
    step: Option<Step>,
) -> sqlx::Result<UndoCounts> {
    let rows = crate::store::sql::query(
        "SELECT state, COUNT(*) AS n, MIN(created_at) AS first, MAX(updated_at) AS last \
         FROM undo_records WHERE run_id = ?1 AND (?2 IS NULL OR step = ?2) GROUP BY state",
    )
    .bind(run.to_string())
    .bind(step.map(|s| s.number()))
    .fetch_all(conn)
    .await?;
    let mut counts = UndoCounts::default();
    for r in &rows {
        let state: String = r.try_get("state")?;
        counts
            .by_state
            .push((decode(state.parse())?, r.try_get("n")?));
        let first = from_millis(r.try_get("first")?);
        let last = from_millis(r.try_get("last")?);
        counts.first_at = Some(counts.first_at.map_or(first, |f| f.min(first)));
        counts.last_at = Some(counts.last_at.map_or(last, |l| l.max(last)));
    }
    Ok(counts)
}

/// One page of a run's undo records, oldest first, after record id `after` (0 for the
/// first page), optionally only those in `state`.
pub async fn undo_page(
    conn: impl AnyExecutor<'_>,
    run: RunId,
    state: Option<UndoState>,
    after: i64,
    limit: u32,
) -> sqlx::Result<Vec<UndoRecord>> {
    let rows = crate::store::sql::query(
        "SELECT id, step, action, state, note, created_at, updated_at FROM undo_records \
         WHERE run_id = ?1 AND id > ?2 AND (?3 IS NULL OR state = ?3) ORDER BY id LIMIT ?4",
    )
    .bind(run.to_string())
    .bind(after)
    .bind(state.map(|s| s.as_str()))
    .bind(i64::from(limit))
    .fetch_all(conn)
    .await?;
    rows.iter().map(|r| super::undo::from_row(r, run)).collect()
}

/// Step 4's release records of a run (a prefilter on the stored key; callers decode and
/// check each): what a page needs to say that unbinding a released EIP cannot be undone,
/// without reading every record of a 10,000-instance run.
pub async fn release_records(
    conn: impl AnyExecutor<'_>,
    run: RunId,
) -> sqlx::Result<Vec<UndoRecord>> {
    let rows = crate::store::sql::query(
        "SELECT id, step, action, state, note, created_at, updated_at FROM undo_records \
         WHERE run_id = ?1 AND step = 4 AND action LIKE '%\"key\":\"release:%' ORDER BY id",
    )
    .bind(run.to_string())
    .fetch_all(conn)
    .await?;
    rows.iter().map(|r| super::undo::from_row(r, run)).collect()
}

/// The newest `limit` warnings and errors of a run, newest first.
pub async fn latest_problems(
    conn: impl AnyExecutor<'_> + Clone,
    run: RunId,
    limit: u32,
) -> sqlx::Result<Vec<Event>> {
    let ids: Vec<i64> = crate::store::sql::query_scalar(
        "SELECT id FROM run_events WHERE run_id = ? AND level <> 'info' ORDER BY id DESC LIMIT ?",
    )
    .bind(run.to_string())
    .bind(i64::from(limit))
    .fetch_all(conn.clone())
    .await?;
    let Some(oldest) = ids.last() else {
        return Ok(Vec::new());
    };
    let mut events = super::events::page(conn, run, true, oldest - 1, limit).await?;
    events.reverse();
    Ok(events)
}

/// The id of a run's newest event (0 when it has none).
pub async fn last_event_id(conn: impl AnyExecutor<'_>, run: RunId) -> sqlx::Result<i64> {
    crate::store::sql::query_scalar("SELECT COALESCE(MAX(id), 0) FROM run_events WHERE run_id = ?")
        .bind(run.to_string())
        .fetch_one(conn)
        .await
}

/// Who started the run's latest rollback, and when: the engine's "<user> started a rollback"
/// event, written in the transaction that starts it (with the audit entry).
pub async fn rollback_started(
    conn: impl AnyExecutor<'_>,
    run: RunId,
) -> sqlx::Result<Option<(String, DateTime<Utc>)>> {
    const SUFFIX: &str = " started a rollback";
    let row = crate::store::sql::query(
        "SELECT message, at FROM run_events WHERE run_id = ? AND message LIKE ? \
         ORDER BY id DESC LIMIT 1",
    )
    .bind(run.to_string())
    .bind(format!("%{SUFFIX}"))
    .fetch_optional(conn)
    .await?;
    row.map(|r| {
        let message: String = r.try_get("message")?;
        let who = message.strip_suffix(SUFFIX).unwrap_or(&message).to_owned();
        Ok((who, from_millis(r.try_get("at")?)))
    })
    .transpose()
}
