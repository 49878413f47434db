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
use crate::tencent::{Client, ClientSettings, CredentialChain, PagedAction};

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

/// Describes `vpc_id` in `region` through `client`.
pub async fn take(client: &Client, region: &str, vpc_id: &str) -> anyhow::Result<Snapshot> {
    let mut warnings = Vec::new();
    let found = client
        .call::<vpc::DescribeVpcs>(
            region,
            &vpc::DescribeVpcsRequest {
                vpc_ids: Some(vec![vpc_id.to_string()]),
                ..Default::default()
            },
        )
        .await
        .with_context(|| format!("cannot describe VPC {vpc_id} in {region}"))?;
    let Some(the_vpc) = found.vpc_set.into_iter().find(|v| v.vpc_id == vpc_id) else {
        anyhow::bail!("VPC {vpc_id} does not exist in {region}: check the VPC id and the region");
    };
    let by_vpc = || Some(vec![Filter::one("vpc-id", vpc_id)]);
    let subnets = all::<vpc::DescribeSubnets>(
        client,
        region,
        vpc::DescribeSubnetsRequest {
            filters: by_vpc(),
            ..Default::default()
        },
    )
    .await?;
    let tables = all::<vpc::DescribeRouteTables>(
        client,
        region,
        vpc::DescribeRouteTablesRequest {
            filters: by_vpc(),
            ..Default::default()
        },
    )
    .await?;
    let instances = all::<cvm::DescribeInstances>(
        client,
        region,
        cvm::DescribeInstancesRequest {
            filters: by_vpc(),
            ..Default::default()
        },
    )
    .await?;
    let nats = all::<vpc::DescribeNatGateways>(
        client,
        region,
        vpc::DescribeNatGatewaysRequest {
            filters: by_vpc(),
            ..Default::default()
        },
    )
    .await?;
    let eips = all::<vpc::DescribeAddresses>(client, region, Default::default()).await?;
    let agents = agents(client, region, &instances, &mut warnings).await;
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
    scenario.domains = domains(client, &public, &mut warnings).await;
    scenario
        .validate()
        .map_err(|e| anyhow::anyhow!("the snapshot of {vpc_id} is not a valid scenario: {e}"))?;
    Ok(Snapshot { scenario, warnings })
}

/// Every page of a list action, with the action named in the error.
async fn all<A: PagedAction>(
    client: &Client,
    region: &str,
    request: A::Request,
) -> anyhow::Result<Vec<A::Item>> {
    client
        .fetch_all::<A>(region, &request)
        .await
        .with_context(|| format!("{} failed", A::NAME))
}

/// TAT agent status of every instance (100 ids per call, reference §4.25). Without TAT access
/// the instances are written with no agent, and the operator is told.
async fn agents(
    client: &Client,
    region: &str,
    instances: &[cvm::Instance],
    warnings: &mut Vec<String>,
) -> Vec<tat::AutomationAgentInfo> {
    let ids: Vec<String> = instances.iter().map(|i| i.instance_id.clone()).collect();
    let mut agents = Vec::new();
    for chunk in ids.chunks(100) {
        let request = tat::DescribeAutomationAgentStatusRequest {
            instance_ids: Some(chunk.to_vec()),
            ..Default::default()
        };
        match all::<tat::DescribeAutomationAgentStatus>(client, region, request).await {
            Ok(mut page) => agents.append(&mut page),
            Err(e) => {
                warnings.push(format!(
                    "TAT agent status unknown, written as not installed: {e:#}"
                ));
                return Vec::new();
            }
        }
    }
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
    client: &Client,
    ips: &HashSet<&str>,
    warnings: &mut Vec<String>,
) -> Vec<crate::sim::world::types::Domain> {
    let listed = match all::<dnspod::DescribeDomainList>(client, "", Default::default()).await {
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
        match all::<dnspod::DescribeRecordList>(client, "", request).await {
            Ok(records) => domains.extend(convert::domain(d, &records, ips)),
            Err(e) => warnings.push(format!("records of {} not captured: {e:#}", d.name)),
        }
    }
    domains
}
