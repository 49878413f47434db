//! NAT gateways: CreateNatGateway, DescribeNatGateways, DeleteNatGateway,
//! AssociateNatGatewayAddress, DisassociateNatGatewayAddress (reference §4.9–§4.12).
//! Rules: 3 gateways per VPC, 10 EIPs per gateway, the account EIP quota; creation and
//! deletion are asynchronous (`PENDING` → `AVAILABLE`/`PENDFAILURE`, `DELETING` → gone).

use super::common::{Filters, check_id, exclusive, page, paging};
use super::views;
use crate::sim::error::{SimError, SimResult};
use crate::sim::world::transitions::local_now;
use crate::sim::world::{self, AddressStatus, NatState, TimerKind, World};
use crate::tencent::models::vpc::*;

const BANDWIDTHS: &[u64] = &[20, 50, 100, 200, 500, 1000, 2000, 5000];
const CONNECTIONS: &[u64] = &[1_000_000, 3_000_000, 10_000_000, 2_000_000];

pub(super) fn nat<'a>(w: &'a World, id: &str) -> SimResult<&'a world::NatGateway> {
    check_id(id, "nat", "InvalidParameterValue.Malformed")?;
    w.nat_gateways
        .get(id)
        .ok_or_else(|| SimError::not_found("NAT gateway", id))
}

fn mutex_free(w: &World, nat_id: &str) -> SimResult<()> {
    if w.addresses_of(nat_id).any(|a| a.busy_task.is_some()) {
        return Err(SimError::new(
            "UnsupportedOperation.MutexOperationTaskRunning",
            format!("Another task is running on an EIP of {nat_id}; retry when it has finished."),
        ));
    }
    Ok(())
}

/// Checks that `ips` are existing, unbound, idle EIPs and returns their ids.
fn stock_eips(w: &World, ips: &[String]) -> SimResult<Vec<String>> {
    ips.iter()
        .map(|ip| {
            let a = w.addresses.values().find(|a| &a.ip == ip).ok_or_else(|| {
                SimError::new(
                    "UnsupportedOperation.PublicIpAddressIsNotExisted",
                    format!("The EIP {ip} does not exist in this region."),
                )
            })?;
            if a.busy_task.is_some() {
                return Err(SimError::new(
                    "UnsupportedOperation.MutexOperationTaskRunning",
                    format!("A task is running on EIP {ip}; retry when it has finished."),
                ));
            }
            if a.instance_id.is_some() || a.status != AddressStatus::Unbind {
                return Err(SimError::new(
                    "ResourceInUse.Address",
                    format!(
                        "The EIP {ip} is {} (bound to {}); only UNBIND EIPs can be used.",
                        a.status.as_str(),
                        a.instance_id.as_deref().unwrap_or("nothing")
                    ),
                ));
            }
            // What a NAT gateway takes (addendum 2 §3.1): BGP EIPs, not billed by bandwidth
            // (traffic-billed, or through a bandwidth package).
            if a.isp != "BGP" {
                return Err(SimError::new(
                    "UnsupportedOperation.PublicIpAddressIsNotBGPIp",
                    format!("The EIP {ip} is a {} single-line IP, not a BGP IP.", a.isp),
                ));
            }
            if matches!(
                a.charge_type.as_str(),
                "BANDWIDTH_POSTPAID_BY_HOUR" | "BANDWIDTH_PREPAID_BY_MONTH"
            ) {
                return Err(SimError::new(
                    "UnsupportedOperation.PublicIpAddressNotBilledByTraffic",
                    format!("The EIP {ip} is billed {}, not by traffic.", a.charge_type),
                ));
            }
            Ok(a.id.clone())
        })
        .collect()
}

/// EIP quota checks for `new` EIPs about to be allocated (reference §4.13, §4.23).
pub fn check_eip_quota(w: &World, new: u64, code: &str) -> SimResult<()> {
    if new == 0 {
        return Ok(());
    }
    if w.eip_count() + new > w.quotas.eip_total {
        return Err(SimError::new(
            code,
            format!(
                "The account EIP quota ({}) would be exceeded: {} in use, {new} more requested.",
                w.quotas.eip_total,
                w.eip_count()
            ),
        ));
    }
    if w.daily_eip_applied + new > w.quotas.eip_daily_apply {
        return Err(SimError::new(
            "LimitExceeded.DailyAllocateAddressQuotaLimitExceeded",
            format!(
                "The daily EIP application quota ({}) would be exceeded.",
                w.quotas.eip_daily_apply
            ),
        ));
    }
    Ok(())
}

fn check_per_nat(w: &World, current: u64, adding: u64) -> SimResult<()> {
    if current + adding > w.quotas.eips_per_nat {
        return Err(SimError::new(
            "LimitExceeded.PublicIpAddressPerNatGatewayLimitExceeded",
            format!(
                "A NAT gateway holds at most {} EIPs ({current} bound, {adding} requested).",
                w.quotas.eips_per_nat
            ),
        ));
    }
    Ok(())
}

pub fn create_nat_gateway(
    w: &mut World,
    req: CreateNatGatewayRequest,
) -> SimResult<CreateNatGatewayResponse> {
    if req.nat_gateway_name.chars().count() > 60 {
        return Err(SimError::new(
            "InvalidParameterValue.TooLong",
            "`NatGatewayName` is longer than 60 characters.",
        ));
    }
    check_id(&req.vpc_id, "vpc", "InvalidVpcId.Malformed")?;
    if !w.vpcs.contains_key(&req.vpc_id) {
        return Err(SimError::new(
            "InvalidVpcId.NotFound",
            format!("The VPC {} does not exist.", req.vpc_id),
        ));
    }
    let bandwidth = req.internet_max_bandwidth_out.unwrap_or(100);
    let connections = req.max_concurrent_connection.unwrap_or(1_000_000);
    if !BANDWIDTHS.contains(&bandwidth) || !CONNECTIONS.contains(&connections) {
        return Err(SimError::new(
            "InvalidParameterValue.Range",
            format!(
                "`InternetMaxBandwidthOut` must be one of {BANDWIDTHS:?} and `MaxConcurrentConnection` one of 1000000, 3000000, 10000000."
            ),
        ));
    }
    let in_vpc = w
        .nat_gateways
        .values()
        .filter(|n| n.vpc_id == req.vpc_id)
        .count() as u64;
    if in_vpc >= w.quotas.nat_per_vpc {
        return Err(SimError::new(
            "LimitExceeded.NatGatewayPerVpcLimitExceeded",
            format!(
                "VPC {} already has {in_vpc} NAT gateways, the maximum is {}.",
                req.vpc_id, w.quotas.nat_per_vpc
            ),
        ));
    }
    let new = req.address_count.unwrap_or(0);
    let ips = req.public_ip_addresses.clone().unwrap_or_default();
    if new == 0 && ips.is_empty() {
        return Err(SimError::new(
            "InvalidParameter",
            "Give `AddressCount` (new EIPs) or `PublicIpAddresses` (existing EIPs).",
        ));
    }
    check_per_nat(w, 0, new + ips.len() as u64)?;
    check_eip_quota(w, new, "LimitExceeded.AddressQuotaLimitExceeded")?;
    let stock = stock_eips(w, &ips)?;
    let id = w.new_id("nat");
    let gateway = world::NatGateway {
        id: id.clone(),
        name: req.nat_gateway_name.clone(),
        vpc_id: req.vpc_id.clone(),
        state: NatState::Pending,
        bandwidth,
        max_concurrent_connection: connections,
        zone: req.zone.clone().unwrap_or_default(),
        tags: req
            .tags
            .iter()
            .flatten()
            .map(|t| world::Tag {
                key: t.key.clone(),
                value: t.value.clone(),
            })
            .collect(),
        created_time: local_now(),
        pending_new_eips: new,
    };
    w.nat_gateways.insert(id.clone(), gateway);
    w.daily_eip_applied += new;
    for address in stock {
        w.set_binding(&address, Some(&id));
        w.set_status(&address, AddressStatus::Binding);
    }
    w.schedule(TimerKind::NatReady(id.clone()));
    let view = views::nat(w, &w.nat_gateways[&id]);
    Ok(CreateNatGatewayResponse {
        nat_gateway_set: vec![view],
        total_count: 1,
    })
}

pub fn describe_nat_gateways(
    w: &mut World,
    req: DescribeNatGatewaysRequest,
) -> SimResult<DescribeNatGatewaysResponse> {
    exclusive(
        req.nat_gateway_ids.as_ref(),
        req.filters.as_ref(),
        "InvalidParameter.Coexist",
    )?;
    let f = Filters::new(
        req.filters.as_ref(),
        &[
            "nat-gateway-id",
            "vpc-id",
            "nat-gateway-name",
            "tag-key",
            "nat-state",
            "tag:*",
        ],
        "InvalidParameter.FilterInvalidKey",
    )?;
    for id in req.nat_gateway_ids.iter().flatten() {
        check_id(id, "nat", "InvalidParameterValue.Malformed")?;
    }
    let (offset, limit) = paging(req.offset, req.limit, 20, 100)?;
    let all: Vec<NatGateway> = w
        .nat_gateways
        .values()
        .filter(|n| {
            req.nat_gateway_ids
                .as_ref()
                .is_none_or(|ids| ids.is_empty() || ids.contains(&n.id))
        })
        .filter(|n| f.allows("nat-gateway-id", &n.id) && f.allows("vpc-id", &n.vpc_id))
        .filter(|n| {
            f.allows_substring("nat-gateway-name", &n.name)
                && f.allows_ci("nat-state", n.state.as_str())
        })
        .filter(|n| f.allows_tags(n.tags.iter().map(|t| (t.key.as_str(), t.value.as_str()))))
        .map(|n| views::nat(w, n))
        .collect();
    Ok(DescribeNatGatewaysResponse {
        total_count: all.len() as u64,
        nat_gateway_set: page(&all, offset, limit),
        verbose_level: "DETAIL".into(),
    })
}

/// Deleting removes the gateway's routes and unbinds (never releases) its EIPs when the
/// deletion completes (reference §4.11; see `transitions.rs`).
pub fn delete_nat_gateway(
    w: &mut World,
    req: DeleteNatGatewayRequest,
) -> SimResult<DeleteNatGatewayResponse> {
    let gateway = nat(w, &req.nat_gateway_id)?;
    if !matches!(
        gateway.state,
        NatState::Available | NatState::Pendfailure | NatState::Deletefailure
    ) {
        return Err(SimError::new(
            "UnsupportedOperation.InvalidState",
            format!(
                "NAT gateway {} is {}; it can be deleted once it is AVAILABLE.",
                gateway.id,
                gateway.state.as_str()
            ),
        ));
    }
    mutex_free(w, &req.nat_gateway_id)?;
    w.nat_gateways
        .get_mut(&req.nat_gateway_id)
        .expect("checked")
        .state = NatState::Deleting;
    w.schedule(TimerKind::NatGone(req.nat_gateway_id));
    Ok(DeleteNatGatewayResponse {})
}

pub(super) fn available<'a>(w: &'a World, id: &str) -> SimResult<&'a world::NatGateway> {
    let gateway = nat(w, id)?;
    if gateway.state != NatState::Available {
        return Err(SimError::new(
            "UnsupportedOperation.InvalidState",
            format!(
                "NAT gateway {id} is {}, not AVAILABLE.",
                gateway.state.as_str()
            ),
        ));
    }
    Ok(gateway)
}

pub fn associate_nat_gateway_address(
    w: &mut World,
    req: AssociateNatGatewayAddressRequest,
) -> SimResult<AssociateNatGatewayAddressResponse> {
    available(w, &req.nat_gateway_id)?;
    mutex_free(w, &req.nat_gateway_id)?;
    let new = req.address_count.unwrap_or(0);
    let ips = req.public_ip_addresses.clone().unwrap_or_default();
    if new == 0 && ips.is_empty() {
        return Err(SimError::new(
            "InvalidParameter",
            "Give `AddressCount` or `PublicIpAddresses`.",
        ));
    }
    let current = w.addresses_of(&req.nat_gateway_id).count() as u64;
    check_per_nat(w, current, new + ips.len() as u64)?;
    check_eip_quota(w, new, "LimitExceeded.AddressQuotaLimitExceeded")?;
    let stock = stock_eips(w, &ips)?;
    for address in stock {
        w.set_binding(&address, Some(&req.nat_gateway_id));
        w.set_status(&address, AddressStatus::Bind);
    }
    for _ in 0..new {
        let address = super::vpc_address::new_eip(w, AddressStatus::Bind);
        w.insert_address(address.clone());
        w.set_binding(&address.id, Some(&req.nat_gateway_id));
    }
    w.daily_eip_applied += new;
    Ok(AssociateNatGatewayAddressResponse {})
}

pub fn disassociate_nat_gateway_address(
    w: &mut World,
    req: DisassociateNatGatewayAddressRequest,
) -> SimResult<DisassociateNatGatewayAddressResponse> {
    available(w, &req.nat_gateway_id)?;
    mutex_free(w, &req.nat_gateway_id)?;
    let bound: Vec<(String, String)> = w
        .addresses_of(&req.nat_gateway_id)
        .map(|a| (a.ip.clone(), a.id.clone()))
        .collect();
    let mut ids = Vec::new();
    for ip in &req.public_ip_addresses {
        let (_, id) = bound.iter().find(|(b, _)| b == ip).ok_or_else(|| {
            SimError::new(
                "ResourceNotFound",
                format!("The EIP {ip} is not bound to {}.", req.nat_gateway_id),
            )
        })?;
        ids.push(id.clone());
    }
    if ids.len() >= bound.len() {
        return Err(SimError::new(
            "UnsupportedOperation.PublicIpAddressDisassociate",
            "A NAT gateway must keep at least one EIP.",
        ));
    }
    for id in ids {
        w.set_binding(&id, None);
        w.set_status(&id, AddressStatus::Unbind);
    }
    super::vpc_snat::prune_unbound_eips(w, &req.nat_gateway_id, &req.public_ip_addresses);
    Ok(DisassociateNatGatewayAddressResponse {})
}
