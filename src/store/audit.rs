//! The audit log: every login and every mutating action by every user. Append-only (the
//! table refuses UPDATE/DELETE by trigger). `details` must never hold a secret: callers pass
//! what was done, never passwords, session ids or keys.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{AnyExecutor, AssertSqlSafe, Row};

use super::types::{decode, from_millis, now_millis, to_millis};

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditEntry {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub actor: String,
    pub ip: String,
    pub action: String,
    pub target: String,
    pub details: serde_json::Value,
    /// The target is a rehearsal run (issue 13 item 7): the change went to a simulated twin.
    pub rehearsal: bool,
}

/// Appends one entry. Use `store.writer()` or an open write transaction (so the audit entry
/// commits together with the change it describes).
pub async fn record(
    conn: impl AnyExecutor<'_>,
    actor: &str,
    ip: &str,
    action: &str,
    target: &str,
    details: &serde_json::Value,
) -> sqlx::Result<i64> {
    crate::store::sql::query_scalar(
        "INSERT INTO audit_log (at, actor, ip, action, target, details) VALUES (?, ?, ?, ?, ?, ?) \
         RETURNING id",
    )
    .bind(now_millis())
    .bind(actor)
    .bind(ip)
    .bind(action)
    .bind(target)
    .bind(details.to_string())
    .fetch_one(conn)
    .await
}

#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub actor: Option<String>,
    /// Exact action name, e.g. `login` or `run.start`.
    pub action: Option<String>,
    pub from: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
    /// Keyset: only entries with id below this (the previous page's last id).
    pub before_id: Option<i64>,
}

/// Newest first, at most `limit` entries.
pub async fn list(
    conn: impl AnyExecutor<'_>,
    f: &AuditFilter,
    limit: u32,
) -> sqlx::Result<Vec<AuditEntry>> {
    let mut sql = String::from(
        "SELECT a.*, EXISTS (SELECT 1 FROM rehearsals h WHERE h.run_id = a.target) AS rehearsal \
         FROM audit_log a WHERE 1 = 1",
    );
    for (on, clause) in [
        (f.actor.is_some(), " AND actor = ?"),
        (f.action.is_some(), " AND action = ?"),
        (f.from.is_some(), " AND at >= ?"),
        (f.until.is_some(), " AND at < ?"),
        (f.before_id.is_some(), " AND id < ?"),
    ] {
        if on {
            sql.push_str(clause);
        }
    }
    sql.push_str(" ORDER BY id DESC LIMIT ?");
    let mut q = crate::store::sql::query(AssertSqlSafe(sql));
    if let Some(a) = &f.actor {
        q = q.bind(a.clone());
    }
    if let Some(a) = &f.action {
        q = q.bind(a.clone());
    }
    if let Some(t) = f.from {
        q = q.bind(to_millis(t));
    }
    if let Some(t) = f.until {
        q = q.bind(to_millis(t));
    }
    if let Some(id) = f.before_id {
        q = q.bind(id);
    }
    let rows = q
        .bind(i64::from(limit.clamp(1, 1000)))
        .fetch_all(conn)
        .await?;
    rows.iter()
        .map(|r| {
            let details: String = r.try_get("details")?;
            Ok(AuditEntry {
                id: r.try_get("id")?,
                at: from_millis(r.try_get("at")?),
                actor: r.try_get("actor")?,
                ip: r.try_get("ip")?,
                action: r.try_get("action")?,
                target: r.try_get("target")?,
                details: decode(serde_json::from_str(&details))?,
                rehearsal: crate::store::sql::flag(r, "rehearsal")?,
            })
        })
        .collect()
}
