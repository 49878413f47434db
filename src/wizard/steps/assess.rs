//! Step 1, Assess exposure: per instance its public IP kind, the DNS names pointing at it
//! (A records and CNAMEs resolving to them), TAT agent state, egress baseline, and whether it
//! should be protected (by the input's rules — DNS, tag, subnet, name — or the operator's
//! choice of single hosts).

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::wizard::input::AssessInput;
use crate::wizard::observed::{InstanceState, Inventory};
use crate::wizard::protection::{Facts, Protection};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PublicIpKind {
    Eip,
    Ordinary,
    None,
}

/// Baseline egress of one instance, as the TAT test saw it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Egress {
    Ip {
        ip: String,
    },
    /// Ran but printed no IP (no Internet path, curl error).
    Failed {
        detail: String,
    },
    /// Stopped or agent offline: no evidence either way.
    Untestable {
        detail: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExposureRow {
    pub instance_id: String,
    pub name: String,
    pub subnet_id: String,
    /// Shown in the exposure table; `default` so reports stored before it existed still load.
    #[serde(default)]
    pub private_ip: Option<String>,
    /// The instance's tags as (key, value), shown next to its name.
    #[serde(default)]
    pub tags: Vec<(String, String)>,
    pub route_table_id: Option<String>,
    pub running: bool,
    pub agent_online: bool,
    pub public_ip: Option<String>,
    pub kind: PublicIpKind,
    pub address_id: Option<String>,
    pub dns_names: Vec<String>,
    pub egress: Option<Egress>,
    /// Why it is suggested for protection (`dns`, `tag`), empty if not.
    pub suggested: Vec<String>,
    pub protected: bool,
    /// The rule kind that protects it (`dns`, `tag`, `subnet`, `name`), `operator`, or empty.
    pub reason: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExposureReport {
    pub vpc_id: String,
    pub rows: Vec<ExposureRow>,
    pub exposed: usize,
    pub protected: usize,
    pub untestable: usize,
}

/// DNS names (A records, and CNAME chains ending in them) per public IP.
pub fn dns_names_by_ip(inv: &Inventory) -> BTreeMap<String, BTreeSet<String>> {
    let mut by_ip: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut name_to_ip: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for r in inv.dns.iter().filter(|r| r.record_type == "A") {
        by_ip.entry(r.value.clone()).or_default().insert(r.fqdn());
        name_to_ip
            .entry(r.fqdn())
            .or_default()
            .insert(r.value.clone());
    }
    // Follow CNAMEs until nothing new resolves; bounded by the record count, so a CNAME loop
    // cannot spin forever.
    let cnames: Vec<_> = inv
        .dns
        .iter()
        .filter(|r| r.record_type == "CNAME")
        .collect();
    for _ in 0..=cnames.len() {
        let mut grew = false;
        for c in &cnames {
            let target = c.value.trim_end_matches('.').to_ascii_lowercase();
            let Some(ips) = name_to_ip.get(&target).cloned() else {
                continue;
            };
            let entry = name_to_ip.entry(c.fqdn()).or_default();
            for ip in ips {
                if entry.insert(ip.clone()) {
                    grew = true;
                }
                by_ip.entry(ip).or_default().insert(c.fqdn());
            }
        }
        if !grew {
            break;
        }
    }
    by_ip
}

/// Builds the exposure report. `baseline` maps instance id → its egress test result.
pub fn exposure(
    inv: &Inventory,
    baseline: &BTreeMap<String, Egress>,
    input: &AssessInput,
) -> ExposureReport {
    let dns = dns_names_by_ip(inv);
    let protection = Protection::new(&input.rules, &input.protect, &input.unprotect);
    let mut rows = Vec::with_capacity(inv.instances.len());
    for i in &inv.instances {
        let eip = inv.eip_of(i);
        let public_ip = eip.map(|a| a.ip.clone()).or_else(|| i.public_ip.clone());
        let kind = match (eip, &public_ip) {
            (Some(_), _) => PublicIpKind::Eip,
            (None, Some(_)) => PublicIpKind::Ordinary,
            (None, None) => PublicIpKind::None,
        };
        let dns_names: Vec<String> = public_ip
            .as_ref()
            .and_then(|ip| dns.get(ip))
            .map(|s| s.iter().cloned().collect())
            .unwrap_or_default();
        let mut suggested = Vec::new();
        if !dns_names.is_empty() {
            suggested.push("dns".to_owned());
        }
        if i.tagged_protected() {
            suggested.push("tag".to_owned());
        }
        let decision = protection.decide(
            &i.id,
            &Facts {
                name: &i.name,
                subnet_id: &i.subnet_id,
                tags: &i.tags,
                has_dns: !dns_names.is_empty(),
            },
        );
        let protected = decision.protected();
        let reason = if protected {
            decision.reason_kind().to_owned()
        } else {
            String::new()
        };
        rows.push(ExposureRow {
            instance_id: i.id.clone(),
            name: i.name.clone(),
            subnet_id: i.subnet_id.clone(),
            private_ip: i.private_ip.clone(),
            tags: i.tags.clone(),
            route_table_id: inv.table_of(i).map(str::to_owned),
            running: i.state == InstanceState::Running,
            agent_online: i.agent_online,
            public_ip,
            kind,
            address_id: eip.map(|a| a.id.clone()),
            dns_names,
            egress: baseline.get(&i.id).cloned(),
            suggested,
            protected,
            reason,
        });
    }
    ExposureReport {
        vpc_id: inv.vpc_id.clone(),
        exposed: rows.iter().filter(|r| r.kind != PublicIpKind::None).count(),
        protected: rows.iter().filter(|r| r.protected).count(),
        untestable: rows
            .iter()
            .filter(|r| matches!(r.egress, Some(Egress::Untestable { .. })))
            .count(),
        rows,
    }
}
