//! VPC route tables and routes: read, create, delete, replace, enable/disable (reference §4.3–§4.8).
//! Field names and types follow the official `api.json` of tccli 3.1.189.1.

use serde::{Deserialize, Serialize};

use crate::tencent::models::common::{Filter, Tag, U64Str, action, null_as_default, paged};

action!(
    /// Lists route tables with their routes and subnet associations (reference §4.3). `Offset`/`Limit` are strings.
    DescribeRouteTables: DescribeRouteTablesRequest => DescribeRouteTablesResponse, Vpc, Safe, 100
);

paged!(
    DescribeRouteTables,
    item = RouteTable,
    items = route_table_set,
    total = total_count,
    max = 100
);

/// `DescribeRouteTablesRequest` (request).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct DescribeRouteTablesRequest {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub filters: Option<Vec<Filter>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub route_table_ids: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offset: Option<U64Str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<U64Str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub need_router_info: Option<bool>,
}

/// `DescribeRouteTablesResponse` (response).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct DescribeRouteTablesResponse {
    #[serde(deserialize_with = "null_as_default")]
    pub total_count: u64,
    #[serde(deserialize_with = "null_as_default")]
    pub route_table_set: Vec<RouteTable>,
}

/// `RouteTable` (object).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct RouteTable {
    #[serde(deserialize_with = "null_as_default")]
    pub vpc_id: String,
    #[serde(deserialize_with = "null_as_default")]
    pub route_table_id: String,
    #[serde(deserialize_with = "null_as_default")]
    pub route_table_name: String,
    #[serde(deserialize_with = "null_as_default")]
    pub association_set: Vec<RouteTableAssociation>,
    #[serde(deserialize_with = "null_as_default")]
    pub route_set: Vec<Route>,
    #[serde(deserialize_with = "null_as_default")]
    pub main: bool,
    #[serde(deserialize_with = "null_as_default")]
    pub created_time: String,
    #[serde(deserialize_with = "null_as_default")]
    pub tag_set: Vec<Tag>,
    #[serde(deserialize_with = "null_as_default")]
    pub local_cidr_for_ccn: Vec<CidrForCcn>,
}

/// `RouteTableAssociation` (object).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct RouteTableAssociation {
    #[serde(deserialize_with = "null_as_default")]
    pub subnet_id: String,
    #[serde(deserialize_with = "null_as_default")]
    pub route_table_id: String,
}

/// `Route` (object).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Route {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub destination_cidr_block: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gateway_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gateway_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub route_id: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub route_description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub route_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub route_table_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub destination_ipv6_cidr_block: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub route_item_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub published_to_vbc: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_time: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cdc_id: Option<String>,
}

/// `CidrForCcn` (object).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct CidrForCcn {
    #[serde(deserialize_with = "null_as_default")]
    pub cidr: String,
    #[serde(deserialize_with = "null_as_default")]
    pub published_to_vbc: bool,
}

action!(
    /// Adds routes to one table (reference §4.5). No idempotency token: a replay can add a duplicate route.
    CreateRoutes: CreateRoutesRequest => CreateRoutesResponse, Vpc, Unsafe, 100
);

/// `CreateRoutesRequest` (request).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct CreateRoutesRequest {
    pub route_table_id: String,
    pub routes: Vec<Route>,
}

/// `CreateRoutesResponse` (response).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct CreateRoutesResponse {
    #[serde(deserialize_with = "null_as_default")]
    pub total_count: u64,
    #[serde(deserialize_with = "null_as_default")]
    pub route_table_set: Vec<RouteTable>,
}

action!(
    /// Deletes routes by `RouteId`/`RouteItemId` (reference §4.6).
    DeleteRoutes: DeleteRoutesRequest => DeleteRoutesResponse, Vpc, Safe, 100
);

/// `DeleteRoutesRequest` (request).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct DeleteRoutesRequest {
    pub route_table_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub routes: Option<Vec<Route>>,
}

/// `DeleteRoutesResponse` (response).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct DeleteRoutesResponse {
    #[serde(deserialize_with = "null_as_default")]
    pub route_set: Vec<Route>,
}

action!(
    /// Changes routes in place, keeping their ids (reference §4.7).
    ReplaceRoutes: ReplaceRoutesRequest => ReplaceRoutesResponse, Vpc, Safe, 100
);

/// `ReplaceRoutesRequest` (request).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct ReplaceRoutesRequest {
    pub route_table_id: String,
    pub routes: Vec<Route>,
}

/// `ReplaceRoutesResponse` (response).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ReplaceRoutesResponse {
    #[serde(deserialize_with = "null_as_default")]
    pub old_route_set: Vec<Route>,
    #[serde(deserialize_with = "null_as_default")]
    pub new_route_set: Vec<Route>,
}

action!(
    /// Enables routes (reference §4.8; rate limit not in §3.5, the VPC route actions' 100/s assumed).
    EnableRoutes: EnableRoutesRequest => EnableRoutesResponse, Vpc, Safe, 100
);

/// `EnableRoutesRequest` (request).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct EnableRoutesRequest {
    pub route_table_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub route_ids: Option<Vec<u64>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub route_item_ids: Option<Vec<String>>,
}

/// `EnableRoutesResponse` (response).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct EnableRoutesResponse {}

action!(
    /// Disables routes (reference §4.8; rate limit not in §3.5, the VPC route actions' 100/s assumed).
    DisableRoutes: DisableRoutesRequest => DisableRoutesResponse, Vpc, Safe, 100
);

/// `DisableRoutesRequest` (request).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct DisableRoutesRequest {
    pub route_table_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub route_ids: Option<Vec<u64>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub route_item_ids: Option<Vec<String>>,
}

/// `DisableRoutesResponse` (response).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct DisableRoutesResponse {}
