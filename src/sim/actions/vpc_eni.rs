//! DescribeNetworkInterfaces (addendum 2 §4). The simulator models one primary ENI per
//! instance, `eni-<instance id suffix>`, holding the instance's primary private IP and its
//! public IP (with the EIP's id when it is one) — what natpilot reads before an SNAT rule
//! names the instance. Secondary ENIs and IPs are not simulated.

use super::common::{Filters, check_id, exclusive, page, paging};
use crate::sim::error::SimResult;
use crate::sim::world::{Instance, World};
use crate::tencent::models::vpc::*;

const ENI_FILTERS: &[&str] = &[
    "vpc-id",
    "subnet-id",
    "network-interface-id",
    "attachment.instance-id",
    "address-ip",
    "is-primary",
];

/// The primary ENI's id of an instance: `ins-abc123` → `eni-abc123`.
pub fn eni_id(instance_id: &str) -> String {
    format!(
        "eni-{}",
        instance_id.strip_prefix("ins-").unwrap_or(instance_id)
    )
}

/// A stable MAC address from the private IP (Tencent's start with 20:90:6F in the examples).
fn mac(private_ip: &str) -> String {
    let b: Vec<u8> = private_ip
        .split('.')
        .filter_map(|p| p.parse().ok())
        .collect();
    let at = |i: usize| b.get(i).copied().unwrap_or(0);
    format!("20:90:6F:{:02X}:{:02X}:{:02X}", at(1), at(2), at(3))
}

fn view(w: &World, i: &Instance) -> NetworkInterface {
    let eip = w.addresses_of(&i.id).next();
    let public_ip = w.public_ips(i).into_iter().next();
    NetworkInterface {
        network_interface_id: eni_id(&i.id),
        network_interface_name: format!("{} primary ENI", i.name),
        subnet_id: i.subnet_id.clone(),
        vpc_id: i.vpc_id.clone(),
        primary: true,
        mac_address: mac(&i.private_ip),
        state: "AVAILABLE".into(),
        private_ip_address_set: vec![PrivateIpAddressSpecification {
            private_ip_address: i.private_ip.clone(),
            primary: true,
            public_ip_address: public_ip,
            address_id: eip.map(|a| a.id.clone()),
            is_wan_ip_blocked: Some(false),
            state: Some("AVAILABLE".into()),
            ..Default::default()
        }],
        attachment: Some(NetworkInterfaceAttachment {
            device_index: 0,
            instance_account_id: String::new(),
            attach_time: i.created_time.clone(),
            instance_id: i.id.clone(),
        }),
        zone: i.zone.clone(),
        created_time: i.created_time.clone(),
        ..Default::default()
    }
}

pub fn describe_network_interfaces(
    w: &mut World,
    req: DescribeNetworkInterfacesRequest,
) -> SimResult<DescribeNetworkInterfacesResponse> {
    exclusive(
        req.network_interface_ids.as_ref(),
        req.filters.as_ref(),
        "InvalidParameter.Coexist",
    )?;
    let f = Filters::new(
        req.filters.as_ref(),
        ENI_FILTERS,
        "InvalidParameter.FilterInvalidKey",
    )?;
    for id in req.network_interface_ids.iter().flatten() {
        check_id(id, "eni", "InvalidParameterValue.Malformed")?;
    }
    let (offset, limit) = paging(req.offset, req.limit, 20, 100)?;
    let ids = req.network_interface_ids.as_ref();
    let all: Vec<NetworkInterface> = w
        .instances()
        .iter()
        .filter(|i| ids.is_none_or(|ids| ids.is_empty() || ids.contains(&eni_id(&i.id))))
        .filter(|i| {
            f.allows("vpc-id", &i.vpc_id)
                && f.allows("subnet-id", &i.subnet_id)
                && f.allows("network-interface-id", &eni_id(&i.id))
                && f.allows("attachment.instance-id", &i.id)
                && f.allows("address-ip", &i.private_ip)
                && f.allows_ci("is-primary", "true")
        })
        .map(|i| view(w, i))
        .collect();
    Ok(DescribeNetworkInterfacesResponse {
        total_count: all.len() as u64,
        network_interface_set: page(&all, offset, limit),
    })
}
