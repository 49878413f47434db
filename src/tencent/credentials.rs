//! Who we are to Tencent Cloud: the credentials (secrets kept in `SecretString`, never printed),
//! where they came from, and the chain that finds them (reference §6):
//!
//! 1. explicit configuration (`tencent.secret_id` / `tencent.secret_key` / `tencent.token`);
//! 2. a tccli profile chosen explicitly (`--profile` / `tencent.profile`) — as in tccli, an
//!    explicit profile beats the environment;
//! 3. environment: `TENCENTCLOUD_SECRET_ID` + `TENCENTCLOUD_SECRET_KEY`, token from
//!    `TENCENTCLOUD_TOKEN`, `TENCENTCLOUD_SECURITY_TOKEN` or `TENCENTCLOUD_SESSION_TOKEN`;
//! 4. the tccli profile `TCCLI_PROFILE` or `default` (`~/.tccli/<profile>.credential`), if present;
//! 5. the SDKs' INI file (`TENCENTCLOUD_CREDENTIALS_FILE` or `~/.tencentcloud/credentials`, `[default]`);
//! 6. the CVM role from instance metadata (temporary keys, refreshed before they expire).
//!
//! The chain reads an injected environment map and home directory, so tests never touch the
//! process environment.

mod assume_role;
mod cvm_role;
mod files;

use std::collections::HashMap;
use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

use secrecy::SecretString;

pub use assume_role::{AssumeRole, DEFAULT_DURATION_SECS, RoleSpec, STS_REGION};
pub use cvm_role::{CvmRole, DEFAULT_METADATA_URL};

use super::{Client, TencentError};
use crate::config::TencentConfig;

/// One SecretId/SecretKey pair, with an STS token for temporary credentials.
#[derive(Clone)]
pub struct Credentials {
    pub secret_id: String,
    pub secret_key: SecretString,
    /// Sent as `X-TC-Token` (not signed), reference §1.2.
    pub token: Option<SecretString>,
    /// Unix time the temporary credentials expire, if they do.
    pub expires_at: Option<i64>,
}

impl Credentials {
    pub fn new(secret_id: impl Into<String>, secret_key: impl Into<String>) -> Credentials {
        Credentials {
            secret_id: secret_id.into(),
            secret_key: SecretString::from(secret_key.into()),
            token: None,
            expires_at: None,
        }
    }

    pub fn with_token(mut self, token: impl Into<String>) -> Credentials {
        self.token = Some(SecretString::from(token.into()));
        self
    }

    /// The SecretId with its middle hidden (`AKID…1234`): enough to recognise a key in CAM.
    pub fn masked_secret_id(&self) -> String {
        mask(&self.secret_id)
    }
}

fn mask(id: &str) -> String {
    let chars: Vec<char> = id.chars().collect();
    if chars.len() <= 8 {
        return "…".to_owned();
    }
    let head: String = chars[..4].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}…{tail}")
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("secret_id", &self.masked_secret_id())
            .field("secret_key", &"[redacted]")
            .field("token", &self.token.as_ref().map(|_| "[redacted]"))
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

impl fmt::Display for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretId {}", self.masked_secret_id())?;
        if self.token.is_some() {
            f.write_str(" (temporary, with session token)")?;
        }
        Ok(())
    }
}

/// Where the credentials in use came from (printed by `natpilot doctor`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CredentialSource {
    /// Given directly (tests, the simulator, an embedding program).
    Explicit,
    Config,
    Environment,
    TccliProfile {
        profile: String,
        path: PathBuf,
    },
    SharedCredentialsFile {
        path: PathBuf,
    },
    CvmRole {
        role: String,
    },
    /// STS AssumeRole with keys from `base`.
    AssumedRole {
        role_arn: String,
        base: Box<CredentialSource>,
    },
}

impl fmt::Display for CredentialSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CredentialSource::Explicit => f.write_str("explicit credentials"),
            CredentialSource::Config => {
                f.write_str("configuration (tencent.secret_id / tencent.secret_key)")
            }
            CredentialSource::Environment => {
                f.write_str("environment (TENCENTCLOUD_SECRET_ID / TENCENTCLOUD_SECRET_KEY)")
            }
            CredentialSource::TccliProfile { profile, path } => {
                write!(f, "tccli profile `{profile}` ({})", path.display())
            }
            CredentialSource::SharedCredentialsFile { path } => {
                write!(f, "credentials file {} [default]", path.display())
            }
            CredentialSource::CvmRole { role } => {
                write!(f, "CVM role `{role}` (instance metadata)")
            }
            CredentialSource::AssumedRole { role_arn, base } => {
                write!(f, "role {role_arn} (STS AssumeRole with {base})")
            }
        }
    }
}

/// Hands out current credentials: fixed ones, or a CVM role's, refreshed before expiry.
/// Cheap to clone.
#[derive(Clone)]
pub struct CredentialsProvider {
    kind: Arc<ProviderKind>,
    source: CredentialSource,
}

enum ProviderKind {
    Fixed(Credentials),
    CvmRole(CvmRole),
    AssumeRole(AssumeRole),
}

impl CredentialsProvider {
    pub fn fixed(credentials: Credentials, source: CredentialSource) -> CredentialsProvider {
        CredentialsProvider {
            kind: Arc::new(ProviderKind::Fixed(credentials)),
            source,
        }
    }

    pub fn cvm_role(role: CvmRole) -> CredentialsProvider {
        let source = CredentialSource::CvmRole {
            role: role.role_name().to_owned(),
        };
        CredentialsProvider {
            kind: Arc::new(ProviderKind::CvmRole(role)),
            source,
        }
    }

    /// Temporary keys of `spec`'s role, assumed (and renewed) with `base`'s credentials.
    pub fn assume_role(base: Client, spec: RoleSpec) -> CredentialsProvider {
        let source = CredentialSource::AssumedRole {
            role_arn: spec.role_arn.clone(),
            base: Box::new(base.credential_source().clone()),
        };
        CredentialsProvider {
            kind: Arc::new(ProviderKind::AssumeRole(AssumeRole::new(base, spec))),
            source,
        }
    }

    pub fn source(&self) -> &CredentialSource {
        &self.source
    }

    /// Credentials valid for at least the next few minutes.
    pub async fn get(&self) -> Result<Credentials, TencentError> {
        match &*self.kind {
            ProviderKind::Fixed(c) => Ok(c.clone()),
            ProviderKind::CvmRole(role) => role.current().await.map_err(TencentError::Credentials),
            // Boxed: the role's base client calls `get` of its own provider (async recursion).
            ProviderKind::AssumeRole(role) => Box::pin(role.current()).await,
        }
    }
}

impl fmt::Debug for CredentialsProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CredentialsProvider({})", self.source)
    }
}

/// Why no credentials could be resolved.
#[derive(Debug, Clone, thiserror::Error)]
pub enum CredentialError {
    #[error(
        "no Tencent Cloud credentials found. Tried, in order:\n{}\n{HOW_TO_CONFIGURE}",
        tried.iter().map(|t| format!("  - {t}")).collect::<Vec<_>>().join("\n")
    )]
    NotFound { tried: Vec<String> },
    #[error("{file}: `{key}` {problem}; expected {expected}")]
    Malformed {
        file: String,
        key: String,
        problem: String,
        expected: String,
    },
    #[error("{source_name}: {set} is set but {missing} is not; set both or neither")]
    Incomplete {
        source_name: String,
        set: String,
        missing: String,
    },
    /// A source the operator named (a profile, a file) is not there. Unlike [`NotFound`],
    /// this is configuration that points somewhere wrong, never "nothing configured".
    ///
    /// [`NotFound`]: CredentialError::NotFound
    #[error("{source_name}: {problem}. {fix}")]
    Missing {
        source_name: String,
        problem: String,
        fix: String,
    },
    #[error("CVM role credentials: {0}")]
    Metadata(String),
}

impl CredentialError {
    /// True only when no credential source is configured at all: the one case in which
    /// `serve` may fall back to the embedded simulator. Every other error is a source that
    /// is configured but broken, and acting on the simulator (or on the next source) instead
    /// would hide it.
    pub fn nothing_configured(&self) -> bool {
        matches!(self, CredentialError::NotFound { .. })
    }
}

const HOW_TO_CONFIGURE: &str = "Configure one of:\n  \
     - export TENCENTCLOUD_SECRET_ID=AKID... TENCENTCLOUD_SECRET_KEY=...\n  \
     - tccli configure set secretId AKID... secretKey ... region ap-guangzhou\n  \
     - [tencent] secret_id / secret_key in natpilot.toml (or NATPILOT_TENCENT__SECRET_ID/_KEY)\n  \
     - run on a CVM with a CAM role bound";

/// The resolved credentials plus the region the same source suggests, if any.
#[derive(Debug, Clone)]
pub struct Resolved {
    pub provider: CredentialsProvider,
    pub region: Option<String>,
}

/// Inputs of the credential chain; see the module docs for the order.
#[derive(Debug, Clone, Default)]
pub struct CredentialChain {
    pub explicit_secret_id: Option<String>,
    pub explicit_secret_key: Option<SecretString>,
    pub explicit_token: Option<SecretString>,
    /// Profile chosen explicitly (`--profile` / `tencent.profile`).
    pub profile: Option<String>,
    pub env: HashMap<String, String>,
    pub home: Option<PathBuf>,
    /// Instance metadata base URL; `None` skips the CVM role.
    pub metadata_url: Option<String>,
}

mod chain;

impl CredentialChain {
    /// The chain for this process: the configuration, the real environment and `$HOME`.
    pub fn from_config(config: &TencentConfig) -> CredentialChain {
        let env: HashMap<String, String> = std::env::vars().collect();
        let home = env.get("HOME").map(PathBuf::from);
        CredentialChain {
            explicit_secret_id: config.secret_id.clone(),
            explicit_secret_key: config.secret_key.clone(),
            explicit_token: config.token.clone(),
            profile: config.profile.clone(),
            env,
            home,
            metadata_url: Some(DEFAULT_METADATA_URL.to_owned()),
        }
    }
}

#[cfg(test)]
mod tests;
