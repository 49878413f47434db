//! Readers for credential files written by other tools: tccli profiles (reference §6.3,
//! JSON `~/.tccli/<profile>.credential` / `.configure`) and the SDKs' INI file
//! (`~/.tencentcloud/credentials`, section `[default]`, keys `secret_id` / `secret_key`).
//! A file that exists but is malformed is an error naming the file, the key and what was expected.

use std::path::{Path, PathBuf};

use serde_json::Value;

use super::{CredentialError, Credentials};

/// What one tccli profile says.
#[derive(Debug)]
pub struct TccliProfile {
    pub name: String,
    /// The `.credential` file.
    pub path: PathBuf,
    /// `None` when the profile asks for the CVM role (`"type": "cvm-role"`).
    pub credentials: Option<Credentials>,
    /// `_sys_param.region` from the `.configure` file.
    pub region: Option<String>,
}

pub fn tccli_credential_path(home: &Path, profile: &str) -> PathBuf {
    home.join(".tccli").join(format!("{profile}.credential"))
}

/// Reads profile `name`; `Ok(None)` when its `.credential` file does not exist.
pub fn read_tccli_profile(
    home: &Path,
    name: &str,
) -> Result<Option<TccliProfile>, CredentialError> {
    if name.is_empty() || name.contains(['/', '\\']) || name.starts_with('.') {
        return Err(malformed(
            "--profile",
            name,
            "is not a profile name",
            "a plain name such as `default` or `prod`",
        ));
    }
    let path = tccli_credential_path(home, name);
    let Some(json) = read_json(&path)? else {
        return Ok(None);
    };
    let credentials = if json.get("type").and_then(Value::as_str) == Some("cvm-role") {
        None
    } else {
        let id = required_string(&json, &path, "secretId")?;
        let key = required_string(&json, &path, "secretKey")?;
        let mut creds = Credentials::new(id, key);
        if let Some(token) = optional_string(&json, &path, "token")? {
            creds = creds.with_token(token);
        }
        Some(creds)
    };
    let configure = home.join(".tccli").join(format!("{name}.configure"));
    let region = match read_json(&configure)? {
        Some(conf) => match conf.get("_sys_param") {
            Some(sys) => optional_string(sys, &configure, "region")
                .map_err(|e| rename_key(e, "_sys_param.region"))?,
            None => None,
        },
        None => None,
    };
    Ok(Some(TccliProfile {
        name: name.to_owned(),
        path,
        credentials,
        region,
    }))
}

/// Reads the `[default]` section of an SDK credentials INI file; `Ok(None)` if the file is absent.
pub fn read_shared_credentials(path: &Path) -> Result<Option<Credentials>, CredentialError> {
    let Some(text) = read_text(path)? else {
        return Ok(None);
    };
    let file = path.display().to_string();
    let ini = ini::Ini::load_from_str(&text).map_err(|e| {
        malformed(
            &file,
            "(file)",
            &format!("is not valid INI ({e})"),
            "[default] with secret_id and secret_key",
        )
    })?;
    let section = ini.section(Some("default")).ok_or_else(|| {
        malformed(
            &file,
            "[default]",
            "is missing",
            "a [default] section with secret_id and secret_key",
        )
    })?;
    let get = |key: &str| {
        section
            .get(key)
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .ok_or_else(|| {
                malformed(
                    &file,
                    &format!("[default] {key}"),
                    "is missing or empty",
                    "a non-empty value",
                )
            })
    };
    Ok(Some(Credentials::new(
        get("secret_id")?,
        get("secret_key")?,
    )))
}

fn read_text(path: &Path) -> Result<Option<String>, CredentialError> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(Some(text)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(malformed(
            &path.display().to_string(),
            "(file)",
            &format!("cannot be read ({e})"),
            "a readable file",
        )),
    }
}

fn read_json(path: &Path) -> Result<Option<Value>, CredentialError> {
    let Some(text) = read_text(path)? else {
        return Ok(None);
    };
    let value: Value = serde_json::from_str(&text).map_err(|e| {
        malformed(
            &path.display().to_string(),
            "(file)",
            &format!("is not valid JSON ({e})"),
            "a JSON object as written by `tccli configure`",
        )
    })?;
    if !value.is_object() {
        return Err(malformed(
            &path.display().to_string(),
            "(file)",
            "is not a JSON object",
            "a JSON object",
        ));
    }
    Ok(Some(value))
}

fn required_string(json: &Value, path: &Path, key: &str) -> Result<String, CredentialError> {
    optional_string(json, path, key)?.ok_or_else(|| {
        malformed(
            &path.display().to_string(),
            key,
            "is missing or empty",
            "a non-empty string",
        )
    })
}

fn optional_string(
    json: &Value,
    path: &Path,
    key: &str,
) -> Result<Option<String>, CredentialError> {
    match json.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.trim().to_owned())),
        Some(other) => Err(malformed(
            &path.display().to_string(),
            key,
            &format!("is {}", json_kind(other)),
            "a string",
        )),
    }
}

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn malformed(file: &str, key: &str, problem: &str, expected: &str) -> CredentialError {
    CredentialError::Malformed {
        file: file.to_owned(),
        key: key.to_owned(),
        problem: problem.to_owned(),
        expected: expected.to_owned(),
    }
}

fn rename_key(e: CredentialError, new_key: &str) -> CredentialError {
    match e {
        CredentialError::Malformed {
            file,
            problem,
            expected,
            ..
        } => CredentialError::Malformed {
            file,
            key: new_key.to_owned(),
            problem,
            expected,
        },
        other => other,
    }
}
