//! `[[webhooks]]` in the configuration, checked at start-up: a bad entry stops the portal with
//! a message naming the entry and the key at fault. URLs often carry a token (WeCom `key=`,
//! DingTalk `access_token=`, Slack's path), so they are shown only redacted (`format::redacted`).

use std::collections::BTreeSet;
use std::time::Duration;

use secrecy::SecretString;
use serde::Deserialize;

use super::event::EventKind;

/// One entry as written in `natpilot.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookConfig {
    /// Short unique name, shown on the admin page and stored with each delivery.
    pub name: String,
    pub url: String,
    /// `json` (default), `wecom`, `dingtalk`, `feishu` or `slack`.
    #[serde(default)]
    pub format: Option<String>,
    /// Events to send (`step.failed`, `run.completed`, `run.rolled_back`, `approval.requested`,
    /// `approval.decided`, `drift.found`); all when absent.
    #[serde(default)]
    pub events: Option<Vec<String>>,
    /// `json`: the HMAC-SHA256 key of the signature header (required). `dingtalk`/`feishu`:
    /// the robot's signing secret (加签), when the robot has one.
    #[serde(default)]
    pub secret: Option<SecretString>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WebhookFormat {
    Json,
    WeCom,
    DingTalk,
    Feishu,
    Slack,
}

impl WebhookFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            WebhookFormat::Json => "json",
            WebhookFormat::WeCom => "wecom",
            WebhookFormat::DingTalk => "dingtalk",
            WebhookFormat::Feishu => "feishu",
            WebhookFormat::Slack => "slack",
        }
    }
}

/// A checked webhook.
#[derive(Debug, Clone)]
pub struct Webhook {
    pub name: String,
    pub url: reqwest::Url,
    pub format: WebhookFormat,
    pub events: BTreeSet<EventKind>,
    pub secret: Option<SecretString>,
}

impl Webhook {
    /// Checks every entry; `Err` names the entry (`webhooks[1] "ops-chat"`) and the key.
    pub fn from_configs(entries: &[WebhookConfig]) -> Result<Vec<Webhook>, String> {
        let mut names = BTreeSet::new();
        entries
            .iter()
            .enumerate()
            .map(|(i, e)| {
                let at = format!("webhooks[{i}] \"{}\"", e.name);
                let hook = Webhook::from_config(e).map_err(|m| format!("{at}: {m}"))?;
                if !names.insert(hook.name.clone()) {
                    return Err(format!(
                        "{at}: name: another webhook is already called that"
                    ));
                }
                Ok(hook)
            })
            .collect()
    }

    fn from_config(e: &WebhookConfig) -> Result<Webhook, String> {
        let name = e.name.trim();
        if name.is_empty()
            || name.len() > 40
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err("name: 1 to 40 letters, digits, '-' or '_' (e.g. \"ops-chat\")".to_owned());
        }
        let url = reqwest::Url::parse(e.url.trim())
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
            .ok_or("url: an absolute http:// or https:// URL")?;
        let format = match e.format.as_deref().unwrap_or("json") {
            "json" => WebhookFormat::Json,
            "wecom" => WebhookFormat::WeCom,
            "dingtalk" => WebhookFormat::DingTalk,
            "feishu" | "lark" => WebhookFormat::Feishu,
            "slack" => WebhookFormat::Slack,
            other => {
                return Err(format!(
                    "format: `{other}` is not one of json, wecom, dingtalk, feishu, slack"
                ));
            }
        };
        let events = match &e.events {
            None => EventKind::ALL.into_iter().collect(),
            Some(list) if list.is_empty() => {
                return Err("events: leave it out for all events, or name at least one".into());
            }
            Some(list) => list
                .iter()
                .map(|s| {
                    EventKind::parse(s.trim()).ok_or_else(|| {
                        format!(
                            "events: `{s}` is not one of step.failed, run.completed, \
                             run.rolled_back, approval.requested, approval.decided, drift.found"
                        )
                    })
                })
                .collect::<Result<_, _>>()?,
        };
        if format == WebhookFormat::Json && e.secret.is_none() {
            return Err(
                "secret: the json format signs every delivery; set a secret the receiver shares"
                    .into(),
            );
        }
        Ok(Webhook {
            name: name.to_owned(),
            url,
            format,
            events,
            secret: e.secret.clone(),
        })
    }
}

/// How the deliverer paces itself (tests shorten these).
#[derive(Debug, Clone, Copy)]
pub struct DeliveryOptions {
    /// How often the outbox is looked at.
    pub poll: Duration,
    /// First retry delay; doubled per attempt, at most `max_backoff`.
    pub backoff: Duration,
    pub max_backoff: Duration,
    /// Attempts before a delivery is dead (kept, shown, retryable by an admin).
    pub max_attempts: u32,
    /// Per attempt.
    pub timeout: Duration,
}

impl Default for DeliveryOptions {
    fn default() -> DeliveryOptions {
        DeliveryOptions {
            poll: Duration::from_secs(1),
            backoff: Duration::from_secs(5),
            max_backoff: Duration::from_secs(10 * 60),
            max_attempts: 8,
            timeout: Duration::from_secs(10),
        }
    }
}

impl DeliveryOptions {
    /// The wait after attempt number `attempts` (1-based) failed.
    pub fn backoff_after(&self, attempts: u32) -> Duration {
        let factor = 2u32.saturating_pow(attempts.saturating_sub(1).min(20));
        self.backoff.saturating_mul(factor).min(self.max_backoff)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(name: &str, url: &str, format: Option<&str>, secret: Option<&str>) -> WebhookConfig {
        WebhookConfig {
            name: name.into(),
            url: url.into(),
            format: format.map(str::to_owned),
            events: None,
            secret: secret.map(|s| SecretString::from(s.to_owned())),
        }
    }

    #[test]
    fn each_bad_entry_is_named_with_its_key() {
        let err = |e: WebhookConfig| Webhook::from_configs(&[e]).unwrap_err();
        assert!(err(entry("ops", "ftp://x", None, Some("s"))).contains("webhooks[0] \"ops\": url"));
        assert!(err(entry("ops", "https://x.example/", None, None)).contains("secret"));
        assert!(err(entry("ops", "https://x.example/", Some("teams"), None)).contains("format"));
        assert!(err(entry("a b", "https://x.example/", Some("slack"), None)).contains("name"));
        let mut unknown = entry("ops", "https://x.example/", Some("slack"), None);
        unknown.events = Some(vec!["run.started".into()]);
        assert!(err(unknown).contains("events: `run.started`"));
        let twice = [
            entry("ops", "https://a.example/", Some("slack"), None),
            entry("ops", "https://b.example/", Some("slack"), None),
        ];
        assert!(
            Webhook::from_configs(&twice)
                .unwrap_err()
                .contains("webhooks[1]")
        );
        let ok = Webhook::from_configs(&[entry("ops", "https://a.example/h", Some("lark"), None)]);
        assert_eq!(ok.unwrap()[0].format, WebhookFormat::Feishu);
    }

    #[test]
    fn retries_back_off_exponentially_up_to_the_cap() {
        let o = DeliveryOptions::default();
        assert_eq!(o.backoff_after(1), Duration::from_secs(5));
        assert_eq!(o.backoff_after(3), Duration::from_secs(20));
        assert_eq!(o.backoff_after(30), Duration::from_secs(600));
    }
}
