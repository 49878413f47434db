//! The conversion rules of a snapshot, on hand-made describe results.

use std::collections::{HashMap, HashSet};

use serde_json::json;

use super::convert;
use crate::sim::world::types as sc;
use crate::tencent::models::{cvm, dnspod, vpc};

fn parse<T: serde::de::DeserializeOwned>(value: serde_json::Value) -> T {
    serde_json::from_value(value).expect("test model parses")
}

#[test]
fn route_tables_keep_user_routes_and_drop_the_implicit_local_and_ipv6_routes() {
    let table: vpc::RouteTable = parse(json!({
        "RouteTableId": "rtb-1", "VpcId": "vpc-1", "Main": true, "RouteSet": [
            {"DestinationCidrBlock": "10.0.0.0/16", "GatewayType": "LOCAL", "GatewayId": "Local"},
            {"DestinationCidrBlock": "", "DestinationIpv6CidrBlock": "::/0", "GatewayType": "NAT"},
            {"DestinationCidrBlock": "172.16.0.0/16", "GatewayType": "NORMAL_CVM",
             "GatewayId": "10.0.2.11", "RouteId": 7, "RouteItemId": "rti-7", "Enabled": false,
             "RouteType": "USER"}
        ]
    }));
    let converted = convert::route_table(&table);
    assert!(converted.main);
    assert_eq!(converted.routes.len(), 1);
    let route = &converted.routes[0];
    assert_eq!((route.id, route.item_id.as_str()), (7, "rti-7"));
    assert_eq!(
        (route.destination.as_str(), route.gateway_id.as_str()),
        ("172.16.0.0/16", "10.0.2.11")
    );
    assert!(!route.enabled);
}

#[test]
fn an_instance_keeps_only_its_ordinary_public_ip_and_its_agent_status() {
    let instance: cvm::Instance = parse(json!({
        "InstanceId": "ins-1", "InstanceName": "web", "InstanceState": "RUNNING",
        "Placement": {"Zone": "ap-guangzhou-3"}, "PrivateIpAddresses": ["10.0.1.10"],
        "PublicIpAddresses": ["139.199.10.10", "119.28.1.1"],
        "VirtualPrivateCloud": {"VpcId": "vpc-1", "SubnetId": "subnet-1"}
    }));
    let eips = HashSet::from(["139.199.10.10"]);
    let online = HashMap::from([("ins-1", "Online")]);
    let converted = convert::instance(&instance, &eips, &online);
    assert_eq!(converted.public_ip.as_deref(), Some("119.28.1.1"));
    assert_eq!(
        (converted.zone.as_str(), converted.private_ip.as_str()),
        ("ap-guangzhou-3", "10.0.1.10")
    );
    assert_eq!(converted.agent, sc::AgentState::Online);
    let offline = HashMap::from([("ins-1", "Offline")]);
    assert_eq!(
        convert::instance(&instance, &eips, &offline).agent,
        sc::AgentState::Offline
    );
    let unknown = convert::instance(
        &instance,
        &HashSet::from(["119.28.1.1", "139.199.10.10"]),
        &HashMap::new(),
    );
    assert_eq!(
        (unknown.public_ip, unknown.agent),
        (None, sc::AgentState::None)
    );
}

#[test]
fn addresses_keep_their_binding_and_unsimulatable_statuses_are_left_out() {
    let bound: vpc::Address = parse(json!({
        "AddressId": "eip-1", "AddressIp": "1.2.3.4", "AddressStatus": "BIND",
        "InstanceId": "nat-1", "Bandwidth": null, "InternetChargeType": null
    }));
    let converted = convert::address(&bound).expect("BIND converts");
    assert_eq!(converted.status, sc::AddressStatus::Bind);
    assert_eq!(converted.instance_id.as_deref(), Some("nat-1"));
    assert_eq!(converted.bandwidth, 1);
    let on_eni: vpc::Address = parse(json!({"AddressId": "eip-2", "AddressStatus": "BIND_ENI"}));
    assert!(convert::address(&on_eni).is_none());
    let unbound: vpc::Address =
        parse(json!({"AddressId": "eip-3", "AddressStatus": "UNBIND", "InstanceId": null}));
    assert_eq!(convert::address(&unbound).unwrap().instance_id, None);
}

#[test]
fn domains_keep_records_pointing_into_the_vpc_and_cnames_to_them() {
    let domain: dnspod::DomainListItem = parse(json!({"DomainId": 9, "Name": "example.com"}));
    let records: Vec<dnspod::RecordListItem> = parse(json!([
        {"RecordId": 1, "Name": "@", "Type": "A", "Value": "139.199.10.10", "TTL": 600},
        {"RecordId": 2, "Name": "www", "Type": "CNAME", "Value": "example.com."},
        {"RecordId": 3, "Name": "mail", "Type": "A", "Value": "8.8.8.8"},
        {"RecordId": 4, "Name": "@", "Type": "NS", "Value": "f1g1ns1.dnspod.net."},
        {"RecordId": 5, "Name": "blog", "Type": "CNAME", "Value": "elsewhere.net."}
    ]));
    let ips = HashSet::from(["139.199.10.10"]);
    let kept = convert::domain(&domain, &records, &ips).expect("one record points in");
    let ids: Vec<u64> = kept.records.iter().map(|r| r.id).collect();
    assert_eq!(ids, [1, 2]);
    assert_eq!(kept.records[0].record_type, "A");
    assert!(convert::domain(&domain, &records, &HashSet::from(["5.5.5.5"])).is_none());
}
