//! Undo records (`undo_records`): written `pending` BEFORE the mutating call they undo
//! (DESIGN invariant), marked `done` once the call took effect; rollback walks them newest
//! first. The action itself is the wizard's JSON; the store does not interpret it.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{AnyExecutor, Row};

use super::types::{RunId, Step, UndoState, decode, from_millis, now_millis};

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UndoRecord {
    pub id: i64,
    pub run_id: RunId,
    pub step: Step,
    pub action: serde_json::Value,
    pub state: UndoState,
    pub note: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

pub async fn insert_pending(
    conn: impl AnyExecutor<'_>,
    run: RunId,
    step: Step,
    action: &serde_json::Value,
) -> sqlx::Result<i64> {
    let now = now_millis();
    crate::store::sql::query_scalar(
        "INSERT INTO undo_records (run_id, step, action, state, created_at, updated_at) \
         VALUES (?, ?, ?, 'pending', ?, ?) RETURNING id",
    )
    .bind(run.to_string())
    .bind(step.number())
    .bind(action.to_string())
    .bind(now)
    .bind(now)
    .fetch_one(conn)
    .await
}

/// Moves a record on; `action` replaces the stored action when the call revealed ids the
/// undo needs (e.g. the NAT gateway id returned by CreateNatGateway).
pub async fn set_state(
    conn: impl AnyExecutor<'_>,
    id: i64,
    state: UndoState,
    action: Option<&serde_json::Value>,
    note: Option<&str>,
) -> sqlx::Result<()> {
    crate::store::sql::query(
        "UPDATE undo_records SET state = ?, action = COALESCE(?, action), \
         note = COALESCE(?, note), updated_at = ? WHERE id = ?",
    )
    .bind(state.as_str())
    .bind(action.map(|a| a.to_string()))
    .bind(note)
    .bind(now_millis())
    .bind(id)
    .execute(conn)
    .await?;
    Ok(())
}

/// Replaces a record's action, keeping its state: the record learned more about what undoing
/// takes (the EIPs a NAT gateway was given, once they are seen).
pub async fn set_action(
    conn: impl AnyExecutor<'_>,
    id: i64,
    action: &serde_json::Value,
) -> sqlx::Result<()> {
    crate::store::sql::query("UPDATE undo_records SET action = ?, updated_at = ? WHERE id = ?")
        .bind(action.to_string())
        .bind(now_millis())
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// All undo records of a run in the order they were written.
pub async fn list(conn: impl AnyExecutor<'_>, run: RunId) -> sqlx::Result<Vec<UndoRecord>> {
    let rows = crate::store::sql::query("SELECT * FROM undo_records WHERE run_id = ? ORDER BY id")
        .bind(run.to_string())
        .fetch_all(conn)
        .await?;
    rows.iter().map(|r| from_row(r, run)).collect()
}

/// An undo record from a row with its columns (`id, step, action, state, note, created_at,
/// updated_at`); a record that does not decode is an error, never skipped.
pub(crate) fn from_row(r: &sqlx::any::AnyRow, run: RunId) -> sqlx::Result<UndoRecord> {
    let action: String = r.try_get("action")?;
    let state: String = r.try_get("state")?;
    Ok(UndoRecord {
        id: r.try_get("id")?,
        run_id: run,
        step: decode(Step::from_number(r.try_get("step")?))?,
        action: decode(serde_json::from_str(&action))?,
        state: decode(state.parse())?,
        note: r.try_get("note")?,
        created_at: from_millis(r.try_get("created_at")?),
        updated_at: from_millis(r.try_get("updated_at")?),
    })
}
