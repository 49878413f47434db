//! `natpilot snapshot` (issue 3 item 6): read-only describe calls through the ordinary client,
//! against Tencent Cloud or a simulator, turned into a scenario file of one VPC — its subnets,
//! route tables, instances, NAT gateways, the EIPs bound into it plus the region's unbound
//! ones, TAT agent status, EIP quotas, and the DNSPod records pointing at its public IPs — so an
//! operator can rehearse a run on `natpilot sim --scenario FILE`. Never calls a mutating action.

mod convert;
#[cfg(test)]
mod tests;

use std::collections::HashSet;
use std::path::PathBuf;

use anyhow::Context;
use clap::Args;

use crate::config::Config;
use crate::sim::Scenario;
use crate::sim::world::types::Quotas;
use crate::tencent::models::{Filter, cvm, dnspod, tat, vpc};
use crate::tencent::{Action as _, Client, ClientSettings, CredentialChain, PagedAction};

/// `natpilot snapshot` arguments.
#[derive(Debug, Clone, Default, Args)]
pub struct SnapshotArgs {
    /// Region of the VPC, e.g. ap-guangzhou.
    #[arg(long)]
    pub region: Option<String>,
    /// The VPC to describe, e.g. vpc-azd4dt1c.
    #[arg(long, value_name = "ID")]
    pub vpc: String,
    /// Scenario file to write (`.toml` for TOML, anything else JSON).
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// tccli profile to read credentials from (~/.tccli/<profile>.credential).
    #[arg(long)]
    pub profile: Option<String>,
    /// Send every call to this base URL instead of Tencent Cloud (e.g. http://127.0.0.1:9000).
    #[arg(long, value_name = "URL")]
    pub endpoint: Option<String>,
}

/// A scenario and what could not be captured (e.g. no DNSPod permission), for the operator.
#[derive(Debug)]
pub struct Snapshot {
    pub scenario: Scenario,
    pub warnings: Vec<String>,
}

/// `natpilot snapshot`: resolves credentials as `serve` does, takes the snapshot, writes it.
pub async fn run(config: &Config, args: &SnapshotArgs) -> anyhow::Result<()> {
    let resolved = CredentialChain::from_config(&config.tencent)
        .resolve()
        .await
        .context("no Tencent Cloud credentials")?;
    let region = config.tencent.region.clone().or(resolved.region).context(
        "no region: pass --region (e.g. --region ap-guangzhou) or set tencent.region in natpilot.toml",
    )?;
    let client = Client::new(ClientSettings::from_config(
        &config.tencent,
        resolved.provider,
    )?)?;
    let snapshot = take(&client, &region, &args.vpc).await?;
    snapshot.scenario.to_file(&args.out)?;
    for warning in &snapshot.warnings {
        eprintln!("warning: {warning}");
    }
    let s = &snapshot.scenario;
    println!(
        "wrote {}: {} subnets, {} route tables, {} instances, {} addresses, {} NAT gateways, \
         {} DNS domains; rehearse with `natpilot sim --scenario {}`",
        args.out.display(),
        s.subnets.len(),
        s.route_tables.len(),
        s.instances.len(),
        s.addresses.len(),
        s.nat_gateways.len(),
        s.domains.len(),
        args.out.display()
    );
    Ok(())
}

/// What a snapshot tells whoever waits for it as it goes: the portal's copy of a VPC for a
/// rehearsal shows it on the run page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Progress {
    /// `action` is listing `what` (in words): `listed` so far, of `total` once the cloud said.
    Listing {
        what: &'static str,
        action: &'static str,
        listed: u64,
        total: Option<u64>,
    },
    /// `action` listed all `count` of `what`.
    Listed {
        what: &'static str,
        action: &'static str,
        count: u64,
    },
}

/// Hears a snapshot's [`Progress`] (called inline: keep it quick).
pub type Report<'a> = &'a (dyn Fn(Progress) + Send + Sync);

/// DescribeVpcs answered, without the VPC: a typed cause, with the answer's RequestId.
#[derive(Debug, thiserror::Error)]
#[error(
    "VPC {vpc_id} does not exist in {region} (DescribeVpcs, RequestId {request_id}): check the VPC id and the region"
)]
pub struct NoSuchVpc {
    pub vpc_id: String,
    pub region: String,
    pub request_id: String,
}

/// Describes `vpc_id` in `region` through `client`.
pub async fn take(client: &Client, region: &str, vpc_id: &str) -> anyhow::Result<Snapshot> {
    take_reporting(client, region, vpc_id, &|_| {}).await
}

/// [`take`], telling `report` what it lists and how many so far.
pub async fn take_reporting(
    client: &Client,
    region: &str,
    vpc_id: &str,
    report: Report<'_>,
) -> anyhow::Result<Snapshot> {
    let mut warnings = Vec::new();
    report(Progress::Listing {
        what: "the VPC",
        action: vpc::DescribeVpcs::NAME,
        listed: 0,
        total: Some(1),
    });
    let found = client
        .call_with_request_id::<vpc::DescribeVpcs>(
            region,
            &vpc::DescribeVpcsRequest {
                vpc_ids: Some(vec![vpc_id.to_string()]),
                ..Default::default()
            },
        )
        .await
        .with_context(|| format!("cannot describe VPC {vpc_id} in {region}"))?;
    let request_id = found.request_id;
    let Some(the_vpc) = found
        .response
        .vpc_set
        .into_iter()
        .find(|v| v.vpc_id == vpc_id)
    else {
        return Err(NoSuchVpc {
            vpc_id: vpc_id.to_owned(),
            region: region.to_owned(),
            request_id,
        }
        .into());
    };
    report(Progress::Listed {
        what: "the VPC",
        action: vpc::DescribeVpcs::NAME,
        count: 1,
    });
    let by_vpc = || Some(vec![Filter::one("vpc-id", vpc_id)]);
    let lists = Lists {
        client,
        region,
        report,
    };
    let subnets = lists
        .all::<vpc::DescribeSubnets>(
            "subnets",
            vpc::DescribeSubnetsRequest {
                filters: by_vpc(),
                ..Default::default()
            },
        )
        .await?;
    let tables = lists
        .all::<vpc::DescribeRouteTables>(
            "route tables",
            vpc::DescribeRouteTablesRequest {
                filters: by_vpc(),
                ..Default::default()
            },
        )
        .await?;
    let instances = lists
        .all::<cvm::DescribeInstances>(
            "instances",
            cvm::DescribeInstancesRequest {
                filters: by_vpc(),
                ..Default::default()
            },
        )
        .await?;
    let nats = lists
        .all::<vpc::DescribeNatGateways>(
            "NAT gateways",
            vpc::DescribeNatGatewaysRequest {
                filters: by_vpc(),
                ..Default::default()
            },
        )
        .await?;
    let eips = lists
        .all::<vpc::DescribeAddresses>("the region's EIPs", Default::default())
        .await?;
    let agents = agents(&lists, &instances, &mut warnings).await;
    let quotas = quotas(client, region, &mut warnings).await;

    let owners: HashSet<&str> = instances
        .iter()
        .map(|i| i.instance_id.as_str())
        .chain(nats.iter().map(|n| n.nat_gateway_id.as_str()))
        .collect();
    // EIPs bound into this VPC, and the region's unbound ones (the wizard may reuse those).
    let eips: Vec<&vpc::Address> = eips
        .iter()
        .filter(|a| a.instance_id.is_empty() || owners.contains(a.instance_id.as_str()))
        .collect();
    let eip_ips: HashSet<&str> = eips.iter().map(|a| a.address_ip.as_str()).collect();
    let agent_status = convert::agent_map(&agents);
    let mut scenario = Scenario {
        region: region.to_string(),
        quotas,
        vpcs: vec![convert::vpc(&the_vpc)],
        subnets: subnets.iter().map(convert::subnet).collect(),
        route_tables: tables.iter().map(convert::route_table).collect(),
        instances: instances
            .iter()
            .map(|i| convert::instance(i, &eip_ips, &agent_status))
            .collect(),
        addresses: Vec::new(),
        nat_gateways: nats.iter().filter_map(convert::nat_gateway).collect(),
        domains: Vec::new(),
    };
    for a in &eips {
        match convert::address(a) {
            Some(address) => scenario.addresses.push(address),
            None => warnings.push(format!(
                "left out EIP {} ({}): status {} cannot be simulated",
                a.address_id, a.address_ip, a.address_status
            )),
        }
    }
    let public: HashSet<&str> = eips
        .iter()
        .filter(|a| !a.instance_id.is_empty())
        .map(|a| a.address_ip.as_str())
        .chain(
            scenario
                .instances
                .iter()
                .filter_map(|i| i.public_ip.as_deref()),
        )
        .collect();
    scenario.domains = domains(&lists, &public, &mut warnings).await;
    scenario
        .validate()
        .map_err(|e| anyhow::anyhow!("the snapshot of {vpc_id} is not a valid scenario: {e}"))?;
    Ok(Snapshot { scenario, warnings })
}

/// The list calls of one snapshot, each reported as it goes.
struct Lists<'a> {
    client: &'a Client,
    region: &'a str,
    report: Report<'a>,
}

impl Lists<'_> {
    /// Every page of a list action (reported as `what`), with the action named in the error.
    async fn all<A: PagedAction>(
        &self,
        what: &'static str,
        request: A::Request,
    ) -> anyhow::Result<Vec<A::Item>> {
        let items = self.pages::<A>(what, request, 0, None).await?;
        (self.report)(Progress::Listed {
            what,
            action: A::NAME,
            count: items.len() as u64,
        });
        Ok(items)
    }

    /// Every page of a list action, reported as part of a longer list of `what` that already
    /// has `before` items (of `total`, when the caller knows it better than the action).
    async fn pages<A: PagedAction>(
        &self,
        what: &'static str,
        request: A::Request,
        before: u64,
        total: Option<u64>,
    ) -> anyhow::Result<Vec<A::Item>> {
        let listing = |listed, said: Option<u64>| {
            (self.report)(Progress::Listing {
                what,
                action: A::NAME,
                listed: before + listed,
                total: total.or(said.map(|t| before + t)),
            })
        };
        listing(0, None);
        self.client
            .fetch_all_counted::<A>(self.region, &request, listing)
            .await
            .with_context(|| format!("{} failed", A::NAME))
    }
}

/// TAT agent status of every instance (100 ids per call, reference §4.25). Without TAT access
/// the instances are written with no agent, and the operator is told.
async fn agents(
    lists: &Lists<'_>,
    instances: &[cvm::Instance],
    warnings: &mut Vec<String>,
) -> Vec<tat::AutomationAgentInfo> {
    const WHAT: &str = "TAT agents";
    let ids: Vec<String> = instances.iter().map(|i| i.instance_id.clone()).collect();
    let mut agents = Vec::new();
    for chunk in ids.chunks(100) {
        let request = tat::DescribeAutomationAgentStatusRequest {
            instance_ids: Some(chunk.to_vec()),
            ..Default::default()
        };
        let before = agents.len() as u64;
        let total = Some(ids.len() as u64);
        match lists
            .pages::<tat::DescribeAutomationAgentStatus>(WHAT, request, before, total)
            .await
        {
            Ok(mut page) => agents.append(&mut page),
            Err(e) => {
                warnings.push(format!(
                    "TAT agent status unknown, written as not installed: {e:#}"
                ));
                return Vec::new();
            }
        }
    }
    (lists.report)(Progress::Listed {
        what: WHAT,
        action: tat::DescribeAutomationAgentStatus::NAME,
        count: agents.len() as u64,
    });
    agents
}

/// The EIP quotas of reference §4.23; the documented defaults when they cannot be read.
async fn quotas(client: &Client, region: &str, warnings: &mut Vec<String>) -> Quotas {
    let mut quotas = Quotas::default();
    let request = vpc::DescribeAddressQuotaRequest::default();
    match client
        .call::<vpc::DescribeAddressQuota>(region, &request)
        .await
    {
        Ok(response) => {
            for q in response.quota_set {
                let limit = u64::try_from(q.quota_limit).unwrap_or(0);
                match q.quota_id.as_str() {
                    "TOTAL_EIP_QUOTA" => quotas.eip_total = limit,
                    "DAILY_EIP_APPLY" => quotas.eip_daily_apply = limit,
                    "DAILY_PUBLIC_IP_ASSIGN" => quotas.public_ip_daily_assign = limit,
                    _ => {}
                }
            }
        }
        Err(e) => warnings.push(format!(
            "EIP quotas unknown, documented defaults written: {e}"
        )),
    }
    quotas
}

/// DNSPod domains with records pointing at `ips` (reference §4.29–§4.30; DNSPod has no region).
async fn domains(
    lists: &Lists<'_>,
    ips: &HashSet<&str>,
    warnings: &mut Vec<String>,
) -> Vec<crate::sim::world::types::Domain> {
    let dnspod = Lists {
        region: "",
        ..*lists
    };
    let listed = match dnspod
        .all::<dnspod::DescribeDomainList>("DNS domains", Default::default())
        .await
    {
        Ok(listed) => listed,
        Err(e) => {
            warnings.push(format!("DNS records not captured: {e:#}"));
            return Vec::new();
        }
    };
    let mut domains = Vec::new();
    for d in &listed {
        // ErrorOnEmpty "no": an empty domain is an empty list, not ResourceNotFound.NoDataOfRecord.
        let request = dnspod::DescribeRecordListRequest {
            domain: d.name.clone(),
            error_on_empty: Some("no".into()),
            ..Default::default()
        };
        match dnspod
            .all::<dnspod::DescribeRecordList>("DNS records", request)
            .await
        {
            Ok(records) => domains.extend(convert::domain(d, &records, ips)),
            Err(e) => warnings.push(format!("records of {} not captured: {e:#}", d.name)),
        }
    }
    domains
}
