//! STS (`sts`, 2018-08-13): AssumeRole into another account's role and GetCallerIdentity
//! (reference-2 §6.1, §6.2). Fields follow `sts/v20180813/api.json` of tccli 3.1.x.
//! The temporary keys in an AssumeRole answer are secrets: their `Debug` is redacted, and
//! `observer::redact` drops them from any ledger row.

use serde::{Deserialize, Serialize};

use crate::tencent::models::common::{Tag, action, null_as_default};

action!(
    /// Temporary keys of a role (reference-2 §6.1): 600/s.
    AssumeRole: AssumeRoleRequest => AssumeRoleResponse, Sts, Safe, 600
);

action!(
    /// Who holds these keys (reference-2 §6.2): 20/s. Read-only, despite its name.
    GetCallerIdentity: GetCallerIdentityRequest => GetCallerIdentityResponse, Sts, Safe, 20
);

/// `AssumeRoleRequest` (request).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct AssumeRoleRequest {
    pub role_arn: String,
    pub role_session_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration_seconds: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<Tag>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_identity: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub serial_number: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_code: Option<String>,
}

/// `AssumeRoleResponse` (response).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct AssumeRoleResponse {
    pub credentials: StsCredentials,
    /// Unix seconds.
    #[serde(deserialize_with = "null_as_default")]
    pub expired_time: i64,
    /// ISO 8601 UTC, e.g. `2018-12-04T09:06:16Z`.
    #[serde(deserialize_with = "null_as_default")]
    pub expiration: String,
}

/// `Credentials` (object): the temporary key pair and its session token.
#[derive(Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct StsCredentials {
    #[serde(deserialize_with = "null_as_default")]
    pub token: String,
    #[serde(deserialize_with = "null_as_default")]
    pub tmp_secret_id: String,
    #[serde(deserialize_with = "null_as_default")]
    pub tmp_secret_key: String,
}

impl std::fmt::Debug for StsCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StsCredentials([redacted])")
    }
}

/// `GetCallerIdentityRequest` (request): no parameters.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct GetCallerIdentityRequest {}

/// `GetCallerIdentityResponse` (response).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct GetCallerIdentityResponse {
    #[serde(deserialize_with = "null_as_default")]
    pub arn: String,
    /// The root (owner) account's uin: "which account am I operating in".
    #[serde(deserialize_with = "null_as_default")]
    pub account_id: String,
    #[serde(deserialize_with = "null_as_default")]
    pub user_id: String,
    /// The uin that owns the keys (for a role: the uin that assumed it).
    #[serde(deserialize_with = "null_as_default")]
    pub principal_id: String,
    #[serde(rename = "Type", deserialize_with = "null_as_default")]
    pub kind: String,
}
