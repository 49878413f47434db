//! Inventory snapshots per run: the VPC as the Assess step saw it (`before`), kept as JSON
//! so the topology page can draw it next to the VPC as it is now.

use chrono::{DateTime, Utc};
use sqlx::AnyExecutor;

use super::types::{RunId, decode, from_millis, now_millis};

/// Stores (or replaces, when the assessment is retried) the run's `before` inventory.
pub async fn put_before(
    conn: impl AnyExecutor<'_>,
    run: RunId,
    body: &serde_json::Value,
) -> sqlx::Result<()> {
    crate::store::sql::query(
        "INSERT INTO run_inventories (run_id, phase, body, at) VALUES (?, 'before', ?, ?) \
         ON CONFLICT (run_id, phase) DO UPDATE SET body = excluded.body, at = excluded.at",
    )
    .bind(run.to_string())
    .bind(body.to_string())
    .bind(now_millis())
    .execute(conn)
    .await?;
    Ok(())
}

/// The run's `before` inventory and when it was taken, if the assessment got that far.
pub async fn get_before(
    conn: impl AnyExecutor<'_>,
    run: RunId,
) -> sqlx::Result<Option<(serde_json::Value, DateTime<Utc>)>> {
    let row: Option<(String, i64)> = crate::store::sql::query_as(
        "SELECT body, at FROM run_inventories WHERE run_id = ? AND phase = 'before'",
    )
    .bind(run.to_string())
    .fetch_optional(conn)
    .await?;
    row.map(|(body, at)| Ok((decode(serde_json::from_str(&body))?, from_millis(at))))
        .transpose()
}
