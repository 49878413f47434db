//! VPC elastic and ordinary public IPs: allocate, describe, bind, unbind, release, transform, return (reference §4.13–§4.20).
//! Field names and types follow the official `api.json` of tccli 3.1.189.1.

use serde::{Deserialize, Serialize};

use crate::tencent::models::common::{Filter, Tag, U64Num, U64Str, action, null_as_default, paged};

action!(
    /// Applies for EIPs (reference §4.13). Unsafe unless the caller sets `ClientToken`.
    AllocateAddresses: AllocateAddressesRequest => AllocateAddressesResponse, Vpc, Unsafe, 10
);

/// `AllocateAddressesRequest` (request).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct AllocateAddressesRequest {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address_count: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub internet_service_provider: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub internet_charge_type: Option<String>,
    #[serde(rename = "IPChargeType", skip_serializing_if = "Option::is_none")]
    pub ip_charge_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub internet_max_bandwidth_out: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address_charge_prepaid: Option<AddressChargePrepaid>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub anycast_zone: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vip_cluster: Option<Vec<String>>,
    #[serde(rename = "ApplicableForCLB", skip_serializing_if = "Option::is_none")]
    pub applicable_for_clb: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<Tag>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bandwidth_package_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dedicated_cluster_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_dedicated_address_pool: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub egress: Option<String>,
    #[serde(rename = "AntiDDoSPackageId", skip_serializing_if = "Option::is_none")]
    pub anti_ddos_package_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_token: Option<String>,
}

/// `AllocateAddressesResponse` (response).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct AllocateAddressesResponse {
    #[serde(deserialize_with = "null_as_default")]
    pub address_set: Vec<String>,
    #[serde(deserialize_with = "null_as_default")]
    pub task_id: U64Str,
}

/// `AddressChargePrepaid` (object).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AddressChargePrepaid {
    pub period: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auto_renew_flag: Option<i64>,
}

action!(
    /// Lists EIPs; ordinary public IPs only with `address-type=WanIP` (reference §4.14).
    DescribeAddresses: DescribeAddressesRequest => DescribeAddressesResponse, Vpc, Safe, 20
);

paged!(
    DescribeAddresses,
    item = Address,
    items = address_set,
    total = total_count,
    max = 100
);

/// `DescribeAddressesRequest` (request).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct DescribeAddressesRequest {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address_ids: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub filters: Option<Vec<Filter>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offset: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<i64>,
}

/// `DescribeAddressesResponse` (response).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct DescribeAddressesResponse {
    #[serde(deserialize_with = "null_as_default")]
    pub total_count: i64,
    #[serde(deserialize_with = "null_as_default")]
    pub address_set: Vec<Address>,
}

/// `Address` (object).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Address {
    #[serde(deserialize_with = "null_as_default")]
    pub address_id: String,
    #[serde(deserialize_with = "null_as_default")]
    pub address_name: String,
    #[serde(deserialize_with = "null_as_default")]
    pub address_status: String,
    #[serde(deserialize_with = "null_as_default")]
    pub address_ip: String,
    #[serde(deserialize_with = "null_as_default")]
    pub instance_id: String,
    #[serde(deserialize_with = "null_as_default")]
    pub created_time: String,
    pub network_interface_id: Option<String>,
    pub private_address_ip: Option<String>,
    #[serde(deserialize_with = "null_as_default")]
    pub is_arrears: bool,
    #[serde(deserialize_with = "null_as_default")]
    pub is_blocked: bool,
    #[serde(deserialize_with = "null_as_default")]
    pub is_eip_direct_connection: bool,
    #[serde(deserialize_with = "null_as_default")]
    pub address_type: String,
    #[serde(deserialize_with = "null_as_default")]
    pub cascade_release: bool,
    #[serde(deserialize_with = "null_as_default")]
    pub eip_alg_type: AlgType,
    #[serde(deserialize_with = "null_as_default")]
    pub internet_service_provider: String,
    #[serde(deserialize_with = "null_as_default")]
    pub local_bgp: bool,
    pub bandwidth: Option<u64>,
    pub internet_charge_type: Option<String>,
    #[serde(deserialize_with = "null_as_default")]
    pub tag_set: Vec<Tag>,
    pub deadline_date: Option<String>,
    pub instance_type: Option<String>,
    pub egress: Option<String>,
    #[serde(rename = "AntiDDoSPackageId", deserialize_with = "null_as_default")]
    pub anti_ddos_package_id: String,
    #[serde(deserialize_with = "null_as_default")]
    pub renew_flag: String,
    pub bandwidth_package_id: Option<String>,
    #[serde(deserialize_with = "null_as_default")]
    pub un_vpc_id: String,
    #[serde(deserialize_with = "null_as_default")]
    pub dedicated_cluster_id: String,
    #[serde(deserialize_with = "null_as_default")]
    pub eip_visible_on_eni: bool,
}

/// `AlgType` (object).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct AlgType {
    #[serde(deserialize_with = "null_as_default")]
    pub ftp: bool,
    #[serde(deserialize_with = "null_as_default")]
    pub sip: bool,
}

action!(
    /// Binds an EIP to a CVM or ENI; async, returns a string `TaskId` (reference §4.15).
    AssociateAddress: AssociateAddressRequest => AssociateAddressResponse, Vpc, Safe, 10
);

/// `AssociateAddressRequest` (request).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct AssociateAddressRequest {
    pub address_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instance_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub network_interface_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub private_ip_address: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub eip_direct_connection: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instance_region: Option<String>,
}

/// `AssociateAddressResponse` (response).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct AssociateAddressResponse {
    #[serde(deserialize_with = "null_as_default")]
    pub task_id: U64Str,
}

action!(
    /// Unbinds an EIP (not released); async, string `TaskId` (reference §4.16).
    DisassociateAddress: DisassociateAddressRequest => DisassociateAddressResponse, Vpc, Safe, 10
);

/// `DisassociateAddressRequest` (request).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct DisassociateAddressRequest {
    pub address_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reallocate_normal_public_ip: Option<bool>,
}

/// `DisassociateAddressResponse` (response).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct DisassociateAddressResponse {
    #[serde(deserialize_with = "null_as_default")]
    pub task_id: U64Str,
}

action!(
    /// Releases unbound EIPs, irreversibly; async, string `TaskId` (reference §4.17).
    ReleaseAddresses: ReleaseAddressesRequest => ReleaseAddressesResponse, Vpc, Safe, 10
);

/// `ReleaseAddressesRequest` (request).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct ReleaseAddressesRequest {
    pub address_ids: Vec<String>,
}

/// `ReleaseAddressesResponse` (response).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ReleaseAddressesResponse {
    #[serde(deserialize_with = "null_as_default")]
    pub task_id: U64Str,
}

action!(
    /// Turns an instance's ordinary public IP into an EIP; integer `TaskId` (reference §4.18). A replay cannot duplicate anything (it fails with `AlreadyBindEip`).
    TransformAddress: TransformAddressRequest => TransformAddressResponse, Vpc, Safe, 10
);

/// `TransformAddressRequest` (request).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct TransformAddressRequest {
    pub instance_id: String,
}

/// `TransformAddressResponse` (response).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct TransformAddressResponse {
    #[serde(deserialize_with = "null_as_default")]
    pub task_id: U64Num,
    #[serde(deserialize_with = "null_as_default")]
    pub address_id: String,
}

action!(
    /// Unbinds and releases ordinary public IPs, irreversibly (reference §4.19).
    ReturnNormalAddresses: ReturnNormalAddressesRequest => ReturnNormalAddressesResponse, Vpc, Safe, 2
);

/// `ReturnNormalAddressesRequest` (request).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct ReturnNormalAddressesRequest {
    pub address_ips: Vec<String>,
}

/// `ReturnNormalAddressesResponse` (response).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ReturnNormalAddressesResponse {}
