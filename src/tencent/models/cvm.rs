//! CVM: instances (reference §4.24).
//! Field names and types follow the official `api.json` of tccli 3.1.189.1.

use serde::{Deserialize, Serialize};

use crate::tencent::models::common::{Filter, Tag, action, paged};

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
    pub total_count: i64,
    pub instance_set: Vec<Instance>,
}

/// `Instance` (object).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Instance {
    pub placement: Placement,
    pub instance_id: String,
    pub instance_type: String,
    #[serde(rename = "CPU")]
    pub cpu: i64,
    pub memory: i64,
    pub restrict_state: String,
    pub instance_name: String,
    pub instance_charge_type: String,
    pub system_disk: SystemDisk,
    pub data_disks: Vec<DataDisk>,
    pub private_ip_addresses: Vec<String>,
    pub public_ip_addresses: Option<Vec<String>>,
    pub internet_accessible: InternetAccessible,
    pub virtual_private_cloud: VirtualPrivateCloud,
    pub image_id: String,
    pub renew_flag: String,
    pub created_time: String,
    pub expired_time: String,
    pub os_name: String,
    pub security_group_ids: Vec<String>,
    pub login_settings: LoginSettings,
    pub instance_state: String,
    pub tags: Vec<Tag>,
    pub stop_charging_mode: String,
    pub uuid: String,
    pub latest_operation: Option<String>,
    pub latest_operation_state: Option<String>,
    pub latest_operation_request_id: Option<String>,
    pub disaster_recover_group_id: String,
    #[serde(rename = "IPv6Addresses")]
    pub ipv6_addresses: Option<Vec<String>>,
    pub cam_role_name: Option<String>,
    pub hpc_cluster_id: String,
    pub rdma_ip_addresses: Option<Vec<String>>,
    pub dedicated_cluster_id: String,
    pub isolated_source: String,
    pub disaster_recover_group_ids: Vec<String>,
    #[serde(rename = "GPUInfo")]
    pub gpu_info: GPUInfo,
    pub license_type: String,
    pub disable_api_termination: bool,
    pub host_name: String,
    pub default_login_user: String,
    pub default_login_port: i64,
    pub latest_operation_error_msg: Option<String>,
    pub enable_jumbo_frame: bool,
    pub metadata: Metadata,
    #[serde(rename = "PublicIPv6Addresses")]
    pub public_ipv6_addresses: Vec<String>,
    pub cpu_topology: CpuTopology,
    pub partition_number: i64,
}

/// `Placement` (object).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Placement {
    pub zone: String,
    pub project_id: i64,
    pub host_ids: Vec<String>,
    pub host_id: String,
    pub dedicated_resource_pack_tenancy: String,
    pub dedicated_resource_pack_ids: Vec<String>,
    pub rack_id: String,
}

/// `SystemDisk` (object).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct SystemDisk {
    pub disk_type: String,
    pub disk_id: String,
    pub disk_size: i64,
    pub cdc_id: Option<String>,
    pub disk_name: String,
    pub encrypt: bool,
    pub kms_key_id: String,
}

/// `DataDisk` (object).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct DataDisk {
    pub disk_size: i64,
    pub disk_type: String,
    pub disk_id: String,
    pub delete_with_instance: bool,
    pub snapshot_id: String,
    pub encrypt: bool,
    pub kms_key_id: Option<String>,
    pub throughput_performance: Option<i64>,
    pub cdc_id: Option<String>,
    pub burst_performance: bool,
    pub disk_name: String,
}

/// `InternetAccessible` (object).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct InternetAccessible {
    pub internet_charge_type: String,
    pub internet_max_bandwidth_out: i64,
    pub public_ip_assigned: bool,
    pub bandwidth_package_id: String,
    pub internet_service_provider: String,
    #[serde(rename = "IPv4AddressType")]
    pub ipv4_address_type: String,
    #[serde(rename = "IPv6AddressType")]
    pub ipv6_address_type: String,
    #[serde(rename = "AntiDDoSPackageId")]
    pub anti_ddos_package_id: String,
}

/// `VirtualPrivateCloud` (object).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct VirtualPrivateCloud {
    pub vpc_id: String,
    pub subnet_id: String,
    pub as_vpc_gateway: bool,
    pub private_ip_addresses: Vec<String>,
    pub ipv6_address_count: u64,
}

/// `LoginSettings` (object).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct LoginSettings {
    pub password: String,
    pub key_ids: Option<Vec<String>>,
    pub keep_image_login: String,
}

/// `GPUInfo` (object).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct GPUInfo {
    #[serde(rename = "GPUCount")]
    pub gpu_count: f64,
    #[serde(rename = "GPUId")]
    pub gpu_id: Vec<String>,
    #[serde(rename = "GPUType")]
    pub gpu_type: String,
}

/// `Metadata` (object).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Metadata {
    pub items: Vec<MetadataItem>,
}

/// `MetadataItem` (object).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct MetadataItem {
    pub key: String,
    pub value: String,
}

/// `CpuTopology` (object).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct CpuTopology {
    pub core_count: Option<i64>,
    pub thread_per_core: Option<i64>,
}
