//! Rendering a notification for one webhook: the URL to POST to, the headers and the body.
//!
//! - `json`: the `Notification` object itself, signed like Stripe/GitHub webhooks. Headers:
//!   `X-Natpilot-Event` (e.g. `run.completed`), `X-Natpilot-Delivery` (the delivery id, the
//!   same on every retry, so receivers can drop duplicates), `X-Natpilot-Timestamp` (Unix
//!   seconds) and `X-Natpilot-Signature: v1=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>`.
//!   Receivers recompute it over the raw body and reject timestamps older than a few minutes.
//! - `wecom`: a WeCom group robot markdown message (`msgtype: markdown`).
//! - `dingtalk`: a DingTalk robot markdown message; with a signing secret, `timestamp` (ms) and
//!   `sign` = Base64(HMAC-SHA256(secret, "<timestamp>\n<secret>")) are added to the URL.
//! - `feishu`: a Feishu/Lark bot text message; with a signing secret, `timestamp` (s) and
//!   `sign` = Base64(HMAC-SHA256(key = "<timestamp>\n<secret>", message = "")) in the body.
//! - `slack`: a Slack incoming-webhook message (`text`).

use base64::Engine as _;
use secrecy::ExposeSecret;
use serde_json::json;

use crate::tencent::sign::hmac_sha256;

use super::config::{Webhook, WebhookFormat};
use super::event::Notification;

pub struct Outgoing {
    pub url: reqwest::Url,
    pub headers: Vec<(&'static str, String)>,
    pub body: String,
}

/// The `X-Natpilot-Signature` value for `body` sent at `timestamp` (Unix seconds).
pub fn json_signature(secret: &str, timestamp: i64, body: &str) -> String {
    let mac = hmac_sha256(secret.as_bytes(), format!("{timestamp}.{body}").as_bytes());
    format!("v1={}", hex::encode(mac))
}

fn chat_text(n: &Notification) -> String {
    format!("{}\n{}\nRun {} ({})", n.title, n.text, n.run_id, n.path)
}

/// `now_secs`: the send time, part of the signatures.
pub fn render(hook: &Webhook, n: &Notification, delivery_id: i64, now_secs: i64) -> Outgoing {
    let secret = hook.secret.as_ref().map(|s| s.expose_secret().to_owned());
    let mut url = hook.url.clone();
    let mut headers = vec![
        ("Content-Type", "application/json".to_owned()),
        (
            "User-Agent",
            concat!("natpilot/", env!("CARGO_PKG_VERSION")).to_owned(),
        ),
    ];
    let body = match hook.format {
        WebhookFormat::Json => {
            let body = serde_json::to_string(n).expect("a notification serializes");
            headers.push(("X-Natpilot-Event", n.event.as_str().to_owned()));
            headers.push(("X-Natpilot-Delivery", delivery_id.to_string()));
            headers.push(("X-Natpilot-Timestamp", now_secs.to_string()));
            if let Some(s) = &secret {
                headers.push(("X-Natpilot-Signature", json_signature(s, now_secs, &body)));
            }
            body
        }
        WebhookFormat::WeCom => json!({
            "msgtype": "markdown",
            "markdown": {"content": format!("**{}**\n{}\n[Open the run]({})", n.title, n.text, n.path)}
        })
        .to_string(),
        WebhookFormat::DingTalk => {
            if let Some(s) = &secret {
                let ms = now_secs * 1000;
                let sign = base64::engine::general_purpose::STANDARD
                    .encode(hmac_sha256(s.as_bytes(), format!("{ms}\n{s}").as_bytes()));
                url.query_pairs_mut()
                    .append_pair("timestamp", &ms.to_string())
                    .append_pair("sign", &sign);
            }
            json!({
                "msgtype": "markdown",
                "markdown": {"title": n.title, "text": format!("### {}\n{}\n\nRun {} ({})", n.title, n.text, n.run_id, n.path)}
            })
            .to_string()
        }
        WebhookFormat::Feishu => {
            let mut body = json!({"msg_type": "text", "content": {"text": chat_text(n)}});
            if let Some(s) = &secret {
                let key = format!("{now_secs}\n{s}");
                let sign =
                    base64::engine::general_purpose::STANDARD.encode(hmac_sha256(key.as_bytes(), b""));
                body["timestamp"] = json!(now_secs.to_string());
                body["sign"] = json!(sign);
            }
            body.to_string()
        }
        WebhookFormat::Slack => json!({"text": chat_text(n)}).to_string(),
    };
    Outgoing { url, headers, body }
}

/// A webhook URL as it may be shown: scheme, host and port only. Chat webhooks keep their
/// token anywhere in the path or query (Slack: the whole path), so none of it is shown.
pub fn redacted(url: &reqwest::Url) -> String {
    let host = url.host_str().unwrap_or("?");
    let port = url.port().map(|p| format!(":{p}")).unwrap_or_default();
    format!("{}://{host}{port}/…", url.scheme())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notify::event::EventKind;
    use secrecy::SecretString;

    fn hook(format: WebhookFormat, url: &str, secret: Option<&str>) -> Webhook {
        Webhook {
            name: "ops".into(),
            url: url.parse().unwrap(),
            format,
            events: EventKind::ALL.into_iter().collect(),
            secret: secret.map(|s| SecretString::from(s.to_owned())),
        }
    }

    fn note() -> Notification {
        Notification {
            event: EventKind::RunCompleted,
            run_id: "r1".into(),
            account: "simulated".into(),
            region: "ap-guangzhou".into(),
            vpc_id: "vpc-1".into(),
            step: None,
            title: "natpilot: run on vpc-1 completed".into(),
            text: "done".into(),
            error_code: None,
            request_id: None,
            path: "/runs/r1".into(),
        }
    }

    #[test]
    fn the_json_signature_is_hmac_sha256_over_timestamp_dot_body() {
        let out = render(
            &hook(WebhookFormat::Json, "https://h.example/in", Some("k")),
            &note(),
            7,
            1700000000,
        );
        let header = |name: &str| {
            out.headers
                .iter()
                .find(|(k, _)| *k == name)
                .unwrap()
                .1
                .clone()
        };
        assert_eq!(header("X-Natpilot-Delivery"), "7");
        assert_eq!(header("X-Natpilot-Event"), "run.completed");
        // Computed independently: printf '1700000000.%s' "$body" | openssl dgst -sha256 -hmac k
        let expected = hmac_sha256(b"k", format!("1700000000.{}", out.body).as_bytes());
        assert_eq!(
            header("X-Natpilot-Signature"),
            format!("v1={}", hex::encode(expected))
        );
        let back: Notification = serde_json::from_str(&out.body).unwrap();
        assert_eq!(back, note());
    }

    #[test]
    fn chat_formats_carry_the_title_and_dingtalk_signs_in_the_query() {
        let n = note();
        let wecom = render(
            &hook(
                WebhookFormat::WeCom,
                "https://qyapi.example/send?key=SECRET",
                None,
            ),
            &n,
            1,
            1,
        );
        assert!(wecom.body.contains("\"msgtype\":\"markdown\"") && wecom.body.contains(&n.title));
        let ding = render(
            &hook(
                WebhookFormat::DingTalk,
                "https://oapi.example/robot/send?access_token=T",
                Some("SEC"),
            ),
            &n,
            1,
            1700000000,
        );
        let q: Vec<(String, String)> = ding.url.query_pairs().into_owned().collect();
        assert!(
            q.iter()
                .any(|(k, v)| k == "timestamp" && v == "1700000000000")
        );
        assert!(q.iter().any(|(k, _)| k == "sign"));
        let feishu = render(
            &hook(
                WebhookFormat::Feishu,
                "https://open.example/hook/x",
                Some("S"),
            ),
            &n,
            1,
            5,
        );
        let body: serde_json::Value = serde_json::from_str(&feishu.body).unwrap();
        assert_eq!(body["timestamp"], "5");
        assert_eq!(body["msg_type"], "text");
        let slack = render(
            &hook(
                WebhookFormat::Slack,
                "https://hooks.example/services/T/B/X",
                None,
            ),
            &n,
            1,
            1,
        );
        assert!(slack.body.starts_with("{\"text\":"));
    }

    #[test]
    fn shown_urls_keep_no_token() {
        let url: reqwest::Url = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=SECRET"
            .parse()
            .unwrap();
        assert_eq!(redacted(&url), "https://qyapi.weixin.qq.com/…");
        let slack: reqwest::Url = "https://hooks.slack.com/services/T0/B0/XXXX"
            .parse()
            .unwrap();
        assert_eq!(redacted(&slack), "https://hooks.slack.com/…");
    }
}
