//! Step 2, Provision NAT gateway: pre-flight (gateways already in the VPC → offer adopt, the
//! 3-per-VPC limit, EIP quota, chosen EIPs really unbound) and the create/adopt plan.

use crate::wizard::input::{EipChoice, ProvisionInput};
use crate::wizard::observed::Inventory;
use crate::wizard::plan::{Change, Plan, Undo};

/// Tencent allows 3 NAT gateways per VPC (reference §4.9 quotas).
pub const NATS_PER_VPC: usize = 3;

pub fn plan(inv: &Inventory, input: &ProvisionInput, run_tag: &str) -> Plan {
    let mut plan = Plan::default();
    // Reconcile first: a gateway carrying this run's tag is ours from an earlier attempt.
    if let Some(ours) = inv
        .nat_gateways
        .iter()
        .find(|n| n.run_tag() == Some(run_tag))
    {
        plan.warnings.push(format!(
            "NAT gateway {} was already created by this run; it will be reused, not created again",
            ours.id
        ));
        plan.push(
            Change::AdoptNatGateway {
                nat_id: ours.id.clone(),
            },
            Undo::DeleteNatGateway {
                nat_id: Some(ours.id.clone()),
                run_tag: run_tag.to_owned(),
                allocated_eips: vec![],
            },
        );
        return plan;
    }
    match input {
        ProvisionInput::Adopt { nat_id } => plan_adopt(inv, nat_id, &mut plan),
        ProvisionInput::Create(new) => {
            let others: Vec<&str> = inv.nat_gateways.iter().map(|n| n.id.as_str()).collect();
            if others.len() >= NATS_PER_VPC {
                plan.conflict(
                    "nat",
                    format!(
                        "the VPC already has {} NAT gateways ({}), Tencent's limit is {NATS_PER_VPC}; adopt one of them instead",
                        others.len(),
                        others.join(", ")
                    ),
                    false,
                );
            } else if !others.is_empty() {
                plan.warnings.push(format!(
                    "the VPC already has NAT gateway(s) {}; you can adopt one instead of creating another",
                    others.join(", ")
                ));
            }
            let (new_eips, existing) = match &new.eips {
                EipChoice::New(n) => (*n, vec![]),
                EipChoice::Existing(ips) => (0, ips.clone()),
            };
            check_eips(inv, new_eips, &existing, &mut plan);
            plan.push(
                Change::CreateNatGateway {
                    name: new.name.clone(),
                    bandwidth_mbps: new.bandwidth_mbps,
                    max_connections: new.max_connections,
                    new_eips,
                    existing_eips: existing,
                    zone: new.zone.clone(),
                    run_tag: run_tag.to_owned(),
                },
                Undo::DeleteNatGateway {
                    nat_id: None,
                    run_tag: run_tag.to_owned(),
                    allocated_eips: vec![],
                },
            );
        }
    }
    plan
}

fn plan_adopt(inv: &Inventory, nat_id: &str, plan: &mut Plan) {
    match inv.nat(nat_id) {
        None => plan.conflict(
            "nat",
            format!("NAT gateway {nat_id} is not in VPC {}", inv.vpc_id),
            false,
        ),
        Some(n) if n.state != "AVAILABLE" => plan.conflict(
            "nat",
            format!(
                "NAT gateway {nat_id} is {}, not AVAILABLE; wait for it or pick another",
                n.state
            ),
            false,
        ),
        Some(n) if n.eips.is_empty() => plan.conflict(
            "nat",
            format!("NAT gateway {nat_id} has no EIP, so it cannot carry egress"),
            false,
        ),
        Some(_) => {
            plan.warnings
                .push(format!("{nat_id} is adopted: rollback will not delete it"));
            plan.push(
                Change::AdoptNatGateway {
                    nat_id: nat_id.to_owned(),
                },
                Undo::CannotUndo {
                    what: format!("adopted NAT gateway {nat_id} is left in place"),
                },
            );
        }
    }
}

fn check_eips(inv: &Inventory, new_eips: u32, existing: &[String], plan: &mut Plan) {
    if new_eips > inv.quota.free() {
        plan.conflict(
            "quota",
            format!(
                "{new_eips} new EIPs requested but the account's EIP quota has {} free ({} of {} used); \
                 release unused EIPs, raise the quota, or pick existing unbound EIPs",
                inv.quota.free(),
                inv.quota.used,
                inv.quota.limit
            ),
            false,
        );
    }
    for ip in existing {
        if !inv.unbound_eips().any(|a| &a.ip == ip) {
            plan.conflict(
                "eips",
                format!("{ip} is not an unbound EIP of this account and region"),
                false,
            );
        }
    }
}
