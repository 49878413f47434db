//! VPC async task status and the EIP quota pre-flight (reference §4.21–§4.23).
//! Field names and types follow the official `api.json` of tccli 3.1.189.1.

use serde::{Deserialize, Serialize};

use crate::tencent::models::common::{U64Num, action, null_as_default};

action!(
    /// Status of an EIP task; `TaskId` is an integer here although most EIP actions return it as a string (reference §4.21).
    DescribeTaskResult: DescribeTaskResultRequest => DescribeTaskResultResponse, Vpc, Safe, 20
);

/// `DescribeTaskResultRequest` (request).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct DescribeTaskResultRequest {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub task_id: Option<U64Num>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deal_name: Option<String>,
}

/// `DescribeTaskResultResponse` (response).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct DescribeTaskResultResponse {
    #[serde(deserialize_with = "null_as_default")]
    pub task_id: U64Num,
    #[serde(deserialize_with = "null_as_default")]
    pub result: String,
}

action!(
    /// Status of a VPC async task, keyed by the RequestId of the call (reference §4.22).
    DescribeVpcTaskResult: DescribeVpcTaskResultRequest => DescribeVpcTaskResultResponse, Vpc, Safe, 20
);

/// `DescribeVpcTaskResultRequest` (request).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct DescribeVpcTaskResultRequest {
    pub task_id: String,
}

/// `DescribeVpcTaskResultResponse` (response).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct DescribeVpcTaskResultResponse {
    #[serde(deserialize_with = "null_as_default")]
    pub status: String,
    #[serde(deserialize_with = "null_as_default")]
    pub output: String,
    #[serde(deserialize_with = "null_as_default")]
    pub result: Vec<VpcTaskResultDetailInfo>,
}

/// `VpcTaskResultDetailInfo` (object).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct VpcTaskResultDetailInfo {
    #[serde(deserialize_with = "null_as_default")]
    pub resource_id: String,
    #[serde(deserialize_with = "null_as_default")]
    pub status: String,
}

action!(
    /// EIP quotas (`TOTAL_EIP_QUOTA`, `DAILY_PUBLIC_IP_ASSIGN`, ...) for pre-flight checks (reference §4.23).
    DescribeAddressQuota: DescribeAddressQuotaRequest => DescribeAddressQuotaResponse, Vpc, Safe, 10
);

/// `DescribeAddressQuotaRequest` (request).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct DescribeAddressQuotaRequest {}

/// `DescribeAddressQuotaResponse` (response).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct DescribeAddressQuotaResponse {
    #[serde(deserialize_with = "null_as_default")]
    pub quota_set: Vec<Quota>,
}

/// `Quota` (object).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Quota {
    #[serde(deserialize_with = "null_as_default")]
    pub quota_id: String,
    #[serde(deserialize_with = "null_as_default")]
    pub quota_current: i64,
    #[serde(deserialize_with = "null_as_default")]
    pub quota_limit: i64,
    #[serde(deserialize_with = "null_as_default")]
    pub quota_group: String,
}
