//! The audit log in words: each entry's time on one line, its target as a link where natpilot
//! has a page for it (a run, a user's own entries), and its details as `key: value` lines
//! instead of one clipped line of JSON.

use crate::store::{RunId, audit::AuditEntry};

pub struct AuditLine {
    pub id: i64,
    pub when: String,
    pub actor: String,
    pub ip: String,
    pub action: String,
    pub target: String,
    /// Where the target leads: its run page, or the audit entries of that user.
    pub target_link: Option<String>,
    pub details: Vec<(String, String)>,
    /// The target is a rehearsal run: marked, so nobody mistakes it for a real change.
    pub rehearsal: bool,
}

impl AuditLine {
    pub fn new(e: AuditEntry, users: &[String]) -> AuditLine {
        let target_link = if e.target.parse::<RunId>().is_ok() {
            Some(format!("/runs/{}", e.target))
        } else if users.contains(&e.target) {
            serde_urlencoded::to_string([("actor", e.target.as_str())])
                .ok()
                .map(|q| format!("/admin/audit?{q}"))
        } else {
            None
        };
        AuditLine {
            id: e.id,
            when: e.at.format("%Y-%m-%d %H:%M:%S").to_string(),
            details: flatten(&e.details),
            actor: e.actor,
            ip: e.ip,
            action: e.action,
            target: e.target,
            target_link,
            rehearsal: e.rehearsal,
        }
    }
}

/// `{"a": {"b": 1}, "c": "x"}` → `a.b: 1`, `c: x`; strings without their quotes.
fn flatten(v: &serde_json::Value) -> Vec<(String, String)> {
    fn walk(prefix: &str, v: &serde_json::Value, out: &mut Vec<(String, String)>) {
        match v {
            serde_json::Value::Object(map) if !map.is_empty() => {
                for (k, v) in map {
                    let key = if prefix.is_empty() {
                        k.clone()
                    } else {
                        format!("{prefix}.{k}")
                    };
                    walk(&key, v, out);
                }
            }
            serde_json::Value::Object(_) => {}
            serde_json::Value::String(s) => out.push((prefix.to_owned(), s.clone())),
            serde_json::Value::Array(items)
                if items.iter().all(|i| !i.is_object() && !i.is_array()) =>
            {
                let words: Vec<String> = items
                    .iter()
                    .map(|i| i.as_str().map_or_else(|| i.to_string(), str::to_owned))
                    .collect();
                out.push((prefix.to_owned(), words.join(", ")));
            }
            other => out.push((prefix.to_owned(), other.to_string())),
        }
    }
    let mut out = Vec::new();
    walk("", v, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn nested_details_become_one_line_per_value() {
        let lines = flatten(
            &json!({"step": 4, "input": {"release": false, "keep": ["ins-1", "ins-2"]}, "why": "ok"}),
        );
        assert_eq!(
            lines,
            [
                ("input.keep".to_owned(), "ins-1, ins-2".to_owned()),
                ("input.release".to_owned(), "false".to_owned()),
                ("step".to_owned(), "4".to_owned()),
                ("why".to_owned(), "ok".to_owned()),
            ]
        );
        assert!(flatten(&json!({})).is_empty());
    }
}
