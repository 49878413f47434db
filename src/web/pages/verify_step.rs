//! The Verify & retire step's per-instance table: egress before (step 1's baseline) and after
//! (the check that followed the route change), pass/fail against the NAT gateway's EIPs, why
//! an instance could not be tested, what the retire plan does to its public IP and its
//! exception to the rules, if any. Built in one pass with maps (no per-row search), then
//! filtered, sorted and cut to one page server-side ([`super::verify_query`]), with counts
//! over the whole VPC at the top.

use std::collections::{BTreeSet, HashMap};

use crate::{
    store::{EgressOutcome, results::EgressResult},
    wizard::{
        input::{RetireException, VerifyInput},
        observed::{Address, Instance, Inventory},
        plan::{Change, Plan},
        steps::verify::eips_by_instance,
    },
};

use super::egress_words;
use super::step_view::describe_change;
pub use super::verify_query::{VerifyQuery, VerifyTable};

pub struct EgressLine {
    pub instance_id: String,
    pub name: String,
    pub public_ip: String,
    /// `EIP`, `ordinary` or `none`.
    pub kind: &'static str,
    pub before: String,
    pub after: String,
    /// `pass`, `fail`, `untestable` or `not tested`.
    pub verdict: &'static str,
    /// What the test saw when it did not pass.
    pub reason: String,
    pub protected: bool,
    /// The retire plan's changes for this instance: (text, irreversible).
    pub actions: Vec<(String, bool)>,
    /// What the plan does, in one word: `unbind`, `release`, `convert`, `return` or empty.
    pub action: &'static str,
    /// Why it keeps its public IP, if it does.
    pub kept: String,
    /// The operator's exception to the rule for its kind, if any.
    pub exception: Option<RetireException>,
    /// It passed, is not protected and has a public IP: the operator may make an exception.
    pub choosable: bool,
}

impl EgressLine {
    pub fn exception_str(&self) -> &'static str {
        self.exception.map_or("", RetireException::as_str)
    }

    /// The exception in words, for the row's badge.
    pub fn exception_words(&self) -> &'static str {
        match self.exception {
            None => "",
            Some(RetireException::Keep) => "keeps its public IP",
            Some(RetireException::Reversible) => "reversible path",
            Some(RetireException::Irreversible) => "irreversible path",
        }
    }
}

fn shown(r: Option<&EgressResult>) -> String {
    match r {
        None => "not tested".into(),
        Some(r) => match r.outcome {
            EgressOutcome::Ip => r.ip.clone().unwrap_or_default(),
            EgressOutcome::Failed => egress_words::failed(&r.detail),
            EgressOutcome::Untestable => egress_words::untestable(&r.detail),
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
            (EgressOutcome::Failed, _) => ("fail", egress_words::failed(&r.detail)),
            (EgressOutcome::Untestable, _) => ("untestable", egress_words::untestable(&r.detail)),
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

/// The unbind that follows a conversion (no address id yet): part of "convert", not a change
/// of its own in words (issue 11: a conversion reads as one change).
pub fn is_unbind_after_convert(c: &Change) -> bool {
    matches!(c, Change::DisassociateEip { address_id, .. } if address_id.is_empty())
}

/// What the plan does to one instance's address, in one word (the strongest change wins).
fn action_word(changes: &[&Change]) -> &'static str {
    let has = |f: fn(&Change) -> bool| changes.iter().any(|c| f(c));
    if has(|c| matches!(c, Change::ReturnNormalAddress { .. })) {
        "return"
    } else if has(|c| matches!(c, Change::TransformAddress { .. })) {
        "convert"
    } else if has(|c| matches!(c, Change::ReleaseEip { .. })) {
        "release"
    } else if has(|c| matches!(c, Change::DisassociateEip { .. })) {
        "unbind"
    } else {
        ""
    }
}

/// A row's changes in words: a conversion is one change, and an EIP that is only unbound is
/// named as kept.
fn row_actions(changes: &[&Change]) -> Vec<(String, bool)> {
    let only_unbind = action_word(changes) == "unbind";
    changes
        .iter()
        .filter(|c| !is_unbind_after_convert(c))
        .map(|c| {
            let text = describe_change(c);
            let text = if only_unbind {
                format!("{text} (kept, unbound)")
            } else {
                text
            };
            (text, c.irreversible())
        })
        .collect()
}

/// The inputs of the table besides the inventory.
pub struct Sources<'a> {
    pub nat_ips: &'a BTreeSet<String>,
    pub baseline: &'a [EgressResult],
    pub after: &'a [EgressResult],
    pub plan: Option<&'a Plan>,
    pub protected: &'a BTreeSet<String>,
    pub input: &'a VerifyInput,
}

fn by_id(set: &[EgressResult]) -> HashMap<&str, &EgressResult> {
    set.iter().map(|r| (r.instance_id.as_str(), r)).collect()
}

/// What a line is built from besides its instance: results, changes, kept reasons and
/// bound EIPs by instance id, each indexed once.
struct Lookups<'a> {
    baseline: HashMap<&'a str, &'a EgressResult>,
    after: HashMap<&'a str, &'a EgressResult>,
    changes: HashMap<&'a str, Vec<&'a Change>>,
    kept: HashMap<&'a str, &'a str>,
    eips: HashMap<&'a str, &'a Address>,
}

fn lookups<'a>(inv: &'a Inventory, s: &Sources<'a>) -> Lookups<'a> {
    let mut changes: HashMap<&str, Vec<&Change>> = HashMap::new();
    let mut kept: HashMap<&str, &str> = HashMap::new();
    if let Some(p) = s.plan {
        for c in p.changes() {
            if let Some(id) = instance_of(c) {
                changes.entry(id).or_default().push(c);
            }
        }
        kept = p
            .kept
            .iter()
            .map(|k| (k.instance_id.as_str(), k.reason.as_str()))
            .collect();
    }
    Lookups {
        baseline: by_id(s.baseline),
        after: by_id(s.after),
        changes,
        kept,
        eips: eips_by_instance(inv),
    }
}

fn line(i: &Instance, l: &Lookups<'_>, s: &Sources<'_>) -> EgressLine {
    let eip = l.eips.get(i.id.as_str()).copied();
    let public_ip = eip
        .map(|a| a.ip.clone())
        .or_else(|| i.public_ip.clone())
        .unwrap_or_default();
    let kind = match (eip.is_some(), public_ip.is_empty()) {
        (true, _) => "EIP",
        (false, false) => "ordinary",
        (false, true) => "none",
    };
    let after_result = l.after.get(i.id.as_str()).copied();
    let (verdict, reason) = verdict(after_result, s.nat_ips);
    let mine = l.changes.get(i.id.as_str()).map_or(&[][..], Vec::as_slice);
    let is_protected = s.protected.contains(&i.id);
    EgressLine {
        choosable: !public_ip.is_empty() && !is_protected && verdict == "pass",
        instance_id: i.id.clone(),
        name: i.name.clone(),
        kind,
        before: shown(l.baseline.get(i.id.as_str()).copied()),
        after: shown(after_result),
        verdict,
        reason,
        protected: is_protected,
        actions: row_actions(mine),
        action: action_word(mine),
        kept: l
            .kept
            .get(i.id.as_str())
            .map(|r| (*r).to_owned())
            .unwrap_or_default(),
        exception: s.input.exceptions.get(&i.id).copied(),
        public_ip,
    }
}

/// One line per instance of the VPC, in the inventory's order. Linear in the VPC: results,
/// changes and kept reasons are looked up in maps built once.
pub fn lines(inv: &Inventory, s: &Sources<'_>) -> Vec<EgressLine> {
    let l = lookups(inv, s);
    inv.instances.iter().map(|i| line(i, &l, s)).collect()
}

/// The line of one instance, exactly as [`lines`] makes it (an edit of one row: the others
/// are not built), or `None` when it is not an instance of `inv`.
pub fn line_for(inv: &Inventory, s: &Sources<'_>, instance_id: &str) -> Option<EgressLine> {
    let i = inv.instances.iter().find(|i| i.id == instance_id)?;
    Some(line(i, &lookups(inv, s), s))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::EgressPhase;

    fn result(outcome: EgressOutcome, ip: Option<&str>, detail: &str) -> EgressResult {
        EgressResult {
            instance_id: "ins-1".into(),
            phase: EgressPhase::Baseline,
            outcome,
            ip: ip.map(Into::into),
            detail: detail.into(),
            at: chrono::Utc::now(),
        }
    }

    #[test]
    fn egress_before_and_after_read_in_plain_words() {
        let failed = result(EgressOutcome::Failed, None, "FAILED, exit code 28");
        let offline = result(EgressOutcome::Untestable, None, "TAT agent offline");
        let ip = result(EgressOutcome::Ip, Some("43.1.1.1"), "");
        assert_eq!(
            shown(Some(&failed)),
            "no way out to the internet (curl exit 28, timed out)"
        );
        assert_eq!(
            shown(Some(&offline)),
            "not tested: its TAT agent is offline"
        );
        assert_eq!(shown(Some(&ip)), "43.1.1.1");
        assert_eq!(shown(None), "not tested");
        let nat: BTreeSet<String> = ["43.1.1.1".to_owned()].into();
        assert_eq!(verdict(Some(&ip), &nat), ("pass", String::new()));
        assert_eq!(
            verdict(Some(&failed), &nat),
            (
                "fail",
                "no way out to the internet (curl exit 28, timed out)".into()
            )
        );
    }
}
