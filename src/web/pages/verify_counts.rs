//! The counts above the step 4 table, over the whole VPC (not the filtered view): what the
//! plan does per kind, protected, per check result and exceptions, each a link to its rows.

use super::verify_step::EgressLine;

/// Counts over the whole VPC (not the filtered view), for the line above the table.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VerifyCounts {
    pub instances: usize,
    pub unbind: usize,
    pub release: usize,
    pub convert: usize,
    pub ret: usize,
    pub protected: usize,
    pub pass: usize,
    pub fail: usize,
    pub untestable: usize,
    pub untested: usize,
    pub exceptions: usize,
}

impl VerifyCounts {
    pub fn of(lines: &[EgressLine]) -> VerifyCounts {
        let mut c = VerifyCounts::default();
        for l in lines {
            c.count(l, true);
        }
        c
    }

    /// Counts `l` in (`true`) or out: an edited row leaves the counts as its old line, and
    /// enters them as its new one.
    pub fn count(&mut self, l: &EgressLine, add: bool) {
        let tally = |n: &mut usize| *n = if add { *n + 1 } else { n.saturating_sub(1) };
        tally(&mut self.instances);
        match l.action {
            "unbind" => tally(&mut self.unbind),
            "release" => tally(&mut self.release),
            "convert" => tally(&mut self.convert),
            "return" => tally(&mut self.ret),
            _ => {}
        }
        match l.verdict {
            "pass" => tally(&mut self.pass),
            "fail" => tally(&mut self.fail),
            "untestable" => tally(&mut self.untestable),
            _ => tally(&mut self.untested),
        }
        if l.protected {
            tally(&mut self.protected);
        }
        if l.exception.is_some() {
            tally(&mut self.exceptions);
        }
    }

    /// How many instances the counts are of, with thousands separators like the counts.
    pub fn of_instances(&self) -> String {
        thousands(self.instances)
    }

    /// The counts as (text, filter name, filter value) items, zeros left out except the
    /// retirements, so "0 EIPs to unbind" still tells the operator nothing will be unbound.
    pub fn items(&self) -> Vec<(String, &'static str, &'static str)> {
        let n = |k: usize, one: &str, many: &str| {
            format!("{} {}", thousands(k), if k == 1 { one } else { many })
        };
        let mut out = vec![
            (
                n(self.unbind, "EIP to unbind (kept)", "EIPs to unbind (kept)"),
                "kind",
                "eip",
            ),
            (
                n(
                    self.convert,
                    "ordinary IP to convert",
                    "ordinary IPs to convert",
                ),
                "kind",
                "ordinary",
            ),
        ];
        let more = [
            (
                self.release,
                "EIP to release",
                "EIPs to release",
                "kind",
                "eip",
            ),
            (
                self.ret,
                "ordinary IP to return",
                "ordinary IPs to return",
                "kind",
                "ordinary",
            ),
            (self.protected, "protected", "protected", "protected", "yes"),
            (self.fail, "failed", "failed", "verdict", "fail"),
            (
                self.untestable,
                "untestable",
                "untestable",
                "verdict",
                "untestable",
            ),
            (
                self.untested,
                "not tested",
                "not tested",
                "verdict",
                "untested",
            ),
            (
                self.exceptions,
                "exception",
                "exceptions",
                "exception",
                "yes",
            ),
        ];
        for (k, one, many, f, v) in more {
            if k > 0 {
                out.push((n(k, one, many), f, v));
            }
        }
        out
    }
}

/// 12,345: counts read at a glance.
pub use crate::numbers::grouped as thousands;
