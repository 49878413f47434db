//! The estate's Prometheus gauges (issue 13 items 3 and 4), counted from the database at
//! each scrape: open drift findings per kind (every kind, zeros included, so an alert rule
//! sees a series go back to 0), and the totals the estate page shows: servers with a public
//! IP by kind, VPCs routed through a NAT gateway or not, servers, VPCs, unbound EIPs and
//! protected servers.
//! A read that fails (or a row that does not decode) drops that family from the scrape, so
//! a scraper sees the series vanish instead of a stale or made-up value.

use super::metrics::Metrics;
use crate::estate::drift::KINDS;
use crate::store::{self, Store};

pub async fn refresh(metrics: &Metrics, store: &Store) {
    match store::drift::open_counts(store.readers()).await {
        Ok(counts) => {
            let series = KINDS
                .iter()
                .map(|k| {
                    let n = counts.iter().find(|(c, _)| c == k).map_or(0, |(_, n)| *n);
                    (format!("kind=\"{k}\""), n)
                })
                .collect();
            metrics.set_gauge(
                "natpilot_drift_open_findings",
                "Open drift findings by kind.",
                series,
            );
        }
        Err(e) => {
            tracing::warn!(error = %e, "could not count drift findings for the metrics");
            metrics.clear_gauge("natpilot_drift_open_findings");
        }
    }
    let t = match store::estate_totals::totals(store.readers()).await {
        Ok(t) => t,
        Err(e) => {
            tracing::warn!(error = %e, "could not add up the estate for the metrics");
            for name in FAMILIES {
                metrics.clear_gauge(name);
            }
            return;
        }
    };
    let one = |n: i64| vec![(String::new(), n)];
    metrics.set_gauge(
        FAMILIES[0],
        "Servers with a public IP in the newest scans, by kind (eip or ordinary).",
        vec![
            ("kind=\"eip\"".into(), t.eip_hosts),
            ("kind=\"ordinary\"".into(), t.ordinary_hosts),
        ],
    );
    metrics.set_gauge(
        FAMILIES[1],
        "VPCs in the newest scans, by whether every route table sends 0.0.0.0/0 to a NAT gateway.",
        vec![
            ("nat_routed=\"true\"".into(), t.nat_routed_vpcs),
            ("nat_routed=\"false\"".into(), t.vpcs - t.nat_routed_vpcs),
        ],
    );
    metrics.set_gauge(
        FAMILIES[2],
        "Servers in the newest scans.",
        one(t.instances),
    );
    metrics.set_gauge(
        FAMILIES[3],
        "EIPs bound to nothing in the newest scans.",
        one(t.unbound_eips),
    );
    metrics.set_gauge(
        FAMILIES[4],
        "Protected servers (keep their public IP on purpose) in the newest scans.",
        one(t.protected_hosts),
    );
}

const FAMILIES: [&str; 5] = [
    "natpilot_estate_public_ips",
    "natpilot_estate_vpcs",
    "natpilot_estate_instances",
    "natpilot_estate_unbound_eips",
    "natpilot_estate_protected_hosts",
];
