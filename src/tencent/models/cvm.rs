//! CVM: instances (reference §4.24).
//! Field names and types follow the official `api.json` of tccli 3.1.189.1.

use serde::{Deserialize, Serialize};

use crate::tencent::models::common::{Filter, Tag, action, null_as_default, paged};

action!(
    /// Lists instances (reference §4.24); filter by `vpc-id`, max 100 per page.
    DescribeInstances: DescribeInstancesRequest => DescribeInstancesResponse, Cvm, Safe, 40
);

paged!(
    DescribeInstances,
    item = Instance,
    items = instance_set,
    total = total_count,
    max = 100
);

/// `DescribeInstancesRequest` (request).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct DescribeInstancesRequest {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instance_ids: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub filters: Option<Vec<Filter>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offset: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<i64>,
}

/// `DescribeInstancesResponse` (response).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct DescribeInstancesResponse {
    #[serde(deserialize_with = "null_as_default")]
    pub total_count: i64,
    #[serde(deserialize_with = "null_as_default")]
    pub instance_set: Vec<Instance>,
}

/// `Instance` (object).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Instance {
    #[serde(deserialize_with = "null_as_default")]
    pub placement: Placement,
    #[serde(deserialize_with = "null_as_default")]
    pub instance_id: String,
    #[serde(deserialize_with = "null_as_default")]
    pub instance_type: String,
    #[serde(rename = "CPU", deserialize_with = "null_as_default")]
    pub cpu: i64,
    #[serde(deserialize_with = "null_as_default")]
    pub memory: i64,
    #[serde(deserialize_with = "null_as_default")]
    pub restrict_state: String,
    #[serde(deserialize_with = "null_as_default")]
    pub instance_name: String,
    #[serde(deserialize_with = "null_as_default")]
    pub instance_charge_type: String,
    #[serde(deserialize_with = "null_as_default")]
    pub system_disk: SystemDisk,
    #[serde(deserialize_with = "null_as_default")]
    pub data_disks: Vec<DataDisk>,
    #[serde(deserialize_with = "null_as_default")]
    pub private_ip_addresses: Vec<String>,
    pub public_ip_addresses: Option<Vec<String>>,
    #[serde(deserialize_with = "null_as_default")]
    pub internet_accessible: InternetAccessible,
    #[serde(deserialize_with = "null_as_default")]
    pub virtual_private_cloud: VirtualPrivateCloud,
    #[serde(deserialize_with = "null_as_default")]
    pub image_id: String,
    #[serde(deserialize_with = "null_as_default")]
    pub renew_flag: String,
    #[serde(deserialize_with = "null_as_default")]
    pub created_time: String,
    #[serde(deserialize_with = "null_as_default")]
    pub expired_time: String,
    #[serde(deserialize_with = "null_as_default")]
    pub os_name: String,
    #[serde(deserialize_with = "null_as_default")]
    pub security_group_ids: Vec<String>,
    #[serde(deserialize_with = "null_as_default")]
    pub login_settings: LoginSettings,
    #[serde(deserialize_with = "null_as_default")]
    pub instance_state: String,
    #[serde(deserialize_with = "null_as_default")]
    pub tags: Vec<Tag>,
    #[serde(deserialize_with = "null_as_default")]
    pub stop_charging_mode: String,
    #[serde(deserialize_with = "null_as_default")]
    pub uuid: String,
    pub latest_operation: Option<String>,
    pub latest_operation_state: Option<String>,
    pub latest_operation_request_id: Option<String>,
    #[serde(deserialize_with = "null_as_default")]
    pub disaster_recover_group_id: String,
    #[serde(rename = "IPv6Addresses")]
    pub ipv6_addresses: Option<Vec<String>>,
    pub cam_role_name: Option<String>,
    #[serde(deserialize_with = "null_as_default")]
    pub hpc_cluster_id: String,
    pub rdma_ip_addresses: Option<Vec<String>>,
    #[serde(deserialize_with = "null_as_default")]
    pub dedicated_cluster_id: String,
    #[serde(deserialize_with = "null_as_default")]
    pub isolated_source: String,
    #[serde(deserialize_with = "null_as_default")]
    pub disaster_recover_group_ids: Vec<String>,
    #[serde(rename = "GPUInfo", deserialize_with = "null_as_default")]
    pub gpu_info: GPUInfo,
    #[serde(deserialize_with = "null_as_default")]
    pub license_type: String,
    #[serde(deserialize_with = "null_as_default")]
    pub disable_api_termination: bool,
    #[serde(deserialize_with = "null_as_default")]
    pub host_name: String,
    #[serde(deserialize_with = "null_as_default")]
    pub default_login_user: String,
    #[serde(deserialize_with = "null_as_default")]
    pub default_login_port: i64,
    pub latest_operation_error_msg: Option<String>,
    #[serde(deserialize_with = "null_as_default")]
    pub enable_jumbo_frame: bool,
    #[serde(deserialize_with = "null_as_default")]
    pub metadata: Metadata,
    #[serde(rename = "PublicIPv6Addresses", deserialize_with = "null_as_default")]
    pub public_ipv6_addresses: Vec<String>,
    #[serde(deserialize_with = "null_as_default")]
    pub cpu_topology: CpuTopology,
    #[serde(deserialize_with = "null_as_default")]
    pub partition_number: i64,
}

/// `Placement` (object).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Placement {
    #[serde(deserialize_with = "null_as_default")]
    pub zone: String,
    #[serde(deserialize_with = "null_as_default")]
    pub project_id: i64,
    #[serde(deserialize_with = "null_as_default")]
    pub host_ids: Vec<String>,
    #[serde(deserialize_with = "null_as_default")]
    pub host_id: String,
    #[serde(deserialize_with = "null_as_default")]
    pub dedicated_resource_pack_tenancy: String,
    #[serde(deserialize_with = "null_as_default")]
    pub dedicated_resource_pack_ids: Vec<String>,
    #[serde(deserialize_with = "null_as_default")]
    pub rack_id: String,
}

/// `SystemDisk` (object).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct SystemDisk {
    #[serde(deserialize_with = "null_as_default")]
    pub disk_type: String,
    #[serde(deserialize_with = "null_as_default")]
    pub disk_id: String,
    #[serde(deserialize_with = "null_as_default")]
    pub disk_size: i64,
    pub cdc_id: Option<String>,
    #[serde(deserialize_with = "null_as_default")]
    pub disk_name: String,
    #[serde(deserialize_with = "null_as_default")]
    pub encrypt: bool,
    #[serde(deserialize_with = "null_as_default")]
    pub kms_key_id: String,
}

/// `DataDisk` (object).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct DataDisk {
    #[serde(deserialize_with = "null_as_default")]
    pub disk_size: i64,
    #[serde(deserialize_with = "null_as_default")]
    pub disk_type: String,
    #[serde(deserialize_with = "null_as_default")]
    pub disk_id: String,
    #[serde(deserialize_with = "null_as_default")]
    pub delete_with_instance: bool,
    #[serde(deserialize_with = "null_as_default")]
    pub snapshot_id: String,
    #[serde(deserialize_with = "null_as_default")]
    pub encrypt: bool,
    pub kms_key_id: Option<String>,
    pub throughput_performance: Option<i64>,
    pub cdc_id: Option<String>,
    #[serde(deserialize_with = "null_as_default")]
    pub burst_performance: bool,
    #[serde(deserialize_with = "null_as_default")]
    pub disk_name: String,
}

/// `InternetAccessible` (object).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct InternetAccessible {
    #[serde(deserialize_with = "null_as_default")]
    pub internet_charge_type: String,
    #[serde(deserialize_with = "null_as_default")]
    pub internet_max_bandwidth_out: i64,
    #[serde(deserialize_with = "null_as_default")]
    pub public_ip_assigned: bool,
    #[serde(deserialize_with = "null_as_default")]
    pub bandwidth_package_id: String,
    #[serde(deserialize_with = "null_as_default")]
    pub internet_service_provider: String,
    #[serde(rename = "IPv4AddressType", deserialize_with = "null_as_default")]
    pub ipv4_address_type: String,
    #[serde(rename = "IPv6AddressType", deserialize_with = "null_as_default")]
    pub ipv6_address_type: String,
    #[serde(rename = "AntiDDoSPackageId", deserialize_with = "null_as_default")]
    pub anti_ddos_package_id: String,
}

/// `VirtualPrivateCloud` (object).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct VirtualPrivateCloud {
    #[serde(deserialize_with = "null_as_default")]
    pub vpc_id: String,
    #[serde(deserialize_with = "null_as_default")]
    pub subnet_id: String,
    #[serde(deserialize_with = "null_as_default")]
    pub as_vpc_gateway: bool,
    #[serde(deserialize_with = "null_as_default")]
    pub private_ip_addresses: Vec<String>,
    #[serde(deserialize_with = "null_as_default")]
    pub ipv6_address_count: u64,
}

/// `LoginSettings` (object).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct LoginSettings {
    #[serde(deserialize_with = "null_as_default")]
    pub password: String,
    pub key_ids: Option<Vec<String>>,
    #[serde(deserialize_with = "null_as_default")]
    pub keep_image_login: String,
}

/// `GPUInfo` (object).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct GPUInfo {
    #[serde(rename = "GPUCount", deserialize_with = "null_as_default")]
    pub gpu_count: f64,
    #[serde(rename = "GPUId", deserialize_with = "null_as_default")]
    pub gpu_id: Vec<String>,
    #[serde(rename = "GPUType", deserialize_with = "null_as_default")]
    pub gpu_type: String,
}

/// `Metadata` (object).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Metadata {
    #[serde(deserialize_with = "null_as_default")]
    pub items: Vec<MetadataItem>,
}

/// `MetadataItem` (object).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct MetadataItem {
    #[serde(deserialize_with = "null_as_default")]
    pub key: String,
    #[serde(deserialize_with = "null_as_default")]
    pub value: String,
}

/// `CpuTopology` (object).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct CpuTopology {
    pub core_count: Option<i64>,
    pub thread_per_core: Option<i64>,
}
