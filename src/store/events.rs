//! Append-only run timeline (`run_events`): feeds the live progress view and the history page.
//! The table refuses UPDATE and DELETE by trigger.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{AnyExecutor, Row};

use super::types::{EventLevel, RunId, Step, decode, from_millis, now_millis};

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Event {
    pub id: i64,
    pub run_id: RunId,
    pub at: DateTime<Utc>,
    pub step: Option<Step>,
    pub level: EventLevel,
    pub message: String,
    pub data: serde_json::Value,
}

/// Appends an event and returns it with its id.
pub async fn append(
    conn: impl AnyExecutor<'_>,
    run: RunId,
    step: Option<Step>,
    level: EventLevel,
    message: &str,
    data: &serde_json::Value,
) -> sqlx::Result<Event> {
    let at = now_millis();
    let id: i64 = crate::store::sql::query_scalar(
        "INSERT INTO run_events (run_id, at, step, level, message, data) VALUES (?, ?, ?, ?, ?, ?) \
         RETURNING id",
    )
    .bind(run.to_string())
    .bind(at)
    .bind(step.map(|s| s.number()))
    .bind(level.as_str())
    .bind(message)
    .bind(data.to_string())
    .fetch_one(conn)
    .await?;
    Ok(Event {
        id,
        run_id: run,
        at: from_millis(at),
        step,
        level,
        message: message.to_owned(),
        data: data.clone(),
    })
}

/// Events of a run with id greater than `after_id` (0 for all), oldest first. SSE resumes
/// from `Last-Event-ID` with this.
pub async fn list(
    conn: impl AnyExecutor<'_>,
    run: RunId,
    after_id: i64,
    limit: u32,
) -> sqlx::Result<Vec<Event>> {
    page(conn, run, false, after_id, limit).await
}

/// Like [`list`], but with `problems_only` just the warnings and errors.
pub async fn page(
    conn: impl AnyExecutor<'_>,
    run: RunId,
    problems_only: bool,
    after_id: i64,
    limit: u32,
) -> sqlx::Result<Vec<Event>> {
    let rows = crate::store::sql::query(
        "SELECT id, at, step, level, message, data FROM run_events WHERE run_id = ? AND id > ? \
         AND (?3 = 0 OR level <> 'info') ORDER BY id LIMIT ?4",
    )
    .bind(run.to_string())
    .bind(after_id)
    .bind(i64::from(problems_only))
    .bind(i64::from(limit))
    .fetch_all(conn)
    .await?;
    rows.iter().map(|r| event_from_row(r, run)).collect()
}

/// The newest `limit` events of a run, oldest first (the run page; older ones are paged).
pub async fn latest(
    conn: impl AnyExecutor<'_>,
    run: RunId,
    limit: u32,
) -> sqlx::Result<Vec<Event>> {
    let rows = crate::store::sql::query(
        "SELECT * FROM (SELECT id, at, step, level, message, data FROM run_events \
         WHERE run_id = ? ORDER BY id DESC LIMIT ?) AS newest ORDER BY id",
    )
    .bind(run.to_string())
    .bind(i64::from(limit))
    .fetch_all(conn)
    .await?;
    rows.iter().map(|r| event_from_row(r, run)).collect()
}

/// How many events a run has.
pub async fn count(conn: impl AnyExecutor<'_>, run: RunId) -> sqlx::Result<i64> {
    crate::store::sql::query_scalar("SELECT COUNT(*) FROM run_events WHERE run_id = ?")
        .bind(run.to_string())
        .fetch_one(conn)
        .await
}

fn event_from_row(r: &sqlx::any::AnyRow, run: RunId) -> sqlx::Result<Event> {
    let level: String = r.try_get("level")?;
    let data: String = r.try_get("data")?;
    Ok(Event {
        id: r.try_get("id")?,
        run_id: run,
        at: from_millis(r.try_get("at")?),
        step: decode(
            r.try_get::<Option<i64>, _>("step")?
                .map(Step::from_number)
                .transpose(),
        )?,
        level: decode(level.parse())?,
        message: r.try_get("message")?,
        data: decode(serde_json::from_str(&data))?,
    })
}
