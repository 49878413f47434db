//! The `tutorial` scenario (issue 3 item 4): the operator's walkthrough VPC. One VPC
//! `10.0.0.0/16`, one route table `default` (with the container-network route Tencent
//! Kubernetes Engine adds), a DNS-protected frontend, backends and workers with ordinary
//! public IPs or EIPs, one private-only worker and one instance whose TAT agent is offline.

use super::{DEFAULT_REGION, Scenario};
use crate::sim::world::types::*;

pub const VPC: &str = "vpc-tut0rial";
pub const ROUTE_TABLE: &str = "rtb-default0";
pub const FRONTEND: &str = "ins-fr0ntend";
pub const FRONTEND_EIP: &str = "139.199.10.10";
pub const DOMAIN: &str = "natpilot-tutorial.com";

fn instance(id: &str, name: &str, subnet: &str, private_ip: &str) -> Instance {
    Instance {
        id: id.into(),
        name: name.into(),
        vpc_id: VPC.into(),
        subnet_id: subnet.into(),
        zone: "ap-guangzhou-3".into(),
        private_ip: private_ip.into(),
        public_ip: None,
        state: "RUNNING".into(),
        agent: AgentState::Online,
        os_name: "TencentOS Server 3.1 (TK4)".into(),
        instance_type: "S5.MEDIUM4".into(),
        tags: vec![],
        created_time: DEFAULT_CREATED.into(),
    }
}

fn eip(id: &str, name: &str, ip: &str, owner: Option<&str>) -> Address {
    Address {
        id: id.into(),
        ip: ip.into(),
        name: name.into(),
        status: if owner.is_some() {
            AddressStatus::Bind
        } else {
            AddressStatus::Unbind
        },
        instance_id: owner.map(Into::into),
        bandwidth: 10,
        charge_type: "TRAFFIC_POSTPAID_BY_HOUR".into(),
        isp: "BGP".into(),
        created_time: "2024-01-01T00:00:00Z".into(),
        busy_task: None,
    }
}

fn subnet(id: &str, name: &str, cidr: &str) -> Subnet {
    Subnet {
        id: id.into(),
        name: name.into(),
        vpc_id: VPC.into(),
        cidr: cidr.into(),
        zone: "ap-guangzhou-3".into(),
        route_table_id: ROUTE_TABLE.into(),
        created_time: DEFAULT_CREATED.into(),
    }
}

fn record(id: u64, name: &str, record_type: &str, value: &str) -> Record {
    Record {
        id,
        name: name.into(),
        record_type: record_type.into(),
        value: value.into(),
        line: "默认".into(),
        ttl: 600,
        status: "ENABLE".into(),
    }
}

pub fn scenario() -> Scenario {
    let container_route = Route {
        id: 0,
        item_id: String::new(),
        destination: "172.16.0.0/16".into(),
        gateway_type: "NORMAL_CVM".into(),
        gateway_id: "10.0.2.11".into(),
        description: "TKE container network (cls-tut0rial)".into(),
        enabled: true,
        route_type: "USER".into(),
        created_time: DEFAULT_CREATED.into(),
    };
    Scenario {
        region: DEFAULT_REGION.into(),
        quotas: Quotas::default(),
        vpcs: vec![Vpc {
            id: VPC.into(),
            name: "tutorial-vpc".into(),
            cidr: "10.0.0.0/16".into(),
            is_default: false,
            created_time: DEFAULT_CREATED.into(),
            tags: vec![],
        }],
        subnets: vec![
            subnet("subnet-web00001", "web", "10.0.1.0/24"),
            subnet("subnet-app00001", "app", "10.0.2.0/24"),
        ],
        route_tables: vec![RouteTable {
            id: ROUTE_TABLE.into(),
            name: "default".into(),
            vpc_id: VPC.into(),
            main: true,
            routes: vec![container_route],
            created_time: DEFAULT_CREATED.into(),
        }],
        instances: instances(),
        addresses: vec![
            eip("eip-fr0ntend", "frontend-eip", FRONTEND_EIP, Some(FRONTEND)),
            eip(
                "eip-backend2",
                "backend-2-eip",
                "119.28.20.12",
                Some("ins-backend2"),
            ),
            eip(
                "eip-worker02",
                "worker-2-eip",
                "119.28.20.22",
                Some("ins-worker02"),
            ),
            eip("eip-spare001", "spare", "119.28.20.99", None),
        ],
        nat_gateways: vec![],
        domains: vec![Domain {
            id: 1001,
            name: DOMAIN.into(),
            records: vec![
                record(1, "@", "NS", "f1g1ns1.dnspod.net."),
                record(2, "@", "NS", "f1g1ns2.dnspod.net."),
                record(3, "@", "A", FRONTEND_EIP),
                record(4, "www", "CNAME", &format!("{DOMAIN}.")),
            ],
            created_on: DEFAULT_CREATED.into(),
        }],
    }
}

/// The CVMs: who has an ordinary public IP, who an EIP (bound in `scenario()`), who nothing.
fn instances() -> Vec<Instance> {
    let mut backend1 = instance("ins-backend1", "backend-1", "subnet-app00001", "10.0.2.11");
    backend1.public_ip = Some("119.28.20.11".into());
    let mut worker1 = instance("ins-worker01", "worker-1", "subnet-app00001", "10.0.2.21");
    worker1.public_ip = Some("119.28.20.21".into());
    let mut legacy = instance(
        "ins-legacy01",
        "legacy-batch (TAT agent offline)",
        "subnet-app00001",
        "10.0.2.30",
    );
    legacy.public_ip = Some("119.28.20.30".into());
    legacy.agent = AgentState::Offline;
    vec![
        instance(FRONTEND, "frontend-1", "subnet-web00001", "10.0.1.10"),
        backend1,
        instance("ins-backend2", "backend-2", "subnet-app00001", "10.0.2.12"),
        worker1,
        instance("ins-worker02", "worker-2", "subnet-app00001", "10.0.2.22"),
        instance(
            "ins-worker03",
            "worker-3 (private only)",
            "subnet-app00001",
            "10.0.2.23",
        ),
        legacy,
    ]
}

/// Issue 12, more kept egress IPs than one NAT gateway holds: the tutorial plus, per entry of
/// `per_table`, a subnet of instances with ordinary public IPs, all tagged
/// `natpilot:keep-egress-ip=true`. The first entry's subnet is in the tutorial's route table,
/// each further one in a route table of its own (`rtb-keep000<t>`). Instance `k` of entry `t`
/// is `ins-keep<t><k>` (k from 01) with public IP `119.28.<40+t>.<10+k>`.
pub fn many_kept(per_table: &[usize]) -> Scenario {
    let mut s = scenario();
    s.quotas.eip_total = 100;
    for (t, n) in per_table.iter().enumerate() {
        let table = if t == 0 {
            ROUTE_TABLE.to_owned()
        } else {
            let id = format!("rtb-keep000{t}");
            s.route_tables.push(RouteTable {
                id: id.clone(),
                name: format!("keep-{t}"),
                vpc_id: VPC.into(),
                main: false,
                routes: vec![],
                created_time: DEFAULT_CREATED.into(),
            });
            id
        };
        let subnet_id = format!("subnet-keep000{t}");
        let mut sub = subnet(
            &subnet_id,
            &format!("keep-{t}"),
            &format!("10.0.{}.0/24", 10 + t),
        );
        sub.route_table_id = table;
        s.subnets.push(sub);
        for k in 1..=*n {
            let mut i = instance(
                &format!("ins-keep{t}{k:02}"),
                &format!("keep-{t}-{k}"),
                &subnet_id,
                &format!("10.0.{}.{}", 10 + t, 10 + k),
            );
            i.public_ip = Some(format!("119.28.{}.{}", 40 + t, 10 + k));
            i.tags.push(Tag {
                key: "natpilot:keep-egress-ip".into(),
                value: "true".into(),
            });
            s.instances.push(i);
        }
    }
    s
}
