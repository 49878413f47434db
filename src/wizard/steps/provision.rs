//! Step 2, Provision NAT gateway: pre-flight (gateways already in the VPC → offer adopt, the
//! 3-per-VPC limit, EIP quota, chosen EIPs really unbound) and the create/adopt plan. The
//! same pre-flight facts ([`Preflight`]) are shown on the step page before anything is asked.

use crate::wizard::ids::{NatGatewayId, NatState};
use crate::wizard::input::{EipChoice, NewNat, ProvisionInput};
use crate::wizard::observed::{Address, EipQuota, Inventory, NatGateway};
use crate::wizard::plan::{Change, Plan, Undo};

/// Tencent allows 3 NAT gateways per VPC (reference §4.9 quotas).
pub const NATS_PER_VPC: usize = 3;

/// The name proposed for the gateway a run creates: `natpilot-<vpc id>`.
pub fn default_name(vpc_id: &str) -> String {
    format!("natpilot-{vpc_id}")
}

/// What step 2 observed before asking: the facts the plan checks, for the page to show first.
pub struct Preflight<'i> {
    pub quota: EipQuota,
    /// Gateways of the VPC that this run did not create (adoptable when AVAILABLE with an EIP).
    pub others: Vec<&'i NatGateway>,
    /// Gateways this run created in an earlier attempt.
    pub ours: Vec<&'i NatGateway>,
    /// EIPs of the account and region bound to nothing: they can be given to the gateway.
    pub unbound: Vec<&'i Address>,
}

impl Preflight<'_> {
    pub fn of<'i>(inv: &'i Inventory, run_tag: &str) -> Preflight<'i> {
        let (ours, others) = inv
            .nat_gateways
            .iter()
            .partition(|n| super::gateways::is_runs(n, run_tag));
        Preflight {
            quota: inv.quota,
            others,
            ours,
            unbound: inv.unbound_eips().collect(),
        }
    }

    /// Another gateway cannot be created: the VPC holds Tencent's limit already.
    pub fn at_limit(&self) -> bool {
        self.others.len() >= NATS_PER_VPC
    }
}

/// Why a gateway cannot be adopted, or `None` when it can (the checks [`plan`] makes).
pub fn not_adoptable(n: &NatGateway) -> Option<String> {
    if n.state != NatState::Available {
        Some(format!("it is {}, not AVAILABLE", n.state))
    } else if n.eips.is_empty() {
        Some("it has no EIP, so it cannot carry egress".into())
    } else {
        None
    }
}

/// `creates_so_far`: how many gateways this run has already asked Tencent to create (its
/// create undo records); a gateway created after a failed one is a new attempt with a record
/// of its own.
pub fn plan(inv: &Inventory, input: &ProvisionInput, run_tag: &str, creates_so_far: u32) -> Plan {
    let mut plan = Plan::default();
    let ours: Vec<&NatGateway> = inv
        .nat_gateways
        .iter()
        .filter(|n| n.run_tag() == Some(run_tag))
        .collect();
    let live = ours.iter().find(|n| !n.state.is_dead());
    let new = match input {
        ProvisionInput::Create(new) => new,
        ProvisionInput::Adopt { .. } if !ours.is_empty() => {
            let ids: Vec<&str> = ours.iter().map(|n| n.id.as_str()).collect();
            plan.conflict(
                "nat",
                format!(
                    "this run already created NAT gateway {}; plan \"create\" with the same \
                     settings to use it (or to replace it if it failed), or roll back",
                    ids.join(", ")
                ),
                false,
            );
            return plan;
        }
        ProvisionInput::Adopt { nat_id } => {
            plan_adopt(inv, nat_id, &mut plan);
            return plan;
        }
    };
    let (new_eips, existing) = match &new.eips {
        EipChoice::New(n) => (*n, vec![]),
        EipChoice::Existing(ips) => (0, ips.clone()),
    };
    // Reconcile first: a live gateway carrying this run's tag is ours from an earlier attempt;
    // the create finds it and is not sent again.
    if let Some(ours) = live {
        plan.warnings.push(format!(
            "NAT gateway {} was already created by this run; it will be reused, not created again",
            ours.id
        ));
        let attempt = creates_so_far.max(1);
        push_create(&mut plan, new, new_eips, existing, run_tag, attempt);
        return plan;
    }
    for dead in &ours {
        plan.warnings.push(format!(
            "NAT gateway {} of this run is {} and can never carry traffic: it is deleted first, \
             then a new one is created. EIPs Tencent allocated for it stay allocated and unbound; \
             a rollback with \"release the NAT gateway's new EIPs\" releases them",
            dead.id, dead.state
        ));
        plan.push(
            Change::DeleteFailedNatGateway {
                nat_id: dead.id.clone(),
            },
            Undo::NothingToUndo {
                what: format!("failed NAT gateway {} was deleted", dead.id),
            },
        );
    }
    let others: Vec<&str> = inv
        .nat_gateways
        .iter()
        .filter(|n| !super::gateways::is_runs(n, run_tag))
        .map(|n| n.id.as_str())
        .collect();
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
    check_eips(inv, new_eips, &existing, &mut plan);
    let attempt = if ours.is_empty() {
        creates_so_far.max(1)
    } else {
        creates_so_far + 1
    };
    push_create(&mut plan, new, new_eips, existing, run_tag, attempt);
    plan
}

fn push_create(
    plan: &mut Plan,
    new: &NewNat,
    new_eips: u32,
    existing: Vec<String>,
    run_tag: &str,
    attempt: u32,
) {
    plan.push(
        Change::CreateNatGateway {
            name: new.name.clone(),
            bandwidth_mbps: new.bandwidth_mbps,
            max_connections: new.max_connections,
            new_eips,
            existing_eips: existing.clone(),
            zone: new.zone.clone(),
            run_tag: run_tag.to_owned(),
            attempt,
            gateway: 1,
            route_tables: vec![],
        },
        Undo::DeleteNatGateway {
            nat_id: None,
            run_tag: run_tag.to_owned(),
            allocated_eips: vec![],
            operator_eips: Some(existing),
        },
    );
}

fn plan_adopt(inv: &Inventory, nat_id: &NatGatewayId, plan: &mut Plan) {
    match inv.nat(nat_id) {
        None => plan.conflict(
            "nat",
            format!("NAT gateway {nat_id} is not in VPC {}", inv.vpc_id),
            false,
        ),
        Some(n) if n.state != NatState::Available => plan.conflict(
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
                    nat_id: nat_id.clone(),
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

/// Issue 12: places the route tables on gateways from what keeping step 1's egress IPs needs
/// (`demands`, `keep::demand`) and adds a create for each further gateway to step 2's plan —
/// or the blocker that says why even the gateways the VPC still allows are not enough. Nothing
/// changes when the first gateway holds it all. `extra_creates`: per further gateway (2, 3),
/// how many creates the run has recorded for it so far (as `creates_so_far` for the first).
pub fn plan_gateways(
    plan: &mut Plan,
    inv: &Inventory,
    input: &ProvisionInput,
    run_tag: &str,
    demands: &[super::gateways::Demand],
    extra_creates: &std::collections::BTreeMap<u32, u32>,
) {
    use super::gateways::{EXTRA_OWN_EIPS, Room, assign, extra_tag, is_runs};
    if demands.iter().all(|d| d.eips == 0) {
        return;
    }
    let adopted = match input {
        ProvisionInput::Adopt { nat_id } => inv.nat(nat_id),
        ProvisionInput::Create(_) => None,
    };
    let first_own_eips = match (input, adopted) {
        (ProvisionInput::Create(new), _) => match &new.eips {
            EipChoice::New(n) => *n as usize,
            EipChoice::Existing(ips) => ips.len(),
        },
        (ProvisionInput::Adopt { .. }, Some(n)) => n.eips.len(),
        (ProvisionInput::Adopt { .. }, None) => return,
    };
    let room = Room {
        first_own_eips,
        first_rules_taken: adopted.map_or(0, |n| {
            inv.snat_rules
                .iter()
                .filter(|r| {
                    r.nat_id == n.id && !r.description.starts_with(&format!("np {run_tag} "))
                })
                .count()
        }),
        others: inv
            .nat_gateways
            .iter()
            .filter(|n| !is_runs(n, run_tag) && Some(n.id.clone()) != adopted.map(|a| a.id.clone()))
            .map(|n| n.id.to_string())
            .collect(),
        vpc_id: inv.vpc_id.clone(),
    };
    let tables = match assign(demands, &room) {
        Ok(t) => t,
        Err(msg) => {
            plan.conflict("nat_gateways", msg, false);
            return;
        }
    };
    if tables.len() <= 1 {
        return;
    }
    let (base, bandwidth_mbps, max_connections, zone) = match input {
        ProvisionInput::Create(new) => (
            new.name.clone(),
            new.bandwidth_mbps,
            new.max_connections,
            new.zone.clone(),
        ),
        ProvisionInput::Adopt { .. } => (default_name(&inv.vpc_id), 100, 1_000_000, None),
    };
    let extras = (tables.len() - 1) as u32;
    let first_new = match input {
        ProvisionInput::Create(NewNat {
            eips: EipChoice::New(n),
            ..
        }) => *n,
        _ => 0,
    };
    let total_new = first_new + extras * EXTRA_OWN_EIPS;
    if first_new <= inv.quota.free() && total_new > inv.quota.free() {
        plan.conflict(
            "quota",
            format!(
                "{total_new} new EIPs are needed ({first_new} for the first NAT gateway, {EXTRA_OWN_EIPS} for each of the {extras} further ones) but the account's EIP quota has {} free ({} of {} used); release unused EIPs or raise the quota",
                inv.quota.free(),
                inv.quota.used,
                inv.quota.limit
            ),
            false,
        );
    }
    let kept: usize = demands.iter().map(|d| d.eips).sum();
    let mut described = vec![format!(
        "the first for route table(s) {}",
        if tables[0].is_empty() {
            "none".to_owned()
        } else {
            tables[0].join(", ")
        }
    )];
    for (k, t) in tables.iter().enumerate().skip(1) {
        let n = k as u32 + 1;
        let name = format!("{base}-{n}");
        let tag = extra_tag(run_tag, n);
        // A further gateway that Tencent failed to create is deleted first and created again,
        // as a new attempt with a record of its own (as for the first gateway).
        let dead: Vec<&NatGateway> = inv
            .nat_gateways
            .iter()
            .filter(|g| g.run_tag() == Some(tag.as_str()) && g.state.is_dead())
            .collect();
        let live = inv
            .nat_gateways
            .iter()
            .any(|g| g.run_tag() == Some(tag.as_str()) && !g.state.is_dead());
        if !live {
            for d in &dead {
                plan.push(
                    Change::DeleteFailedNatGateway {
                        nat_id: d.id.clone(),
                    },
                    Undo::NothingToUndo {
                        what: format!("failed NAT gateway {} was deleted", d.id),
                    },
                );
            }
        }
        let creates = extra_creates.get(&n).copied().unwrap_or(0);
        let attempt = if live || dead.is_empty() {
            creates.max(1)
        } else {
            creates + 1
        };
        described.push(format!(
            "“{name}” ({EXTRA_OWN_EIPS} new EIP of its own) for route table(s) {}",
            t.join(", ")
        ));
        plan.push(
            Change::CreateNatGateway {
                name,
                bandwidth_mbps,
                max_connections,
                new_eips: EXTRA_OWN_EIPS,
                existing_eips: vec![],
                zone: zone.clone(),
                run_tag: tag.clone(),
                attempt,
                gateway: n,
                route_tables: t.clone(),
            },
            Undo::DeleteNatGateway {
                nat_id: None,
                run_tag: tag,
                allocated_eips: vec![],
                operator_eips: Some(vec![]),
            },
        );
    }
    plan.warnings.push(format!(
        "keeping {kept} egress IPs needs more than one NAT gateway (at most 10 EIPs each, at least one of its own; 200 SNAT rules each): this step makes {} gateways, {}. Step 3 routes each route table to its own gateway and moves each kept IP onto the gateway of its instance's route table; rollback deletes every gateway this run created",
        tables.len(),
        described.join("; ")
    ));
}

/// The further gateways step 2's plan created: (`natpilot:run` tag, route tables), in order.
pub fn planned_extras(step2: &Plan) -> Vec<(String, Vec<String>)> {
    step2
        .changes()
        .filter_map(|c| match c {
            Change::CreateNatGateway {
                gateway,
                run_tag,
                route_tables,
                ..
            } if *gateway > 1 => Some((run_tag.clone(), route_tables.clone())),
            _ => None,
        })
        .collect()
}
