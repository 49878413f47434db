//! Temporary credentials of a role in (usually) another account, from STS `AssumeRole` called
//! with base credentials (reference-2 §6.1, §6.3) — what tccli's `--role-arn` and the SDKs'
//! `STSAssumeRoleCredential` do. STS is called in `ap-guangzhou`, as both SDKs do, through a
//! client of the base credentials (the same endpoint as every other call).
//!
//! Renewal: the keys are assumed again when less than five minutes or a tenth of their
//! lifetime remains, whichever is longer (the SDKs renew after 10% of the lifetime; the CVM
//! role after "five minutes left"): a request signed with keys that expire in flight fails
//! with `AuthFailure.TokenFailure`. One renewal at a time (a lock), so a burst of calls
//! assumes the role once.

use tokio::sync::Mutex;

use super::Credentials;
use crate::tencent::models::sts::{AssumeRole as AssumeRoleAction, AssumeRoleRequest};
use crate::tencent::{Client, TencentError};

/// The region both SDKs send STS calls to.
pub const STS_REGION: &str = "ap-guangzhou";
/// What the SDKs ask for when no duration is given.
pub const DEFAULT_DURATION_SECS: u64 = 7200;
const RENEW_BEFORE_EXPIRY_SECS: i64 = 300;

/// Which role to assume and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleSpec {
    /// `qcs::cam::uin/<owner uin>:roleName/<name>` (or `:role/<id>`).
    pub role_arn: String,
    /// 2–128 characters of `[\w+=,.@-]`.
    pub session_name: String,
    /// Set when the role's trust policy asks for one (shown on its CAM page).
    pub external_id: Option<String>,
    /// 1..=43200 seconds.
    pub duration_secs: u64,
}

pub struct AssumeRole {
    /// A client signing with the base credentials.
    base: Client,
    spec: RoleSpec,
    cache: Mutex<Option<Credentials>>,
}

impl AssumeRole {
    pub fn new(base: Client, spec: RoleSpec) -> AssumeRole {
        AssumeRole {
            base,
            spec,
            cache: Mutex::new(None),
        }
    }

    pub fn spec(&self) -> &RoleSpec {
        &self.spec
    }

    /// Cached temporary keys, assumed again when they are about to expire.
    pub async fn current(&self) -> Result<Credentials, TencentError> {
        let mut cache = self.cache.lock().await;
        let now = chrono::Utc::now().timestamp();
        let margin = RENEW_BEFORE_EXPIRY_SECS.max(self.spec.duration_secs as i64 / 10);
        if let Some(c) = cache.as_ref()
            && c.expires_at.is_some_and(|t| t - now > margin)
        {
            return Ok(c.clone());
        }
        let fresh = self.assume().await?;
        *cache = Some(fresh.clone());
        Ok(fresh)
    }

    async fn assume(&self) -> Result<Credentials, TencentError> {
        let request = AssumeRoleRequest {
            role_arn: self.spec.role_arn.clone(),
            role_session_name: self.spec.session_name.clone(),
            duration_seconds: Some(self.spec.duration_secs),
            external_id: self.spec.external_id.clone(),
            ..AssumeRoleRequest::default()
        };
        let answer = self
            .base
            .call::<AssumeRoleAction>(STS_REGION, &request)
            .await?;
        let c = answer.credentials;
        let mut creds = Credentials::new(c.tmp_secret_id, c.tmp_secret_key).with_token(c.token);
        creds.expires_at = Some(answer.expired_time);
        tracing::info!(role = %self.spec.role_arn, expires_at = answer.expired_time, "assumed role");
        Ok(creds)
    }
}
