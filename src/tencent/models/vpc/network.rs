//! VPC reads of the network layout: VPCs and subnets (reference §4.1, §4.2).
//! Field names and types follow the official `api.json` of tccli 3.1.189.1.

use serde::{Deserialize, Serialize};

use crate::tencent::models::common::{Filter, Tag, U64Str, action, null_as_default, paged};

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
    #[serde(deserialize_with = "null_as_default")]
    pub total_count: u64,
    #[serde(deserialize_with = "null_as_default")]
    pub vpc_set: Vec<Vpc>,
}

/// `Vpc` (object).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Vpc {
    #[serde(deserialize_with = "null_as_default")]
    pub vpc_name: String,
    #[serde(deserialize_with = "null_as_default")]
    pub vpc_id: String,
    #[serde(deserialize_with = "null_as_default")]
    pub cidr_block: String,
    #[serde(deserialize_with = "null_as_default")]
    pub is_default: bool,
    #[serde(deserialize_with = "null_as_default")]
    pub enable_multicast: bool,
    #[serde(deserialize_with = "null_as_default")]
    pub created_time: String,
    #[serde(deserialize_with = "null_as_default")]
    pub dns_server_set: Vec<String>,
    #[serde(deserialize_with = "null_as_default")]
    pub domain_name: String,
    #[serde(deserialize_with = "null_as_default")]
    pub dhcp_options_id: String,
    #[serde(deserialize_with = "null_as_default")]
    pub enable_dhcp: bool,
    #[serde(deserialize_with = "null_as_default")]
    pub ipv6_cidr_block: String,
    #[serde(deserialize_with = "null_as_default")]
    pub tag_set: Vec<Tag>,
    #[serde(deserialize_with = "null_as_default")]
    pub assistant_cidr_set: Vec<AssistantCidr>,
    #[serde(deserialize_with = "null_as_default")]
    pub enable_route_vpc_publish: bool,
    #[serde(deserialize_with = "null_as_default")]
    pub ipv6_cidr_block_set: Vec<ISPIPv6CidrBlock>,
    #[serde(deserialize_with = "null_as_default")]
    pub enable_route_vpc_publish_ipv6: bool,
    #[serde(deserialize_with = "null_as_default")]
    pub stack_type: String,
}

/// `AssistantCidr` (object).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct AssistantCidr {
    #[serde(deserialize_with = "null_as_default")]
    pub vpc_id: String,
    #[serde(deserialize_with = "null_as_default")]
    pub cidr_block: String,
    #[serde(deserialize_with = "null_as_default")]
    pub assistant_type: i64,
    #[serde(deserialize_with = "null_as_default")]
    pub subnet_set: Vec<Subnet>,
}

/// `Subnet` (object).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Subnet {
    #[serde(deserialize_with = "null_as_default")]
    pub vpc_id: String,
    #[serde(deserialize_with = "null_as_default")]
    pub subnet_id: String,
    #[serde(deserialize_with = "null_as_default")]
    pub subnet_name: String,
    #[serde(deserialize_with = "null_as_default")]
    pub cidr_block: String,
    #[serde(deserialize_with = "null_as_default")]
    pub is_default: bool,
    #[serde(deserialize_with = "null_as_default")]
    pub enable_broadcast: bool,
    #[serde(deserialize_with = "null_as_default")]
    pub zone: String,
    #[serde(deserialize_with = "null_as_default")]
    pub route_table_id: String,
    #[serde(deserialize_with = "null_as_default")]
    pub created_time: String,
    #[serde(deserialize_with = "null_as_default")]
    pub available_ip_address_count: u64,
    #[serde(deserialize_with = "null_as_default")]
    pub ipv6_cidr_block: String,
    #[serde(deserialize_with = "null_as_default")]
    pub network_acl_id: String,
    #[serde(deserialize_with = "null_as_default")]
    pub is_remote_vpc_snat: bool,
    #[serde(deserialize_with = "null_as_default")]
    pub total_ip_address_count: u64,
    #[serde(deserialize_with = "null_as_default")]
    pub tag_set: Vec<Tag>,
    #[serde(deserialize_with = "null_as_default")]
    pub cdc_id: String,
    #[serde(deserialize_with = "null_as_default")]
    pub is_cdc_subnet: i64,
    #[serde(deserialize_with = "null_as_default")]
    pub stack_type: String,
}

/// `ISPIPv6CidrBlock` (object).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ISPIPv6CidrBlock {
    #[serde(rename = "IPv6CidrBlock", deserialize_with = "null_as_default")]
    pub ipv6_cidr_block: String,
    #[serde(rename = "ISPType", deserialize_with = "null_as_default")]
    pub isp_type: String,
    #[serde(deserialize_with = "null_as_default")]
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
    #[serde(deserialize_with = "null_as_default")]
    pub total_count: u64,
    #[serde(deserialize_with = "null_as_default")]
    pub subnet_set: Vec<Subnet>,
    #[serde(deserialize_with = "null_as_default")]
    pub next_token: String,
}
