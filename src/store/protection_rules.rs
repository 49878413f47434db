//! Step 1's protection rules of a run, as the operator edits them (one row per rule, its JSON
//! decoded strictly by the wizard) with how many instances each matches.

use sqlx::{AnyExecutor, Row};

use super::types::{RunId, now_millis};

/// One stored protection rule; `rule` is the JSON the wizard decodes strictly.
#[derive(Debug, Clone)]
pub struct RuleRecord {
    pub id: i64,
    pub rule: String,
    pub matches: i64,
    pub created_by: String,
}

pub async fn list_rules(conn: impl AnyExecutor<'_>, run: RunId) -> sqlx::Result<Vec<RuleRecord>> {
    let rows = crate::store::sql::query(
        "SELECT id, rule, matches, created_by FROM protection_rules WHERE run_id = ? ORDER BY id",
    )
    .bind(run.to_string())
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(RuleRecord {
                id: r.try_get("id")?,
                rule: r.try_get("rule")?,
                matches: r.try_get("matches")?,
                created_by: r.try_get("created_by")?,
            })
        })
        .collect()
}

/// Adds a rule; `false` when the run already has it.
pub async fn add_rule(
    conn: impl AnyExecutor<'_>,
    run: RunId,
    rule: &str,
    created_by: &str,
) -> sqlx::Result<bool> {
    let done = crate::store::sql::query(
        "INSERT INTO protection_rules (run_id, rule, matches, created_by, at) \
         VALUES (?, ?, -1, ?, ?) ON CONFLICT (run_id, rule) DO NOTHING",
    )
    .bind(run.to_string())
    .bind(rule)
    .bind(created_by)
    .bind(now_millis())
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Removes a rule; returns its JSON if it was the run's.
pub async fn remove_rule(
    conn: impl AnyExecutor<'_>,
    run: RunId,
    id: i64,
) -> sqlx::Result<Option<String>> {
    crate::store::sql::query_scalar(
        "DELETE FROM protection_rules WHERE run_id = ? AND id = ? RETURNING rule",
    )
    .bind(run.to_string())
    .bind(id)
    .fetch_optional(conn)
    .await
}

pub async fn set_rule_matches(
    conn: impl AnyExecutor<'_>,
    id: i64,
    matches: i64,
) -> sqlx::Result<()> {
    crate::store::sql::query("UPDATE protection_rules SET matches = ? WHERE id = ?")
        .bind(matches)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}
