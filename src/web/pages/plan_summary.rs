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
/// Instances whose EIP the plan releases.
fn released(plan: &Plan) -> BTreeSet<&str> {
    plan.changes()
        .filter_map(|c| match c {
            Change::ReleaseEip { instance_id, .. } => Some(instance_id.as_str()),
            _ => None,
        })
        .collect()
}

pub fn changes(plan: &Plan) -> Vec<(String, bool)> {
    let released = released(plan);
    // (one, many, irreversible) per kind, counted in this order.
    let kinds: [(&str, &str, bool); 11] = [
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
        (
            "egress IP to move onto the NAT gateway (kept for its instance)",
            "egress IPs to move onto the NAT gateway (kept for their instances)",
            false,
        ),
        ("SNAT rule to add", "SNAT rules to add", false),
    ];
    // Issue 12: the unbind and any conversion before a move are part of the move.
    let moved: BTreeSet<&str> = plan
        .changes()
        .filter_map(|c| match c {
            Change::AssociateNatEip { from_instance, .. } => Some(from_instance.as_str()),
            _ => None,
        })
        .collect();
    let mut n = [0usize; 11];
    for c in plan.changes() {
        let k = match c {
            Change::DisassociateEip { instance_id, .. }
            | Change::TransformAddress { instance_id, .. }
                if moved.contains(instance_id.as_str()) =>
            {
                continue;
            }
            Change::AssociateNatEip { .. } => 9,
            Change::CreateSnatRule { .. } => 10,
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
    let released = released(plan);
    let (mut rebind, mut cannot) = (0, 0);
    for p in &plan.items {
        match (&p.change, &p.undo) {
            // A released EIP is not bound back: its release is counted as what cannot be undone.
            (_, Undo::ReassociateEip { instance_id, .. })
                if released.contains(instance_id.as_str()) => {}
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::web::pages::step_view::{LIST_MAX, plan_view};

    /// `n` conversions (each a convert plus the unbind that follows) and one released EIP.
    fn retirements(n: usize) -> Plan {
        let mut plan = Plan::default();
        for k in 0..n {
            let (instance_id, ip) = (format!("ins-{k}"), format!("10.0.0.{k}"));
            plan.push(
                Change::TransformAddress {
                    instance_id: instance_id.clone(),
                    ip: ip.clone(),
                },
                Undo::CannotUndo {
                    what: format!("{ip} stays an EIP"),
                },
            );
            plan.push(
                Change::DisassociateEip {
                    instance_id: instance_id.clone(),
                    address_id: String::new(),
                    ip: ip.clone(),
                },
                Undo::ReassociateEip {
                    instance_id,
                    address_id: None,
                    ip,
                },
            );
        }
        let (instance_id, ip) = ("ins-eip".to_owned(), "43.0.0.1".to_owned());
        plan.push(
            Change::DisassociateEip {
                instance_id: instance_id.clone(),
                address_id: "eip-1".into(),
                ip: ip.clone(),
            },
            Undo::ReassociateEip {
                instance_id: instance_id.clone(),
                address_id: Some("eip-1".into()),
                ip: ip.clone(),
            },
        );
        plan.push(
            Change::ReleaseEip {
                instance_id,
                address_id: "eip-1".into(),
                ip,
            },
            Undo::CannotUndo {
                what: "EIP 43.0.0.1 was released".into(),
            },
        );
        plan
    }

    #[test]
    fn a_conversion_counts_and_reads_as_one_change_and_a_release_as_one() {
        let plan = retirements(3);
        assert_eq!(
            changes(&plan),
            [
                ("1 EIP to release".to_owned(), true),
                (
                    "3 ordinary IPs to convert to EIPs (kept, unbound; Tencent charges for idle \
                     EIPs)"
                        .to_owned(),
                    false
                ),
            ]
        );
        let view = plan_view(&plan, None);
        let converts: Vec<&String> = view
            .changes
            .iter()
            .map(|(c, _)| c)
            .filter(|c| c.contains("ins-0"))
            .collect();
        assert_eq!(converts.len(), 1, "{:?}", view.changes);
        assert!(converts[0].contains("to an EIP (kept, unbound)"));
        // A conversion's undo is the bind back, never "cannot be undone".
        let undo0: Vec<&String> = view.undo.iter().filter(|u| u.contains("ins-0")).collect();
        assert_eq!(undo0.len(), 1);
        assert!(
            undo0[0].starts_with("Bind 10.0.0.0 back to ins-0"),
            "{undo0:?}"
        );
        assert_eq!(
            undo(&plan),
            [
                "3 addresses bound back to their instances",
                "1 address released or returned: cannot be undone"
            ]
        );
    }

    #[test]
    fn the_plan_lists_at_most_a_page_and_counts_the_rest() {
        let plan = retirements(2 * LIST_MAX);
        let view = plan_view(&plan, None);
        assert_eq!(view.changes.len(), LIST_MAX);
        // 2 × LIST_MAX conversions and the unbind + release of one EIP, as changes in words.
        assert_eq!(view.changes.len() + view.more_changes, 2 * LIST_MAX + 2);
        assert_eq!(view.undo.len(), LIST_MAX);
        assert!(
            view.summary[1].0.starts_with("100 ordinary IPs"),
            "{:?}",
            view.summary
        );
    }
}
