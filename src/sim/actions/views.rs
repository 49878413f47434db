//! How world entities look on the wire: conversions into the shared model structs, with the
//! fields the reference lists filled in and documented nulls left `None`.

use crate::sim::world::{self, World};
use crate::tencent::models::{Tag, cvm, vpc};

fn tags(tags: &[world::Tag]) -> Vec<Tag> {
    tags.iter().map(|t| Tag::new(&t.key, &t.value)).collect()
}

pub fn vpc(v: &world::Vpc) -> vpc::Vpc {
    vpc::Vpc {
        vpc_name: v.name.clone(),
        vpc_id: v.id.clone(),
        cidr_block: v.cidr.clone(),
        is_default: v.is_default,
        created_time: v.created_time.clone(),
        dns_server_set: vec!["183.60.83.19".into(), "183.60.82.98".into()],
        enable_dhcp: true,
        tag_set: tags(&v.tags),
        ..Default::default()
    }
}

pub fn subnet(s: &world::Subnet, used: u64) -> vpc::Subnet {
    let total = crate::sim::world::net::Cidr::parse(&s.cidr)
        .map(|c| (1u64 << (32 - u32::from(c.prefix))).saturating_sub(5))
        .unwrap_or(0);
    vpc::Subnet {
        vpc_id: s.vpc_id.clone(),
        subnet_id: s.id.clone(),
        subnet_name: s.name.clone(),
        cidr_block: s.cidr.clone(),
        zone: s.zone.clone(),
        route_table_id: s.route_table_id.clone(),
        created_time: s.created_time.clone(),
        available_ip_address_count: total.saturating_sub(used),
        total_ip_address_count: total,
        network_acl_id: String::new(),
        ..Default::default()
    }
}

pub fn route(r: &world::Route, table: &str) -> vpc::Route {
    vpc::Route {
        destination_cidr_block: Some(r.destination.clone()),
        gateway_type: Some(r.gateway_type.clone()),
        gateway_id: Some(r.gateway_id.clone()),
        route_id: Some(r.id),
        route_description: Some(r.description.clone()),
        enabled: Some(r.enabled),
        route_type: Some(r.route_type.clone()),
        route_table_id: Some(table.to_string()),
        destination_ipv6_cidr_block: Some(String::new()),
        route_item_id: Some(r.item_id.clone()),
        published_to_vbc: Some(false),
        created_time: Some(r.created_time.clone()),
        cdc_id: Some(String::new()),
    }
}

pub fn route_table(w: &World, t: &world::RouteTable) -> vpc::RouteTable {
    vpc::RouteTable {
        vpc_id: t.vpc_id.clone(),
        route_table_id: t.id.clone(),
        route_table_name: t.name.clone(),
        association_set: w
            .subnets
            .values()
            .filter(|s| s.route_table_id == t.id)
            .map(|s| vpc::RouteTableAssociation {
                subnet_id: s.id.clone(),
                route_table_id: t.id.clone(),
            })
            .collect(),
        route_set: t.routes.iter().map(|r| route(r, &t.id)).collect(),
        main: t.main,
        created_time: t.created_time.clone(),
        ..Default::default()
    }
}

pub fn nat(w: &World, n: &world::NatGateway) -> vpc::NatGateway {
    vpc::NatGateway {
        nat_gateway_id: n.id.clone(),
        nat_gateway_name: n.name.clone(),
        created_time: n.created_time.clone(),
        state: n.state.as_str().into(),
        internet_max_bandwidth_out: n.bandwidth,
        max_concurrent_connection: n.max_concurrent_connection,
        public_ip_address_set: w
            .addresses_of(&n.id)
            .filter(|a| a.status == world::AddressStatus::Bind)
            .map(|a| vpc::NatGatewayAddress {
                address_id: a.id.clone(),
                public_ip_address: a.ip.clone(),
                is_blocked: false,
                block_type: "NORMAL".into(),
            })
            .collect(),
        network_state: "AVAILABLE".into(),
        source_ip_translation_nat_rule_set: w
            .snat_rules
            .values()
            .filter(|r| r.nat_id == n.id)
            .map(|r| super::vpc_snat::view(w, r))
            .collect(),
        vpc_id: n.vpc_id.clone(),
        zone: n.zone.clone(),
        tag_set: tags(&n.tags),
        restrict_state: "NORMAL".into(),
        nat_product_version: 1,
        public_address_affinity: true,
        ..Default::default()
    }
}

pub fn address(a: &world::Address) -> vpc::Address {
    vpc::Address {
        address_id: a.id.clone(),
        address_name: a.name.clone(),
        address_status: a.status.as_str().into(),
        address_ip: a.ip.clone(),
        instance_id: a.instance_id.clone().unwrap_or_default(),
        created_time: a.created_time.clone(),
        address_type: "EIP".into(),
        internet_service_provider: a.isp.clone(),
        bandwidth: Some(a.bandwidth),
        internet_charge_type: Some(a.charge_type.clone()),
        instance_type: a.instance_type().map(Into::into),
        egress: Some("center_egress1".into()),
        renew_flag: "NOTIFY_AND_MANUAL_RENEW".into(),
        ..Default::default()
    }
}

/// An ordinary public IP shown as a `WanIP` address record (DescribeAddresses with
/// `address-type=WanIP`). Its id is stable, derived from the IP.
pub fn wan_ip(instance: &world::Instance, ip: &str) -> vpc::Address {
    vpc::Address {
        address_id: wan_ip_id(ip),
        address_name: String::new(),
        address_status: "BIND".into(),
        address_ip: ip.into(),
        instance_id: instance.id.clone(),
        created_time: "2024-01-01T00:00:00Z".into(),
        private_address_ip: Some(instance.private_ip.clone()),
        address_type: "WanIP".into(),
        internet_service_provider: "BGP".into(),
        bandwidth: Some(10),
        internet_charge_type: Some("TRAFFIC_POSTPAID_BY_HOUR".into()),
        instance_type: Some("CVM".into()),
        ..Default::default()
    }
}

pub fn wan_ip_id(ip: &str) -> String {
    let hash = crate::tencent::sign::sha256_hex(ip.as_bytes());
    format!("eip-{}", &hash[..8])
}

/// An instance as DescribeInstances shows it, from its facts alone, so that its serialised
/// form can be cached by them (`world::view_cache`).
pub fn instance(facts: &world::view_cache::InstanceFacts<'_>) -> cvm::Instance {
    let i = &*facts.instance;
    let public: Vec<String> = facts.public_ips.iter().map(|ip| ip.to_string()).collect();
    cvm::Instance {
        placement: cvm::Placement {
            zone: i.zone.clone(),
            ..Default::default()
        },
        instance_id: i.id.clone(),
        instance_type: i.instance_type.clone(),
        cpu: 2,
        memory: 4,
        restrict_state: "NORMAL".into(),
        instance_name: i.name.clone(),
        instance_charge_type: "POSTPAID_BY_HOUR".into(),
        private_ip_addresses: vec![i.private_ip.clone()],
        public_ip_addresses: (!public.is_empty()).then_some(public),
        internet_accessible: cvm::InternetAccessible {
            internet_charge_type: "TRAFFIC_POSTPAID_BY_HOUR".into(),
            internet_max_bandwidth_out: if i.public_ip.is_some() { 10 } else { 0 },
            public_ip_assigned: i.public_ip.is_some(),
            ..Default::default()
        },
        virtual_private_cloud: cvm::VirtualPrivateCloud {
            vpc_id: i.vpc_id.clone(),
            subnet_id: i.subnet_id.clone(),
            private_ip_addresses: vec![i.private_ip.clone()],
            ..Default::default()
        },
        image_id: "img-eb30mz89".into(),
        created_time: "2024-01-01T00:00:00Z".into(),
        os_name: i.os_name.clone(),
        instance_state: i.state.clone(),
        tags: tags(&i.tags),
        uuid: format!("{}-uuid", i.id),
        default_login_user: "root".into(),
        default_login_port: 22,
        ..Default::default()
    }
}
