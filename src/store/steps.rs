//! The `run_steps` table: per step the operator input, the plan that was confirmed, and
//! where applying it stands. Inputs and plans are opaque JSON here; the wizard owns their shape.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{AnyExecutor, Row, any::AnyRow};

use super::runs::Failure;
use super::types::{RunId, Step, StepState, decode, from_millis, now_millis};

#[derive(Debug, Clone, Serialize)]
pub struct StepRow {
    pub run_id: RunId,
    pub step: Step,
    pub state: StepState,
    pub input: serde_json::Value,
    pub plan: serde_json::Value,
    pub confirmed_by: Option<String>,
    pub confirmed_at: Option<DateTime<Utc>>,
    pub applied_at: Option<DateTime<Utc>>,
    pub error: Option<Failure>,
    pub updated_at: DateTime<Utc>,
}

fn from_row(row: &AnyRow) -> sqlx::Result<StepRow> {
    let id: String = row.try_get("run_id")?;
    let state: String = row.try_get("state")?;
    let input: String = row.try_get("input")?;
    let plan: String = row.try_get("plan")?;
    let error: Option<String> = row.try_get("error")?;
    Ok(StepRow {
        run_id: decode(id.parse())?,
        step: decode(Step::from_number(row.try_get("step")?))?,
        state: decode(state.parse())?,
        input: decode(serde_json::from_str(&input))?,
        plan: decode(serde_json::from_str(&plan))?,
        confirmed_by: row.try_get("confirmed_by")?,
        confirmed_at: row
            .try_get::<Option<i64>, _>("confirmed_at")?
            .map(from_millis),
        applied_at: row
            .try_get::<Option<i64>, _>("applied_at")?
            .map(from_millis),
        error: error
            .map(|e| decode(serde_json::from_str(&e)))
            .transpose()?,
        updated_at: from_millis(row.try_get("updated_at")?),
    })
}

/// Records the confirmed input and plan of a step, about to be applied (state `applying`).
/// Re-confirming a step (retry with new input) overwrites the previous attempt.
pub async fn confirm(
    conn: impl AnyExecutor<'_>,
    run: RunId,
    step: Step,
    input: &serde_json::Value,
    plan: &serde_json::Value,
    user: &str,
) -> sqlx::Result<()> {
    let now = now_millis();
    crate::store::sql::query(
        "INSERT INTO run_steps (run_id, step, state, input, plan, confirmed_by, confirmed_at, \
         updated_at) VALUES (?, ?, 'applying', ?, ?, ?, ?, ?) \
         ON CONFLICT (run_id, step) DO UPDATE SET state = 'applying', input = excluded.input, \
         plan = excluded.plan, confirmed_by = excluded.confirmed_by, \
         confirmed_at = excluded.confirmed_at, error = NULL, updated_at = excluded.updated_at",
    )
    .bind(run.to_string())
    .bind(step.number())
    .bind(input.to_string())
    .bind(plan.to_string())
    .bind(user)
    .bind(now)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn set_state(
    conn: impl AnyExecutor<'_>,
    run: RunId,
    step: Step,
    state: StepState,
    error: Option<&Failure>,
) -> sqlx::Result<()> {
    let now = now_millis();
    let applied = (state == StepState::Applied).then_some(now);
    crate::store::sql::query(
        "UPDATE run_steps SET state = ?, error = ?, applied_at = COALESCE(?, applied_at), \
         updated_at = ? WHERE run_id = ? AND step = ?",
    )
    .bind(state.as_str())
    .bind(error.map(|e| serde_json::to_string(e).unwrap_or_default()))
    .bind(applied)
    .bind(now)
    .bind(run.to_string())
    .bind(step.number())
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn get(
    conn: impl AnyExecutor<'_>,
    run: RunId,
    step: Step,
) -> sqlx::Result<Option<StepRow>> {
    let row = crate::store::sql::query("SELECT * FROM run_steps WHERE run_id = ? AND step = ?")
        .bind(run.to_string())
        .bind(step.number())
        .fetch_optional(conn)
        .await?;
    row.as_ref().map(from_row).transpose()
}

pub async fn list(conn: impl AnyExecutor<'_>, run: RunId) -> sqlx::Result<Vec<StepRow>> {
    let rows = crate::store::sql::query("SELECT * FROM run_steps WHERE run_id = ? ORDER BY step")
        .bind(run.to_string())
        .fetch_all(conn)
        .await?;
    rows.iter().map(from_row).collect()
}
