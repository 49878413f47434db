//! The cloud accounts the portal works in: the default one (today's single credential chain,
//! under the label runs were always recorded with) and every `[[accounts]]` entry, each with
//! its own client (keys, endpoint, rate limiter) — or, for a broken entry, the reason it
//! cannot be used. The uin of each account comes from STS GetCallerIdentity, asked once and
//! remembered; it is not a secret and is shown on pages.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::config::TencentConfig;
use crate::tencent::credentials::{DEFAULT_METADATA_URL, STS_REGION};
use crate::tencent::models::sts::{GetCallerIdentity, GetCallerIdentityRequest};
use crate::tencent::{Client, ClientSettings, CredentialChain, CredentialsProvider, TencentError};

use super::config::{AccountSpec, BaseCredentials, BrokenEntry};

/// An `[[accounts]]` entry after start-up resolved it: a client, or why there is none.
#[derive(Debug, Clone)]
pub struct ExtraAccount {
    pub label: String,
    pub region: Option<String>,
    pub client: Result<Client, String>,
}

impl ExtraAccount {
    pub fn broken(b: BrokenEntry) -> ExtraAccount {
        ExtraAccount {
            label: b.label,
            region: None,
            client: Err(b.message),
        }
    }
}

/// Who an account's keys are, as GetCallerIdentity answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// `AccountId`: the owner account's uin.
    pub uin: String,
    /// `Arn` of the caller (a role session for assumed roles).
    pub arn: String,
}

/// What is known about one account's identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdentityState {
    NotAsked,
    Known(Identity),
    /// GetCallerIdentity (or AssumeRole before it) failed: code, message and RequestId.
    Failed(String),
}

pub struct CloudAccount {
    pub label: String,
    pub default_region: String,
    pub is_default: bool,
    /// The client, or why the entry cannot be used (names the account and the key).
    pub client: Result<Client, String>,
    /// Where the keys come from, for the accounts page (never a secret).
    pub source: String,
    identity: Mutex<IdentityState>,
}

impl CloudAccount {
    pub fn identity(&self) -> IdentityState {
        self.identity.lock().expect("identity lock").clone()
    }

    /// The uin if known.
    pub fn uin(&self) -> Option<String> {
        match self.identity() {
            IdentityState::Known(i) => Some(i.uin),
            _ => None,
        }
    }

    /// Asks STS who these keys are (once; again after a failure).
    pub async fn identify(&self) -> IdentityState {
        if let IdentityState::Known(_) = self.identity() {
            return self.identity();
        }
        let Ok(client) = &self.client else {
            return self.identity();
        };
        let asked = tokio::time::timeout(
            Duration::from_secs(20),
            client.call::<GetCallerIdentity>(STS_REGION, &GetCallerIdentityRequest {}),
        )
        .await;
        let state = match asked {
            Ok(Ok(who)) => IdentityState::Known(Identity {
                uin: who.account_id,
                arn: who.arn,
            }),
            Ok(Err(e)) => IdentityState::Failed(e.to_string()),
            Err(_) => IdentityState::Failed("GetCallerIdentity did not answer in 20 s".into()),
        };
        if let IdentityState::Failed(why) = &state {
            tracing::warn!(account = %self.label, error = %why, "cannot identify the account");
        }
        *self.identity.lock().expect("identity lock") = state.clone();
        state
    }
}

/// Every account, the default one first. Cheap to clone.
#[derive(Clone)]
pub struct CloudAccounts {
    all: Arc<Vec<Arc<CloudAccount>>>,
    by_label: Arc<HashMap<String, usize>>,
}

impl CloudAccounts {
    /// The default account (`label`, `client`, `region`) and the extra ones.
    pub fn new(
        label: &str,
        client: Client,
        region: &str,
        extra: Vec<ExtraAccount>,
    ) -> CloudAccounts {
        let mut all = vec![Arc::new(CloudAccount {
            label: label.to_owned(),
            default_region: region.to_owned(),
            is_default: true,
            source: client.credential_source().to_string(),
            client: Ok(client),
            identity: Mutex::new(IdentityState::NotAsked),
        })];
        for e in extra {
            let source = match &e.client {
                Ok(c) => c.credential_source().to_string(),
                Err(_) => "unusable entry".to_owned(),
            };
            all.push(Arc::new(CloudAccount {
                default_region: e.region.unwrap_or_else(|| region.to_owned()),
                label: e.label,
                is_default: false,
                source,
                client: e.client,
                identity: Mutex::new(IdentityState::NotAsked),
            }));
        }
        // The first account with a label keeps it (labels are unique after parsing anyway).
        let mut by_label = HashMap::new();
        for (i, a) in all.iter().enumerate() {
            by_label.entry(a.label.clone()).or_insert(i);
        }
        CloudAccounts {
            all: Arc::new(all),
            by_label: Arc::new(by_label),
        }
    }

    pub fn all(&self) -> &[Arc<CloudAccount>] {
        &self.all
    }

    pub fn default_account(&self) -> &Arc<CloudAccount> {
        &self.all[0]
    }

    pub fn get(&self, label: &str) -> Option<&Arc<CloudAccount>> {
        self.by_label.get(label).map(|&i| &self.all[i])
    }

    /// The client of a usable account, or a message saying why not (unknown or broken).
    pub fn client(&self, label: &str) -> Result<Client, String> {
        match self.get(label) {
            None => Err(format!(
                "account `{label}` is not configured (known: {}); add it to [[accounts]] in \
                 natpilot.toml",
                self.labels().join(", ")
            )),
            Some(a) => a.client.clone(),
        }
    }

    pub fn labels(&self) -> Vec<String> {
        self.all.iter().map(|a| a.label.clone()).collect()
    }

    /// [`CloudAccounts::identify_all`] for a spawned task.
    pub async fn identify_all_owned(self) {
        self.identify_all().await;
        for a in self.all.iter() {
            if let IdentityState::Known(i) = a.identity() {
                tracing::info!(account = %a.label, uin = %i.uin, "account identified");
            }
        }
    }

    /// Identifies every usable account whose uin is not known yet, in parallel.
    pub async fn identify_all(&self) {
        let asks = self.all.iter().map(|a| a.identify());
        futures_util::future::join_all(asks).await;
    }
}

/// Every `[[accounts]]` entry of the configuration, resolved; broken ones keep their reason.
/// Printed to the console (never a secret) so the operator sees at start which accounts work.
pub async fn resolve_entries(
    config: &crate::config::Config,
    default_label: &str,
) -> Vec<ExtraAccount> {
    let (specs, broken) = super::config::parse_all(&config.accounts, default_label);
    let mut out = Vec::new();
    for spec in &specs {
        let account = resolve(spec, &config.tencent).await;
        match &account.client {
            Ok(c) => println!("Account {}: {}", account.label, c.credential_source()),
            Err(e) => println!(
                "Account {} is unusable (the other accounts work): {e}",
                account.label
            ),
        }
        out.push(account);
    }
    for b in broken {
        println!(
            "Account {} is unusable (the other accounts work): {}",
            b.label, b.message
        );
        tracing::warn!(account = %b.label, error = %b.message, "account entry broken");
        out.push(ExtraAccount::broken(b));
    }
    out
}

/// Resolves one `[[accounts]]` entry into a client. Errors name the account.
pub async fn resolve(spec: &AccountSpec, tencent: &TencentConfig) -> ExtraAccount {
    let client = build_client(spec, tencent)
        .await
        .map_err(|e| format!("account `{}`: {e}", spec.label));
    if let Err(e) = &client {
        tracing::warn!(account = %spec.label, error = %e, "account unusable; the others work");
    }
    ExtraAccount {
        label: spec.label.clone(),
        region: spec.region.clone(),
        client,
    }
}

async fn build_client(spec: &AccountSpec, tencent: &TencentConfig) -> Result<Client, String> {
    let process_env: HashMap<String, String> = std::env::vars().collect();
    let home = process_env.get("HOME").map(std::path::PathBuf::from);
    let only = CredentialChain::default();
    let chain = match &spec.base {
        BaseCredentials::Keys {
            secret_id,
            secret_key,
            token,
        } => CredentialChain {
            explicit_secret_id: Some(secret_id.clone()),
            explicit_secret_key: Some(secret_key.clone()),
            explicit_token: token.clone(),
            ..only
        },
        BaseCredentials::Profile(p) => CredentialChain {
            profile: Some(p.clone()),
            home,
            ..only
        },
        BaseCredentials::Environment => CredentialChain {
            env: process_env,
            ..only
        },
        BaseCredentials::CvmRole => CredentialChain {
            metadata_url: Some(DEFAULT_METADATA_URL.to_owned()),
            ..only
        },
        BaseCredentials::DefaultChain => {
            let mut c = CredentialChain::from_config(tencent);
            c.metadata_url = None;
            c
        }
    };
    let resolved = chain.resolve().await.map_err(|e| e.to_string())?;
    let mut config = tencent.clone();
    if spec.endpoint.is_some() {
        config.endpoint = spec.endpoint.clone();
    }
    let settings = |provider: CredentialsProvider| {
        ClientSettings::from_config(&config, provider).map_err(|e: TencentError| e.to_string())
    };
    let base = Client::new(settings(resolved.provider)?).map_err(|e| e.to_string())?;
    match &spec.role {
        None => Ok(base),
        Some(role) => {
            let provider = CredentialsProvider::assume_role(base, role.clone());
            Client::new(settings(provider)?).map_err(|e| e.to_string())
        }
    }
}
