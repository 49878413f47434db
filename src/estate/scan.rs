//! Estate scans (issue 13 item 2): per account, the regions where VPC is offered
//! (region service DescribeRegions, `Product=vpc`), then per region — all regions at once —
//! VPCs, instances with their public IPs, EIPs (bound and unbound), NAT gateways and each
//! route table's `0.0.0.0/0`. Read-only: through the account's client (its rate limiter, per
//! action, region and account, at background priority so the account's runs go first), with a journal that writes every attempt to the scan's ledger
//! first and refuses any call that could change the cloud. A region that refuses a call (no
//! CAM permission) is stored with the code and RequestId, and the scan goes on.
//!
//! Only one process scans at a time: the scanner claim in the store, taken before and
//! given up after; a process that finds it held does not scan.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use crate::store::{
    self, Store,
    estate::{RegionRow, VpcRow},
};
use crate::tencent::journal::{Attempt, CallJournal, EntryId, JournalFuture, Refusal};
use crate::tencent::models::{cvm, regions, vpc};
use crate::tencent::observer::{CallOutcome, CallRecord};
use crate::tencent::{Client, TencentError};

use super::accounts::{CloudAccount, CloudAccounts};
use super::scan_ledger::{AnsweredRow, ScanLedger, SentRow};

/// How long the scanner claim lasts without renewal: a scan that dies frees it by then.
const CLAIM_MS: i64 = 10 * 60 * 1000;

#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    #[error("another natpilot process is scanning the estate right now; try again when it is done")]
    Busy,
    #[error(transparent)]
    Db(#[from] sqlx::Error),
    #[error(transparent)]
    Drift(#[from] super::drift_scan::DriftError),
}

/// Scans every usable account, all at once (and the regions of each at once).
/// Returns the ids of the scans stored.
pub async fn scan_all(
    store: &Store,
    accounts: &CloudAccounts,
    started_by: &str,
) -> Result<Vec<i64>, ScanError> {
    let holder = format!("{}:{}", std::process::id(), uuid::Uuid::new_v4());
    if !store::estate::claim_scanner(store.writer(), &holder, CLAIM_MS).await? {
        return Err(ScanError::Busy);
    }
    // Accounts at once, like regions: Tencent's limits are per account, so one account's scan
    // never waits for another's budget. The claim is renewed while they run.
    let usable = accounts
        .all()
        .iter()
        .filter_map(|a| a.client.as_ref().ok().map(|c| (a, c)));
    // One ledger writer for every account's and region's calls (group commit).
    let (ledger, ledger_task) = ScanLedger::start(store);
    let results = {
        let ledger = &ledger;
        let all = futures_util::future::join_all(usable.map(|(account, client)| async move {
            (
                account,
                scan_account(store, ledger, account, client, started_by).await,
            )
        }));
        tokio::pin!(all);
        loop {
            tokio::select! {
                results = &mut all => break results,
                () = tokio::time::sleep(std::time::Duration::from_millis(CLAIM_MS as u64 / 3)) => {
                    store::estate::claim_scanner(store.writer(), &holder, CLAIM_MS).await?;
                }
            }
        }
    };
    // Every call has been answered: once the last handle is gone the writer commits what it
    // still holds and stops.
    drop(ledger);
    ledger_task.finish().await;
    let mut scans = Vec::new();
    let mut outcome = Ok(());
    for (account, result) in results {
        match result {
            Ok(id) => scans.push(id),
            // That account's snapshot is stored; its drift check failed closed. The other
            // accounts are scanned all the same, and the error is the outcome.
            Err(ScanError::Drift(e)) => {
                tracing::error!(account = %account.label, error = %e, "drift check stopped");
                if outcome.is_ok() {
                    outcome = Err(ScanError::Drift(e));
                }
            }
            Err(e) => {
                if !matches!(outcome, Err(ScanError::Db(_))) {
                    outcome = Err(e);
                }
            }
        }
    }
    store::estate::release_scanner(store.writer(), &holder).await?;
    outcome.map(|()| scans)
}

async fn scan_account(
    store: &Store,
    ledger: &ScanLedger,
    account: &CloudAccount,
    client: &Client,
    started_by: &str,
) -> Result<i64, ScanError> {
    let scan = store::estate::begin_scan(store.writer(), &account.label, started_by).await?;
    // Its calls share the account's rate-limit budgets with the account's runs, and yield
    // to them: a scan never slows a rollout down (issue 13 item 2).
    let journal = Arc::new(ScanJournal {
        ledger: ledger.clone(),
        scan,
    });
    let client = client.with_journal(journal).in_background();
    let request = regions::DescribeRegionsRequest {
        product: "vpc".into(),
        scene: None,
    };
    // The region service is global; ask it in the account's own region.
    let listed = client
        .call::<regions::DescribeRegions>(&account.default_region, &request)
        .await;
    let regions = match listed {
        Ok(r) => r,
        Err(e) => {
            store::estate::finish_scan(store.writer(), scan, Some(&e.to_string())).await?;
            return Ok(scan);
        }
    };
    // Only AVAILABLE is documented as usable (reference-2 §5.3).
    let names: Vec<String> = regions
        .region_set
        .into_iter()
        .filter(|r| r.region_state == "AVAILABLE")
        .map(|r| r.region)
        .collect();
    // What each VPC's newest run protected, read once before the regions are listed.
    let protected =
        store::estate::protected_by_newest_runs(store.readers(), &account.label).await?;
    let scans = names.iter().map(|r| scan_region(&client, r, &protected));
    let results = futures_util::future::join_all(scans).await;
    // Every call is answered; its ledger writes are handed over (the scan's end waits for
    // the writer below, in `scan_all`).
    drop(client);
    for (region, vpcs) in results {
        store::estate::record_region(store, scan, &region, &vpcs).await?;
    }
    store::estate::finish_scan(store.writer(), scan, None).await?;
    // The snapshot stands on its own; drift is judged from it once it is complete.
    let drift = super::drift_scan::after_scan(store, scan, &account.label, started_by).await?;
    tracing::info!(scan, account = %account.label, ?drift, "estate scan compared with completed runs");
    Ok(scan)
}

/// Pages of one list asked for at once (each still in its own rate-limit slot): a page's round
/// trip, ledger writes included, is longer than DescribeInstances' 25 ms slot when 15 regions
/// are read at once, and one page at a time left every such slot unused (README, estate-scan
/// benchmark).
const PAGES_AHEAD: usize = 4;

/// The tag every run honours (`natpilot:protected=true`, any case of `true`).
fn tagged_protected(i: &cvm::Instance) -> bool {
    let (key, value) = crate::wizard::observed::PROTECTED_TAG;
    i.tags
        .iter()
        .any(|t| t.key == key && t.value.eq_ignore_ascii_case(value))
}

/// Every list of one region; a refusal of any of them is the region's outcome.
async fn scan_region(
    client: &Client,
    region: &str,
    protected: &store::estate::ProtectedByRuns,
) -> (RegionRow, Vec<VpcRow>) {
    let (vpcs, instances, addresses, nats, tables) = (
        vpc::DescribeVpcsRequest::default(),
        cvm::DescribeInstancesRequest::default(),
        vpc::DescribeAddressesRequest::default(),
        vpc::DescribeNatGatewaysRequest::default(),
        vpc::DescribeRouteTablesRequest::default(),
    );
    let listed = tokio::try_join!(
        client.fetch_all_ahead::<vpc::DescribeVpcs>(region, &vpcs, PAGES_AHEAD),
        client.fetch_all_ahead::<cvm::DescribeInstances>(region, &instances, PAGES_AHEAD),
        client.fetch_all_ahead::<vpc::DescribeAddresses>(region, &addresses, PAGES_AHEAD),
        client.fetch_all_ahead::<vpc::DescribeNatGateways>(region, &nats, PAGES_AHEAD),
        client.fetch_all_ahead::<vpc::DescribeRouteTables>(region, &tables, PAGES_AHEAD),
    );
    match listed {
        Ok((vpcs, instances, addresses, nats, tables)) => {
            summarise(region, vpcs, instances, addresses, nats, tables, protected)
        }
        Err(e) => (
            RegionRow {
                region: region.to_owned(),
                refused: Some(refusal(&e)),
                unbound_eips: 0,
            },
            Vec::new(),
        ),
    }
}

fn refusal(e: &TencentError) -> (String, String, Option<String>) {
    let message = match e {
        TencentError::Api { message, .. } => message.clone(),
        other => other.to_string(),
    };
    (e.outcome_code(), message, e.request_id().map(str::to_owned))
}

/// Per VPC: instances, public IPs by kind (an IP that is an EIP's is an EIP, any other public
/// IP is ordinary), NAT gateways, route tables and whose `0.0.0.0/0` goes to a NAT gateway.
fn summarise(
    region: &str,
    vpcs: Vec<vpc::Vpc>,
    instances: Vec<cvm::Instance>,
    addresses: Vec<vpc::Address>,
    nats: Vec<vpc::NatGateway>,
    tables: Vec<vpc::RouteTable>,
    protected: &store::estate::ProtectedByRuns,
) -> (RegionRow, Vec<VpcRow>) {
    let eip_ips: HashSet<&str> = addresses
        .iter()
        .filter(|a| a.address_type != "WanIP")
        .map(|a| a.address_ip.as_str())
        .collect();
    let unbound = addresses
        .iter()
        .filter(|a| {
            a.address_type != "WanIP" && a.instance_id.is_empty() && a.address_status == "UNBIND"
        })
        .count() as i64;
    let mut rows: BTreeMap<String, (VpcRow, Vec<serde_json::Value>, Vec<serde_json::Value>)> = vpcs
        .into_iter()
        .map(|v| {
            let row = VpcRow {
                region: region.to_owned(),
                vpc_id: v.vpc_id.clone(),
                vpc_name: v.vpc_name,
                ..VpcRow::default()
            };
            (v.vpc_id, (row, Vec::new(), Vec::new()))
        })
        .collect();
    for i in instances {
        let Some((row, hosts, _)) = rows.get_mut(&i.virtual_private_cloud.vpc_id) else {
            continue;
        };
        row.instances += 1;
        if let Some(ip) = i.public_ip_addresses.as_ref().and_then(|ips| ips.first()) {
            let kind = if eip_ips.contains(ip.as_str()) {
                "eip"
            } else {
                "ordinary"
            };
            match kind {
                "eip" => row.eip_hosts += 1,
                _ => row.ordinary_hosts += 1,
            }
            let mut host =
                serde_json::json!({"instance_id": i.instance_id, "ip": ip, "kind": kind});
            if tagged_protected(&i) {
                host["protected"] = "tag".into();
            } else if protected.contains(&(
                region.to_owned(),
                i.virtual_private_cloud.vpc_id.clone(),
                i.instance_id.clone(),
            )) {
                host["protected"] = "run".into();
            }
            hosts.push(host);
        }
    }
    for n in nats {
        if let Some((row, _, _)) = rows.get_mut(&n.vpc_id) {
            row.nat_gateways += 1;
        }
    }
    for t in tables {
        let Some((row, _, routes)) = rows.get_mut(&t.vpc_id) else {
            continue;
        };
        row.route_tables += 1;
        let default = t
            .route_set
            .iter()
            .find(|r| r.destination_cidr_block.as_deref() == Some("0.0.0.0/0"));
        if let Some(r) = default {
            let gateway_type = r.gateway_type.clone().unwrap_or_default();
            if gateway_type == "NAT" {
                row.nat_routed_tables += 1;
            }
            routes.push(serde_json::json!({
                "route_table_id": t.route_table_id,
                "gateway_type": gateway_type,
                "gateway_id": r.gateway_id.clone().unwrap_or_default(),
            }));
        }
    }
    let vpcs = rows
        .into_values()
        .map(|(mut row, hosts, routes)| {
            row.protected_hosts = hosts
                .iter()
                .filter(|h| h.get("protected").is_some())
                .count() as i64;
            row.public_hosts = serde_json::Value::from(hosts).to_string();
            row.default_routes = serde_json::Value::from(routes).to_string();
            row
        })
        .collect();
    let region = RegionRow {
        region: region.to_owned(),
        refused: None,
        unbound_eips: unbound,
    };
    (region, vpcs)
}

/// The scan's ledger: each attempt is written (committed) before it is sent, its answer
/// after, both through the scan's ledger writer; a call that could change the cloud is
/// refused (a scan is read-only, whatever a future edit asks of it).
struct ScanJournal {
    ledger: ScanLedger,
    scan: i64,
}

impl CallJournal for ScanJournal {
    fn before_send<'a>(
        &'a self,
        a: &'a Attempt<'a>,
    ) -> JournalFuture<'a, Result<EntryId, Refusal>> {
        Box::pin(async move {
            if a.mutates {
                return Err(Refusal {
                    code: "natpilot.ReadOnlyScan".into(),
                    reason: format!(
                        "an estate scan never changes the cloud; not sending {}",
                        a.action
                    ),
                });
            }
            let row = SentRow {
                scan: self.scan,
                service: a.service.name(),
                action: a.action,
                region: a.region.to_owned(),
                attempt: a.attempt,
                params: a.parameters.to_string(),
            };
            self.ledger.sent(row).await.map_err(|e| Refusal {
                code: "natpilot.LedgerUnavailable".into(),
                reason: format!("the scan's call ledger cannot be written: {e}"),
            })
        })
    }

    fn after_answer<'a>(&'a self, entry: EntryId, r: &'a CallRecord) -> JournalFuture<'a, ()> {
        Box::pin(async move {
            let error_code = match &r.outcome {
                CallOutcome::Ok => None,
                CallOutcome::Error { code } => Some(code.clone()),
            };
            let row = AnsweredRow {
                entry,
                error_code,
                request_id: r.request_id.clone(),
                duration_ms: i64::try_from(r.duration.as_millis()).unwrap_or(i64::MAX),
            };
            self.ledger.answered(row).await;
        })
    }
}
