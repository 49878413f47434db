//! The Assess step's exposure table: one display line per instance (the stored exposure
//! report with the operator's protect/unprotect decisions laid over it), and the server-side
//! sort and filter driven by query parameters, so the table works without JavaScript.

use std::{cmp::Ordering, net::Ipv4Addr};

use serde::{Deserialize, Serialize};

use crate::{
    store::results::ProtectedHost,
    wizard::{
        observed::PROTECTED_TAG,
        steps::assess::{Egress, ExposureReport, ExposureRow, PublicIpKind},
    },
};

/// The table's query parameters, exactly as they travel in links and the filter form.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct ExposureQuery {
    #[serde(default)]
    pub sort: String,
    #[serde(default)]
    pub dir: String,
    #[serde(default)]
    pub q: String,
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub protected: String,
    #[serde(default)]
    pub agent: String,
}

/// (key in the query, column heading), in table order.
pub const COLUMNS: [(&str, &str); 9] = [
    ("instance", "Instance"),
    ("subnet", "Subnet"),
    ("private_ip", "Private IP"),
    ("public_ip", "Public IP"),
    ("kind", "Kind"),
    ("dns", "DNS names"),
    ("egress", "Baseline egress"),
    ("agent", "Agent"),
    ("protected", "Protected"),
];

impl ExposureQuery {
    /// Only known values survive, so links built from it never carry junk back.
    pub fn cleaned(&self) -> ExposureQuery {
        let known = |v: &str, allowed: &[&str]| {
            if allowed.contains(&v) {
                v.to_owned()
            } else {
                String::new()
            }
        };
        let sorts: Vec<&str> = COLUMNS.iter().map(|(k, _)| *k).collect();
        ExposureQuery {
            sort: known(self.sort.trim(), &sorts),
            dir: known(self.dir.trim(), &["asc", "desc"]),
            q: self.q.trim().chars().take(100).collect(),
            kind: known(self.kind.trim(), &["eip", "ordinary", "none", "public"]),
            protected: known(self.protected.trim(), &["yes", "no"]),
            agent: known(self.agent.trim(), &["online", "offline"]),
        }
    }

    pub fn sort_key(&self) -> &str {
        if self.sort.is_empty() {
            "instance"
        } else {
            &self.sort
        }
    }

    pub fn descending(&self) -> bool {
        self.dir == "desc"
    }

    pub fn is_filtered(&self) -> bool {
        !(self.q.is_empty()
            && self.kind.is_empty()
            && self.protected.is_empty()
            && self.agent.is_empty())
    }

    /// `?sort=…` for this view, empty parameters left out.
    pub fn to_query_string(&self) -> String {
        let pairs: Vec<(&str, &str)> = [
            ("sort", self.sort.as_str()),
            ("dir", self.dir.as_str()),
            ("q", self.q.as_str()),
            ("kind", self.kind.as_str()),
            ("protected", self.protected.as_str()),
            ("agent", self.agent.as_str()),
        ]
        .into_iter()
        .filter(|(_, v)| !v.is_empty())
        .collect();
        match serde_urlencoded::to_string(pairs) {
            Ok(s) if !s.is_empty() => format!("?{s}"),
            _ => String::new(),
        }
    }

    /// The link in a column heading: sorts by it, flipping the direction if it is the
    /// current sort column; filters are kept.
    pub fn sort_link(&self, key: &str) -> String {
        let dir = if self.sort_key() == key && !self.descending() {
            "desc"
        } else {
            "asc"
        };
        ExposureQuery {
            sort: key.to_owned(),
            dir: dir.to_owned(),
            ..self.clone()
        }
        .to_query_string()
    }

    /// This view's sort without any filter (the "Clear filters" link).
    pub fn unfiltered(&self) -> String {
        ExposureQuery {
            sort: self.sort.clone(),
            dir: self.dir.clone(),
            ..ExposureQuery::default()
        }
        .to_query_string()
    }

    /// The `aria-sort` value of a column heading.
    pub fn aria_sort(&self, key: &str) -> &'static str {
        match (self.sort_key() == key, self.descending()) {
            (false, _) => "none",
            (true, false) => "ascending",
            (true, true) => "descending",
        }
    }
}

pub struct ExposureLine {
    pub instance_id: String,
    pub name: String,
    /// `key=value`, the protection tag left out (it shows as the reason).
    pub tags: Vec<String>,
    pub subnet_id: String,
    pub private_ip: String,
    pub public_ip: String,
    pub kind: &'static str,
    pub dns_names: String,
    pub egress: String,
    pub agent: &'static str,
    pub protected: bool,
    pub reason: String,
}

/// The report's rows with the operator's decisions (`hosts`) applied.
pub fn exposure_lines(report: &ExposureReport, hosts: &[ProtectedHost]) -> Vec<ExposureLine> {
    report
        .rows
        .iter()
        .map(|r| {
            let decided = hosts.iter().find(|h| h.instance_id == r.instance_id);
            let protected = decided.map_or(r.protected, |h| h.protected);
            let reason = match decided {
                Some(h) if h.reason == "operator" && h.protected => {
                    format!("chosen by {}", h.decided_by)
                }
                Some(h) if !h.protected => format!("not protected, decided by {}", h.decided_by),
                _ if protected => describe_reason(&r.reason, r),
                _ => String::new(),
            };
            line(r, protected, reason)
        })
        .collect()
}

fn describe_reason(reason: &str, r: &ExposureRow) -> String {
    match reason {
        "dns" => "DNS records point at its public IP".into(),
        "tag" => format!("tagged {}={}", PROTECTED_TAG.0, PROTECTED_TAG.1),
        "operator" => "chosen by an operator".into(),
        _ if !r.suggested.is_empty() => r.suggested.join(", "),
        other => other.to_owned(),
    }
}

fn line(r: &ExposureRow, protected: bool, reason: String) -> ExposureLine {
    ExposureLine {
        instance_id: r.instance_id.clone(),
        name: r.name.clone(),
        tags: r
            .tags
            .iter()
            .filter(|(k, _)| k != PROTECTED_TAG.0)
            .map(|(k, v)| format!("{k}={v}"))
            .collect(),
        subnet_id: r.subnet_id.clone(),
        private_ip: r.private_ip.clone().unwrap_or_default(),
        public_ip: r.public_ip.clone().unwrap_or_default(),
        kind: match r.kind {
            PublicIpKind::Eip => "EIP",
            PublicIpKind::Ordinary => "ordinary",
            PublicIpKind::None => "none",
        },
        dns_names: r.dns_names.join(", "),
        egress: match &r.egress {
            Some(Egress::Ip { ip }) => ip.clone(),
            Some(Egress::Failed { detail }) => format!("failed: {detail}"),
            Some(Egress::Untestable { detail }) => format!("untestable: {detail}"),
            None => "not tested".into(),
        },
        agent: if r.agent_online { "online" } else { "offline" },
        protected,
        reason,
    }
}

impl ExposureLine {
    fn matches(&self, q: &ExposureQuery) -> bool {
        let text = q.q.to_lowercase();
        let hay = [
            &self.instance_id,
            &self.name,
            &self.subnet_id,
            &self.private_ip,
            &self.public_ip,
            &self.dns_names,
            &self.reason,
        ];
        let text_ok = text.is_empty()
            || hay.iter().any(|h| h.to_lowercase().contains(&text))
            || self.tags.iter().any(|t| t.to_lowercase().contains(&text));
        let kind_ok = match q.kind.as_str() {
            "eip" => self.kind == "EIP",
            "ordinary" => self.kind == "ordinary",
            "none" => self.kind == "none",
            "public" => self.kind != "none",
            _ => true,
        };
        let protected_ok = match q.protected.as_str() {
            "yes" => self.protected,
            "no" => !self.protected,
            _ => true,
        };
        let agent_ok = q.agent.is_empty() || q.agent == self.agent;
        text_ok && kind_ok && protected_ok && agent_ok
    }

    fn compare(&self, other: &ExposureLine, key: &str) -> Ordering {
        match key {
            "subnet" => self.subnet_id.cmp(&other.subnet_id),
            "private_ip" => ip_order(&self.private_ip, &other.private_ip),
            "public_ip" => ip_order(&self.public_ip, &other.public_ip),
            "kind" => self.kind.cmp(other.kind),
            "dns" => text_order(&self.dns_names, &other.dns_names),
            "egress" => ip_order(&self.egress, &other.egress),
            "agent" => self.agent.cmp(other.agent),
            // Protected first when ascending: they are what the operator must look at.
            "protected" => other.protected.cmp(&self.protected),
            _ => Ordering::Equal,
        }
    }
}

/// Addresses in numeric order; anything that is not an address after them, empty last.
fn ip_order(a: &str, b: &str) -> Ordering {
    let key = |s: &str| {
        (
            s.is_empty(),
            s.parse::<Ipv4Addr>()
                .ok()
                .map(u32::from)
                .unwrap_or(u32::MAX),
            s.to_owned(),
        )
    };
    key(a).cmp(&key(b))
}

fn text_order(a: &str, b: &str) -> Ordering {
    (a.is_empty(), a).cmp(&(b.is_empty(), b))
}

/// The lines the query selects, in its order (ties by instance id, always ascending).
pub fn select(lines: Vec<ExposureLine>, q: &ExposureQuery) -> Vec<ExposureLine> {
    let mut shown: Vec<ExposureLine> = lines.into_iter().filter(|l| l.matches(q)).collect();
    let key = q.sort_key();
    shown.sort_by(|a, b| {
        let by_key = a.compare(b, key);
        let by_key = if q.descending() {
            by_key.reverse()
        } else {
            by_key
        };
        by_key.then_with(|| {
            let by_id = a.instance_id.cmp(&b.instance_id);
            if key == "instance" && q.descending() {
                by_id.reverse()
            } else {
                by_id
            }
        })
    });
    shown
}
