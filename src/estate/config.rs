//! `[[accounts]]`: the Tencent Cloud accounts the portal works in besides the default one
//! (today's `[tencent]` chain), and `[estate]`: how often the estate is scanned.
//!
//! Entries are read leniently into raw tables and parsed here one by one, so that one broken
//! entry (a typo, half a key pair, a role without a session name) is reported naming the
//! account and the key at fault while every other account keeps working. Secrets in an entry
//! are kept in `SecretString` and never printed (`Debug` redacts the whole raw entry).

use std::collections::BTreeMap;
use std::fmt;

use secrecy::SecretString;
use serde::Deserialize;

use crate::tencent::credentials::DEFAULT_DURATION_SECS;
use crate::tencent::credentials::RoleSpec;

/// One `[[accounts]]` table as written, not yet parsed.
#[derive(Clone, Deserialize)]
#[serde(transparent)]
pub struct AccountEntry(pub BTreeMap<String, serde_json::Value>);

impl fmt::Debug for AccountEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let label = self.0.get("label").and_then(|v| v.as_str()).unwrap_or("?");
        write!(f, "AccountEntry({label}, [keys redacted])")
    }
}

/// `[estate]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EstateConfig {
    /// Time between scheduled scans of every account, e.g. `"60m"`, `"900s"`; `"0"` turns the
    /// schedule off (scans then run only from the estate page).
    #[serde(deserialize_with = "interval")]
    pub scan_interval: std::time::Duration,
}

impl Default for EstateConfig {
    fn default() -> Self {
        EstateConfig {
            scan_interval: std::time::Duration::from_secs(60 * 60),
        }
    }
}

fn interval<'de, D: serde::Deserializer<'de>>(d: D) -> Result<std::time::Duration, D::Error> {
    let text = String::deserialize(d)?;
    crate::sim::cli::parse_duration(&text).map_err(serde::de::Error::custom)
}

/// Where an account's keys come from (any source of the credential chain).
#[derive(Debug, Clone)]
pub enum BaseCredentials {
    /// `secret_id` + `secret_key` (+ `token`) in the entry.
    Keys {
        secret_id: String,
        secret_key: SecretString,
        token: Option<SecretString>,
    },
    /// `profile = "name"`: a tccli profile.
    Profile(String),
    /// `source = "environment"`: `TENCENTCLOUD_SECRET_ID` / `_SECRET_KEY` / token.
    Environment,
    /// `source = "cvm-role"`: the CAM role of the CVM natpilot runs on.
    CvmRole,
    /// Nothing given: the same chain as the default account.
    DefaultChain,
}

/// A parsed, valid `[[accounts]]` entry.
#[derive(Debug, Clone)]
pub struct AccountSpec {
    pub label: String,
    /// The region offered first on the new-run page for this account.
    pub region: Option<String>,
    /// One base URL for every call of this account (the simulator); else `tencent.endpoint`.
    pub endpoint: Option<String>,
    pub base: BaseCredentials,
    /// STS AssumeRole on top of `base`.
    pub role: Option<RoleSpec>,
}

/// An entry that cannot be used, and why (naming the account and the key).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokenEntry {
    /// The label, or `accounts[N]` when there is none.
    pub label: String,
    pub message: String,
}

const KEYS: &[&str] = &[
    "label",
    "region",
    "endpoint",
    "secret_id",
    "secret_key",
    "token",
    "profile",
    "source",
    "role_arn",
    "role_session_name",
    "external_id",
    "duration_secs",
];

/// Parses every entry; `default_label` is the default account's (no entry may take it).
pub fn parse_all(
    entries: &[AccountEntry],
    default_label: &str,
) -> (Vec<AccountSpec>, Vec<BrokenEntry>) {
    let (mut good, mut broken) = (Vec::new(), Vec::new());
    let mut seen: Vec<String> = vec![default_label.to_owned()];
    for (i, entry) in entries.iter().enumerate() {
        match parse(i, entry) {
            Ok(spec) if seen.contains(&spec.label) => broken.push(BrokenEntry {
                message: format!(
                    "accounts[{i}]: key \"label\": `{}` is already the label of another account \
                     (the default account is `{default_label}`); give each account its own label",
                    spec.label
                ),
                // Not the taken label: the broken entry must never stand for the good one.
                label: format!("accounts[{i}]"),
            }),
            Ok(spec) => {
                seen.push(spec.label.clone());
                good.push(spec);
            }
            Err(b) => broken.push(b),
        }
    }
    (good, broken)
}

fn parse(i: usize, entry: &AccountEntry) -> Result<AccountSpec, BrokenEntry> {
    let raw = &entry.0;
    let label = raw
        .get("label")
        .and_then(|v| v.as_str())
        .map(str::trim)
        .unwrap_or("")
        .to_owned();
    let shown = if label.is_empty() {
        format!("accounts[{i}]")
    } else {
        label.clone()
    };
    let fail = |key: &str, problem: String| BrokenEntry {
        label: shown.clone(),
        message: format!("accounts[{i}] ({shown}): key \"{key}\": {problem}"),
    };
    if let Some(unknown) = raw.keys().find(|k| !KEYS.contains(&k.as_str())) {
        return Err(fail(
            unknown,
            format!(
                "not a setting of an account; expected one of {}",
                KEYS.join(", ")
            ),
        ));
    }
    let text = |key: &str| -> Result<Option<String>, BrokenEntry> {
        match raw.get(key) {
            None => Ok(None),
            Some(serde_json::Value::String(s)) if !s.trim().is_empty() => {
                Ok(Some(s.trim().to_owned()))
            }
            Some(serde_json::Value::String(_)) => Err(fail(key, "is empty".into())),
            Some(_) => Err(fail(key, "must be a string".into())),
        }
    };
    let label_ok = !label.is_empty()
        && label.len() <= 40
        && label
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
    if !label_ok {
        return Err(fail(
            "label",
            "required: 1-40 letters, digits, `-`, `_` or `.` (e.g. \"prod\"), shown on every page"
                .into(),
        ));
    }
    let region = text("region")?;
    if let Some(r) = &region {
        crate::tencent::Region::parse(r).map_err(|e| fail("region", e.to_string()))?;
    }
    let endpoint = text("endpoint")?;
    if let Some(url) = &endpoint {
        crate::tencent::Endpoint::override_url(url).map_err(|e| fail("endpoint", e.to_string()))?;
    }
    let (id, key, token) = (text("secret_id")?, text("secret_key")?, text("token")?);
    let profile = text("profile")?;
    let source = text("source")?;
    let base = match (id, key, profile, source.as_deref()) {
        (Some(secret_id), Some(secret_key), None, None) => BaseCredentials::Keys {
            secret_id,
            secret_key: secret_key.into(),
            token: token.clone().map(SecretString::from),
        },
        (Some(_), None, _, _) => {
            return Err(fail(
                "secret_key",
                "missing: secret_id needs its secret_key".into(),
            ));
        }
        (None, Some(_), _, _) => {
            return Err(fail(
                "secret_id",
                "missing: secret_key needs its secret_id".into(),
            ));
        }
        (Some(_), Some(_), _, _) => {
            return Err(fail(
                "secret_id",
                "give keys, a profile or a source, not several".into(),
            ));
        }
        (None, None, Some(p), None) => BaseCredentials::Profile(p),
        (None, None, None, Some("environment")) => BaseCredentials::Environment,
        (None, None, None, Some("cvm-role")) => BaseCredentials::CvmRole,
        (None, None, None, Some(other)) => {
            return Err(fail(
                "source",
                format!("`{other}` is not a source; use \"environment\" or \"cvm-role\""),
            ));
        }
        (None, None, Some(_), Some(_)) => {
            return Err(fail(
                "source",
                "give a profile or a source, not both".into(),
            ));
        }
        (None, None, None, None) => BaseCredentials::DefaultChain,
    };
    if token.is_some() && !matches!(base, BaseCredentials::Keys { .. }) {
        return Err(fail(
            "token",
            "only goes with secret_id and secret_key".into(),
        ));
    }
    let role = parse_role(raw, &text, &fail)?;
    Ok(AccountSpec {
        label,
        region,
        endpoint,
        base,
        role,
    })
}

type Text<'a> = dyn Fn(&str) -> Result<Option<String>, BrokenEntry> + 'a;

fn parse_role(
    raw: &BTreeMap<String, serde_json::Value>,
    text: &Text<'_>,
    fail: &dyn Fn(&str, String) -> BrokenEntry,
) -> Result<Option<RoleSpec>, BrokenEntry> {
    let arn = text("role_arn")?;
    let session = text("role_session_name")?;
    let external_id = text("external_id")?;
    let duration = match raw.get("duration_secs") {
        None => None,
        Some(v) => match v.as_u64() {
            Some(d) if (1..=43_200).contains(&d) => Some(d),
            _ => {
                return Err(fail(
                    "duration_secs",
                    "must be a whole number of seconds from 1 to 43200".into(),
                ));
            }
        },
    };
    let Some(role_arn) = arn else {
        for key in ["role_session_name", "external_id", "duration_secs"] {
            if raw.contains_key(key) {
                return Err(fail(key, "only goes with role_arn".into()));
            }
        }
        return Ok(None);
    };
    let arn_ok = role_arn.starts_with("qcs::cam::uin/")
        && (role_arn.contains(":roleName/") || role_arn.contains(":role/"));
    if !arn_ok {
        return Err(fail(
            "role_arn",
            format!(
                "`{role_arn}` is not a role ARN; expected qcs::cam::uin/<owner uin>:roleName/<role name>"
            ),
        ));
    }
    let Some(session_name) = session else {
        return Err(fail(
            "role_session_name",
            "missing: role_arn needs a session name (2-128 of letters, digits, +=,.@_-), e.g. \"natpilot\""
                .into(),
        ));
    };
    let session_ok = (2..=128).contains(&session_name.len())
        && session_name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c));
    if !session_ok {
        return Err(fail(
            "role_session_name",
            "must be 2-128 of letters, digits and +=,.@_-".into(),
        ));
    }
    Ok(Some(RoleSpec {
        role_arn,
        session_name,
        external_id,
        duration_secs: duration.unwrap_or(DEFAULT_DURATION_SECS),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(toml_text: &str) -> AccountEntry {
        toml::from_str(toml_text).unwrap()
    }

    #[test]
    fn a_broken_entry_names_its_account_and_key_and_the_others_stay() {
        let entries = [
            entry(
                r#"label = "prod"
profile = "prod""#,
            ),
            entry(
                r#"label = "staging"
role_arn = "qcs::cam::uin/100000000002:roleName/natpilot""#,
            ),
            entry(
                r#"label = "dev"
secret_id = "AKIDx""#,
            ),
            entry(
                r#"label = "ops"
secret_id = "AKIDx"
secret_key = "k"
regoin = "ap-guangzhou""#,
            ),
            entry(
                r#"label = "default"
source = "environment""#,
            ),
        ];
        let (good, broken) = parse_all(&entries, "default");
        assert_eq!(good.len(), 1);
        assert_eq!(good[0].label, "prod");
        let messages: Vec<&str> = broken.iter().map(|b| b.message.as_str()).collect();
        assert!(
            messages[0].contains("(staging): key \"role_session_name\""),
            "{messages:?}"
        );
        assert!(
            messages[1].contains("(dev): key \"secret_key\""),
            "{messages:?}"
        );
        assert!(
            messages[2].contains("(ops): key \"regoin\""),
            "{messages:?}"
        );
        assert!(messages[3].contains("key \"label\"") && messages[3].contains("already"));
    }

    #[test]
    fn an_assume_role_entry_keeps_its_external_id_and_duration() {
        let (good, broken) = parse_all(
            &[entry(
                r#"label = "b"
secret_id = "AKIDx"
secret_key = "k"
role_arn = "qcs::cam::uin/100000000002:roleName/natpilot"
role_session_name = "natpilot"
external_id = "ext-1"
duration_secs = 900"#,
            )],
            "default",
        );
        assert!(broken.is_empty(), "{broken:?}");
        let role = good[0].role.clone().unwrap();
        assert_eq!(role.external_id.as_deref(), Some("ext-1"));
        assert_eq!(role.duration_secs, 900);
        assert!(!format!("{:?}", good[0]).contains("\"k\""));
    }
}
