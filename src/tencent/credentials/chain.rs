//! The order in which [`CredentialChain`] looks for credentials (module docs of `credentials`).

use std::path::PathBuf;

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
        let source_name = format!("tccli profile `{profile}` (--profile / tencent.profile)");
        match self.profile_if_present(profile)? {
            Some(p) => self.use_profile(p).await,
            None => Err(self.missing_profile(source_name, profile)),
        }
    }

    /// Reads a tccli profile from `$HOME/.tccli`; `None` when it (or HOME) is absent.
    fn profile_if_present(&self, profile: &str) -> Result<Option<TccliProfile>, CredentialError> {
        match &self.home {
            Some(home) => files::read_tccli_profile(home, profile),
            None => Ok(None),
        }
    }

    /// A profile the operator named that is not there.
    fn missing_profile(&self, source_name: String, profile: &str) -> CredentialError {
        let problem = match &self.home {
            Some(home) => format!(
                "{} does not exist",
                files::tccli_credential_path(home, profile).display()
            ),
            None => "no home directory to look in (HOME is unset)".to_owned(),
        };
        CredentialError::Missing {
            source_name,
            problem,
            fix: format!(
                "Create it with `tccli configure --profile {profile}`, or name a profile that exists"
            ),
        }
    }

    /// The default tccli profile, then the SDKs' INI file.
    async fn credential_files(
        &self,
        tried: &mut Vec<String>,
        env_region: &Option<String>,
    ) -> Result<Option<Resolved>, CredentialError> {
        // A profile or file named in the environment must exist; only the defaults
        // (`default`, `~/.tencentcloud/credentials`) may be absent.
        let named_profile = self.var("TCCLI_PROFILE");
        let profile = named_profile.clone().unwrap_or_else(|| "default".into());
        if let Some(p) = self.profile_if_present(&profile)? {
            return self.use_profile(p).await.map(Some);
        }
        if named_profile.is_some() {
            let source_name = format!("tccli profile `{profile}` (TCCLI_PROFILE)");
            return Err(self.missing_profile(source_name, &profile));
        }
        if let Some(home) = &self.home {
            tried.push(format!(
                "tccli profile `{profile}`: {} not found",
                files::tccli_credential_path(home, &profile).display()
            ));
        }
        let named_file = self.var("TENCENTCLOUD_CREDENTIALS_FILE").map(PathBuf::from);
        let ini_path = named_file.clone().or_else(|| {
            self.home
                .as_ref()
                .map(|h| h.join(".tencentcloud/credentials"))
        });
        if let Some(path) = ini_path {
            if let Some(creds) = files::read_shared_credentials(&path)? {
                let source = CredentialSource::SharedCredentialsFile { path };
                return Ok(Some(fixed(creds, source, env_region.clone())));
            }
            if named_file.is_some() {
                return Err(CredentialError::Missing {
                    source_name: "credentials file (TENCENTCLOUD_CREDENTIALS_FILE)".into(),
                    problem: format!("{} does not exist", path.display()),
                    fix: "Point TENCENTCLOUD_CREDENTIALS_FILE at an existing file, or unset it"
                        .into(),
                });
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
        let token = self
            .explicit_token
            .as_ref()
            .filter(|t| !t.expose_secret().is_empty());
        match (creds, token) {
            (Some(c), token) => Ok(Some(Credentials {
                token: token.cloned(),
                ..c
            })),
            (None, Some(_)) => Err(incomplete(
                "configuration",
                "tencent.token",
                "tencent.secret_id / tencent.secret_key",
            )),
            (None, None) => Ok(None),
        }
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
        let token = TOKEN_VARS.iter().find_map(|v| self.var(v).map(|t| (*v, t)));
        match (creds, token) {
            (Some(c), token) => Ok(Some(Credentials {
                token: token.map(|(_, t)| SecretString::from(t)),
                ..c
            })),
            // A session token alone cannot sign anything; someone meant to set a key pair.
            (None, Some((var, _))) => Err(incomplete(
                "environment",
                var,
                "TENCENTCLOUD_SECRET_ID / TENCENTCLOUD_SECRET_KEY",
            )),
            (None, None) => Ok(None),
        }
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
