//! The rules a route must satisfy before it enters a table (reference §4.4–§4.5): a valid
//! destination outside the VPC CIDR, a next hop that exists in the VPC, the per-table route
//! quota, no exact duplicate, and ECMP only for the documented type combinations.

use crate::sim::error::{SimError, SimResult};
use crate::sim::world::net::Cidr;
use crate::sim::world::{Route, World};
use crate::tencent::models::vpc;

const GATEWAY_TYPES: &[&str] = &[
    "CVM",
    "VPN",
    "DIRECTCONNECT",
    "PEERCONNECTION",
    "HAVIP",
    "NAT",
    "NORMAL_CVM",
    "EIP",
    "LOCAL_GATEWAY",
    "INTRANAT",
    "USER_CCN",
    "GWLB_ENDPOINT",
];

fn next_hop_invalid(message: String) -> SimError {
    SimError::new("InvalidParameterValue.RouteNextHopInvalid", message)
}

/// Builds a world route from a request route, checking destination and next hop.
pub fn checked_route(w: &World, vpc_id: &str, r: &vpc::Route) -> SimResult<Route> {
    let destination = r
        .destination_cidr_block
        .clone()
        .ok_or_else(|| SimError::missing("Routes.DestinationCidrBlock"))?;
    let gateway_type = r
        .gateway_type
        .clone()
        .ok_or_else(|| SimError::missing("Routes.GatewayType"))?;
    let gateway_id = r
        .gateway_id
        .clone()
        .ok_or_else(|| SimError::missing("Routes.GatewayId"))?;
    let cidr = Cidr::parse(&destination).ok_or_else(|| {
        SimError::new(
            "InvalidParameterValue.Malformed",
            format!("`{destination}` is not an IPv4 CIDR block such as `0.0.0.0/0`."),
        )
    })?;
    let vpc = w.vpc(vpc_id)?;
    if let Some(vpc_cidr) = Cidr::parse(&vpc.cidr)
        && cidr.prefix >= vpc_cidr.prefix
        && vpc_cidr.contains(cidr.network)
    {
        return Err(SimError::new(
            "InvalidParameterValue.VpcCidrConflict",
            format!(
                "The destination {destination} lies inside the VPC CIDR {}.",
                vpc.cidr
            ),
        ));
    }
    if !GATEWAY_TYPES.contains(&gateway_type.as_str()) {
        return Err(next_hop_invalid(format!(
            "Unknown next-hop type `{gateway_type}`."
        )));
    }
    check_next_hop(w, vpc_id, &gateway_type, &gateway_id)?;
    Ok(Route {
        id: 0,
        item_id: String::new(),
        destination,
        gateway_type,
        gateway_id,
        description: r.route_description.clone().unwrap_or_default(),
        enabled: true,
        route_type: "USER".into(),
        created_time: crate::sim::world::transitions::local_now(),
    })
}

fn check_next_hop(w: &World, vpc_id: &str, gateway_type: &str, gateway_id: &str) -> SimResult<()> {
    match gateway_type {
        "NAT" => {
            let nat = w
                .nat_gateways
                .get(gateway_id)
                .ok_or_else(|| SimError::not_found("NAT gateway", gateway_id))?;
            if nat.vpc_id != vpc_id {
                return Err(next_hop_invalid(format!(
                    "The NAT gateway {gateway_id} belongs to another VPC ({}).",
                    nat.vpc_id
                )));
            }
        }
        // For EIP routes the documented GatewayId is the string "0" (reference §4.4).
        "EIP" if gateway_id != "0" => {
            return Err(next_hop_invalid(
                "An `EIP` route takes `GatewayId: \"0\"`.".into(),
            ));
        }
        "NORMAL_CVM" | "CVM" => {
            let found = w
                .instances_in_vpc(vpc_id)
                .any(|i| i.private_ip == gateway_id || i.id == gateway_id);
            if !found {
                return Err(next_hop_invalid(format!(
                    "No instance of VPC {vpc_id} has the private IP {gateway_id}."
                )));
            }
        }
        _ => {}
    }
    Ok(())
}

/// ECMP class of a next-hop type: CVM and NORMAL_CVM count as one.
fn class(gateway_type: &str) -> &str {
    match gateway_type {
        "NORMAL_CVM" => "CVM",
        other => other,
    }
}

/// Whether `new` may share its destination with the enabled routes `others` (documented
/// combinations: NAT+NAT ≤ 8, NAT+EIP, CVM+CVM ≤ 8, CVM+EIP).
pub fn check_ecmp(table_id: &str, new: &Route, others: &[&Route]) -> SimResult<()> {
    let same: Vec<&&Route> = others
        .iter()
        .filter(|r| r.enabled && r.destination == new.destination)
        .collect();
    if let Some(dup) = same
        .iter()
        .find(|r| r.gateway_type == new.gateway_type && r.gateway_id == new.gateway_id)
    {
        return Err(SimError::new(
            "InvalidParameterValue.Duplicate",
            format!(
                "The route {} → {} {} already exists ({}).",
                new.destination, new.gateway_type, new.gateway_id, dup.item_id
            ),
        ));
    }
    let new_class = class(&new.gateway_type);
    for existing in &same {
        let old_class = class(&existing.gateway_type);
        let pair_ok = match (new_class, old_class) {
            ("NAT", "NAT") | ("CVM", "CVM") => {
                same.iter()
                    .filter(|r| class(&r.gateway_type) == new_class)
                    .count()
                    < 8
            }
            ("NAT", "EIP") | ("EIP", "NAT") | ("CVM", "EIP") | ("EIP", "CVM") => true,
            _ => false,
        };
        if !pair_ok {
            let code = match existing.route_type.as_str() {
                "USER" => "UnsupportedOperation.EcmpWithUserRoute",
                "CCN" => "UnsupportedOperation.EcmpWithCcnRoute",
                _ => "UnsupportedOperation.Ecmp",
            };
            return Err(SimError::new(
                code,
                format!(
                    "Route table {table_id} already sends {} to {} {} ({}); a {} route cannot share \
                     that destination with it (ECMP is not supported for this combination). \
                     Replace the existing route with ReplaceRoutes, or disable it first.",
                    existing.destination,
                    existing.gateway_type,
                    existing.gateway_id,
                    existing.item_id,
                    new.gateway_type
                ),
            ));
        }
    }
    Ok(())
}

/// Finds the position of a request route (by `RouteItemId`, else `RouteId`) in a table.
pub fn find_route(routes: &[Route], r: &vpc::Route) -> Option<usize> {
    routes
        .iter()
        .position(|x| match (&r.route_item_id, r.route_id) {
            (Some(item), _) if !item.is_empty() => &x.item_id == item,
            (_, Some(id)) if id != 0 => x.id == id,
            _ => false,
        })
}
