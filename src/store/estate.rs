//! Estate scans (issue 13 item 2): the scan rows, their regions, the per-VPC snapshot, the
//! scan's call ledger and the one-scanner claim. SQL only; `estate::scan` decides.

use sqlx::{AnyExecutor, AnyPool, Row};

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// Takes (or renews) the scanner claim for `holder` until `ttl_ms` from now: only when nobody
/// holds it, it expired, or `holder` has it. One statement, so two processes cannot both win.
pub async fn claim_scanner(
    db: impl AnyExecutor<'_>,
    holder: &str,
    ttl_ms: i64,
) -> sqlx::Result<bool> {
    let now = now_ms();
    let done = crate::store::sql::query(
        "INSERT INTO estate_scan_claim (name, holder, until) VALUES ('scanner', ?1, ?2) \
         ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, until = excluded.until \
         WHERE estate_scan_claim.holder = excluded.holder OR estate_scan_claim.until <= ?3",
    )
    .bind(holder)
    .bind(now + ttl_ms)
    .bind(now)
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Gives the claim up (only if `holder` has it).
pub async fn release_scanner(db: impl AnyExecutor<'_>, holder: &str) -> sqlx::Result<()> {
    crate::store::sql::query("DELETE FROM estate_scan_claim WHERE holder = ?")
        .bind(holder)
        .execute(db)
        .await?;
    Ok(())
}

pub async fn begin_scan(
    db: impl AnyExecutor<'_>,
    account: &str,
    started_by: &str,
) -> sqlx::Result<i64> {
    let row = crate::store::sql::query(
        "INSERT INTO estate_scans (account, started_by, state, started_at) \
         VALUES (?, ?, 'running', ?) RETURNING id",
    )
    .bind(account)
    .bind(started_by)
    .bind(now_ms())
    .fetch_one(db)
    .await?;
    row.try_get(0)
}

pub async fn finish_scan(
    db: impl AnyExecutor<'_>,
    scan: i64,
    error: Option<&str>,
) -> sqlx::Result<()> {
    crate::store::sql::query(
        "UPDATE estate_scans SET state = ?, error = ?, finished_at = ? WHERE id = ?",
    )
    .bind(if error.is_some() {
        "failed"
    } else {
        "completed"
    })
    .bind(error)
    .bind(now_ms())
    .bind(scan)
    .execute(db)
    .await?;
    Ok(())
}

/// How one region of a scan went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegionRow {
    pub region: String,
    /// `None`: scanned; else the refusal's code, message and RequestId.
    pub refused: Option<(String, String, Option<String>)>,
    pub unbound_eips: i64,
}

/// One VPC as a scan saw it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct VpcRow {
    pub region: String,
    pub vpc_id: String,
    pub vpc_name: String,
    pub instances: i64,
    pub eip_hosts: i64,
    pub ordinary_hosts: i64,
    pub nat_gateways: i64,
    pub route_tables: i64,
    pub nat_routed_tables: i64,
    /// Public hosts that are protected (by tag, or by the VPC's newest run); -1 for a row of
    /// a scan from before they were counted.
    pub protected_hosts: i64,
    /// JSON `[{instance_id, ip, kind, protected?}]`.
    pub public_hosts: String,
    /// JSON `[{route_table_id, gateway_type, gateway_id}]`.
    pub default_routes: String,
}

/// Stores a region's outcome and its VPCs in one transaction.
pub async fn record_region(
    store: &super::Store,
    scan: i64,
    region: &RegionRow,
    vpcs: &[VpcRow],
) -> sqlx::Result<()> {
    let mut tx = store.begin_write().await?;
    let (code, message, request_id) = match &region.refused {
        Some((c, m, r)) => (Some(c.as_str()), Some(m.as_str()), r.as_deref()),
        None => (None, None, None),
    };
    crate::store::sql::query(
        "INSERT INTO estate_scan_regions (scan_id, region, state, error_code, error_message, \
         request_id, unbound_eips) VALUES (?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(scan)
    .bind(&region.region)
    .bind(if region.refused.is_some() {
        "refused"
    } else {
        "ok"
    })
    .bind(code)
    .bind(message)
    .bind(request_id)
    .bind(region.unbound_eips)
    .execute(&mut *tx)
    .await?;
    for v in vpcs {
        crate::store::sql::query(
            "INSERT INTO estate_vpcs (scan_id, region, vpc_id, vpc_name, instances, eip_hosts, \
             ordinary_hosts, nat_gateways, route_tables, nat_routed_tables, protected_hosts, \
             public_hosts, default_routes) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(scan)
        .bind(&v.region)
        .bind(&v.vpc_id)
        .bind(&v.vpc_name)
        .bind(v.instances)
        .bind(v.eip_hosts)
        .bind(v.ordinary_hosts)
        .bind(v.nat_gateways)
        .bind(v.route_tables)
        .bind(v.nat_routed_tables)
        .bind(v.protected_hosts)
        .bind(&v.public_hosts)
        .bind(&v.default_routes)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await
}

/// One attempt of a scan's cloud call, before it is sent.
pub struct CallRow<'a> {
    pub scan: i64,
    pub service: &'a str,
    pub action: &'a str,
    pub region: &'a str,
    pub attempt: u32,
    pub params: &'a str,
}

pub async fn call_sent(db: impl AnyExecutor<'_>, c: &CallRow<'_>) -> sqlx::Result<i64> {
    let row = crate::store::sql::query(
        "INSERT INTO estate_calls (scan_id, service, action, region, attempt, params, state, \
         sent_at) VALUES (?, ?, ?, ?, ?, ?, 'sent', ?) RETURNING id",
    )
    .bind(c.scan)
    .bind(c.service)
    .bind(c.action)
    .bind(c.region)
    .bind(i64::from(c.attempt))
    .bind(c.params)
    .bind(now_ms())
    .fetch_one(db)
    .await?;
    row.try_get(0)
}

pub async fn call_answered(
    db: impl AnyExecutor<'_>,
    id: i64,
    error_code: Option<&str>,
    request_id: Option<&str>,
    duration_ms: i64,
) -> sqlx::Result<()> {
    crate::store::sql::query(
        "UPDATE estate_calls SET state = ?, error_code = ?, request_id = ?, duration_ms = ? \
         WHERE id = ?",
    )
    .bind(if error_code.is_some() { "error" } else { "ok" })
    .bind(error_code)
    .bind(request_id)
    .bind(duration_ms)
    .bind(id)
    .execute(db)
    .await?;
    Ok(())
}

/// A scan as the estate page lists it.
#[derive(Debug, Clone)]
pub struct Scan {
    pub id: i64,
    pub account: String,
    pub started_by: String,
    pub state: String,
    pub error: Option<String>,
    pub started_at: i64,
    pub finished_at: Option<i64>,
}

/// The newest finished scan of each account.
pub async fn latest_scans(db: &AnyPool) -> sqlx::Result<Vec<Scan>> {
    let rows = crate::store::sql::query(
        "SELECT s.id, s.account, s.started_by, s.state, s.error, s.started_at, s.finished_at \
         FROM (SELECT MAX(id) AS id FROM estate_scans WHERE state != 'running' \
               GROUP BY account) newest \
         JOIN estate_scans s ON s.id = newest.id ORDER BY s.account",
    )
    .fetch_all(db)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(Scan {
                id: r.try_get("id")?,
                account: r.try_get("account")?,
                started_by: r.try_get("started_by")?,
                state: r.try_get("state")?,
                error: r.try_get("error")?,
                started_at: r.try_get("started_at")?,
                finished_at: r.try_get("finished_at")?,
            })
        })
        .collect()
}

pub async fn regions_of(db: &AnyPool, scan: i64) -> sqlx::Result<Vec<RegionRow>> {
    let rows = crate::store::sql::query(
        "SELECT region, state, error_code, error_message, request_id, unbound_eips \
         FROM estate_scan_regions WHERE scan_id = ? ORDER BY region",
    )
    .bind(scan)
    .fetch_all(db)
    .await?;
    rows.iter()
        .map(|r| {
            let state: String = r.try_get("state")?;
            let refused = match state.as_str() {
                "ok" => None,
                _ => Some((
                    r.try_get::<Option<String>, _>("error_code")?
                        .unwrap_or_default(),
                    r.try_get::<Option<String>, _>("error_message")?
                        .unwrap_or_default(),
                    r.try_get("request_id")?,
                )),
            };
            Ok(RegionRow {
                region: r.try_get("region")?,
                refused,
                unbound_eips: r.try_get("unbound_eips")?,
            })
        })
        .collect()
}

pub async fn vpcs_of(db: &AnyPool, scan: i64) -> sqlx::Result<Vec<VpcRow>> {
    let rows = crate::store::sql::query(
        "SELECT region, vpc_id, vpc_name, instances, eip_hosts, ordinary_hosts, nat_gateways, \
         route_tables, nat_routed_tables, protected_hosts, public_hosts, default_routes \
         FROM estate_vpcs WHERE scan_id = ? ORDER BY region, vpc_id",
    )
    .bind(scan)
    .fetch_all(db)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(VpcRow {
                region: r.try_get("region")?,
                vpc_id: r.try_get("vpc_id")?,
                vpc_name: r.try_get("vpc_name")?,
                instances: r.try_get("instances")?,
                eip_hosts: r.try_get("eip_hosts")?,
                ordinary_hosts: r.try_get("ordinary_hosts")?,
                nat_gateways: r.try_get("nat_gateways")?,
                route_tables: r.try_get("route_tables")?,
                nat_routed_tables: r.try_get("nat_routed_tables")?,
                protected_hosts: r.try_get("protected_hosts")?,
                public_hosts: r.try_get("public_hosts")?,
                default_routes: r.try_get("default_routes")?,
            })
        })
        .collect()
}

/// How many calls a scan made and how many failed.
pub async fn call_counts(db: &AnyPool, scan: i64) -> sqlx::Result<(i64, i64)> {
    let row = crate::store::sql::query(
        "SELECT COUNT(*), COALESCE(COUNT(CASE WHEN state = 'error' THEN 1 END), 0) FROM estate_calls WHERE scan_id = ?",
    )
    .bind(scan)
    .fetch_one(db)
    .await?;
    Ok((row.try_get(0)?, row.try_get(1)?))
}

/// The newest run of (account, region, VPC), if any: the estate page links to it.
pub async fn last_run(
    db: &AnyPool,
    account: &str,
    region: &str,
    vpc_id: &str,
) -> sqlx::Result<Option<String>> {
    crate::store::sql::query_scalar(
        "SELECT id FROM runs WHERE vpc_id = ? AND account = ? AND region = ? \
         ORDER BY started_at DESC, id DESC LIMIT 1",
    )
    .bind(vpc_id)
    .bind(account)
    .bind(region)
    .fetch_optional(db)
    .await
}

/// (region, VPC, instance) of every instance protected in step 1 of its VPC's newest run.
pub type ProtectedByRuns = std::collections::HashSet<(String, String, String)>;

/// What the newest run of each of the account's VPCs protected in step 1 (the stored exposure
/// rows' decision: by rule, DNS, tag or as a single host). The scan counts these with the
/// tagged hosts as the VPC's protected hosts.
pub async fn protected_by_newest_runs(
    db: &AnyPool,
    account: &str,
) -> sqlx::Result<ProtectedByRuns> {
    let rows = crate::store::sql::query(
        "SELECT r.region, r.vpc_id, e.instance_id FROM runs r \
         JOIN exposure_rows e ON e.run_id = r.id AND e.protected = 1 \
         WHERE r.account = ?1 AND r.id = (SELECT n.id FROM runs n WHERE n.account = ?1 \
               AND n.region = r.region AND n.vpc_id = r.vpc_id \
               ORDER BY n.started_at DESC, n.id DESC LIMIT 1)",
    )
    .bind(account)
    .fetch_all(db)
    .await?;
    rows.iter()
        .map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?)))
        .collect()
}

#[cfg(test)]
mod claim_tests {
    use super::*;
    use crate::store::{Store, test_store};

    /// Two processes (replicas) on one database: one scans, the other is told it is busy,
    /// until the claim is given up or runs out (issue 15: estate scans run once).
    #[tokio::test]
    async fn one_process_on_a_database_holds_the_scanner_claim_at_a_time() {
        let dir = tempfile::tempdir().unwrap();
        let database = test_store::database(dir.path()).await.unwrap();
        let a = Store::connect(&database).await.unwrap();
        let b = Store::connect(&database).await.unwrap();
        assert!(claim_scanner(a.writer(), "a", 60_000).await.unwrap());
        assert!(!claim_scanner(b.writer(), "b", 60_000).await.unwrap());
        assert!(
            claim_scanner(a.writer(), "a", 60_000).await.unwrap(),
            "renewed"
        );
        release_scanner(a.writer(), "a").await.unwrap();
        assert!(claim_scanner(b.writer(), "b", 0).await.unwrap());
        // b's claim ran out at once (ttl 0): a may take it over.
        assert!(claim_scanner(a.writer(), "a", 60_000).await.unwrap());
        assert!(!claim_scanner(b.writer(), "b", 60_000).await.unwrap());
    }
}
