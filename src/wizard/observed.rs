//! What the wizard observed in the cloud, reduced to the facts the plans need. Built from the
//! API models by `observe`; plain data here so the plans stay pure and testable without I/O.

use serde::{Deserialize, Serialize};

use super::ids::{GatewayType, NatGatewayId, NatState};

/// The tag that marks a host the operator wants left alone (DESIGN: protected suggestions).
pub const PROTECTED_TAG: (&str, &str) = ("natpilot:protected", "true");
/// The tag key put on every resource a run creates; its value is the run id.
pub const RUN_TAG_KEY: &str = "natpilot:run";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum InstanceState {
    Running,
    Stopped,
    /// Any transitional or unusual state, as Tencent spells it.
    Other(String),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Instance {
    pub id: String,
    pub name: String,
    pub subnet_id: String,
    pub state: InstanceState,
    pub private_ip: Option<String>,
    /// Primary ENI public IP (ordinary or EIP; DescribeInstances does not say which).
    pub public_ip: Option<String>,
    pub tags: Vec<(String, String)>,
    /// TAT agent online (DescribeAutomationAgentStatus / RunCommand preconditions).
    pub agent_online: bool,
}

impl Instance {
    pub fn tagged_protected(&self) -> bool {
        self.tags
            .iter()
            .any(|(k, v)| k == PROTECTED_TAG.0 && v.eq_ignore_ascii_case(PROTECTED_TAG.1))
    }

    /// Whether a TAT egress test can run on it at all (reference §4.25/§4.26).
    pub fn testable(&self) -> bool {
        self.state == InstanceState::Running && self.agent_online
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum AddressKind {
    /// An elastic IP (any EIP flavour): can be unbound and kept.
    Eip,
    /// An ordinary (auto-assigned, `WanIP`) public IP: convert with TransformAddress or return.
    Ordinary,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Address {
    pub id: String,
    pub ip: String,
    pub kind: AddressKind,
    /// `AddressStatus` (BIND, UNBIND, ...).
    pub status: String,
    /// Bound CVM or NAT id, if any.
    pub instance_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subnet {
    pub id: String,
    pub route_table_id: String,
    pub zone: String,
    pub cidr: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Route {
    pub route_id: i64,
    pub item_id: String,
    pub destination: String,
    pub gateway_type: GatewayType,
    pub gateway_id: String,
    /// USER, NETD or CCN; only USER routes may be changed.
    pub route_type: String,
    pub enabled: bool,
    pub description: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RouteTable {
    pub id: String,
    pub name: String,
    pub main: bool,
    pub routes: Vec<Route>,
}

impl Route {
    /// Whether this route sends its traffic to that NAT gateway.
    pub fn points_at(&self, nat: &NatGatewayId) -> bool {
        self.gateway_type == GatewayType::Nat && nat == self.gateway_id.as_str()
    }
}

impl RouteTable {
    pub fn default_route(&self) -> Option<&Route> {
        self.routes.iter().find(|r| r.destination == "0.0.0.0/0")
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NatGateway {
    pub id: NatGatewayId,
    pub name: String,
    pub state: NatState,
    /// (AddressId, PublicIpAddress) of its EIPs.
    pub eips: Vec<(String, String)>,
    pub tags: Vec<(String, String)>,
    pub zone: String,
}

impl NatGateway {
    pub fn run_tag(&self) -> Option<&str> {
        self.tags
            .iter()
            .find(|(k, _)| k == RUN_TAG_KEY)
            .map(|(_, v)| v.as_str())
    }

    pub fn eip_ips(&self) -> impl Iterator<Item = &str> {
        self.eips.iter().map(|(_, ip)| ip.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DnsRecord {
    pub domain: String,
    /// Host part, `@` for the apex.
    pub name: String,
    pub record_type: String,
    pub value: String,
}

impl DnsRecord {
    /// The fully qualified name this record answers for, without a trailing dot.
    pub fn fqdn(&self) -> String {
        if self.name == "@" || self.name.is_empty() {
            self.domain.clone()
        } else {
            format!("{}.{}", self.name, self.domain)
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct EipQuota {
    pub limit: u32,
    pub used: u32,
}

impl EipQuota {
    pub fn free(&self) -> u32 {
        self.limit.saturating_sub(self.used)
    }
}

/// Everything observed about one VPC at one moment.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Inventory {
    pub vpc_id: String,
    pub subnets: Vec<Subnet>,
    pub route_tables: Vec<RouteTable>,
    pub instances: Vec<Instance>,
    /// EIPs of the region (bound anywhere or unbound) and the VPC's ordinary public IPs.
    pub addresses: Vec<Address>,
    pub nat_gateways: Vec<NatGateway>,
    pub dns: Vec<DnsRecord>,
    pub quota: EipQuota,
    /// SNAT rules of the VPC's NAT gateways (issue 12; absent in inventories stored before).
    #[serde(default)]
    pub snat_rules: Vec<SnatRule>,
    /// EIPs that cannot be bound to a NAT gateway (line or billing type), with why.
    #[serde(default)]
    pub unmovable_eips: Vec<UnmovableEip>,
}

/// One SNAT rule of a NAT gateway (addendum 2 §2.1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnatRule {
    pub nat_id: NatGatewayId,
    /// `snat-…`.
    pub id: String,
    /// `NETWORKINTERFACE` (an instance) or `SUBNET`.
    pub resource_type: String,
    /// `ins-…` or `subnet-…`.
    pub resource_id: String,
    /// The instance's primary private IP, or the subnet's CIDR.
    pub private_ip: String,
    pub public_ips: Vec<String>,
    pub description: String,
}

/// An EIP a NAT gateway refuses (addendum 2 §3.1: BGP only, traffic-billed or in a bandwidth
/// package), by IP.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnmovableEip {
    pub ip: String,
    pub reason: String,
}

impl Inventory {
    pub fn subnet(&self, id: &str) -> Option<&Subnet> {
        self.subnets.iter().find(|s| s.id == id)
    }

    pub fn route_table(&self, id: &str) -> Option<&RouteTable> {
        self.route_tables.iter().find(|t| t.id == id)
    }

    pub fn instance(&self, id: &str) -> Option<&Instance> {
        self.instances.iter().find(|i| i.id == id)
    }

    pub fn nat(&self, id: &NatGatewayId) -> Option<&NatGateway> {
        self.nat_gateways.iter().find(|n| n.id == *id)
    }

    /// The route table governing an instance's egress (its subnet's table).
    pub fn table_of(&self, instance: &Instance) -> Option<&str> {
        self.subnet(&instance.subnet_id)
            .map(|s| s.route_table_id.as_str())
    }

    /// The EIP bound to an instance, if its public IP is one.
    pub fn eip_of(&self, instance: &Instance) -> Option<&Address> {
        self.addresses.iter().find(|a| {
            a.kind == AddressKind::Eip && a.instance_id.as_deref() == Some(instance.id.as_str())
        })
    }

    pub fn unbound_eips(&self) -> impl Iterator<Item = &Address> {
        self.addresses
            .iter()
            .filter(|a| a.kind == AddressKind::Eip && a.status == "UNBIND")
    }
}
