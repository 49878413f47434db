//! TAT (automation tools): agent status, running a command, reading its per-instance results (reference §4.25–§4.28).
//! Field names and types follow the official `api.json` of tccli 3.1.189.1.

use serde::{Deserialize, Serialize};

use crate::tencent::models::common::{Filter, Tag, action, null_as_default, paged};

action!(
    /// TAT agent status per instance (reference §4.25; 60/s on the newest doc revision, the older 20/s kept to be safe).
    DescribeAutomationAgentStatus: DescribeAutomationAgentStatusRequest => DescribeAutomationAgentStatusResponse, Tat, Safe, 20
);

paged!(
    DescribeAutomationAgentStatus,
    item = AutomationAgentInfo,
    items = automation_agent_set,
    total = total_count,
    max = 100
);

/// `DescribeAutomationAgentStatusRequest` (request).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct DescribeAutomationAgentStatusRequest {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instance_ids: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub filters: Option<Vec<Filter>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offset: Option<u64>,
}

/// `DescribeAutomationAgentStatusResponse` (response).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct DescribeAutomationAgentStatusResponse {
    #[serde(deserialize_with = "null_as_default")]
    pub automation_agent_set: Vec<AutomationAgentInfo>,
    #[serde(deserialize_with = "null_as_default")]
    pub total_count: u64,
}

/// `AutomationAgentInfo` (object).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct AutomationAgentInfo {
    #[serde(deserialize_with = "null_as_default")]
    pub instance_id: String,
    #[serde(deserialize_with = "null_as_default")]
    pub version: String,
    #[serde(deserialize_with = "null_as_default")]
    pub last_heartbeat_time: String,
    #[serde(deserialize_with = "null_as_default")]
    pub agent_status: String,
    #[serde(deserialize_with = "null_as_default")]
    pub environment: String,
    #[serde(deserialize_with = "null_as_default")]
    pub support_features: Vec<String>,
}

action!(
    /// Runs a Base64-encoded command on instances (reference §4.26). No idempotency token: a replay runs it again.
    RunCommand: RunCommandRequest => RunCommandResponse, Tat, Unsafe, 20
);

/// `RunCommandRequest` (request).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct RunCommandRequest {
    pub content: String,
    pub instance_ids: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub command_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub command_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub working_directory: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeout: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub save_command: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enable_parameter: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default_parameters: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default_parameter_confs: Option<Vec<DefaultParameterConf>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parameters: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<Tag>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(rename = "OutputCOSBucketUrl", skip_serializing_if = "Option::is_none")]
    pub output_cos_bucket_url: Option<String>,
    #[serde(rename = "OutputCOSKeyPrefix", skip_serializing_if = "Option::is_none")]
    pub output_cos_key_prefix: Option<String>,
}

/// `RunCommandResponse` (response).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct RunCommandResponse {
    #[serde(deserialize_with = "null_as_default")]
    pub command_id: String,
    #[serde(deserialize_with = "null_as_default")]
    pub invocation_id: String,
}

/// `DefaultParameterConf` (object).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DefaultParameterConf {
    pub parameter_name: String,
    pub parameter_value: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parameter_description: Option<String>,
}

action!(
    /// Lists invocations and their overall status (reference §4.27).
    DescribeInvocations: DescribeInvocationsRequest => DescribeInvocationsResponse, Tat, Safe, 20
);

paged!(
    DescribeInvocations,
    item = Invocation,
    items = invocation_set,
    total = total_count,
    max = 100
);

/// `DescribeInvocationsRequest` (request).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct DescribeInvocationsRequest {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub invocation_ids: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub filters: Option<Vec<Filter>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offset: Option<u64>,
}

/// `DescribeInvocationsResponse` (response).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct DescribeInvocationsResponse {
    #[serde(deserialize_with = "null_as_default")]
    pub total_count: u64,
    #[serde(deserialize_with = "null_as_default")]
    pub invocation_set: Vec<Invocation>,
}

/// `Invocation` (object).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Invocation {
    #[serde(deserialize_with = "null_as_default")]
    pub invocation_id: String,
    #[serde(deserialize_with = "null_as_default")]
    pub command_id: String,
    #[serde(deserialize_with = "null_as_default")]
    pub command_name: String,
    #[serde(deserialize_with = "null_as_default")]
    pub invocation_status: String,
    #[serde(deserialize_with = "null_as_default")]
    pub invocation_task_basic_info_set: Vec<InvocationTaskBasicInfo>,
    #[serde(deserialize_with = "null_as_default")]
    pub description: String,
    #[serde(deserialize_with = "null_as_default")]
    pub start_time: String,
    pub end_time: Option<String>,
    #[serde(deserialize_with = "null_as_default")]
    pub created_time: String,
    #[serde(deserialize_with = "null_as_default")]
    pub updated_time: String,
    #[serde(deserialize_with = "null_as_default")]
    pub parameters: String,
    #[serde(deserialize_with = "null_as_default")]
    pub default_parameters: String,
    #[serde(deserialize_with = "null_as_default")]
    pub instance_kind: String,
    #[serde(deserialize_with = "null_as_default")]
    pub username: String,
    #[serde(deserialize_with = "null_as_default")]
    pub invocation_source: String,
    #[serde(deserialize_with = "null_as_default")]
    pub command_content: String,
    #[serde(deserialize_with = "null_as_default")]
    pub command_type: String,
    #[serde(deserialize_with = "null_as_default")]
    pub timeout: u64,
    #[serde(deserialize_with = "null_as_default")]
    pub working_directory: String,
    #[serde(rename = "OutputCOSBucketUrl", deserialize_with = "null_as_default")]
    pub output_cos_bucket_url: String,
    #[serde(rename = "OutputCOSKeyPrefix", deserialize_with = "null_as_default")]
    pub output_cos_key_prefix: String,
}

/// `InvocationTaskBasicInfo` (object).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct InvocationTaskBasicInfo {
    #[serde(deserialize_with = "null_as_default")]
    pub invocation_task_id: String,
    #[serde(deserialize_with = "null_as_default")]
    pub task_status: String,
    #[serde(deserialize_with = "null_as_default")]
    pub instance_id: String,
}

action!(
    /// Per-instance results; send `HideOutput: false` to get `TaskResult.Output` (reference §4.28).
    DescribeInvocationTasks: DescribeInvocationTasksRequest => DescribeInvocationTasksResponse, Tat, Safe, 20
);

paged!(
    DescribeInvocationTasks,
    item = InvocationTask,
    items = invocation_task_set,
    total = total_count,
    max = 100
);

/// `DescribeInvocationTasksRequest` (request).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct DescribeInvocationTasksRequest {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub invocation_task_ids: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub filters: Option<Vec<Filter>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offset: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hide_output: Option<bool>,
}

/// `DescribeInvocationTasksResponse` (response).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct DescribeInvocationTasksResponse {
    #[serde(deserialize_with = "null_as_default")]
    pub total_count: u64,
    #[serde(deserialize_with = "null_as_default")]
    pub invocation_task_set: Vec<InvocationTask>,
}

/// `InvocationTask` (object).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct InvocationTask {
    #[serde(deserialize_with = "null_as_default")]
    pub invocation_id: String,
    #[serde(deserialize_with = "null_as_default")]
    pub invocation_task_id: String,
    #[serde(deserialize_with = "null_as_default")]
    pub command_id: String,
    #[serde(deserialize_with = "null_as_default")]
    pub task_status: String,
    #[serde(deserialize_with = "null_as_default")]
    pub instance_id: String,
    #[serde(deserialize_with = "null_as_default")]
    pub task_result: TaskResult,
    pub start_time: Option<String>,
    pub end_time: Option<String>,
    #[serde(deserialize_with = "null_as_default")]
    pub created_time: String,
    #[serde(deserialize_with = "null_as_default")]
    pub updated_time: String,
    #[serde(deserialize_with = "null_as_default")]
    pub command_document: CommandDocument,
    #[serde(deserialize_with = "null_as_default")]
    pub error_info: String,
    #[serde(deserialize_with = "null_as_default")]
    pub invocation_source: String,
    #[serde(deserialize_with = "null_as_default")]
    pub command_name: String,
}

/// `TaskResult` (object).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct TaskResult {
    #[serde(deserialize_with = "null_as_default")]
    pub exit_code: i64,
    #[serde(deserialize_with = "null_as_default")]
    pub output: String,
    pub exec_start_time: Option<String>,
    pub exec_end_time: Option<String>,
    #[serde(deserialize_with = "null_as_default")]
    pub dropped: u64,
    #[serde(deserialize_with = "null_as_default")]
    pub output_url: String,
    #[serde(
        rename = "OutputUploadCOSErrorInfo",
        deserialize_with = "null_as_default"
    )]
    pub output_upload_cos_error_info: String,
}

/// `CommandDocument` (object).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct CommandDocument {
    #[serde(deserialize_with = "null_as_default")]
    pub content: String,
    #[serde(deserialize_with = "null_as_default")]
    pub command_type: String,
    #[serde(deserialize_with = "null_as_default")]
    pub timeout: u64,
    #[serde(deserialize_with = "null_as_default")]
    pub working_directory: String,
    #[serde(deserialize_with = "null_as_default")]
    pub username: String,
    #[serde(rename = "OutputCOSBucketUrl", deserialize_with = "null_as_default")]
    pub output_cos_bucket_url: String,
    #[serde(rename = "OutputCOSKeyPrefix", deserialize_with = "null_as_default")]
    pub output_cos_key_prefix: String,
}
