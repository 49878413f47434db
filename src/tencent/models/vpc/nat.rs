//! VPC public NAT gateways: create, describe, delete, (dis)associate EIPs (reference §4.9–§4.12).
//! Field names and types follow the official `api.json` of tccli 3.1.189.1.

use serde::{Deserialize, Serialize};

use crate::tencent::models::common::{Filter, Tag, action, paged};

action!(
    /// Creates a NAT gateway (reference §4.9). No idempotency token: reconcile (describe by tag/name) before replaying.
    CreateNatGateway: CreateNatGatewayRequest => CreateNatGatewayResponse, Vpc, Unsafe, 100
);

/// `CreateNatGatewayRequest` (request).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct CreateNatGatewayRequest {
    pub nat_gateway_name: String,
    pub vpc_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub internet_max_bandwidth_out: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_concurrent_connection: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address_count: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub public_ip_addresses: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub zone: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<Tag>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subnet_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stock_public_ip_addresses_bandwidth_out: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub public_ip_addresses_bandwidth_out: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub public_ip_from_same_zone: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nat_product_version: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deletion_protection_enabled: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exclusive_type: Option<String>,
}

/// `CreateNatGatewayResponse` (response).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct CreateNatGatewayResponse {
    pub nat_gateway_set: Vec<NatGateway>,
    pub total_count: u64,
}

/// `NatGateway` (object).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct NatGateway {
    pub nat_gateway_id: String,
    pub nat_gateway_name: String,
    pub created_time: String,
    pub state: String,
    pub internet_max_bandwidth_out: u64,
    pub max_concurrent_connection: u64,
    pub public_ip_address_set: Vec<NatGatewayAddress>,
    pub network_state: String,
    pub destination_ip_port_translation_nat_rule_set: Vec<DestinationIpPortTranslationNatRule>,
    pub vpc_id: String,
    pub zone: String,
    pub direct_connect_gateway_ids: Vec<String>,
    pub subnet_id: String,
    pub tag_set: Vec<Tag>,
    pub security_group_set: Vec<String>,
    pub source_ip_translation_nat_rule_set: Vec<SourceIpTranslationNatRule>,
    pub is_exclusive: bool,
    pub exclusive_gateway_bandwidth: u64,
    pub restrict_state: String,
    pub nat_product_version: u64,
    pub strict_snat_mode: bool,
    pub smart_schedule_mode: bool,
    pub dedicated_cluster_id: String,
    pub deletion_protection_enabled: bool,
    pub connection_state_timeouts: ConnectionStateTimeouts,
    pub exclusive_type: String,
    pub auto_scaling: bool,
    #[serde(rename = "ICMPProxy")]
    pub icmp_proxy: bool,
    pub public_address_affinity: bool,
}

/// `NatGatewayAddress` (object).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct NatGatewayAddress {
    pub address_id: String,
    pub public_ip_address: String,
    pub is_blocked: bool,
    pub block_type: String,
}

/// `DestinationIpPortTranslationNatRule` (object).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct DestinationIpPortTranslationNatRule {
    pub ip_protocol: String,
    pub public_ip_address: String,
    pub public_port: u64,
    pub private_ip_address: String,
    pub private_port: u64,
    pub description: String,
}

/// `SourceIpTranslationNatRule` (object).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct SourceIpTranslationNatRule {
    pub resource_id: String,
    pub resource_type: String,
    pub private_ip_address: String,
    pub public_ip_addresses: Vec<String>,
    pub description: String,
    pub nat_gateway_snat_id: String,
    pub nat_gateway_id: String,
    pub vpc_id: String,
    pub created_time: String,
}

/// `ConnectionStateTimeouts` (object).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ConnectionStateTimeouts {
    #[serde(rename = "UDPMappingTimeout")]
    pub udp_mapping_timeout: u64,
    #[serde(rename = "TCPEstablishedConnectionTimeout")]
    pub tcp_established_connection_timeout: u64,
    #[serde(rename = "TCPTimeWaitTimeout")]
    pub tcp_time_wait_timeout: u64,
}

action!(
    /// Lists NAT gateways; poll `State` until `AVAILABLE` (reference §4.10).
    DescribeNatGateways: DescribeNatGatewaysRequest => DescribeNatGatewaysResponse, Vpc, Safe, 100
);

paged!(
    DescribeNatGateways,
    item = NatGateway,
    items = nat_gateway_set,
    total = total_count,
    max = 100
);

/// `DescribeNatGatewaysRequest` (request).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct DescribeNatGatewaysRequest {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nat_gateway_ids: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub filters: Option<Vec<Filter>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offset: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<u64>,
}

/// `DescribeNatGatewaysResponse` (response).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct DescribeNatGatewaysResponse {
    pub nat_gateway_set: Vec<NatGateway>,
    pub total_count: u64,
    pub verbose_level: String,
}

action!(
    /// Deletes a NAT gateway; its routes go, its EIPs are unbound, not released (reference §4.11).
    DeleteNatGateway: DeleteNatGatewayRequest => DeleteNatGatewayResponse, Vpc, Safe, 100
);

/// `DeleteNatGatewayRequest` (request).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct DeleteNatGatewayRequest {
    pub nat_gateway_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ignore_operation_risk: Option<bool>,
}

/// `DeleteNatGatewayResponse` (response).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct DeleteNatGatewayResponse {}

action!(
    /// Binds EIPs to a NAT gateway (reference §4.12). Unsafe: with `AddressCount` a replay allocates more EIPs.
    AssociateNatGatewayAddress: AssociateNatGatewayAddressRequest => AssociateNatGatewayAddressResponse, Vpc, Unsafe, 100
);

/// `AssociateNatGatewayAddressRequest` (request).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct AssociateNatGatewayAddressRequest {
    pub nat_gateway_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address_count: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub public_ip_addresses: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub zone: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stock_public_ip_addresses_bandwidth_out: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub public_ip_addresses_bandwidth_out: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub public_ip_from_same_zone: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ip_address_enable_mode: Option<bool>,
}

/// `AssociateNatGatewayAddressResponse` (response).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct AssociateNatGatewayAddressResponse {}

action!(
    /// Unbinds EIPs from a NAT gateway (reference §4.12; rate limit not in §3.5, 100/s assumed).
    DisassociateNatGatewayAddress: DisassociateNatGatewayAddressRequest => DisassociateNatGatewayAddressResponse, Vpc, Safe, 100
);

/// `DisassociateNatGatewayAddressRequest` (request).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct DisassociateNatGatewayAddressRequest {
    pub nat_gateway_id: String,
    pub public_ip_addresses: Vec<String>,
}

/// `DisassociateNatGatewayAddressResponse` (response).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct DisassociateNatGatewayAddressResponse {}
