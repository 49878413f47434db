//! Display models for the wizard's step pages: the plan preview as plain strings, so
//! templates stay simple (and every cloud-controlled string is escaped by askama when
//! rendered).

use crate::wizard::ids::NatGatewayId;
use crate::wizard::input::{EipChoice, ProvisionInput, StepInput};
use crate::wizard::observed::{Inventory, Route};
use crate::wizard::plan::{Change, Plan, Undo};
use crate::wizard::steps::route;

use super::verify_step::is_unbind_after_convert;

/// The plan preview: what will change, what undo would do, and what stands in the way.
/// Lists are cut to [`LIST_MAX`] entries (the rest are counted, and per instance they are in
/// the step's table); the summaries count every change and undo by kind. Serialized with
/// step 4's stored rows (`verify_stored`), so a view of them shows the plan without planning.
#[derive(Clone, Default, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanView {
    pub changes: Vec<(String, bool)>,
    /// Changes not listed in `changes`.
    pub more_changes: usize,
    /// Every change counted by kind, in words: (text, irreversible).
    pub summary: Vec<(String, bool)>,
    pub undo: Vec<String>,
    pub more_undo: usize,
    pub undo_summary: Vec<String>,
    /// The blockers, in words, each saying what to do about it.
    pub conflicts: Vec<String>,
    pub needs_consent: bool,
    /// No blocker stands that a consent (a ticked box, the typed VPC id) cannot lift: the
    /// confirm button is enabled.
    pub confirmable: bool,
    pub warnings: Vec<String>,
    pub flips: Vec<String>,
    pub more_flips: usize,
    pub kept: Vec<String>,
    pub more_kept: usize,
    pub blocked: bool,
    /// [`Plan::digest`], sent back with the confirm so only the plan shown can be applied.
    pub digest: String,
}

/// At most this many entries of a plan's lists are rendered: a page must not grow with the VPC.
pub const LIST_MAX: usize = 50;

fn capped<T>(all: impl Iterator<Item = T>) -> (Vec<T>, usize) {
    let mut shown = Vec::new();
    let mut more = 0;
    for x in all {
        if shown.len() < LIST_MAX {
            shown.push(x);
        } else {
            more += 1;
        }
    }
    (shown, more)
}

/// The plan in words. With the inventory it was made from, a replaced route's old next hop is
/// named as what it is (`NORMAL_CVM 10.0.0.5 (ins-gateway1 egress-gateway)`), not only an IP.
pub fn plan_view(plan: &Plan, inv: Option<&Inventory>) -> PlanView {
    let (changes, more_changes) = capped(
        plan.changes()
            .filter(|c| !is_unbind_after_convert(c))
            .map(|c| (describe_change_seen(c, inv), c.irreversible())),
    );
    // A conversion is one change in words: its undo is the bind that follows it.
    let (undo, more_undo) = capped(
        plan.items
            .iter()
            .filter(|p| !matches!(p.change, Change::TransformAddress { .. }))
            .map(|p| match (&p.change, &p.undo) {
                (c, Undo::ReassociateEip { instance_id, ip, .. }) if is_unbind_after_convert(c) => {
                    format!(
                        "Bind {ip} back to {instance_id} (as an EIP: a converted address stays an EIP)"
                    )
                }
                (_, u) => describe_undo_seen(u, inv),
            }),
    );
    let (flips, more_flips) = capped(plan.flips.iter().map(|f| {
        let ip = f.current_public_ip.as_deref().unwrap_or("no public IP");
        let protected = if f.protected { " — PROTECTED" } else { "" };
        format!(
            "{} ({}) in {}: {ip}{protected}",
            f.instance_id, f.name, f.route_table_id
        )
    }));
    let (kept, more_kept) = capped(
        plan.kept
            .iter()
            .map(|k| format!("{} keeps {}: {}", k.instance_id, k.ip, k.reason)),
    );
    PlanView {
        changes,
        more_changes,
        summary: super::plan_summary::changes(plan),
        undo,
        more_undo,
        undo_summary: super::plan_summary::undo(plan),
        conflicts: plan.conflicts.iter().map(|c| c.message.clone()).collect(),
        needs_consent: plan.conflicts.iter().any(|c| c.needs_consent),
        confirmable: plan.conflicts.iter().all(|c| c.needs_consent),
        warnings: plan.warnings.clone(),
        flips,
        more_flips,
        kept,
        more_kept,
        blocked: plan.is_blocked(),
        digest: plan.digest().0,
    }
}

pub fn describe_change(c: &Change) -> String {
    describe_change_seen(c, None)
}

/// A route's next hop, named from the inventory when there is one.
fn hop(old: &Route, inv: Option<&Inventory>) -> String {
    match inv {
        Some(inv) => route::next_hop(inv, old),
        None => route::hop_words(old),
    }
}

fn describe_change_seen(c: &Change, inv: Option<&Inventory>) -> String {
    match c {
        Change::CreateNatGateway {
            name,
            bandwidth_mbps,
            max_connections,
            new_eips,
            existing_eips,
            zone,
            route_tables,
            ..
        } => {
            let eips = if existing_eips.is_empty() {
                format!("{new_eips} new EIP(s)")
            } else {
                format!("existing EIPs {}", existing_eips.join(", "))
            };
            let zone = zone.as_deref().unwrap_or("zone chosen by Tencent");
            let carries = if route_tables.is_empty() {
                String::new()
            } else {
                format!(", for route table(s) {}", route_tables.join(", "))
            };
            format!(
                "Create NAT gateway “{name}”: {bandwidth_mbps} Mbps, {max_connections} connections, {eips}, {zone}{carries}"
            )
        }
        Change::AdoptNatGateway { nat_id } => format!("Adopt the existing NAT gateway {nat_id}"),
        Change::DeleteFailedNatGateway { nat_id } => format!(
            "Delete NAT gateway {nat_id}, which this run created and Tencent Cloud failed to create"
        ),
        Change::CreateRoute {
            route_table_id,
            nat_id,
            description,
        } => {
            format!(
                "Add 0.0.0.0/0 → {nat_id} to route table {route_table_id}, described “{description}”"
            )
        }
        Change::ReplaceRoute {
            route_table_id,
            nat_id,
            old,
            description,
        } => format!(
            "Replace 0.0.0.0/0 → {} with → {nat_id} in route table {route_table_id}, described \
             “{description}” (was “{}”)",
            hop(old, inv),
            old.description
        ),
        Change::DisassociateEip {
            instance_id, ip, ..
        } => format!("Unbind EIP {ip} from {instance_id}"),
        Change::ReleaseEip {
            instance_id, ip, ..
        } => format!("Release EIP {ip} of {instance_id} (irreversible)"),
        Change::TransformAddress { instance_id, ip } => {
            format!("Convert the public IP {ip} of {instance_id} to an EIP (kept, unbound)")
        }
        Change::ReturnNormalAddress { instance_id, ip } => {
            format!("Return the public IP {ip} of {instance_id} (irreversible)")
        }
        Change::AssociateNatEip {
            nat_id,
            ip,
            from_instance,
        } => format!(
            "Bind EIP {ip} (taken from {from_instance}) to NAT gateway {nat_id}, and wait for the task"
        ),
        Change::CreateSnatRule {
            resource_type,
            resource_id,
            private_ip,
            public_ips,
            description,
            keeps_for,
            ..
        } => {
            let what = if resource_type == "SUBNET" {
                format!("subnet {resource_id} ({private_ip})")
            } else {
                format!("instance {resource_id} ({private_ip})")
            };
            let why = match keeps_for {
                Some(_) => "keeps its egress IP",
                None => "so that nobody else leaves through a kept EIP",
            };
            format!(
                "Add SNAT rule “{description}”: {what} leaves through {} ({why})",
                public_ips.join(", ")
            )
        }
    }
}

pub fn describe_undo(u: &Undo) -> String {
    describe_undo_seen(u, None)
}

fn describe_undo_seen(u: &Undo, inv: Option<&Inventory>) -> String {
    match u {
        // The EIPs Tencent allocated are recorded once the gateway is seen with them; only
        // those are released, and only if asked.
        Undo::DeleteNatGateway {
            nat_id,
            allocated_eips,
            ..
        } => {
            let nat = nat_id
                .as_ref()
                .map_or("created by this run", NatGatewayId::as_str);
            let eips = if allocated_eips.is_empty() {
                "its EIPs are unbound and kept; the ones Tencent allocated for it are released \
                 only if you ask"
                    .to_owned()
            } else {
                let ips: Vec<&str> = allocated_eips.iter().map(|a| a.ip.as_str()).collect();
                format!(
                    "its EIPs are unbound and kept; {} allocated for it released only if you ask",
                    ips.join(", ")
                )
            };
            format!("Delete the NAT gateway {nat} ({eips})")
        }
        Undo::DeleteRoute {
            route_table_id,
            nat_id,
        } => {
            format!("Delete the route → {nat_id} from {route_table_id}")
        }
        Undo::RestoreRoute {
            route_table_id,
            old,
        } => format!(
            "Restore 0.0.0.0/0 → {} in {route_table_id}, described “{}”",
            hop(old, inv),
            old.description
        ),
        Undo::ReassociateEip {
            instance_id, ip, ..
        } => format!("Bind {ip} to {instance_id} again"),
        Undo::CannotUndo { what } => format!("Cannot be undone: {what}"),
        Undo::NothingToUndo { what } => format!("Nothing to undo: {what}"),
        Undo::DisassociateNatEip { nat_id, ip } => {
            format!("Unbind EIP {ip} from NAT gateway {nat_id}")
        }
        Undo::DeleteSnatRule {
            nat_id,
            snat_id,
            description,
        } => format!(
            "Delete SNAT rule {} from NAT gateway {nat_id}",
            snat_id
                .clone()
                .unwrap_or_else(|| format!("“{description}”"))
        ),
    }
}

/// A step's confirmed input in words, for the run page (the stored JSON stays beside it).
pub fn describe_input(input: &StepInput) -> String {
    let list = |ids: &[String]| {
        if ids.is_empty() {
            "none".to_owned()
        } else {
            ids.join(", ")
        }
    };
    let yes_no = |b: bool| if b { "yes" } else { "no" };
    match input {
        StepInput::Assess(a) => {
            let rules: Vec<String> = a.rules.iter().map(|r| r.describe()).collect();
            format!(
                "Protected by rule (any of): {}; single hosts protected: {}; exceptions (not protected): {}",
                if rules.is_empty() {
                    "(no rules)".to_owned()
                } else {
                    rules.join(", ")
                },
                list(&a.protect),
                list(&a.unprotect)
            )
        }
        StepInput::Provision(ProvisionInput::Adopt { nat_id }) => {
            format!("Adopt the existing NAT gateway {nat_id}")
        }
        StepInput::Provision(ProvisionInput::Create(n)) => {
            let eips = match &n.eips {
                EipChoice::New(k) => format!("{k} new EIP(s)"),
                EipChoice::Existing(ips) => format!("existing EIPs {}", ips.join(", ")),
            };
            let zone = n.zone.as_deref().unwrap_or("any zone");
            format!(
                "Create NAT gateway “{}”: {} Mbps, {} connections, {eips}, {zone}",
                n.name, n.bandwidth_mbps, n.max_connections
            )
        }
        StepInput::Route(r) => format!(
            "Replace existing 0.0.0.0/0 routes: {}",
            yes_no(r.replace_existing_default)
        ),
        StepInput::Verify(v) => super::plan_summary::describe_verify_input(v),
    }
}
