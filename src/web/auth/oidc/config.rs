//! The `[auth]` configuration section (single sign-on and local passwords) and the checked
//! settings built from it at start-up. A broken section stops start-up with the key at
//! fault; nothing here is guessed.

use std::collections::BTreeMap;

use secrecy::SecretString;
use serde::Deserialize;

use crate::store::users::Role;

/// `[auth]` as written in `natpilot.toml` (or `NATPILOT_AUTH__*`).
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthConfig {
    /// The OpenID provider's issuer URL; single sign-on is off while it is unset.
    pub issuer: Option<String>,
    pub client_id: Option<String>,
    /// Never logged, rendered or stored (`SecretString`).
    pub client_secret: Option<SecretString>,
    /// The name on the sign-in button: "Sign in with <label>".
    pub label: String,
    /// Where the provider sends the browser back; registered at the provider. Unset: derived
    /// from the request (`<scheme>://<host>/auth/oidc/callback`).
    pub redirect_url: Option<String>,
    pub scopes: Vec<String>,
    /// The ID-token claim that holds the groups (or roles) mapped by `roles`.
    pub role_claim: String,
    /// The claim natpilot names a new user after (falls back to `email`, then `sub`).
    pub username_claim: String,
    /// Claim value → natpilot role (`viewer`, `operator` or `admin`); the highest match wins.
    pub roles: BTreeMap<String, String>,
    /// `false` turns off password sign-in, except for `break_glass_admin`.
    pub local_login: bool,
    /// The one admin account that may still sign in with a password when `local_login` is off.
    pub break_glass_admin: Option<String>,
}

impl Default for AuthConfig {
    fn default() -> Self {
        AuthConfig {
            issuer: None,
            client_id: None,
            client_secret: None,
            label: "single sign-on".into(),
            redirect_url: None,
            scopes: vec!["openid".into(), "profile".into(), "email".into()],
            role_claim: "groups".into(),
            username_claim: "preferred_username".into(),
            roles: BTreeMap::new(),
            local_login: true,
            break_glass_admin: None,
        }
    }
}

/// Checked single sign-on settings.
#[derive(Debug, Clone)]
pub struct SsoSettings {
    /// As configured, without a trailing `/` added or removed: the ID token's `iss` must be
    /// exactly this.
    pub issuer: String,
    pub client_id: String,
    pub client_secret: Option<SecretString>,
    pub label: String,
    pub redirect_url: Option<reqwest::Url>,
    pub scopes: Vec<String>,
    pub role_claim: String,
    pub username_claim: String,
    pub roles: BTreeMap<String, Role>,
}

/// How people sign in: passwords (on or break-glass only) and single sign-on (optional).
#[derive(Debug, Clone)]
pub struct AuthSettings {
    pub local_login: bool,
    pub break_glass_admin: Option<String>,
    pub sso: Option<SsoSettings>,
}

impl Default for AuthSettings {
    fn default() -> Self {
        AuthSettings {
            local_login: true,
            break_glass_admin: None,
            sso: None,
        }
    }
}

impl AuthSettings {
    /// Whether `name` may sign in with a password.
    pub fn password_allowed(&self, name: &str) -> bool {
        self.local_login
            || self
                .break_glass_admin
                .as_deref()
                .is_some_and(|b| b.eq_ignore_ascii_case(name.trim()))
    }
}

impl AuthConfig {
    /// The checked settings, or what is wrong (naming the `[auth]` key) and how to fix it.
    pub fn settings(&self) -> Result<AuthSettings, String> {
        let sso = match &self.issuer {
            None => None,
            Some(issuer) => Some(self.sso(issuer)?),
        };
        if !self.local_login && sso.is_none() {
            return Err("auth.local_login = false needs single sign-on: set auth.issuer, auth.client_id and auth.roles (or turn local_login back on)".into());
        }
        if !self.local_login && self.break_glass_admin.is_none() {
            return Err("auth.local_login = false needs auth.break_glass_admin: the name of an admin account that can still sign in with a password when the identity provider is down".into());
        }
        let break_glass_admin = match &self.break_glass_admin {
            Some(name) if name.trim().is_empty() => {
                return Err("auth.break_glass_admin is empty: give an admin's user name".into());
            }
            other => other.as_ref().map(|n| n.trim().to_owned()),
        };
        Ok(AuthSettings {
            local_login: self.local_login,
            break_glass_admin,
            sso,
        })
    }

    fn sso(&self, issuer: &str) -> Result<SsoSettings, String> {
        let url = reqwest::Url::parse(issuer).map_err(|e| {
            format!("auth.issuer `{issuer}` is not a URL ({e}): give the provider's issuer, e.g. https://id.example.com/realms/ops")
        })?;
        if !matches!(url.scheme(), "https" | "http") || url.query().is_some() {
            return Err(format!(
                "auth.issuer `{issuer}` must be an https URL without a query (the issuer the provider names in its tokens)"
            ));
        }
        let client_id = match self.client_id.as_deref().map(str::trim) {
            Some(id) if !id.is_empty() => id.to_owned(),
            _ => return Err("auth.client_id is missing: give the client id registered for natpilot at the provider".into()),
        };
        let redirect_url = match &self.redirect_url {
            None => None,
            Some(u) => Some(reqwest::Url::parse(u).map_err(|e| {
                format!("auth.redirect_url `{u}` is not a URL ({e}): give the full callback URL, e.g. https://natpilot.example.com/auth/oidc/callback")
            })?),
        };
        if self.role_claim.trim().is_empty() {
            return Err("auth.role_claim is empty: name the ID-token claim that holds the groups, e.g. groups".into());
        }
        if self.roles.is_empty() {
            return Err("auth.roles is empty: map at least one value of the role claim to a role, e.g. [auth.roles] \"natpilot-admins\" = \"admin\"".into());
        }
        let mut roles = BTreeMap::new();
        for (value, role) in &self.roles {
            let role: Role = role
                .parse()
                .map_err(|e| format!("auth.roles.\"{value}\": {e}"))?;
            roles.insert(value.clone(), role);
        }
        let mut scopes = self.scopes.clone();
        if !scopes.iter().any(|s| s == "openid") {
            scopes.insert(0, "openid".into());
        }
        Ok(SsoSettings {
            issuer: issuer.to_owned(),
            client_id,
            client_secret: self.client_secret.clone(),
            label: self.label.trim().to_owned(),
            redirect_url,
            scopes,
            role_claim: self.role_claim.trim().to_owned(),
            username_claim: self.username_claim.trim().to_owned(),
            roles,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sso() -> AuthConfig {
        AuthConfig {
            issuer: Some("https://id.example.com/realms/ops".into()),
            client_id: Some("natpilot".into()),
            roles: [("ops".to_owned(), "operator".to_owned())].into(),
            ..AuthConfig::default()
        }
    }

    #[test]
    fn a_broken_auth_section_names_the_key_at_fault() {
        let cases: Vec<(AuthConfig, &str)> = vec![
            (
                AuthConfig {
                    issuer: Some("id.example.com".into()),
                    ..sso()
                },
                "auth.issuer",
            ),
            (
                AuthConfig {
                    client_id: None,
                    ..sso()
                },
                "auth.client_id",
            ),
            (
                AuthConfig {
                    roles: BTreeMap::new(),
                    ..sso()
                },
                "auth.roles is empty",
            ),
            (
                AuthConfig {
                    roles: [("ops".to_owned(), "root".to_owned())].into(),
                    ..sso()
                },
                "auth.roles.\"ops\": unknown role `root`",
            ),
            (
                AuthConfig {
                    local_login: false,
                    ..AuthConfig::default()
                },
                "needs single sign-on",
            ),
            (
                AuthConfig {
                    local_login: false,
                    ..sso()
                },
                "auth.break_glass_admin",
            ),
            (
                AuthConfig {
                    redirect_url: Some("not a url".into()),
                    ..sso()
                },
                "auth.redirect_url",
            ),
        ];
        for (config, want) in cases {
            let err = config.settings().unwrap_err();
            assert!(err.contains(want), "{want:?} not in {err:?}");
        }
    }

    #[test]
    fn password_sign_in_is_off_except_for_the_break_glass_admin() {
        let s = AuthConfig {
            local_login: false,
            break_glass_admin: Some("breakglass".into()),
            ..sso()
        }
        .settings()
        .unwrap();
        assert!(s.password_allowed("breakglass") && s.password_allowed(" BreakGlass "));
        assert!(!s.password_allowed("alice"));
        let sso = s.sso.unwrap();
        assert_eq!(sso.scopes[0], "openid");
        assert_eq!(sso.roles["ops"], Role::Operator);
        assert!(
            AuthConfig::default()
                .settings()
                .unwrap()
                .password_allowed("anyone")
        );
    }

    #[test]
    fn the_readme_example_section_loads() {
        let text = r#"
            issuer = "https://id.example.com/realms/ops"
            client_id = "natpilot"
            client_secret = "s3cret"
            label = "Example ID"
            scopes = ["openid", "profile", "email", "groups"]
            role_claim = "groups"
            local_login = false
            break_glass_admin = "breakglass"
            [roles]
            "natpilot-admins" = "admin"
            "natpilot-viewers" = "viewer"
        "#;
        let config: AuthConfig = toml::from_str(text).unwrap();
        let s = config.settings().unwrap();
        assert!(!s.local_login);
        let sso = s.sso.unwrap();
        assert_eq!(sso.label, "Example ID");
        assert_eq!(sso.roles["natpilot-viewers"], Role::Viewer);
        assert!(
            toml::from_str::<AuthConfig>("issuer_url = \"x\"").is_err(),
            "unknown keys refused"
        );
    }

    #[test]
    fn the_client_secret_never_shows_in_debug_output() {
        let config = AuthConfig {
            client_secret: Some(SecretString::from("hunter2-client-secret")),
            ..sso()
        };
        let settings = config.settings().unwrap();
        assert!(!format!("{config:?} {settings:?}").contains("hunter2"));
    }
}
