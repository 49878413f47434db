//! The `conflict` scenario: the tutorial VPC whose `default` route table already sends
//! `0.0.0.0/0` to a self-built gateway CVM (`NORMAL_CVM`), the classic pre-NAT setup. Adding
//! `0.0.0.0/0 → NAT` next to it is refused as ECMP; the wizard must replace the route.

use super::{Scenario, tutorial};
use crate::sim::world::types::*;

pub const GATEWAY: &str = "ins-gateway1";
pub const GATEWAY_EIP: &str = "119.28.20.1";

pub fn scenario() -> Scenario {
    let mut s = tutorial::scenario();
    s.route_tables.push(RouteTable {
        id: "rtb-gateway0".into(),
        name: "gateway".into(),
        vpc_id: tutorial::VPC.into(),
        main: false,
        routes: vec![],
        created_time: DEFAULT_CREATED.into(),
    });
    s.subnets.push(Subnet {
        id: "subnet-gw000001".into(),
        name: "gateway".into(),
        vpc_id: tutorial::VPC.into(),
        cidr: "10.0.0.0/24".into(),
        zone: "ap-guangzhou-3".into(),
        route_table_id: "rtb-gateway0".into(),
        created_time: DEFAULT_CREATED.into(),
    });
    let mut gateway = s.instances[0].clone();
    gateway.id = GATEWAY.into();
    gateway.name = "egress-gateway (squid)".into();
    gateway.subnet_id = "subnet-gw000001".into();
    gateway.private_ip = "10.0.0.5".into();
    s.instances.push(gateway);
    let mut eip = s.addresses[0].clone();
    eip.id = "eip-gateway1".into();
    eip.name = "egress-gateway-eip".into();
    eip.ip = GATEWAY_EIP.into();
    eip.instance_id = Some(GATEWAY.into());
    s.addresses.push(eip);
    let default_table = &mut s.route_tables[0];
    let template = default_table.routes[0].clone();
    default_table.routes.push(Route {
        destination: "0.0.0.0/0".into(),
        gateway_type: "NORMAL_CVM".into(),
        gateway_id: "10.0.0.5".into(),
        description: "all egress through the squid gateway".into(),
        ..template
    });
    s
}
