//! Step 1's "keep its egress IP" marks of a run (issue 12), one row per mark as the operator
//! edits them. Read back strictly: a kind this version does not know is an error, never "not
//! kept" (which would let step 3 move a partner's allowlisted IP to a random NAT EIP).

use sqlx::{AnyExecutor, Row};

use super::types::{RunId, now_millis};

/// What a mark names. Serialised as [`MarkKind::as_str`] (step 1's plan records the marks).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum MarkKind {
    /// One instance, by id.
    Instance,
    /// A rule (protection-rule JSON): every instance it matches.
    Rule,
    /// A baseline egress IP that several instances share (an egress proxy's EIP).
    SharedIp,
}

impl MarkKind {
    pub fn as_str(self) -> &'static str {
        match self {
            MarkKind::Instance => "instance",
            MarkKind::Rule => "rule",
            MarkKind::SharedIp => "shared_ip",
        }
    }

    pub fn parse(s: &str) -> Option<MarkKind> {
        match s {
            "instance" => Some(MarkKind::Instance),
            "rule" => Some(MarkKind::Rule),
            "shared_ip" => Some(MarkKind::SharedIp),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mark {
    pub kind: MarkKind,
    pub value: String,
    pub marked_by: String,
}

/// Adds a mark; `false` when the run already has it.
pub async fn add(
    conn: impl AnyExecutor<'_>,
    run: RunId,
    kind: MarkKind,
    value: &str,
    marked_by: &str,
) -> sqlx::Result<bool> {
    let done = crate::store::sql::query(
        "INSERT INTO keep_egress_marks (run_id, kind, value, marked_by, at) VALUES (?, ?, ?, ?, ?) \
         ON CONFLICT (run_id, kind, value) DO NOTHING",
    )
    .bind(run.to_string())
    .bind(kind.as_str())
    .bind(value)
    .bind(marked_by)
    .bind(now_millis())
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Removes a mark; `false` when the run did not have it.
pub async fn remove(
    conn: impl AnyExecutor<'_>,
    run: RunId,
    kind: MarkKind,
    value: &str,
) -> sqlx::Result<bool> {
    let done = crate::store::sql::query(
        "DELETE FROM keep_egress_marks WHERE run_id = ? AND kind = ? AND value = ?",
    )
    .bind(run.to_string())
    .bind(kind.as_str())
    .bind(value)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Every mark of the run, in (kind, value) order.
pub async fn list(conn: impl AnyExecutor<'_>, run: RunId) -> sqlx::Result<Vec<Mark>> {
    let rows = crate::store::sql::query(
        "SELECT kind, value, marked_by FROM keep_egress_marks WHERE run_id = ? ORDER BY kind, value",
    )
    .bind(run.to_string())
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|r| {
            let kind: String = r.try_get("kind")?;
            let kind = MarkKind::parse(&kind).ok_or_else(|| {
                sqlx::Error::Decode(format!("unknown keep-egress mark kind {kind:?}").into())
            })?;
            Ok(Mark {
                kind,
                value: r.try_get("value")?,
                marked_by: r.try_get("marked_by")?,
            })
        })
        .collect()
}
