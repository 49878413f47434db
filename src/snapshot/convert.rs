//! Pure conversions from what the describe calls return (the Tencent models) to the scenario
//! file's entities (`sim::world::types`). No I/O here, so every rule is unit-testable.

use std::collections::{HashMap, HashSet};

use crate::sim::world::types as sc;
use crate::tencent::models::{Tag, cvm, dnspod, tat, vpc};

fn tags(tags: &[Tag]) -> Vec<sc::Tag> {
    tags.iter()
        .map(|t| sc::Tag {
            key: t.key.clone(),
            value: t.value.clone(),
        })
        .collect()
}

pub fn vpc(v: &vpc::Vpc) -> sc::Vpc {
    sc::Vpc {
        id: v.vpc_id.clone(),
        name: v.vpc_name.clone(),
        cidr: v.cidr_block.clone(),
        is_default: v.is_default,
        created_time: v.created_time.clone(),
        tags: tags(&v.tag_set),
    }
}

pub fn subnet(s: &vpc::Subnet) -> sc::Subnet {
    sc::Subnet {
        id: s.subnet_id.clone(),
        name: s.subnet_name.clone(),
        vpc_id: s.vpc_id.clone(),
        cidr: s.cidr_block.clone(),
        zone: s.zone.clone(),
        route_table_id: s.route_table_id.clone(),
        created_time: s.created_time.clone(),
    }
}

/// The table's IPv4 routes. Left out: IPv6 routes (the scenario format is IPv4) and the
/// implicit `LOCAL` route, which every VPC has and the simulator adds by itself (reference §4.3).
pub fn route_table(t: &vpc::RouteTable) -> sc::RouteTable {
    let routes = t
        .route_set
        .iter()
        .filter(|r| r.gateway_type.as_deref() != Some("LOCAL"))
        .filter_map(|r| {
            Some(sc::Route {
                id: r.route_id.unwrap_or_default(),
                item_id: r.route_item_id.clone().unwrap_or_default(),
                destination: r.destination_cidr_block.clone().filter(|d| !d.is_empty())?,
                gateway_type: r.gateway_type.clone().unwrap_or_default(),
                gateway_id: r.gateway_id.clone().unwrap_or_default(),
                description: r.route_description.clone().unwrap_or_default(),
                enabled: r.enabled.unwrap_or(true),
                route_type: r.route_type.clone().unwrap_or_else(|| "USER".into()),
                created_time: r
                    .created_time
                    .clone()
                    .unwrap_or_else(|| sc::DEFAULT_CREATED.into()),
            })
        })
        .collect();
    sc::RouteTable {
        id: t.route_table_id.clone(),
        name: t.route_table_name.clone(),
        vpc_id: t.vpc_id.clone(),
        main: t.main,
        routes,
        created_time: t.created_time.clone(),
    }
}

/// `eip_ips`: the EIPs bound to this instance. CVM's `PublicIpAddresses` lists EIPs and the
/// ordinary public IP alike (reference §4.20), so the ordinary one is what is left.
pub fn instance(
    i: &cvm::Instance,
    eip_ips: &HashSet<&str>,
    agents: &HashMap<&str, &str>,
) -> sc::Instance {
    let public_ip = i
        .public_ip_addresses
        .iter()
        .flatten()
        .find(|ip| !eip_ips.contains(ip.as_str()))
        .cloned();
    let agent = match agents.get(i.instance_id.as_str()) {
        Some(&"Online") => sc::AgentState::Online,
        Some(_) => sc::AgentState::Offline,
        None => sc::AgentState::None,
    };
    sc::Instance {
        id: i.instance_id.clone(),
        name: i.instance_name.clone(),
        vpc_id: i.virtual_private_cloud.vpc_id.clone(),
        subnet_id: i.virtual_private_cloud.subnet_id.clone(),
        zone: i.placement.zone.clone(),
        private_ip: i.private_ip_addresses.first().cloned().unwrap_or_default(),
        public_ip,
        state: i.instance_state.clone(),
        agent,
        os_name: i.os_name.clone(),
        instance_type: i.instance_type.clone(),
        tags: tags(&i.tags),
        created_time: i.created_time.clone(),
    }
}

/// Agent status per instance id, from DescribeAutomationAgentStatus.
pub fn agent_map(agents: &[tat::AutomationAgentInfo]) -> HashMap<&str, &str> {
    agents
        .iter()
        .map(|a| (a.instance_id.as_str(), a.agent_status.as_str()))
        .collect()
}

/// `None` for statuses the scenario format has no word for (e.g. `BIND_ENI`: bound to a
/// detached ENI, which the scenario does not model).
pub fn address(a: &vpc::Address) -> Option<sc::Address> {
    let status =
        serde_json::from_value(serde_json::Value::String(a.address_status.clone())).ok()?;
    Some(sc::Address {
        id: a.address_id.clone(),
        ip: a.address_ip.clone(),
        name: a.address_name.clone(),
        status,
        instance_id: Some(a.instance_id.clone()).filter(|id| !id.is_empty()),
        bandwidth: a.bandwidth.unwrap_or(1),
        charge_type: a
            .internet_charge_type
            .clone()
            .unwrap_or_else(|| "TRAFFIC_POSTPAID_BY_HOUR".into()),
        isp: Some(a.internet_service_provider.trim())
            .filter(|isp| !isp.is_empty())
            .map_or_else(crate::sim::world::bgp, str::to_owned),
        created_time: a.created_time.clone(),
        busy_task: None,
    })
}

/// `None` for states the scenario format cannot hold.
pub fn nat_gateway(n: &vpc::NatGateway) -> Option<sc::NatGateway> {
    let state = serde_json::from_value(serde_json::Value::String(n.state.clone())).ok()?;
    Some(sc::NatGateway {
        id: n.nat_gateway_id.clone(),
        name: n.nat_gateway_name.clone(),
        vpc_id: n.vpc_id.clone(),
        state,
        bandwidth: n.internet_max_bandwidth_out,
        max_concurrent_connection: n.max_concurrent_connection,
        zone: n.zone.clone(),
        tags: tags(&n.tag_set),
        created_time: n.created_time.clone(),
        pending_new_eips: 0,
    })
}

/// The domain's records that point into the VPC: A/AAAA records whose value is one of `ips`,
/// and CNAMEs whose target is one of those records' names (e.g. `www` → apex).
pub fn domain(
    d: &dnspod::DomainListItem,
    records: &[dnspod::RecordListItem],
    ips: &HashSet<&str>,
) -> Option<sc::Domain> {
    let fqdn = |host: &str| match host {
        "@" => d.name.clone(),
        host => format!("{host}.{}", d.name),
    };
    let direct: Vec<&dnspod::RecordListItem> = records
        .iter()
        .filter(|r| matches!(r.type_.as_str(), "A" | "AAAA") && ips.contains(r.value.as_str()))
        .collect();
    let targets: HashSet<String> = direct.iter().map(|r| fqdn(&r.name)).collect();
    let aliases = records
        .iter()
        .filter(|r| r.type_ == "CNAME" && targets.contains(r.value.trim_end_matches('.')));
    let kept: Vec<sc::Record> = direct.into_iter().chain(aliases).map(record).collect();
    (!kept.is_empty()).then(|| sc::Domain {
        id: d.domain_id,
        name: d.name.clone(),
        records: kept,
        created_on: d.created_on.clone(),
    })
}

fn record(r: &dnspod::RecordListItem) -> sc::Record {
    sc::Record {
        id: r.record_id,
        name: r.name.clone(),
        record_type: r.type_.clone(),
        value: r.value.clone(),
        line: r.line.clone(),
        ttl: r.ttl,
        status: r.status.clone(),
    }
}
