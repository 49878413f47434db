//! The `large` scenario: one VPC with up to 50,000 CVMs over 8 subnets and 4 route tables,
//! for paging and the benchmark. Every third instance has an ordinary public IP, every tenth
//! an EIP, one in a hundred has its TAT agent offline. Deterministic: ids derive from the index.

use super::{DEFAULT_REGION, Scenario};
use crate::sim::world::types::*;

pub const MAX_INSTANCES: usize = 50_000;
pub const VPC: &str = "vpc-large000";
const SUBNETS: usize = 8;
const TABLES: usize = 4;

pub fn scenario(count: usize) -> anyhow::Result<Scenario> {
    anyhow::ensure!(
        count <= MAX_INSTANCES,
        "--instances {count} is too many: the large scenario holds at most {MAX_INSTANCES}"
    );
    let tables: Vec<RouteTable> = (0..TABLES)
        .map(|t| RouteTable {
            id: format!("rtb-large{t:03}"),
            name: if t == 0 {
                "default".into()
            } else {
                format!("tier-{t}")
            },
            vpc_id: VPC.into(),
            main: t == 0,
            routes: vec![],
            created_time: DEFAULT_CREATED.into(),
        })
        .collect();
    let subnets: Vec<Subnet> = (0..SUBNETS)
        .map(|s| Subnet {
            id: format!("subnet-large{s:03}"),
            name: format!("subnet-{s}"),
            vpc_id: VPC.into(),
            cidr: format!("10.{s}.0.0/16"),
            zone: format!("ap-guangzhou-{}", 3 + s % 3),
            route_table_id: format!("rtb-large{:03}", s % TABLES),
            created_time: DEFAULT_CREATED.into(),
        })
        .collect();
    let mut instances = Vec::with_capacity(count);
    let mut addresses = Vec::new();
    for k in 0..count {
        let (instance, eip) = instance(k);
        instances.push(instance);
        addresses.extend(eip);
    }
    let quotas = Quotas {
        eip_total: addresses.len() as u64 + 20,
        ..Quotas::default()
    };
    Ok(Scenario {
        region: DEFAULT_REGION.into(),
        quotas,
        vpcs: vec![Vpc {
            id: VPC.into(),
            name: "large-vpc".into(),
            cidr: "10.0.0.0/12".into(),
            is_default: false,
            created_time: DEFAULT_CREATED.into(),
            tags: vec![],
        }],
        subnets,
        route_tables: tables,
        instances,
        addresses,
        nat_gateways: vec![],
        domains: vec![],
    })
}

fn instance(k: usize) -> (Instance, Option<Address>) {
    let s = k % SUBNETS;
    let n = k / SUBNETS;
    let id = format!("ins-{k:08x}");
    let public = (k.is_multiple_of(3) && k % 10 != 5)
        .then(|| format!("101.{}.{}.{}", 32 + k / 65536, k / 256 % 256, k % 256));
    let eip = (k % 10 == 5).then(|| Address {
        id: format!("eip-{k:08x}"),
        ip: format!("162.{}.{}.{}", 14 + k / 65536, k / 256 % 256, k % 256),
        name: format!("eip-of-node-{k}"),
        status: AddressStatus::Bind,
        instance_id: Some(id.clone()),
        bandwidth: 10,
        charge_type: "TRAFFIC_POSTPAID_BY_HOUR".into(),
        isp: "BGP".into(),
        created_time: "2024-01-01T00:00:00Z".into(),
        busy_task: None,
    });
    let instance = Instance {
        name: format!("node-{k}"),
        vpc_id: VPC.into(),
        subnet_id: format!("subnet-large{s:03}"),
        zone: format!("ap-guangzhou-{}", 3 + s % 3),
        private_ip: format!("10.{s}.{}.{}", n / 250, n % 250 + 2),
        public_ip: public,
        state: "RUNNING".into(),
        agent: if k % 100 == 99 {
            AgentState::Offline
        } else {
            AgentState::Online
        },
        os_name: "TencentOS Server 3.1 (TK4)".into(),
        instance_type: "S5.MEDIUM4".into(),
        tags: vec![],
        created_time: DEFAULT_CREATED.into(),
        id,
    };
    (instance, eip)
}
