//! A plan counted by kind, in words ("1,190 EIPs to unbind and keep", "890 ordinary IPs to
//! convert to EIPs"), so the plan reads the same at seven instances and at 50,000; the
//! individual changes are listed only up to a page, the rest are in the step's table.

use std::collections::BTreeSet;

use crate::wizard::{
    input::{EipRule, OrdinaryRule, RetireException, VerifyInput},
    plan::{Change, Plan, Undo},
};

use super::{verify_query::thousands, verify_step::is_unbind_after_convert};

fn counted(n: usize, one: &str, many: &str) -> String {
    format!("{} {}", thousands(n), if n == 1 { one } else { many })
}

/// Every change of the plan counted by kind: (text, irreversible), in a fixed order.
pub fn changes(plan: &Plan) -> Vec<(String, bool)> {
    let released: BTreeSet<&str> = plan
        .changes()
        .filter_map(|c| match c {
            Change::ReleaseEip { instance_id, .. } => Some(instance_id.as_str()),
            _ => None,
        })
        .collect();
    // (one, many, irreversible) per kind, counted in this order.
    let kinds: [(&str, &str, bool); 9] = [
        ("NAT gateway to create", "NAT gateways to create", false),
        (
            "existing NAT gateway to adopt",
            "existing NAT gateways to adopt",
            false,
        ),
        (
            "failed NAT gateway to delete",
            "failed NAT gateways to delete",
            false,
        ),
        (
            "route 0.0.0.0/0 → NAT to add",
            "routes 0.0.0.0/0 → NAT to add",
            false,
        ),
        (
            "default route to replace",
            "default routes to replace",
            false,
        ),
        (
            "EIP to unbind and keep (Tencent charges for idle EIPs)",
            "EIPs to unbind and keep (Tencent charges for idle EIPs)",
            false,
        ),
        ("EIP to release", "EIPs to release", true),
        (
            "ordinary IP to convert to an EIP (kept, unbound; Tencent charges for idle EIPs)",
            "ordinary IPs to convert to EIPs (kept, unbound; Tencent charges for idle EIPs)",
            false,
        ),
        ("ordinary IP to return", "ordinary IPs to return", true),
    ];
    let mut n = [0usize; 9];
    for c in plan.changes() {
        let k = match c {
            Change::CreateNatGateway { .. } => 0,
            Change::AdoptNatGateway { .. } => 1,
            Change::DeleteFailedNatGateway { .. } => 2,
            Change::CreateRoute { .. } => 3,
            Change::ReplaceRoute { .. } => 4,
            // The unbind before a release is part of the release; after a conversion, part of
            // the conversion.
            c if is_unbind_after_convert(c) => continue,
            Change::DisassociateEip { instance_id, .. }
                if released.contains(instance_id.as_str()) =>
            {
                continue;
            }
            Change::DisassociateEip { .. } => 5,
            Change::ReleaseEip { .. } => 6,
            Change::TransformAddress { .. } => 7,
            Change::ReturnNormalAddress { .. } => 8,
        };
        n[k] += 1;
    }
    kinds
        .iter()
        .zip(n)
        .filter(|(_, k)| *k > 0)
        .map(|((one, many, irreversible), k)| (counted(k, one, many), *irreversible))
        .collect()
}

/// What undo would do, counted by kind (the few gateway and route undos are listed as they are).
pub fn undo(plan: &Plan) -> Vec<String> {
    let (mut rebind, mut cannot) = (0, 0);
    for p in &plan.items {
        match (&p.change, &p.undo) {
            (_, Undo::ReassociateEip { .. }) => rebind += 1,
            // A conversion's undo is the bind that follows it.
            (Change::TransformAddress { .. }, _) => {}
            (_, Undo::CannotUndo { .. }) => cannot += 1,
            _ => {}
        }
    }
    let mut out = Vec::new();
    if rebind > 0 {
        out.push(counted(
            rebind,
            "address bound back to its instance",
            "addresses bound back to their instances",
        ));
    }
    if cannot > 0 {
        out.push(counted(
            cannot,
            "address released or returned: cannot be undone",
            "addresses released or returned: cannot be undone",
        ));
    }
    out
}

/// Step 4's confirmed input in words, for the run page.
pub fn describe_verify_input(v: &VerifyInput) -> String {
    let eips = match v.eip_rule {
        EipRule::UnbindKeep => "unbind and keep",
        EipRule::Release => "release (irreversible)",
    };
    let ordinary = match v.ordinary_rule {
        OrdinaryRule::ConvertKeep => "convert to an EIP and keep",
        OrdinaryRule::Return => "return (irreversible)",
    };
    let count = |e: RetireException| v.exceptions.values().filter(|x| **x == e).count();
    format!(
        "EIPs: {eips}; ordinary IPs: {ordinary}; exceptions: {} keep their IP, {} reversible, {} \
         irreversible; VPC id typed for irreversible choices: {}",
        count(RetireException::Keep),
        count(RetireException::Reversible),
        count(RetireException::Irreversible),
        if v.confirm_irreversible { "yes" } else { "no" }
    )
}
