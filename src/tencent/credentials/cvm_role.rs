//! Temporary credentials of the CAM role bound to the CVM we run on (reference §6.2):
//! `GET <metadata>/latest/meta-data/cam/security-credentials/` names the role (404: none bound),
//! `GET …/<role>` returns `TmpSecretId`, `TmpSecretKey`, `Token`, `ExpiredTime`, `Code`.
//! Refreshed when less than 5 minutes remain, like the official SDK: a request signed with
//! keys that expire in flight fails with `AuthFailure.TokenFailure`.

use std::time::Duration;

use serde::Deserialize;
use tokio::sync::Mutex;

use super::{CredentialError, Credentials};

pub const DEFAULT_METADATA_URL: &str = "http://metadata.tencentyun.com";
const ROLE_PATH: &str = "/latest/meta-data/cam/security-credentials/";
/// Off a CVM the metadata host does not answer; do not make every start-up wait long.
const METADATA_TIMEOUT: Duration = Duration::from_secs(2);
const REFRESH_BEFORE_EXPIRY_SECS: i64 = 300;

pub struct CvmRole {
    http: reqwest::Client,
    base_url: String,
    role: String,
    cache: Mutex<Option<Credentials>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RoleCredentials {
    tmp_secret_id: String,
    tmp_secret_key: String,
    token: String,
    expired_time: i64,
    code: String,
}

impl CvmRole {
    /// Looks for a bound role; `Ok(None)` when there is none or no metadata service answers.
    pub async fn discover(base_url: &str) -> Result<Option<CvmRole>, CredentialError> {
        let http = reqwest::Client::builder()
            .timeout(METADATA_TIMEOUT)
            .connect_timeout(METADATA_TIMEOUT)
            .build()
            .map_err(|e| CredentialError::Metadata(e.to_string()))?;
        let base_url = base_url.trim_end_matches('/').to_owned();
        let Ok(response) = http.get(format!("{base_url}{ROLE_PATH}")).send().await else {
            return Ok(None);
        };
        if !response.status().is_success() {
            return Ok(None);
        }
        let body = response.text().await.unwrap_or_default();
        let Some(role) = body.lines().map(str::trim).find(|l| !l.is_empty()) else {
            return Ok(None);
        };
        Ok(Some(CvmRole {
            http,
            base_url,
            role: role.to_owned(),
            cache: Mutex::new(None),
        }))
    }

    pub fn role_name(&self) -> &str {
        &self.role
    }

    /// Cached credentials, fetched again when they expire within five minutes.
    pub async fn current(&self) -> Result<Credentials, String> {
        let mut cache = self.cache.lock().await;
        let now = chrono::Utc::now().timestamp();
        if let Some(c) = cache.as_ref()
            && c.expires_at
                .is_some_and(|t| t - now > REFRESH_BEFORE_EXPIRY_SECS)
        {
            return Ok(c.clone());
        }
        let fresh = self.fetch().await?;
        *cache = Some(fresh.clone());
        Ok(fresh)
    }

    async fn fetch(&self) -> Result<Credentials, String> {
        let url = format!("{}{ROLE_PATH}{}", self.base_url, self.role);
        let fail = |what: String| format!("CVM role `{}`: {what} ({url})", self.role);
        let response = self
            .http
            .get(&url)
            .send()
            .await
            .map_err(|e| fail(e.to_string()))?;
        if !response.status().is_success() {
            return Err(fail(format!(
                "metadata answered HTTP {}",
                response.status()
            )));
        }
        let body: RoleCredentials = response
            .json()
            .await
            .map_err(|e| fail(format!("unexpected answer: {e}")))?;
        if body.code != "Success" {
            return Err(fail(format!("metadata answered Code {:?}", body.code)));
        }
        let mut creds =
            Credentials::new(body.tmp_secret_id, body.tmp_secret_key).with_token(body.token);
        creds.expires_at = Some(body.expired_time);
        Ok(creds)
    }
}
