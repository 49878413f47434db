//! The estate's totals over the newest finished scan of each account, as the estate page
//! adds them up: for the Prometheus gauges, counted by SQLite at scrape time.

use sqlx::{AnyExecutor, Row};

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EstateTotals {
    pub vpcs: i64,
    pub instances: i64,
    pub eip_hosts: i64,
    pub ordinary_hosts: i64,
    /// VPCs with route tables, all of them sending 0.0.0.0/0 to a NAT gateway.
    pub nat_routed_vpcs: i64,
    pub unbound_eips: i64,
    /// Protected servers counted by the newest scans (rows of scans that predate the count
    /// add nothing).
    pub protected_hosts: i64,
}

/// The newest finished scan of each account (as `estate::latest_scans` picks them).
macro_rules! latest_scans {
    () => {
        "SELECT MAX(id) FROM estate_scans WHERE state != 'running' GROUP BY account"
    };
}

pub async fn totals(conn: &sqlx::AnyPool) -> sqlx::Result<EstateTotals> {
    let vpcs = vpc_totals(conn).await?;
    let unbound: i64 = crate::store::sql::query_scalar(concat!(
        "SELECT CAST(COALESCE(SUM(unbound_eips), 0) AS BIGINT) FROM estate_scan_regions \
         WHERE scan_id IN (",
        latest_scans!(),
        ")"
    ))
    .fetch_one(conn)
    .await?;
    Ok(EstateTotals {
        unbound_eips: unbound,
        ..vpcs
    })
}

async fn vpc_totals(conn: impl AnyExecutor<'_>) -> sqlx::Result<EstateTotals> {
    let r = crate::store::sql::query(concat!(
        // Sums cast to BIGINT and a count for the boolean: PostgreSQL sums BIGINTs as NUMERIC
        // and cannot sum booleans; SQLite reads the same text alike.
        "SELECT COUNT(*), CAST(COALESCE(SUM(instances), 0) AS BIGINT), \
         CAST(COALESCE(SUM(eip_hosts), 0) AS BIGINT), \
         CAST(COALESCE(SUM(ordinary_hosts), 0) AS BIGINT), \
         COUNT(CASE WHEN route_tables > 0 AND nat_routed_tables = route_tables THEN 1 END), \
         CAST(COALESCE(SUM(CASE WHEN protected_hosts > 0 THEN protected_hosts ELSE 0 END), 0) \
           AS BIGINT) \
         FROM estate_vpcs WHERE scan_id IN (",
        latest_scans!(),
        ")"
    ))
    .fetch_one(conn)
    .await?;
    Ok(EstateTotals {
        vpcs: r.try_get(0)?,
        instances: r.try_get(1)?,
        eip_hosts: r.try_get(2)?,
        ordinary_hosts: r.try_get(3)?,
        nat_routed_vpcs: r.try_get(4)?,
        protected_hosts: r.try_get(5)?,
        unbound_eips: 0,
    })
}
