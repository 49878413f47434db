//! The counts above the step 4 table, over the whole VPC (not the filtered view): what the
//! plan does per kind, protected, per check result and exceptions, each a link to its rows.

use super::verify_step::EgressLine;

/// Counts over the whole VPC (not the filtered view), for the line above the table.
#[derive(Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
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
        let mut c = VerifyCounts {
            instances: lines.len(),
            ..VerifyCounts::default()
        };
        for l in lines {
            match l.action {
                "unbind" => c.unbind += 1,
                "release" => c.release += 1,
                "convert" => c.convert += 1,
                "return" => c.ret += 1,
                _ => {}
            }
            match l.verdict {
                "pass" => c.pass += 1,
                "fail" => c.fail += 1,
                "untestable" => c.untestable += 1,
                _ => c.untested += 1,
            }
            c.protected += usize::from(l.protected);
            c.exceptions += usize::from(l.exception.is_some());
        }
        c
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
pub fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}
