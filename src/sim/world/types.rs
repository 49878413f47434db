//! The entities of the simulated cloud, in the shape of the scenario file format
//! (`docs/scenario-format.md`): flat lists that reference each other by id, snake_case keys,
//! optional fields defaulted so a hand-written file stays short. Runtime-only state
//! (invocations, EIP tasks, timers) lives in `runtime.rs`, not here.

use serde::{Deserialize, Serialize};

pub const DEFAULT_CREATED: &str = "2024-01-01 00:00:00";

fn default_created() -> String {
    DEFAULT_CREATED.to_string()
}
fn yes() -> bool {
    true
}
fn is_false(b: &bool) -> bool {
    !*b
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tag {
    pub key: String,
    pub value: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Vpc {
    pub id: String,
    pub name: String,
    pub cidr: String,
    #[serde(default, skip_serializing_if = "is_false")]
    pub is_default: bool,
    #[serde(default = "default_created")]
    pub created_time: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<Tag>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Subnet {
    pub id: String,
    pub name: String,
    pub vpc_id: String,
    pub cidr: String,
    pub zone: String,
    /// The one route table this subnet is associated with (reference §4.2).
    pub route_table_id: String,
    #[serde(default = "default_created")]
    pub created_time: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouteTable {
    pub id: String,
    pub name: String,
    pub vpc_id: String,
    /// The VPC's default table (`Main` in DescribeRouteTables).
    #[serde(default, skip_serializing_if = "is_false")]
    pub main: bool,
    #[serde(default)]
    pub routes: Vec<Route>,
    #[serde(default = "default_created")]
    pub created_time: String,
}

/// One IPv4 route (reference §4.4). `id`/`item_id` may be left out of a scenario file; the
/// world assigns them on load.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Route {
    #[serde(default)]
    pub id: u64,
    #[serde(default)]
    pub item_id: String,
    pub destination: String,
    /// `NAT`, `EIP`, `NORMAL_CVM`, `CVM`, `HAVIP`, `VPN`, `PEERCONNECTION`, ...
    pub gateway_type: String,
    pub gateway_id: String,
    #[serde(default)]
    pub description: String,
    #[serde(default = "yes")]
    pub enabled: bool,
    /// `USER` unless the route was made by the platform (`NETD`, `CCN`).
    #[serde(default = "user_route")]
    pub route_type: String,
    #[serde(default = "default_created")]
    pub created_time: String,
}

fn user_route() -> String {
    "USER".to_string()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum AgentState {
    #[default]
    Online,
    Offline,
    /// The TAT agent is not installed at all (`ResourceUnavailable.AgentNotInstalled`).
    None,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Instance {
    pub id: String,
    pub name: String,
    pub vpc_id: String,
    pub subnet_id: String,
    pub zone: String,
    pub private_ip: String,
    /// An ordinary (non-EIP) public IP. EIPs are in `addresses`, bound via `instance_id`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_ip: Option<String>,
    #[serde(default = "running")]
    pub state: String,
    #[serde(default)]
    pub agent: AgentState,
    #[serde(default = "default_os")]
    pub os_name: String,
    #[serde(default = "default_type")]
    pub instance_type: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<Tag>,
    #[serde(default = "default_created")]
    pub created_time: String,
}

fn running() -> String {
    "RUNNING".to_string()
}
fn default_os() -> String {
    "TencentOS Server 3.1 (TK4)".to_string()
}
fn default_type() -> String {
    "S5.MEDIUM4".to_string()
}

/// EIP status (reference §4.14 state machine).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AddressStatus {
    Creating,
    Binding,
    Bind,
    Unbinding,
    #[default]
    Unbind,
    Offlining,
}

impl AddressStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            AddressStatus::Creating => "CREATING",
            AddressStatus::Binding => "BINDING",
            AddressStatus::Bind => "BIND",
            AddressStatus::Unbinding => "UNBINDING",
            AddressStatus::Unbind => "UNBIND",
            AddressStatus::Offlining => "OFFLINING",
        }
    }
}

/// An elastic IP. Bound to a CVM (`ins-…`) or a NAT gateway (`nat-…`) through `instance_id`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Address {
    pub id: String,
    pub ip: String,
    #[serde(default = "unnamed")]
    pub name: String,
    #[serde(default)]
    pub status: AddressStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance_id: Option<String>,
    #[serde(default = "one")]
    pub bandwidth: u64,
    #[serde(default = "traffic")]
    pub charge_type: String,
    /// The line: `BGP`, or a single-line ISP (`CMCC`, `CUCC`, `CTCC`). A NAT gateway takes only
    /// BGP EIPs (addendum 2 §3.1), so scenarios and tests set another to test that refusal.
    #[serde(default = "bgp", skip_serializing_if = "is_bgp")]
    pub isp: String,
    #[serde(default = "iso_created")]
    pub created_time: String,
    /// The EIP task currently running on this address (mutex, reference §4.15–4.18).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub busy_task: Option<u64>,
}

fn unnamed() -> String {
    "未命名".to_string()
}
fn one() -> u64 {
    1
}
fn traffic() -> String {
    "TRAFFIC_POSTPAID_BY_HOUR".to_string()
}
pub fn bgp() -> String {
    "BGP".to_string()
}
fn is_bgp(isp: &String) -> bool {
    isp == "BGP"
}
fn iso_created() -> String {
    "2024-01-01T00:00:00Z".to_string()
}

impl Address {
    /// `CVM`, `NAT` or none, from the bound resource's id prefix.
    pub fn instance_type(&self) -> Option<&'static str> {
        match self.instance_id.as_deref() {
            Some(id) if id.starts_with("nat-") => Some("NAT"),
            Some(_) => Some("CVM"),
            None => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum NatState {
    Pending,
    #[default]
    Available,
    Updating,
    Deleting,
    Pendfailure,
    Deletefailure,
}

impl NatState {
    pub fn as_str(self) -> &'static str {
        match self {
            NatState::Pending => "PENDING",
            NatState::Available => "AVAILABLE",
            NatState::Updating => "UPDATING",
            NatState::Deleting => "DELETING",
            NatState::Pendfailure => "PENDFAILURE",
            NatState::Deletefailure => "DELETEFAILURE",
        }
    }
}

/// A public NAT gateway. Its EIPs are the `addresses` whose `instance_id` is this id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NatGateway {
    pub id: String,
    pub name: String,
    pub vpc_id: String,
    #[serde(default)]
    pub state: NatState,
    #[serde(default = "hundred")]
    pub bandwidth: u64,
    #[serde(default = "million")]
    pub max_concurrent_connection: u64,
    #[serde(default)]
    pub zone: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<Tag>,
    #[serde(default = "default_created")]
    pub created_time: String,
    /// New EIPs to allocate when a pending creation completes (runtime only).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub pending_new_eips: u64,
}

fn hundred() -> u64 {
    100
}
fn million() -> u64 {
    1_000_000
}
fn is_zero(n: &u64) -> bool {
    *n == 0
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Domain {
    pub id: u64,
    pub name: String,
    #[serde(default)]
    pub records: Vec<Record>,
    #[serde(default = "default_created")]
    pub created_on: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Record {
    pub id: u64,
    /// Host part; `@` is the apex.
    pub name: String,
    #[serde(rename = "type")]
    pub record_type: String,
    /// CNAME/NS values end with `.` as DNSPod prints them.
    pub value: String,
    #[serde(default = "default_line")]
    pub line: String,
    #[serde(default = "ttl")]
    pub ttl: u64,
    #[serde(default = "enable")]
    pub status: String,
}

fn default_line() -> String {
    "默认".to_string()
}
fn ttl() -> u64 {
    600
}
fn enable() -> String {
    "ENABLE".to_string()
}

/// Account quotas (reference §4.9, §4.13, §4.23, §4.3). Defaults are the documented ones.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Quotas {
    pub eip_total: u64,
    pub eip_daily_apply: u64,
    pub public_ip_daily_assign: u64,
    pub nat_per_vpc: u64,
    pub eips_per_nat: u64,
    pub routes_per_table: u64,
    /// SNAT rules per NAT gateway (addendum 2 §2.7).
    pub snat_rules_per_nat: u64,
}

impl Default for Quotas {
    fn default() -> Quotas {
        Quotas {
            eip_total: 20,
            eip_daily_apply: 40,
            public_ip_daily_assign: 10,
            nat_per_vpc: 3,
            eips_per_nat: 10,
            routes_per_table: 50,
            snat_rules_per_nat: 200,
        }
    }
}

/// An SNAT rule of a NAT gateway (addendum 2 §2.1): traffic from `private_ip` (an instance's
/// primary private IP, or a subnet's CIDR) leaves through one of `public_ips`, which must be
/// EIPs bound to the gateway.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnatRule {
    pub id: String,
    pub nat_id: String,
    /// `NETWORKINTERFACE` (resource = `ins-…`) or `SUBNET` (resource = `subnet-…`).
    pub resource_type: String,
    pub resource_id: String,
    pub private_ip: String,
    pub public_ips: Vec<String>,
    pub description: String,
    pub created_time: String,
}
