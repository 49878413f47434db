//! The Verify & retire step's per-instance table: egress before (step 1's baseline) and after
//! (the check that followed the route change), pass/fail against the NAT gateway's EIPs, why
//! an instance could not be tested, and what the retire plan does to its public IP.

use std::collections::BTreeSet;

use crate::{
    store::{EgressOutcome, results::EgressResult},
    wizard::{
        observed::Inventory,
        plan::{Change, Plan},
    },
};

use super::step_view::describe_change;

pub struct EgressLine {
    pub instance_id: String,
    pub name: String,
    pub public_ip: String,
    pub before: String,
    pub after: String,
    /// `pass`, `fail`, `untestable` or `not tested`.
    pub verdict: &'static str,
    /// What the test saw when it did not pass.
    pub reason: String,
    pub protected: bool,
    /// The retire plan's changes for this instance: (text, irreversible).
    pub actions: Vec<(String, bool)>,
    /// Why it keeps its public IP, if it does.
    pub kept: String,
    /// It passed, is not protected and has a public IP: the operator picks what happens.
    pub choosable: bool,
}

fn shown(r: Option<&EgressResult>) -> String {
    match r {
        None => "not tested".into(),
        Some(r) => match r.outcome {
            EgressOutcome::Ip => r.ip.clone().unwrap_or_default(),
            EgressOutcome::Failed => format!("failed: {}", r.detail),
            EgressOutcome::Untestable => format!("untestable: {}", r.detail),
        },
    }
}

fn verdict(after: Option<&EgressResult>, nat_ips: &BTreeSet<String>) -> (&'static str, String) {
    match after {
        None => ("not tested", "no egress test result yet".into()),
        Some(r) => match (r.outcome, r.ip.as_deref().map(str::trim)) {
            (EgressOutcome::Ip, Some(ip)) if nat_ips.contains(ip) => ("pass", String::new()),
            (EgressOutcome::Ip, ip) => (
                "fail",
                format!(
                    "printed {}, not an EIP of the NAT gateway",
                    ip.unwrap_or("nothing")
                ),
            ),
            (EgressOutcome::Failed, _) => ("fail", r.detail.clone()),
            (EgressOutcome::Untestable, _) => ("untestable", r.detail.clone()),
        },
    }
}

fn instance_of(c: &Change) -> Option<&str> {
    match c {
        Change::DisassociateEip { instance_id, .. }
        | Change::ReleaseEip { instance_id, .. }
        | Change::TransformAddress { instance_id, .. }
        | Change::ReturnNormalAddress { instance_id, .. } => Some(instance_id),
        _ => None,
    }
}

/// One line per instance of the VPC, in the inventory's order.
pub fn lines(
    inv: &Inventory,
    nat_ips: &BTreeSet<String>,
    baseline: &[EgressResult],
    after: &[EgressResult],
    plan: Option<&Plan>,
    protected: &BTreeSet<String>,
) -> Vec<EgressLine> {
    let find = |set: &[EgressResult], id: &str| set.iter().find(|r| r.instance_id == id).cloned();
    inv.instances
        .iter()
        .map(|i| {
            let public_ip = inv
                .eip_of(i)
                .map(|a| a.ip.clone())
                .or_else(|| i.public_ip.clone())
                .unwrap_or_default();
            let after_result = find(after, &i.id);
            let (verdict, reason) = verdict(after_result.as_ref(), nat_ips);
            let actions = plan.map_or_else(Vec::new, |p| {
                p.changes()
                    .filter(|c| instance_of(c) == Some(i.id.as_str()))
                    .map(|c| (describe_change(c), c.irreversible()))
                    .collect()
            });
            let kept = plan
                .and_then(|p| p.kept.iter().find(|k| k.instance_id == i.id))
                .map(|k| k.reason.clone())
                .unwrap_or_default();
            let is_protected = protected.contains(&i.id);
            EgressLine {
                choosable: !public_ip.is_empty() && !is_protected && verdict == "pass",
                instance_id: i.id.clone(),
                name: i.name.clone(),
                before: shown(find(baseline, &i.id).as_ref()),
                after: shown(after_result.as_ref()),
                verdict,
                reason,
                protected: is_protected,
                actions,
                kept,
                public_ip,
            }
        })
        .collect()
}
