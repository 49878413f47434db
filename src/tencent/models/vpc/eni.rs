//! Elastic network interfaces: DescribeNetworkInterfaces (addendum 2, §4), to learn an
//! instance's primary ENI and primary private IP before an SNAT rule names it. Field names
//! follow the official `api.json` of tccli 3.1.189.1.

use serde::{Deserialize, Serialize};

use crate::tencent::models::common::{Filter, Tag, action, null_as_default, paged};

action!(
    /// Lists ENIs; filter `attachment.instance-id` finds an instance's interfaces.
    DescribeNetworkInterfaces: DescribeNetworkInterfacesRequest => DescribeNetworkInterfacesResponse, Vpc, Safe, 20
);

paged!(
    DescribeNetworkInterfaces,
    item = NetworkInterface,
    items = network_interface_set,
    total = total_count,
    max = 100
);

/// `DescribeNetworkInterfacesRequest` (request). `NetworkInterfaceIds` and `Filters` exclude
/// each other.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct DescribeNetworkInterfacesRequest {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub network_interface_ids: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub filters: Option<Vec<Filter>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offset: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<u64>,
}

/// `DescribeNetworkInterfacesResponse` (response).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct DescribeNetworkInterfacesResponse {
    #[serde(deserialize_with = "null_as_default")]
    pub network_interface_set: Vec<NetworkInterface>,
    #[serde(deserialize_with = "null_as_default")]
    pub total_count: u64,
}

/// `NetworkInterface` (object): the members natpilot reads and those the examples carry.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct NetworkInterface {
    #[serde(deserialize_with = "null_as_default")]
    pub network_interface_id: String,
    #[serde(deserialize_with = "null_as_default")]
    pub network_interface_name: String,
    #[serde(deserialize_with = "null_as_default")]
    pub network_interface_description: String,
    #[serde(deserialize_with = "null_as_default")]
    pub subnet_id: String,
    #[serde(deserialize_with = "null_as_default")]
    pub vpc_id: String,
    #[serde(deserialize_with = "null_as_default")]
    pub group_set: Vec<String>,
    /// The instance's primary ENI.
    #[serde(deserialize_with = "null_as_default")]
    pub primary: bool,
    #[serde(deserialize_with = "null_as_default")]
    pub mac_address: String,
    #[serde(deserialize_with = "null_as_default")]
    pub state: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub network_interface_state: Option<String>,
    #[serde(deserialize_with = "null_as_default")]
    pub private_ip_address_set: Vec<PrivateIpAddressSpecification>,
    /// `null` for an ENI that is not attached (as the official example shows).
    pub attachment: Option<NetworkInterfaceAttachment>,
    #[serde(deserialize_with = "null_as_default")]
    pub zone: String,
    #[serde(deserialize_with = "null_as_default")]
    pub created_time: String,
    #[serde(deserialize_with = "null_as_default")]
    pub ipv6_address_set: Vec<serde_json::Value>,
    #[serde(deserialize_with = "null_as_default")]
    pub tag_set: Vec<Tag>,
    #[serde(deserialize_with = "null_as_default")]
    pub eni_type: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub business: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cdc_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attach_type: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub qos_level: Option<String>,
}

/// `PrivateIpAddressSpecification` (object).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct PrivateIpAddressSpecification {
    #[serde(deserialize_with = "null_as_default")]
    pub private_ip_address: String,
    #[serde(deserialize_with = "null_as_default")]
    pub primary: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub public_ip_address: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_wan_ip_blocked: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub qos_level: Option<String>,
}

/// `NetworkInterfaceAttachment` (object).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct NetworkInterfaceAttachment {
    #[serde(deserialize_with = "null_as_default")]
    pub device_index: u64,
    #[serde(deserialize_with = "null_as_default")]
    pub instance_account_id: String,
    #[serde(deserialize_with = "null_as_default")]
    pub attach_time: String,
    #[serde(deserialize_with = "null_as_default")]
    pub instance_id: String,
}
