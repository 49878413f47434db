//! Step 4's per-instance exceptions to the retire rules, one row per instance, written as the
//! operator edits them. Read back strictly: a choice this version does not know is an error,
//! never "no exception" (which would apply the rule to an address the operator meant to keep).

use std::collections::BTreeMap;

use sqlx::{AnyExecutor, Row};

use super::types::{RunId, now_millis};
use crate::wizard::input::RetireException;

/// Records (or replaces) one instance's exception; `None` removes it (the rule applies).
pub async fn set(
    conn: impl AnyExecutor<'_>,
    run: RunId,
    instance_id: &str,
    choice: Option<RetireException>,
    decided_by: &str,
) -> sqlx::Result<()> {
    match choice {
        None => {
            crate::store::sql::query(
                "DELETE FROM retire_exceptions WHERE run_id = ? AND instance_id = ?",
            )
            .bind(run.to_string())
            .bind(instance_id)
            .execute(conn)
            .await?;
        }
        Some(c) => {
            crate::store::sql::query(
                "INSERT INTO retire_exceptions (run_id, instance_id, choice, decided_by, at) \
                 VALUES (?, ?, ?, ?, ?) ON CONFLICT (run_id, instance_id) DO UPDATE SET \
                 choice = excluded.choice, decided_by = excluded.decided_by, at = excluded.at",
            )
            .bind(run.to_string())
            .bind(instance_id)
            .bind(c.as_str())
            .bind(decided_by)
            .bind(now_millis())
            .execute(conn)
            .await?;
        }
    }
    Ok(())
}

/// Every exception of the run, by instance id.
pub async fn list(
    conn: impl AnyExecutor<'_>,
    run: RunId,
) -> sqlx::Result<BTreeMap<String, RetireException>> {
    let rows = crate::store::sql::query(
        "SELECT instance_id, choice FROM retire_exceptions WHERE run_id = ?",
    )
    .bind(run.to_string())
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|r| {
            let choice: String = r.try_get("choice")?;
            let parsed = RetireException::parse(&choice).ok_or_else(|| {
                sqlx::Error::Decode(format!("unknown retire exception {choice:?}").into())
            })?;
            Ok((r.try_get("instance_id")?, parsed))
        })
        .collect()
}
