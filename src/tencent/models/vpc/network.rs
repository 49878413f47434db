//! VPC reads of the network layout: VPCs and subnets (reference §4.1, §4.2).
//! Field names and types follow the official `api.json` of tccli 3.1.189.1.

use serde::{Deserialize, Serialize};

use crate::tencent::models::common::{Filter, Tag, U64Str, action, paged};

action!(
    /// Lists VPCs (reference §4.1). `Offset`/`Limit` are strings on the wire.
    DescribeVpcs: DescribeVpcsRequest => DescribeVpcsResponse, Vpc, Safe, 100
);

paged!(
    DescribeVpcs,
    item = Vpc,
    items = vpc_set,
    total = total_count,
    max = 100
);

/// `DescribeVpcsRequest` (request).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct DescribeVpcsRequest {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vpc_ids: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub filters: Option<Vec<Filter>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offset: Option<U64Str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<U64Str>,
}

/// `DescribeVpcsResponse` (response).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct DescribeVpcsResponse {
    pub total_count: u64,
    pub vpc_set: Vec<Vpc>,
}

/// `Vpc` (object).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Vpc {
    pub vpc_name: String,
    pub vpc_id: String,
    pub cidr_block: String,
    pub is_default: bool,
    pub enable_multicast: bool,
    pub created_time: String,
    pub dns_server_set: Vec<String>,
    pub domain_name: String,
    pub dhcp_options_id: String,
    pub enable_dhcp: bool,
    pub ipv6_cidr_block: String,
    pub tag_set: Vec<Tag>,
    pub assistant_cidr_set: Vec<AssistantCidr>,
    pub enable_route_vpc_publish: bool,
    pub ipv6_cidr_block_set: Vec<ISPIPv6CidrBlock>,
    pub enable_route_vpc_publish_ipv6: bool,
    pub stack_type: String,
}

/// `AssistantCidr` (object).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct AssistantCidr {
    pub vpc_id: String,
    pub cidr_block: String,
    pub assistant_type: i64,
    pub subnet_set: Vec<Subnet>,
}

/// `Subnet` (object).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Subnet {
    pub vpc_id: String,
    pub subnet_id: String,
    pub subnet_name: String,
    pub cidr_block: String,
    pub is_default: bool,
    pub enable_broadcast: bool,
    pub zone: String,
    pub route_table_id: String,
    pub created_time: String,
    pub available_ip_address_count: u64,
    pub ipv6_cidr_block: String,
    pub network_acl_id: String,
    pub is_remote_vpc_snat: bool,
    pub total_ip_address_count: u64,
    pub tag_set: Vec<Tag>,
    pub cdc_id: String,
    pub is_cdc_subnet: i64,
    pub stack_type: String,
}

/// `ISPIPv6CidrBlock` (object).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ISPIPv6CidrBlock {
    #[serde(rename = "IPv6CidrBlock")]
    pub ipv6_cidr_block: String,
    #[serde(rename = "ISPType")]
    pub isp_type: String,
    pub address_type: String,
}

action!(
    /// Lists subnets; each names its one route table (reference §4.2). `Offset`/`Limit` are strings.
    DescribeSubnets: DescribeSubnetsRequest => DescribeSubnetsResponse, Vpc, Safe, 100
);

paged!(
    DescribeSubnets,
    item = Subnet,
    items = subnet_set,
    total = total_count,
    max = 100
);

/// `DescribeSubnetsRequest` (request).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct DescribeSubnetsRequest {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subnet_ids: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub filters: Option<Vec<Filter>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offset: Option<U64Str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<U64Str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_results: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

/// `DescribeSubnetsResponse` (response).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct DescribeSubnetsResponse {
    pub total_count: u64,
    pub subnet_set: Vec<Subnet>,
    pub next_token: String,
}
