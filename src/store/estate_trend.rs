//! The estate's exposure over time (issue 13 item 3, "a trend over time"): per completed
//! scan, what it counted. Reads the newest scans by id (the primary key, walked backwards) and
//! only their own VPC and region rows (both keyed by scan id first), so the cost follows the
//! number of points asked for, not the millions of snapshot rows kept.

use sqlx::{AnyPool, AssertSqlSafe, Row};

/// One completed scan of one account, summed over its regions and VPCs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanTotals {
    pub scan_id: i64,
    pub account: String,
    /// ms since the Unix epoch (UTC).
    pub finished_at: i64,
    pub eip_hosts: i64,
    pub ordinary_hosts: i64,
    pub unbound_eips: i64,
}

/// The newest `limit` completed scans, oldest first.
pub async fn recent(db: &AnyPool, limit: i64) -> sqlx::Result<Vec<ScanTotals>> {
    // The limit is an integer written into the SQL (a bound LIMIT is re-prepared each time).
    let rows = crate::store::sql::query(AssertSqlSafe(format!(
        "SELECT s.id, s.account, s.finished_at, \
           (SELECT CAST(coalesce(sum(eip_hosts), 0) AS BIGINT) FROM estate_vpcs v WHERE v.scan_id = s.id) AS eip, \
           (SELECT CAST(coalesce(sum(ordinary_hosts), 0) AS BIGINT) FROM estate_vpcs v WHERE v.scan_id = s.id) \
             AS ordinary, \
           (SELECT CAST(coalesce(sum(unbound_eips), 0) AS BIGINT) FROM estate_scan_regions r \
             WHERE r.scan_id = s.id) AS unbound \
         FROM (SELECT id, account, finished_at FROM estate_scans \
               WHERE state = 'completed' AND finished_at IS NOT NULL \
               ORDER BY id DESC LIMIT {limit}) s \
         ORDER BY s.id"
    )))
    .fetch_all(db)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(ScanTotals {
                scan_id: r.try_get("id")?,
                account: r.try_get("account")?,
                finished_at: r.try_get("finished_at")?,
                eip_hosts: r.try_get("eip")?,
                ordinary_hosts: r.try_get("ordinary")?,
                unbound_eips: r.try_get("unbound")?,
            })
        })
        .collect()
}
