//! The order in which [`CredentialChain`] looks for credentials (module docs of `credentials`).

use secrecy::{ExposeSecret, SecretString};

use super::files::{self, TccliProfile};
use super::{
    CredentialChain, CredentialError, CredentialSource, Credentials, CredentialsProvider, CvmRole,
    Resolved,
};

const TOKEN_VARS: [&str; 3] = [
    "TENCENTCLOUD_TOKEN",
    "TENCENTCLOUD_SECURITY_TOKEN",
    "TENCENTCLOUD_SESSION_TOKEN",
];

impl CredentialChain {
    /// Finds the first source with credentials. A source that exists but is broken (a malformed
    /// profile file, half a key pair) is an error rather than silently skipped: using the next
    /// source instead would act as someone the operator did not intend.
    pub async fn resolve(&self) -> Result<Resolved, CredentialError> {
        let mut tried = Vec::new();
        let env_region = self.var("TENCENTCLOUD_REGION");
        if let Some(creds) = self.explicit_credentials()? {
            return Ok(fixed(creds, CredentialSource::Config, env_region));
        }
        tried.push("configuration: tencent.secret_id / tencent.secret_key not set".to_owned());
        if let Some(profile) = &self.profile {
            return self.named_profile(profile).await;
        }
        if let Some(creds) = self.env_credentials()? {
            return Ok(fixed(creds, CredentialSource::Environment, env_region));
        }
        tried.push("environment: TENCENTCLOUD_SECRET_ID / TENCENTCLOUD_SECRET_KEY not set".into());
        if let Some(resolved) = self.credential_files(&mut tried, &env_region).await? {
            return Ok(resolved);
        }
        match &self.metadata_url {
            Some(url) => match CvmRole::discover(url).await? {
                Some(role) => {
                    return Ok(Resolved {
                        provider: CredentialsProvider::cvm_role(role),
                        region: env_region,
                    });
                }
                None => tried.push(format!(
                    "CVM role: no role bound or no metadata service at {url}"
                )),
            },
            None => tried.push("CVM role: not checked".into()),
        }
        Err(CredentialError::NotFound { tried })
    }

    /// A profile asked for by name (`--profile`): it must exist.
    async fn named_profile(&self, profile: &str) -> Result<Resolved, CredentialError> {
        let not_found = |why: String| CredentialError::NotFound {
            tried: vec![format!("tccli profile `{profile}`: {why}")],
        };
        let home = self
            .home
            .as_deref()
            .ok_or_else(|| not_found("no home directory (HOME unset)".into()))?;
        match files::read_tccli_profile(home, profile)? {
            Some(p) => self.use_profile(p).await,
            None => Err(not_found(format!(
                "{} does not exist",
                files::tccli_credential_path(home, profile).display()
            ))),
        }
    }

    /// The default tccli profile, then the SDKs' INI file.
    async fn credential_files(
        &self,
        tried: &mut Vec<String>,
        env_region: &Option<String>,
    ) -> Result<Option<Resolved>, CredentialError> {
        if let Some(home) = &self.home {
            let profile = self
                .var("TCCLI_PROFILE")
                .unwrap_or_else(|| "default".into());
            if let Some(p) = files::read_tccli_profile(home, &profile)? {
                return self.use_profile(p).await.map(Some);
            }
            tried.push(format!(
                "tccli profile `{profile}`: {} not found",
                files::tccli_credential_path(home, &profile).display()
            ));
        }
        let ini_path = self
            .var("TENCENTCLOUD_CREDENTIALS_FILE")
            .map(Into::into)
            .or_else(|| {
                self.home
                    .as_ref()
                    .map(|h| h.join(".tencentcloud/credentials"))
            });
        if let Some(path) = ini_path {
            if let Some(creds) = files::read_shared_credentials(&path)? {
                let source = CredentialSource::SharedCredentialsFile { path };
                return Ok(Some(fixed(creds, source, env_region.clone())));
            }
            tried.push(format!("credentials file {}: not found", path.display()));
        }
        Ok(None)
    }

    fn var(&self, name: &str) -> Option<String> {
        self.env
            .get(name)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    }

    fn explicit_credentials(&self) -> Result<Option<Credentials>, CredentialError> {
        let key = self
            .explicit_secret_key
            .as_ref()
            .filter(|k| !k.expose_secret().is_empty());
        let creds = pair(
            "configuration",
            ("tencent.secret_id", self.explicit_secret_id.clone()),
            ("tencent.secret_key", key.cloned()),
        )?;
        Ok(creds.map(|c| Credentials {
            token: self.explicit_token.clone(),
            ..c
        }))
    }

    fn env_credentials(&self) -> Result<Option<Credentials>, CredentialError> {
        let creds = pair(
            "environment",
            ("TENCENTCLOUD_SECRET_ID", self.var("TENCENTCLOUD_SECRET_ID")),
            (
                "TENCENTCLOUD_SECRET_KEY",
                self.var("TENCENTCLOUD_SECRET_KEY").map(SecretString::from),
            ),
        )?;
        let token = TOKEN_VARS.iter().find_map(|v| self.var(v));
        Ok(creds.map(|c| Credentials {
            token: token.map(SecretString::from),
            ..c
        }))
    }

    async fn use_profile(&self, p: TccliProfile) -> Result<Resolved, CredentialError> {
        let region = self.var("TENCENTCLOUD_REGION").or(p.region);
        match p.credentials {
            Some(creds) => {
                let source = CredentialSource::TccliProfile {
                    profile: p.name,
                    path: p.path,
                };
                Ok(fixed(creds, source, region))
            }
            // `"type": "cvm-role"` in the profile: tccli's `--use-cvm-role`.
            None => {
                let url = self
                    .metadata_url
                    .as_deref()
                    .unwrap_or(super::DEFAULT_METADATA_URL);
                let role = CvmRole::discover(url).await?.ok_or_else(|| {
                    CredentialError::Metadata(format!(
                        "profile `{}` asks for the CVM role, but no role is bound (metadata at {url})",
                        p.name
                    ))
                })?;
                Ok(Resolved {
                    provider: CredentialsProvider::cvm_role(role),
                    region,
                })
            }
        }
    }
}

fn fixed(creds: Credentials, source: CredentialSource, region: Option<String>) -> Resolved {
    Resolved {
        provider: CredentialsProvider::fixed(creds, source),
        region,
    }
}

/// Both halves of a key pair, neither, or an error naming the missing half.
fn pair(
    source_name: &str,
    (id_name, id): (&str, Option<String>),
    (key_name, key): (&str, Option<SecretString>),
) -> Result<Option<Credentials>, CredentialError> {
    let id = id.filter(|i| !i.trim().is_empty());
    match (id, key) {
        (Some(id), Some(key)) => Ok(Some(Credentials {
            secret_id: id.trim().to_owned(),
            secret_key: key,
            token: None,
            expires_at: None,
        })),
        (None, None) => Ok(None),
        (Some(_), None) => Err(incomplete(source_name, id_name, key_name)),
        (None, Some(_)) => Err(incomplete(source_name, key_name, id_name)),
    }
}

fn incomplete(source_name: &str, set: &str, missing: &str) -> CredentialError {
    CredentialError::Incomplete {
        source_name: source_name.to_owned(),
        set: set.to_owned(),
        missing: missing.to_owned(),
    }
}
