//! VPC public NAT gateways: create, describe, delete, (dis)associate EIPs (reference §4.9–§4.12).
//! Field names and types follow the official `api.json` of tccli 3.1.189.1.

use serde::{Deserialize, Serialize};

use crate::tencent::models::common::{Filter, Tag, action, null_as_default, paged};

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
    #[serde(deserialize_with = "null_as_default")]
    pub nat_gateway_set: Vec<NatGateway>,
    #[serde(deserialize_with = "null_as_default")]
    pub total_count: u64,
}

/// `NatGateway` (object).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct NatGateway {
    #[serde(deserialize_with = "null_as_default")]
    pub nat_gateway_id: String,
    #[serde(deserialize_with = "null_as_default")]
    pub nat_gateway_name: String,
    #[serde(deserialize_with = "null_as_default")]
    pub created_time: String,
    #[serde(deserialize_with = "null_as_default")]
    pub state: String,
    #[serde(deserialize_with = "null_as_default")]
    pub internet_max_bandwidth_out: u64,
    #[serde(deserialize_with = "null_as_default")]
    pub max_concurrent_connection: u64,
    #[serde(deserialize_with = "null_as_default")]
    pub public_ip_address_set: Vec<NatGatewayAddress>,
    #[serde(deserialize_with = "null_as_default")]
    pub network_state: String,
    #[serde(deserialize_with = "null_as_default")]
    pub destination_ip_port_translation_nat_rule_set: Vec<DestinationIpPortTranslationNatRule>,
    #[serde(deserialize_with = "null_as_default")]
    pub vpc_id: String,
    #[serde(deserialize_with = "null_as_default")]
    pub zone: String,
    #[serde(deserialize_with = "null_as_default")]
    pub direct_connect_gateway_ids: Vec<String>,
    #[serde(deserialize_with = "null_as_default")]
    pub subnet_id: String,
    #[serde(deserialize_with = "null_as_default")]
    pub tag_set: Vec<Tag>,
    #[serde(deserialize_with = "null_as_default")]
    pub security_group_set: Vec<String>,
    #[serde(deserialize_with = "null_as_default")]
    pub source_ip_translation_nat_rule_set: Vec<SourceIpTranslationNatRule>,
    #[serde(deserialize_with = "null_as_default")]
    pub is_exclusive: bool,
    #[serde(deserialize_with = "null_as_default")]
    pub exclusive_gateway_bandwidth: u64,
    #[serde(deserialize_with = "null_as_default")]
    pub restrict_state: String,
    #[serde(deserialize_with = "null_as_default")]
    pub nat_product_version: u64,
    #[serde(deserialize_with = "null_as_default")]
    pub strict_snat_mode: bool,
    #[serde(deserialize_with = "null_as_default")]
    pub smart_schedule_mode: bool,
    #[serde(deserialize_with = "null_as_default")]
    pub dedicated_cluster_id: String,
    #[serde(deserialize_with = "null_as_default")]
    pub deletion_protection_enabled: bool,
    #[serde(deserialize_with = "null_as_default")]
    pub connection_state_timeouts: ConnectionStateTimeouts,
    #[serde(deserialize_with = "null_as_default")]
    pub exclusive_type: String,
    #[serde(deserialize_with = "null_as_default")]
    pub auto_scaling: bool,
    #[serde(rename = "ICMPProxy", deserialize_with = "null_as_default")]
    pub icmp_proxy: bool,
    #[serde(deserialize_with = "null_as_default")]
    pub public_address_affinity: bool,
}

/// `NatGatewayAddress` (object).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct NatGatewayAddress {
    #[serde(deserialize_with = "null_as_default")]
    pub address_id: String,
    #[serde(deserialize_with = "null_as_default")]
    pub public_ip_address: String,
    #[serde(deserialize_with = "null_as_default")]
    pub is_blocked: bool,
    #[serde(deserialize_with = "null_as_default")]
    pub block_type: String,
}

/// `DestinationIpPortTranslationNatRule` (object).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct DestinationIpPortTranslationNatRule {
    #[serde(deserialize_with = "null_as_default")]
    pub ip_protocol: String,
    #[serde(deserialize_with = "null_as_default")]
    pub public_ip_address: String,
    #[serde(deserialize_with = "null_as_default")]
    pub public_port: u64,
    #[serde(deserialize_with = "null_as_default")]
    pub private_ip_address: String,
    #[serde(deserialize_with = "null_as_default")]
    pub private_port: u64,
    #[serde(deserialize_with = "null_as_default")]
    pub description: String,
}

/// `SourceIpTranslationNatRule` (object).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct SourceIpTranslationNatRule {
    #[serde(deserialize_with = "null_as_default")]
    pub resource_id: String,
    #[serde(deserialize_with = "null_as_default")]
    pub resource_type: String,
    #[serde(deserialize_with = "null_as_default")]
    pub private_ip_address: String,
    #[serde(deserialize_with = "null_as_default")]
    pub public_ip_addresses: Vec<String>,
    #[serde(deserialize_with = "null_as_default")]
    pub description: String,
    #[serde(deserialize_with = "null_as_default")]
    pub nat_gateway_snat_id: String,
    #[serde(deserialize_with = "null_as_default")]
    pub nat_gateway_id: String,
    #[serde(deserialize_with = "null_as_default")]
    pub vpc_id: String,
    #[serde(deserialize_with = "null_as_default")]
    pub created_time: String,
}

/// `ConnectionStateTimeouts` (object).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ConnectionStateTimeouts {
    #[serde(rename = "UDPMappingTimeout", deserialize_with = "null_as_default")]
    pub udp_mapping_timeout: u64,
    #[serde(
        rename = "TCPEstablishedConnectionTimeout",
        deserialize_with = "null_as_default"
    )]
    pub tcp_established_connection_timeout: u64,
    #[serde(rename = "TCPTimeWaitTimeout", deserialize_with = "null_as_default")]
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
    #[serde(deserialize_with = "null_as_default")]
    pub nat_gateway_set: Vec<NatGateway>,
    #[serde(deserialize_with = "null_as_default")]
    pub total_count: u64,
    #[serde(deserialize_with = "null_as_default")]
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
