//! `run_nat_gateways`: the NAT gateway each run uses (created by it or adopted), one typed
//! row per run. Step 3, step 4 and rollback read the gateway from here; it is written in the
//! same transaction as the undo record that names the gateway.

use sqlx::{AnyExecutor, Row};

use super::types::{RunId, now_millis};

/// How the run came to use its gateway.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum How {
    Created,
    Adopted,
}

impl How {
    fn as_str(self) -> &'static str {
        match self {
            How::Created => "created",
            How::Adopted => "adopted",
        }
    }
}

/// Records (or replaces, after a failed gateway was deleted and another created) the run's gateway.
pub async fn set(
    conn: impl AnyExecutor<'_>,
    run: RunId,
    nat_gateway_id: &str,
    how: How,
) -> sqlx::Result<()> {
    crate::store::sql::query(
        "INSERT INTO run_nat_gateways (run_id, nat_gateway_id, how, at) VALUES (?, ?, ?, ?) \
         ON CONFLICT (run_id) DO UPDATE SET nat_gateway_id = excluded.nat_gateway_id, \
         how = excluded.how, at = excluded.at",
    )
    .bind(run.to_string())
    .bind(nat_gateway_id)
    .bind(how.as_str())
    .bind(now_millis())
    .execute(conn)
    .await?;
    Ok(())
}

/// The run's gateway id as stored (the wizard parses it into its id type).
pub async fn get(conn: impl AnyExecutor<'_>, run: RunId) -> sqlx::Result<Option<String>> {
    let row =
        crate::store::sql::query("SELECT nat_gateway_id FROM run_nat_gateways WHERE run_id = ?")
            .bind(run.to_string())
            .fetch_optional(conn)
            .await?;
    row.map(|r| r.try_get("nat_gateway_id")).transpose()
}
