//! Every call attempt is reported to observers: the run ledger and metrics hang off this.
//! Parameters are recorded with secret-looking fields redacted, so a record can be stored
//! and shown without leaking a password or key a request carried.

use std::time::Duration;

use serde_json::Value;

use super::Service;

pub trait CallObserver: Send + Sync {
    fn on_call(&self, record: &CallRecord);
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallOutcome {
    Ok,
    /// The API code, or a client pseudo-code such as `ClientTimeout` (see `TencentError::outcome_code`).
    Error {
        code: String,
    },
}

/// One attempt of one call.
#[derive(Debug, Clone)]
pub struct CallRecord {
    pub service: Service,
    pub action: &'static str,
    pub region: String,
    pub request_id: Option<String>,
    pub duration: Duration,
    /// 1 for the first attempt.
    pub attempt: u32,
    pub outcome: CallOutcome,
    /// The request body with secrets replaced by `"[redacted]"`.
    pub parameters: Value,
}

pub const REDACTED: &str = "[redacted]";

/// A copy of `params` with the values of secret-looking keys replaced, at any depth.
/// Keys are matched case-insensitively on fragments (`Password`, `SecretKey`, `Token`, …) and on
/// a trailing `Key` (`PrivateKey`, `ApiKey`); `Content` (a TAT command) is kept on purpose: the
/// ledger must show what ran. Commands must not embed secrets for that reason.
pub fn redact(params: &Value) -> Value {
    match params {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| {
                    let v = if is_secret_key(k) && !v.is_null() {
                        Value::String(REDACTED.into())
                    } else {
                        redact(v)
                    };
                    (k.clone(), v)
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(redact).collect()),
        other => other.clone(),
    }
}

fn is_secret_key(key: &str) -> bool {
    const FRAGMENTS: &[&str] = &[
        "secret",
        "password",
        "passwd",
        "token",
        "credential",
        "privatekey",
    ];
    let k = key.to_ascii_lowercase();
    FRAGMENTS.iter().any(|f| k.contains(f)) || k.ends_with("key")
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn redacts_secret_looking_fields_at_any_depth_and_keeps_the_rest() {
        let params = json!({
            "VpcId": "vpc-1",
            "LoginSettings": {"Password": "hunter2", "KeyIds": ["skey-1"]},
            "Items": [{"SecretKey": "sk-1", "Name": "n"}],
            "Token": "sts-1",
            "Content": "Y3VybCBpZmNvbmZpZy5jbw==",
        });
        let shown = redact(&params);
        let text = shown.to_string();
        for secret in ["hunter2", "sk-1", "sts-1"] {
            assert!(!text.contains(secret), "{text}");
        }
        assert_eq!(shown["VpcId"], "vpc-1");
        assert_eq!(shown["LoginSettings"]["KeyIds"][0], "skey-1");
        assert_eq!(shown["Content"], "Y3VybCBpZmNvbmZpZy5jbw==");
    }

    #[test]
    fn debug_of_a_call_record_shows_no_secret() {
        let record = CallRecord {
            service: Service::Cvm,
            action: "RunInstances",
            region: "ap-guangzhou".into(),
            request_id: None,
            duration: Duration::from_millis(5),
            attempt: 1,
            outcome: CallOutcome::Ok,
            parameters: redact(&json!({"LoginSettings": {"Password": "hunter2"}})),
        };
        assert!(!format!("{record:?}").contains("hunter2"));
    }
}
