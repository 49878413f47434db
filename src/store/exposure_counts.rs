//! Step 1's summary: counts per state over a run's exposure rows. What the assessment found
//! does not change, so it is counted once (a scan of every row) and stored; only the
//! protection counts, which follow every edit, are counted per view, through an index over
//! the rows that have a reason.

use serde::{Deserialize, Serialize};
use sqlx::{AnyExecutor, Row};

use super::types::RunId;

/// Counts per state for the summary at the top of the table.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExposureCounts {
    pub instances: i64,
    pub eip: i64,
    pub ordinary: i64,
    pub no_public_ip: i64,
    pub protected: i64,
    pub by_dns: i64,
    pub by_tag: i64,
    pub by_subnet: i64,
    pub by_name: i64,
    pub by_operator: i64,
    pub exceptions: i64,
    pub agent_offline: i64,
    pub untestable: i64,
    pub egress_failed: i64,
    pub egress_own_ip: i64,
    pub egress_other_ip: i64,
    pub egress_ips: i64,
}

/// Every count, by a scan of all the run's rows (to be stored, not for each page view).
pub async fn scan(conn: impl AnyExecutor<'_>, run: RunId) -> sqlx::Result<ExposureCounts> {
    // `count(CASE WHEN … THEN 1 END)`, not SQLite's `sum(condition)`: a condition is no
    // number on PostgreSQL, and count is a 64-bit integer on both.
    let r = crate::store::sql::query(
        "SELECT count(*) AS n, \
         count(CASE WHEN kind = 'eip' THEN 1 END) AS eip, count(CASE WHEN kind = 'ordinary' THEN 1 END) AS ordinary, \
         count(CASE WHEN kind = 'none' THEN 1 END) AS no_ip, count(CASE WHEN protected = 1 THEN 1 END) AS protected, \
         count(CASE WHEN protected = 1 AND reason_kind = 'dns' THEN 1 END) AS dns, \
         count(CASE WHEN protected = 1 AND reason_kind = 'tag' THEN 1 END) AS tag, \
         count(CASE WHEN protected = 1 AND reason_kind = 'subnet' THEN 1 END) AS subnet, \
         count(CASE WHEN protected = 1 AND reason_kind = 'name' THEN 1 END) AS name, \
         count(CASE WHEN protected = 1 AND reason_kind = 'operator' THEN 1 END) AS operator, \
         count(CASE WHEN reason_kind = 'exception' THEN 1 END) AS exceptions, \
         count(CASE WHEN agent_online = 0 THEN 1 END) AS offline, \
         count(CASE WHEN egress_outcome = 'untestable' THEN 1 END) AS untestable, \
         count(CASE WHEN egress_outcome = 'failed' THEN 1 END) AS failed, \
         count(CASE WHEN egress_outcome = 'ip' AND egress_ip = public_ip THEN 1 END) AS own, \
         count(CASE WHEN egress_outcome = 'ip' AND egress_ip != public_ip THEN 1 END) AS other, \
         count(DISTINCT CASE WHEN egress_outcome = 'ip' THEN egress_ip END) AS ips \
         FROM exposure_rows WHERE run_id = ?",
    )
    .bind(run.to_string())
    .fetch_one(conn)
    .await?;
    Ok(ExposureCounts {
        instances: r.try_get("n")?,
        eip: r.try_get("eip")?,
        ordinary: r.try_get("ordinary")?,
        no_public_ip: r.try_get("no_ip")?,
        protected: r.try_get("protected")?,
        by_dns: r.try_get("dns")?,
        by_tag: r.try_get("tag")?,
        by_subnet: r.try_get("subnet")?,
        by_name: r.try_get("name")?,
        by_operator: r.try_get("operator")?,
        exceptions: r.try_get("exceptions")?,
        agent_offline: r.try_get("offline")?,
        untestable: r.try_get("untestable")?,
        egress_failed: r.try_get("failed")?,
        egress_own_ip: r.try_get("own")?,
        egress_other_ip: r.try_get("other")?,
        egress_ips: r.try_get("ips")?,
    })
}

/// The egress IPs shared by more than one instance (gateways, proxies), most used first.
pub async fn shared_egress_ips(
    conn: impl AnyExecutor<'_>,
    run: RunId,
    limit: i64,
) -> sqlx::Result<Vec<(String, i64)>> {
    let rows = crate::store::sql::query(
        "SELECT egress_ip, count(*) AS n FROM exposure_rows WHERE run_id = ? \
         AND egress_outcome = 'ip' AND egress_ip != public_ip GROUP BY egress_ip \
         ORDER BY n DESC, egress_ip LIMIT ?",
    )
    .bind(run.to_string())
    .bind(limit)
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|r| Ok((r.try_get("egress_ip")?, r.try_get("n")?)))
        .collect()
}

/// The stored summary: counts and shared egress IPs, as written by [`put_summary`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Summary {
    pub counts: ExposureCounts,
    pub shared_egress: Vec<(String, i64)>,
    /// Step 1's keep-egress section (issue 12), worked out once with the rows instead of on
    /// every view from every row. Absent in a summary stored before it was (then worked out
    /// from the rows).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keep_shared: Option<Vec<SharedIp>>,
}

/// A baseline egress IP several instances leave through without it being their own, as step
/// 1's keep section lists it: `wizard::steps::keep::SharedEgress`, counted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SharedIp {
    pub ip: String,
    /// Instances that left through it (its holder too).
    pub instances: usize,
    /// The instance it belongs to, if in the VPC.
    pub holder: Option<String>,
}

/// The stored keep section's shared IPs; `None` without a summary or in one stored before
/// they were. A summary that does not decode is an error.
pub async fn stored_keep_shared(
    conn: impl AnyExecutor<'_>,
    run: RunId,
) -> sqlx::Result<Option<Vec<SharedIp>>> {
    let body: Option<String> =
        crate::store::sql::query_scalar("SELECT body FROM exposure_summary WHERE run_id = ?")
            .bind(run.to_string())
            .fetch_optional(conn)
            .await?;
    let Some(body) = body else { return Ok(None) };
    let s: Summary = super::types::decode(serde_json::from_str(&body))?;
    Ok(s.keep_shared)
}

pub async fn put_summary(
    conn: impl AnyExecutor<'_>,
    run: RunId,
    summary: &Summary,
) -> sqlx::Result<()> {
    let body = serde_json::to_string(summary).map_err(|e| sqlx::Error::Encode(e.into()))?;
    crate::store::sql::query(
        "INSERT INTO exposure_summary (run_id, body, at) VALUES (?, ?, ?) \
         ON CONFLICT (run_id) DO UPDATE SET body = excluded.body, at = excluded.at",
    )
    .bind(run.to_string())
    .bind(body)
    .bind(super::types::now_millis())
    .execute(conn)
    .await?;
    Ok(())
}

/// The stored summary with the protection counts of now; `None` if none is stored. One that
/// does not decode is an error.
pub async fn summary(conn: &mut sqlx::AnyConnection, run: RunId) -> sqlx::Result<Option<Summary>> {
    let body: Option<String> =
        crate::store::sql::query_scalar("SELECT body FROM exposure_summary WHERE run_id = ?")
            .bind(run.to_string())
            .fetch_optional(&mut *conn)
            .await?;
    let Some(body) = body else { return Ok(None) };
    let mut s: Summary = super::types::decode(serde_json::from_str(&body))?;
    let rows = crate::store::sql::query(
        "SELECT reason_kind, protected, count(*) AS n FROM exposure_rows \
         WHERE run_id = ? AND reason_kind > '' GROUP BY reason_kind, protected",
    )
    .bind(run.to_string())
    .fetch_all(&mut *conn)
    .await?;
    let c = &mut s.counts;
    (
        c.protected,
        c.by_dns,
        c.by_tag,
        c.by_subnet,
        c.by_name,
        c.by_operator,
        c.exceptions,
    ) = (0, 0, 0, 0, 0, 0, 0);
    for r in &rows {
        let (kind, protected, n): (String, bool, i64) = (
            r.try_get("reason_kind")?,
            crate::store::sql::flag(r, "protected")?,
            r.try_get("n")?,
        );
        if protected {
            c.protected += n;
        }
        match (kind.as_str(), protected) {
            ("dns", true) => c.by_dns += n,
            ("tag", true) => c.by_tag += n,
            ("subnet", true) => c.by_subnet += n,
            ("name", true) => c.by_name += n,
            ("operator", true) => c.by_operator += n,
            ("exception", false) => c.exceptions += n,
            _ => {}
        }
    }
    Ok(Some(s))
}

/// Counts every row and stores the summary (after the rows are written).
pub async fn store_summary(conn: &mut sqlx::AnyConnection, run: RunId) -> sqlx::Result<()> {
    let rows = super::exposure::egress_ips(&mut *conn, run).await?;
    let keep_shared = crate::wizard::steps::keep::shared_from_rows(&rows)
        .iter()
        .map(SharedIp::from)
        .collect();
    let s = Summary {
        counts: scan(&mut *conn, run).await?,
        shared_egress: shared_egress_ips(&mut *conn, run, 5).await?,
        keep_shared: Some(keep_shared),
    };
    put_summary(&mut *conn, run, &s).await
}

pub async fn has_summary(conn: impl AnyExecutor<'_>, run: RunId) -> sqlx::Result<bool> {
    let n: i64 =
        crate::store::sql::query_scalar("SELECT count(*) FROM exposure_summary WHERE run_id = ?")
            .bind(run.to_string())
            .fetch_one(conn)
            .await?;
    Ok(n > 0)
}
