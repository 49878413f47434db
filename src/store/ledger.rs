//! The API-call ledger (`api_calls`): every cloud call attempt of a run, written ahead: a
//! row `sent` is stored (and awaited) before the request leaves — only while the run's lease
//! is held, for a mutating call — and completed with the outcome after the answer. A row
//! left `sent` is a call whose answer nobody recorded (the process died, or the job was
//! stopped, while it was in flight). Parameters arrive already redacted.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{AnyExecutor, Row};

use super::types::{RunId, Step, decode, from_millis};

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ApiCall {
    pub id: i64,
    pub run_id: RunId,
    pub step: Option<Step>,
    pub at: DateTime<Utc>,
    pub service: String,
    pub action: String,
    pub region: String,
    pub request_id: Option<String>,
    pub duration_ms: i64,
    pub attempt: i64,
    /// `None` when the call succeeded (or is still `sent`), else the Tencent error code (or a
    /// client pseudo-code such as a network error).
    pub error_code: Option<String>,
    pub params: serde_json::Value,
    pub state: CallState,
}

/// Where a ledger row stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CallState {
    /// Written before the request left; no answer recorded (yet).
    Sent,
    Ok,
    Error,
}

impl CallState {
    pub fn as_str(self) -> &'static str {
        match self {
            CallState::Sent => "sent",
            CallState::Ok => "ok",
            CallState::Error => "error",
        }
    }

    fn parse(s: &str) -> Result<CallState, super::types::BadValue> {
        match s {
            "sent" => Ok(CallState::Sent),
            "ok" => Ok(CallState::Ok),
            "error" => Ok(CallState::Error),
            other => Err(super::types::BadValue {
                what: "call outcome",
                value: other.to_owned(),
            }),
        }
    }
}

/// An attempt about to be sent, as its write-ahead row records it.
#[derive(Debug, Clone)]
pub struct SentCall<'a> {
    pub run_id: RunId,
    pub step: Option<Step>,
    pub service: &'a str,
    pub action: &'a str,
    pub region: &'a str,
    pub attempt: i64,
    pub params: &'a serde_json::Value,
    /// The sending process's lease holder id.
    pub holder: &'a str,
}

/// Writes the `sent` row of an attempt and returns its id. With `fenced` (a mutating call),
/// the row is written only if `call.holder` holds the run's live lease — checked in the same
/// statement, so no other process can take the lease between the check and the row — and
/// `None` says the lease is not held: the call must not be sent.
pub async fn begin(
    conn: impl AnyExecutor<'_>,
    call: &SentCall<'_>,
    fenced: bool,
) -> sqlx::Result<Option<i64>> {
    let now = chrono::Utc::now().timestamp_millis();
    let id: Option<i64> = crate::store::sql::query_scalar(
        "INSERT INTO api_calls (run_id, step, at, service, action, region, request_id, \
         duration_ms, attempt, outcome, error_code, params, holder) \
         SELECT ?1, ?2, ?3, ?4, ?5, ?6, NULL, 0, ?7, 'sent', NULL, ?8, ?9 \
         WHERE ?10 = 0 OR EXISTS (SELECT 1 FROM run_leases \
               WHERE run_id = ?1 AND holder = ?9 AND expires_at > ?3) \
         RETURNING id",
    )
    .bind(call.run_id.to_string())
    .bind(call.step.map(|s| s.number()))
    .bind(now)
    .bind(call.service)
    .bind(call.action)
    .bind(call.region)
    .bind(call.attempt)
    .bind(call.params.to_string())
    .bind(call.holder)
    .bind(i64::from(fenced))
    .fetch_optional(conn)
    .await?;
    Ok(id)
}

/// How an attempt ended, for [`complete`].
#[derive(Debug, Clone)]
pub struct Answer {
    pub request_id: Option<String>,
    pub duration_ms: i64,
    /// `None` for success.
    pub error_code: Option<String>,
}

/// Completes a `sent` row with its answer (a row already completed is left alone).
pub async fn complete(conn: impl AnyExecutor<'_>, id: i64, answer: &Answer) -> sqlx::Result<()> {
    crate::store::sql::query(
        "UPDATE api_calls SET outcome = ?, error_code = ?, request_id = ?, duration_ms = ? \
         WHERE id = ? AND outcome = 'sent'",
    )
    .bind(if answer.error_code.is_some() {
        "error"
    } else {
        "ok"
    })
    .bind(&answer.error_code)
    .bind(&answer.request_id)
    .bind(answer.duration_ms)
    .bind(id)
    .execute(conn)
    .await?;
    Ok(())
}

/// Stores a whole row at once (imports and tests; the engine writes ahead with [`begin`]).
pub async fn record(conn: impl AnyExecutor<'_>, call: &ApiCall) -> sqlx::Result<()> {
    crate::store::sql::query(
        "INSERT INTO api_calls (run_id, step, at, service, action, region, request_id, \
         duration_ms, attempt, outcome, error_code, params) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(call.run_id.to_string())
    .bind(call.step.map(|s| s.number()))
    .bind(call.at.timestamp_millis())
    .bind(&call.service)
    .bind(&call.action)
    .bind(&call.region)
    .bind(&call.request_id)
    .bind(call.duration_ms)
    .bind(call.attempt)
    .bind(call.state.as_str())
    .bind(&call.error_code)
    .bind(call.params.to_string())
    .execute(conn)
    .await?;
    Ok(())
}

/// The ledger of a run, oldest first, from `after_id` (0 for the start).
pub async fn list(
    conn: impl AnyExecutor<'_>,
    run: RunId,
    after_id: i64,
    limit: u32,
) -> sqlx::Result<Vec<ApiCall>> {
    page(conn, run, &CallFilter::default(), after_id, limit).await
}

/// Which of a run's calls a page lists.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CallFilter {
    /// Only calls of this action (e.g. `DisassociateAddress`).
    pub action: Option<String>,
    /// Only calls that ended in an error.
    pub failed_only: bool,
}

/// Calls matching `filter` with id greater than `after_id` (keyset paging), oldest first.
pub async fn page(
    conn: impl AnyExecutor<'_>,
    run: RunId,
    filter: &CallFilter,
    after_id: i64,
    limit: u32,
) -> sqlx::Result<Vec<ApiCall>> {
    let rows = crate::store::sql::query(
        "SELECT * FROM api_calls WHERE run_id = ? AND id > ? \
         AND (?3 IS NULL OR action = ?3) AND (?4 = 0 OR outcome = 'error') ORDER BY id LIMIT ?5",
    )
    .bind(run.to_string())
    .bind(after_id)
    .bind(filter.action.as_deref())
    .bind(i64::from(filter.failed_only))
    .bind(i64::from(limit))
    .fetch_all(conn)
    .await?;
    rows.iter().map(|r| call_from_row(r, run)).collect()
}

/// The newest `limit` calls of a run, oldest first.
pub async fn latest(
    conn: impl AnyExecutor<'_>,
    run: RunId,
    limit: u32,
) -> sqlx::Result<Vec<ApiCall>> {
    let rows = crate::store::sql::query(
        "SELECT * FROM (SELECT * FROM api_calls WHERE run_id = ? ORDER BY id DESC LIMIT ?) AS newest \
         ORDER BY id",
    )
    .bind(run.to_string())
    .bind(i64::from(limit))
    .fetch_all(conn)
    .await?;
    rows.iter().map(|r| call_from_row(r, run)).collect()
}

fn call_from_row(r: &sqlx::any::AnyRow, run: RunId) -> sqlx::Result<ApiCall> {
    let params: String = r.try_get("params")?;
    let step: Option<i64> = r.try_get("step")?;
    let state: String = r.try_get("outcome")?;
    Ok(ApiCall {
        id: r.try_get("id")?,
        run_id: run,
        step: decode(step.map(Step::from_number).transpose())?,
        at: from_millis(r.try_get("at")?),
        service: r.try_get("service")?,
        action: r.try_get("action")?,
        region: r.try_get("region")?,
        request_id: r.try_get("request_id")?,
        duration_ms: r.try_get("duration_ms")?,
        attempt: r.try_get("attempt")?,
        error_code: r.try_get("error_code")?,
        params: decode(serde_json::from_str(&params))?,
        state: decode(CallState::parse(&state))?,
    })
}

/// One action's share of a run's ledger.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ActionTotals {
    pub service: String,
    pub action: String,
    pub calls: i64,
    /// Calls that ended in an error (each attempt is a call of its own).
    pub failed: i64,
    /// Calls that were a second or later attempt.
    pub retries: i64,
    pub total_ms: i64,
}

/// Per-action totals of a run's ledger, by service and action.
pub async fn totals(conn: impl AnyExecutor<'_>, run: RunId) -> sqlx::Result<Vec<ActionTotals>> {
    let rows = crate::store::sql::query(
        "SELECT service, action, COUNT(*) AS calls, COUNT(CASE WHEN outcome = 'error' THEN 1 END) AS failed, \
         COUNT(CASE WHEN attempt > 1 THEN 1 END) AS retries, CAST(SUM(duration_ms) AS BIGINT) AS total_ms \
         FROM api_calls WHERE run_id = ? GROUP BY service, action ORDER BY service, action",
    )
    .bind(run.to_string())
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(ActionTotals {
                service: r.try_get("service")?,
                action: r.try_get("action")?,
                calls: r.try_get("calls")?,
                failed: r.try_get("failed")?,
                retries: r.try_get("retries")?,
                total_ms: r.try_get("total_ms")?,
            })
        })
        .collect()
}

/// Count of calls per action for a run (benchmarks and the run summary).
pub async fn count_by_action(
    conn: impl AnyExecutor<'_>,
    run: RunId,
) -> sqlx::Result<Vec<(String, i64, i64)>> {
    let rows = crate::store::sql::query(
        "SELECT action, COUNT(*) AS n, COUNT(CASE WHEN error_code LIKE 'RequestLimitExceeded%' THEN 1 END) AS limited \
         FROM api_calls WHERE run_id = ? GROUP BY action ORDER BY action",
    )
    .bind(run.to_string())
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|r| {
            Ok((
                r.try_get("action")?,
                r.try_get("n")?,
                r.try_get::<Option<i64>, _>("limited")?.unwrap_or(0),
            ))
        })
        .collect()
}
