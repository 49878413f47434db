//! Step 1's exposure report written as one row per instance (`store::exposure`), with the
//! sort keys the table's indexes order by, so a page reads one page of it.

use super::records::RecordError;
use crate::store::{self, RunId, Store, exposure::ExposureRecord};
use crate::wizard::steps::assess::{Egress, ExposureReport, ExposureRow, PublicIpKind};

/// Sort key of an address column: numeric order, anything else after, empty last.
fn ip_key(ip: &str) -> i64 {
    match ip.parse::<std::net::Ipv4Addr>() {
        Ok(a) => i64::from(u32::from(a)),
        Err(_) if ip.is_empty() => 1 << 33,
        Err(_) => 1 << 32,
    }
}

/// One report row as stored; protection is filled in by `protection::refresh`.
fn record_of(r: &ExposureRow) -> ExposureRecord {
    let private_ip = r.private_ip.clone().unwrap_or_default();
    let public_ip = r.public_ip.clone().unwrap_or_default();
    let dns_names = r.dns_names.join(", ");
    let (egress_outcome, egress_ip, egress_detail, egress_key) = match &r.egress {
        Some(Egress::Ip { ip }) => ("ip", ip.clone(), String::new(), ip_key(ip)),
        Some(Egress::Failed { detail }) => ("failed", String::new(), detail.clone(), (1 << 32) + 1),
        Some(Egress::Untestable { detail }) => {
            ("untestable", String::new(), detail.clone(), (1 << 32) + 2)
        }
        None => ("none", String::new(), String::new(), 1 << 33),
    };
    let tags: Vec<String> = r.tags.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let search = [
        r.instance_id.as_str(),
        &r.name,
        &r.subnet_id,
        &private_ip,
        &public_ip,
        &dns_names,
        &tags.join("\n"),
    ]
    .join("\n")
    .to_lowercase();
    ExposureRecord {
        instance_id: r.instance_id.clone(),
        name: r.name.clone(),
        subnet_id: r.subnet_id.clone(),
        private_key: ip_key(&private_ip),
        public_key: ip_key(&public_ip),
        private_ip,
        public_ip,
        kind: match r.kind {
            PublicIpKind::Eip => "eip",
            PublicIpKind::Ordinary => "ordinary",
            PublicIpKind::None => "none",
        },
        tags: serde_json::to_string(&r.tags).unwrap_or_else(|_| "[]".into()),
        dns_key: if dns_names.is_empty() {
            "1".into()
        } else {
            format!("0{dns_names}")
        },
        dns_names,
        egress_outcome,
        egress_ip,
        egress_detail,
        egress_key,
        agent_online: r.agent_online,
        search,
        protected: r.protected,
        reason_kind: r.reason.clone(),
        reason: report_reason(&r.reason),
    }
}

/// The words of a report row's reason, as `protection::refresh` writes them for the default rules.
fn report_reason(kind: &str) -> String {
    let default = crate::wizard::protection::default_rules();
    match default.iter().find(|rule| rule.kind() == kind) {
        Some(rule) => rule.describe(),
        None if kind == "operator" => "chosen by an operator".into(),
        None => String::new(),
    }
}

/// Rows written per transaction: each stays short, because the writer is shared with every
/// run's lease heartbeat (a 50,000-row transaction outlasted a lease in a debug build).
const ROWS_PER_TX: usize = 2_000;

/// Writes the report's rows, replacing any, in short transactions, with the report's own
/// protection (the caller refreshes it when rules or decisions may differ). Written before
/// the report: a page treats the rows as complete once the report is stored.
pub(super) async fn write_rows(
    store: &Store,
    run: RunId,
    report: &ExposureReport,
) -> Result<(), RecordError> {
    let rows: Vec<ExposureRecord> = report.rows.iter().map(record_of).collect();
    store::exposure::delete_rows(store.writer(), run).await?;
    for chunk in rows.chunks(ROWS_PER_TX) {
        let mut tx = store.begin_write().await?;
        store::exposure::insert_rows(&mut tx, run, chunk).await?;
        tx.commit().await?;
    }
    Ok(())
}
