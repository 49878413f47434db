//! Step 4, Verify and retire: an instance passes when its egress test printed one of the NAT's
//! EIPs. Only instances that passed and are not protected lose their public IP (DESIGN
//! invariants); the reversible path is the default, irreversible ones only when asked.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::wizard::input::VerifyInput;
use crate::wizard::observed::{Address, AddressKind, Inventory};
use crate::wizard::plan::{Change, Kept, Plan, Undo};
use crate::wizard::steps::assess::Egress;

/// Whether an egress result proves the instance now leaves through the NAT.
pub fn passed(egress: Option<&Egress>, nat_ips: &BTreeSet<String>) -> bool {
    matches!(egress, Some(Egress::Ip { ip }) if nat_ips.contains(ip.trim()))
}

pub fn plan(
    inv: &Inventory,
    gws: &super::gateways::Gateways,
    routed_tables: &BTreeSet<String>,
    after: &BTreeMap<String, Egress>,
    protected: &BTreeSet<String>,
    input: &VerifyInput,
    check: &super::keep::EgressCheck,
) -> Plan {
    let mut plan = Plan::default();
    for nat_id in gws.ids() {
        if inv.nat(nat_id).is_none() {
            plan.conflict(
                "nat",
                format!("NAT gateway {nat_id} no longer exists; roll back or start over"),
                false,
            );
        }
    }
    if plan.is_blocked() {
        return plan;
    }
    // Each instance is checked against the EIPs of its own route table's gateway.
    let gateway_ips = gws.eips(inv);
    let eips = eips_by_instance(inv);
    for i in &inv.instances {
        if !inv.table_of(i).is_some_and(|t| routed_tables.contains(t)) {
            continue;
        }
        let nat_ips = &gateway_ips[gws.of_instance(inv, i)];
        let eip = eips.get(i.id.as_str()).copied();
        let Some(ip) = eip.map(|a| a.ip.clone()).or_else(|| i.public_ip.clone()) else {
            continue;
        };
        let keep = |reason: &str| Kept {
            instance_id: i.id.clone(),
            ip: ip.clone(),
            reason: reason.to_owned(),
        };
        if protected.contains(&i.id) {
            plan.kept.push(keep("protected"));
            continue;
        }
        let Some(irreversible) = input.irreversible_for(&i.id, eip.is_some()) else {
            plan.kept.push(keep(KEPT_BY_OPERATOR));
            continue;
        };
        match after.get(&i.id) {
            _ if check.passes(&i.id, after.get(&i.id), nat_ips) => {}
            Some(Egress::Untestable { detail }) => {
                plan.kept
                    .push(keep(&format!("egress could not be tested ({detail})")));
                continue;
            }
            Some(Egress::Ip { ip: seen }) => {
                let why = if check.reserved.contains(seen.trim()) {
                    format!("egress test printed {seen}, an EIP kept for someone else")
                } else {
                    format!("egress test printed {seen}, not a NAT EIP")
                };
                plan.kept.push(keep(&why));
                continue;
            }
            Some(Egress::Failed { detail }) => {
                plan.kept
                    .push(keep(&format!("egress test failed ({detail})")));
                continue;
            }
            None => {
                plan.kept.push(keep("no egress test result yet"));
                continue;
            }
        }
        retire(
            &mut plan,
            &i.id,
            &ip,
            eip.map(|a| a.id.as_str()),
            irreversible,
        );
    }
    check_quota(&mut plan, inv);
    if plan.has_irreversible() && !input.confirm_irreversible {
        plan.conflict(
            "irreversible",
            "releasing or returning public IPs cannot be undone: type the VPC id to confirm \
             that, or choose the reversible rules (and remove the “release” / “return” \
             exceptions)",
            true,
        );
    }
    if plan.has_irreversible() {
        plan.warnings.push(
            "this plan releases public IPs; that cannot be undone, and rollback will not bring them back".into(),
        );
    }
    warn_idle_eips(&mut plan);
    plan
}

/// Each instance's bound EIP, indexed once: [`Inventory::eip_of`] searches every address, which
/// per instance is quadratic in a large VPC (50,000 instances × thousands of EIPs).
pub fn eips_by_instance(inv: &Inventory) -> HashMap<&str, &Address> {
    inv.addresses
        .iter()
        .filter(|a| a.kind == AddressKind::Eip)
        .filter_map(|a| a.instance_id.as_deref().map(|i| (i, a)))
        .collect()
}

/// The reason a kept address shows when the operator made an exception for it.
pub const KEPT_BY_OPERATOR: &str = "kept by the operator (an exception to the rule)";

/// EIPs that end up unbound but kept (unbound EIPs, converted ordinary IPs) cost money while
/// idle (Tencent bills idle EIPs by the hour): say so, with the count, so nobody is surprised.
fn warn_idle_eips(plan: &mut Plan) {
    let released: BTreeSet<&str> = plan
        .changes()
        .filter_map(|c| match c {
            Change::ReleaseEip { instance_id, .. } => Some(instance_id.as_str()),
            _ => None,
        })
        .collect();
    let idle = plan
        .changes()
        .filter(|c| {
            matches!(c, Change::DisassociateEip { instance_id, .. }
                if !released.contains(instance_id.as_str()))
        })
        .count();
    if idle > 0 {
        plan.warnings.push(format!(
            "{idle} EIP(s) will be kept unbound (so rollback can bind them back); Tencent Cloud \
             charges for idle EIPs, so release them in the console once you no longer need them"
        ));
    }
}

/// TransformAddress turns an ordinary IP into an EIP, which counts against the account's EIP
/// quota (it fails with `AddressQuotaLimitExceeded`, reference §4.18): refuse up front rather
/// than stop halfway through the retirements. An unknown quota (limit 0) is not checked.
fn check_quota(plan: &mut Plan, inv: &Inventory) {
    let transforms = plan
        .changes()
        .filter(|c| matches!(c, Change::TransformAddress { .. }))
        .count();
    let free = inv.quota.limit.saturating_sub(inv.quota.used) as usize;
    if inv.quota.limit > 0 && transforms > free {
        plan.conflict(
            "eip_quota",
            format!(
                "keeping {n} ordinary public IPs as EIPs needs {n} free EIPs of quota and only \
                 {free} are free: return them instead (rule “return”, irreversible), add \
                 exceptions to keep some of them as they are, or raise the EIP quota in the \
                 Tencent Cloud console",
                n = crate::numbers::grouped(transforms),
                free = crate::numbers::grouped(free),
            ),
            false,
        );
    }
}

fn retire(plan: &mut Plan, instance: &str, ip: &str, address_id: Option<&str>, irreversible: bool) {
    let (instance_id, ip_s) = (instance.to_owned(), ip.to_owned());
    let rebind = |addr: Option<&str>| Undo::ReassociateEip {
        instance_id: instance_id.clone(),
        address_id: addr.map(str::to_owned),
        ip: ip_s.clone(),
    };
    match address_id {
        Some(addr) => {
            plan.push(
                Change::DisassociateEip {
                    instance_id: instance_id.clone(),
                    address_id: addr.to_owned(),
                    ip: ip_s.clone(),
                },
                rebind(Some(addr)),
            );
            if irreversible {
                plan.push(
                    Change::ReleaseEip {
                        instance_id: instance_id.clone(),
                        address_id: addr.to_owned(),
                        ip: ip_s.clone(),
                    },
                    Undo::CannotUndo {
                        what: format!("EIP {ip} ({addr}) of {instance} was released"),
                    },
                );
            }
        }
        None if irreversible => {
            plan.push(
                Change::ReturnNormalAddress {
                    instance_id: instance_id.clone(),
                    ip: ip_s.clone(),
                },
                Undo::CannotUndo {
                    what: format!("ordinary public IP {ip} of {instance} was returned"),
                },
            );
        }
        None => {
            // Converting keeps the address (as an EIP) so rollback can bind it back; the
            // instance's IP stays the same through TransformAddress (reference §4.18).
            plan.push(
                Change::TransformAddress { instance_id: instance_id.clone(), ip: ip_s.clone() },
                Undo::CannotUndo {
                    what: format!("{ip} of {instance} stays an EIP; it cannot become an ordinary public IP again"),
                },
            );
            plan.push(
                Change::DisassociateEip {
                    instance_id: instance_id.clone(),
                    address_id: String::new(),
                    ip: ip_s.clone(),
                },
                rebind(None),
            );
        }
    }
}
