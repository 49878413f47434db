//! Issue 12, keeping egress IPs that others allowlist, planned inside step 3 (the step whose
//! route would otherwise send those instances out through a random NAT EIP).
//!
//! Per kept instance, one chain, run after the route changes of the step: an ordinary IP
//! becomes an EIP (TransformAddress), the EIP leaves the instance, is bound to the NAT gateway
//! and an SNAT rule sends exactly that instance through it. A shared egress IP (an egress
//! proxy's EIP that many instances leave through today) moves the same way, with SUBNET rules
//! for the subnets that leave through it. Before any kept EIP reaches the gateway, every other
//! routed subnet gets a SUBNET rule on the gateway's own EIPs: without one, Tencent balances
//! unruled traffic over *all* the gateway's EIPs (addendum 2 §2.6), kept ones included.
//!
//! Routes first, then the moves: an instance is never without egress; from its route change to
//! its SNAT rule it leaves through one of the gateway's own EIPs (the plan says for how long).
//! Pure: no I/O.

use std::collections::{BTreeMap, BTreeSet};

use crate::store::keep_egress::{Mark, MarkKind};
use crate::wizard::ids::NatGatewayId;
use crate::wizard::observed::{Instance, Inventory};
use crate::wizard::plan::{Change, Plan, Undo};
use crate::wizard::protection::{Facts, Rule};
use crate::wizard::steps::assess::Egress;
use crate::wizard::steps::gateways::Gateways;
use crate::wizard::steps::route::table_by_subnet;
use crate::wizard::steps::verify::eips_by_instance;

/// The tag that marks an instance whose egress IP must be kept.
pub const KEEP_TAG: (&str, &str) = ("natpilot:keep-egress-ip", "true");
/// EIPs per NAT gateway, SNAT rules per NAT gateway (addendum 2 §2.7).
pub const MAX_EIPS_PER_NAT: usize = 10;
pub const MAX_SNAT_RULES_PER_NAT: usize = 200;
/// How many instances must leave through one IP that is not their own before step 1 calls it
/// shared.
pub const MIN_SHARED: usize = 2;
/// Seconds one EIP task (TransformAddress, unbind, bind to the gateway) takes on Tencent Cloud,
/// roughly (reference §3.5: "up to ~5 s per task").
const TASK_SECS: u64 = 5;

/// The marks of a run, decoded strictly.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeepMarks {
    pub instances: BTreeSet<String>,
    pub rules: Vec<Rule>,
    pub shared_ips: BTreeSet<String>,
}

impl KeepMarks {
    /// A rule that does not decode is an error naming it, never "no rule".
    pub fn from_marks(marks: &[Mark]) -> Result<KeepMarks, String> {
        let mut out = KeepMarks::default();
        for m in marks {
            match m.kind {
                MarkKind::Instance => {
                    out.instances.insert(m.value.clone());
                }
                MarkKind::SharedIp => {
                    out.shared_ips.insert(m.value.clone());
                }
                MarkKind::Rule => out.rules.push(
                    serde_json::from_str(&m.value)
                        .map_err(|e| format!("keep-egress rule {:?}: {e}", m.value))?,
                ),
            }
        }
        Ok(out)
    }

    /// Why the instance keeps its egress IP, or `None`: marked by id, by the tag, or by the
    /// first rule that matches it.
    pub fn reason(&self, i: &Instance) -> Option<String> {
        if self.instances.contains(&i.id) {
            return Some("marked by the operator".into());
        }
        if i.tags
            .iter()
            .any(|(k, v)| k == KEEP_TAG.0 && v.eq_ignore_ascii_case(KEEP_TAG.1))
        {
            return Some(format!("tagged {}={}", KEEP_TAG.0, KEEP_TAG.1));
        }
        let facts = Facts {
            name: &i.name,
            subnet_id: &i.subnet_id,
            tags: &i.tags,
            has_dns: false,
        };
        self.rules
            .iter()
            .find(|r| r.matches(&facts))
            .map(|r| r.describe())
    }
}

/// A baseline egress IP that several instances leave through without it being their own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SharedEgress {
    pub ip: String,
    /// Every instance that left through it (its holder too), in id order.
    pub instances: Vec<String>,
    /// The instance it belongs to (an EIP or ordinary IP of that instance), if in the VPC.
    pub holder: Option<String>,
}

impl From<&SharedEgress> for crate::store::exposure_counts::SharedIp {
    fn from(s: &SharedEgress) -> Self {
        Self {
            ip: s.ip.clone(),
            instances: s.instances.len(),
            holder: s.holder.clone(),
        }
    }
}

/// The instance's own public IP: its EIP or its ordinary public IP.
fn own_ip(eips: &BTreeMap<&str, (&str, &str)>, i: &Instance) -> Option<(String, Option<String>)> {
    match eips.get(i.id.as_str()) {
        Some((id, ip)) => Some(((*ip).to_owned(), Some((*id).to_owned()))),
        None => i.public_ip.clone().map(|ip| (ip, None)),
    }
}

/// Shared egress IPs of the baseline, most-used first ("31 instances leave through
/// 119.28.20.1 today").
pub fn shared_egress(inv: &Inventory, baseline: &BTreeMap<String, Egress>) -> Vec<SharedEgress> {
    let eips = eip_index(inv);
    let own: BTreeMap<&str, String> = inv
        .instances
        .iter()
        .filter_map(|i| own_ip(&eips, i).map(|(ip, _)| (i.id.as_str(), ip)))
        .collect();
    let seen = baseline.iter().filter_map(|(id, e)| match e {
        Egress::Ip { ip } => Some((id.as_str(), ip.as_str())),
        _ => None,
    });
    shared_from(&own, seen)
}

/// [`shared_egress`] from step 1's stored exposure rows: (instance id, its own public IP or
/// "", the IP it left through), as `store::exposure::egress_ips` reads them.
pub fn shared_from_rows(rows: &[(String, String, String)]) -> Vec<SharedEgress> {
    let own: BTreeMap<&str, String> = rows
        .iter()
        .filter(|(_, own, _)| !own.is_empty())
        .map(|(id, own, _)| (id.as_str(), own.clone()))
        .collect();
    shared_from(
        &own,
        rows.iter().map(|(id, _, ip)| (id.as_str(), ip.as_str())),
    )
}

/// `own`: instance → its own public IP; `seen`: instance → the IP it left through.
fn shared_from<'a>(
    own: &BTreeMap<&'a str, String>,
    seen: impl Iterator<Item = (&'a str, &'a str)>,
) -> Vec<SharedEgress> {
    let mut by_ip: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    let mut foreign: BTreeMap<&str, usize> = BTreeMap::new();
    for (id, ip) in seen {
        let ip = ip.trim();
        by_ip.entry(ip).or_default().push(id);
        if own.get(id).map(String::as_str) != Some(ip) {
            *foreign.entry(ip).or_default() += 1;
        }
    }
    // Each IP's holder: the first instance (in id order) whose own IP it is, found by lookup
    // (a search of `own` per shared IP was quadratic on a large VPC).
    let mut holder_of: BTreeMap<&str, &str> = BTreeMap::new();
    for (id, own) in own {
        holder_of.entry(own.as_str()).or_insert(id);
    }
    let mut out: Vec<SharedEgress> = by_ip
        .into_iter()
        .filter(|(ip, _)| foreign.get(ip).copied().unwrap_or(0) >= MIN_SHARED)
        .map(|(ip, ids)| SharedEgress {
            ip: ip.to_owned(),
            holder: holder_of.get(ip).map(|id| (*id).to_owned()),
            instances: ids.into_iter().map(str::to_owned).collect(),
        })
        .collect();
    out.sort_by(|a, b| {
        b.instances
            .len()
            .cmp(&a.instances.len())
            .then(a.ip.cmp(&b.ip))
    });
    out
}

/// Instance id → (EIP id, IP) of its bound EIP.
fn eip_index(inv: &Inventory) -> BTreeMap<&str, (&str, &str)> {
    eips_by_instance(inv)
        .into_iter()
        .map(|(i, a)| (i, (a.id.as_str(), a.ip.as_str())))
        .collect()
}

/// The description of a rule this run makes: unique per (run, resource), so the rule can be
/// found again after a create that answers no id, and at most 60 characters (the console's
/// limit, addendum 2 §2.1).
pub fn rule_description(run_tag: &str, resource_id: &str) -> String {
    format!("np {run_tag} {resource_id}")
}

/// One IP to move onto the gateway, and whom it keeps.
struct Move<'a> {
    holder: &'a Instance,
    ip: String,
    /// `None`: an ordinary public IP (TransformAddress first).
    address_id: Option<String>,
    /// Rules that send their sources through `ip`: (resource type, resource id, private source).
    rules: Vec<(&'static str, String, String)>,
}

/// The IPs to move and the instances their rules cover. Conflicts for marks that cannot be
/// kept go to `plan`.
fn collect_moves<'a>(
    plan: &mut Plan,
    inv: &'a Inventory,
    shared: &[SharedEgress],
    baseline: &BTreeMap<String, Egress>,
    marks: &KeepMarks,
    protected: &BTreeSet<String>,
    routed_instance: &dyn Fn(&Instance) -> bool,
) -> (Vec<Move<'a>>, BTreeSet<String>) {
    let eips = eip_index(inv);
    let mut moves: Vec<Move> = Vec::new();
    let mut covered: BTreeSet<String> = BTreeSet::new();
    // Shared IPs first: their subnet rules decide which instances need no rule of their own.
    for ip in &marks.shared_ips {
        let Some(s) = shared.iter().find(|s| &s.ip == ip) else {
            plan.conflict(
                ip,
                format!("no instances leave through {ip} any more (it was kept as a shared egress IP in step 1); nothing to keep"),
                false,
            );
            continue;
        };
        let Some(holder) = s.holder.as_deref().and_then(|h| inv.instance(h)) else {
            plan.conflict(
                ip,
                format!("{ip} is not the public IP of an instance of this VPC, so natpilot cannot move it onto the NAT gateway"),
                false,
            );
            continue;
        };
        let Some((_, address_id)) = own_ip(&eips, holder) else {
            continue;
        };
        let members: BTreeSet<&str> = s.instances.iter().map(String::as_str).collect();
        let mut rules = Vec::new();
        for sub in &inv.subnets {
            let in_subnet: Vec<&Instance> = inv
                .instances
                .iter()
                .filter(|i| i.subnet_id == sub.id)
                .collect();
            if in_subnet.is_empty() || !in_subnet.iter().all(|i| routed_instance(i)) {
                continue;
            }
            // The subnet keeps the IP as a whole when every tested instance of it left
            // through it; else its members get rules one by one.
            let tested: Vec<&&Instance> = in_subnet
                .iter()
                .filter(|i| matches!(baseline.get(&i.id), Some(Egress::Ip { .. })))
                .collect();
            if !tested.is_empty() && tested.iter().all(|i| members.contains(i.id.as_str())) {
                rules.push(("SUBNET", sub.id.clone(), sub.cidr.clone()));
                covered.extend(in_subnet.iter().map(|i| i.id.clone()));
            }
        }
        for id in &s.instances {
            if covered.contains(id) {
                continue;
            }
            let Some(i) = inv.instance(id) else { continue };
            if let Some(pip) = &i.private_ip
                && routed_instance(i)
            {
                rules.push(("NETWORKINTERFACE", i.id.clone(), pip.clone()));
                covered.insert(i.id.clone());
            }
        }
        moves.push(Move {
            holder,
            ip: ip.clone(),
            address_id,
            rules,
        });
    }
    for i in &inv.instances {
        let Some(reason) = marks.reason(i) else {
            continue;
        };
        if moves.iter().any(|m| m.holder.id == i.id) {
            continue;
        }
        if let Some(problem) = cannot_keep(inv, &eips, i, baseline, protected, routed_instance) {
            plan.conflict(
                &i.id,
                format!(
                    "{} ({}) keeps its egress IP ({reason}), but {problem}",
                    i.id, i.name
                ),
                false,
            );
            continue;
        }
        let Some((ip, address_id)) = own_ip(&eips, i) else {
            continue;
        };
        let pip = i.private_ip.clone().unwrap_or_default();
        moves.push(Move {
            holder: i,
            ip,
            address_id,
            rules: vec![("NETWORKINTERFACE", i.id.clone(), pip)],
        });
        covered.insert(i.id.clone());
    }
    (moves, covered)
}

/// Whether the run keeps anything at all (else step 3 is exactly what it was before issue 12).
fn keeps_nothing(inv: &Inventory, marks: &KeepMarks) -> bool {
    marks.instances.is_empty()
        && marks.rules.is_empty()
        && marks.shared_ips.is_empty()
        && !inv.instances.iter().any(|i| marks.reason(i).is_some())
}

/// Routed subnets that get a SUBNET rule on their gateway's own EIPs (see the module
/// comment): every member routed, not all of them covered by a keeping rule, no keeping rule
/// on the subnet, and no rule for it on its gateway yet (`has_rule`).
fn pinned_subnets<'a>(
    inv: &'a Inventory,
    moves: &[Move<'_>],
    covered: &BTreeSet<String>,
    routed_instance: &dyn Fn(&Instance) -> bool,
    has_rule: &dyn Fn(&crate::wizard::observed::Subnet) -> bool,
) -> Vec<&'a crate::wizard::observed::Subnet> {
    inv.subnets
        .iter()
        .filter(|s| {
            let members: Vec<&Instance> = inv
                .instances
                .iter()
                .filter(|i| i.subnet_id == s.id)
                .collect();
            !members.is_empty()
                && members.iter().all(|i| routed_instance(i))
                && !members.iter().all(|i| covered.contains(&i.id))
                && !moves.iter().any(|m| m.rules.iter().any(|r| r.1 == s.id))
                && !has_rule(s)
        })
        .collect()
}

/// The route tables a move's rules apply in (they must share its gateway); the holder's own
/// table when it has no rule.
fn move_tables(inv: &Inventory, m: &Move<'_>) -> BTreeSet<String> {
    let mut out: BTreeSet<String> = m
        .rules
        .iter()
        .filter_map(|(kind, resource, _)| match *kind {
            "SUBNET" => inv.subnet(resource).map(|s| s.route_table_id.clone()),
            _ => inv
                .instance(resource)
                .and_then(|i| inv.table_of(i))
                .map(str::to_owned),
        })
        .collect();
    if out.is_empty()
        && let Some(t) = inv.table_of(m.holder)
    {
        out.insert(t.to_owned());
    }
    out
}

/// What keeping the marked egress IPs needs per group of route tables, for step 2 to place
/// the tables on gateways ([`super::gateways::assign`]): every route table in use, grouped
/// where one kept IP serves several. Counted as step 3 will plan it, every table routed.
pub fn demand(
    inv: &Inventory,
    baseline: &BTreeMap<String, Egress>,
    marks: &KeepMarks,
    protected: &BTreeSet<String>,
) -> Vec<super::gateways::Demand> {
    use super::gateways::Demand;
    let tables = crate::wizard::steps::route::tables_in_use(inv);
    if keeps_nothing(inv, marks) {
        return Vec::new();
    }
    let mut scratch = Plan::default();
    let shared = shared_egress(inv, baseline);
    let routed_instance = |i: &Instance| inv.table_of(i).is_some();
    let (moves, covered) = collect_moves(
        &mut scratch,
        inv,
        &shared,
        baseline,
        marks,
        protected,
        &routed_instance,
    );
    // Union of tables that share a kept IP, smallest table id as the group's name.
    let mut group: BTreeMap<String, String> =
        tables.iter().map(|t| (t.clone(), t.clone())).collect();
    fn root(group: &BTreeMap<String, String>, t: &str) -> String {
        let mut t = t.to_owned();
        while let Some(up) = group.get(&t).filter(|up| **up != t) {
            t = up.clone();
        }
        t
    }
    let mut per_move: Vec<(String, usize)> = Vec::new();
    for m in &moves {
        let ts: Vec<String> = move_tables(inv, m).into_iter().collect();
        let Some(first) = ts.first() else { continue };
        for t in &ts {
            group.entry(t.clone()).or_insert_with(|| t.clone());
            let (a, b) = (root(&group, first), root(&group, t));
            if a != b {
                let (lo, hi) = if a < b { (a, b) } else { (b, a) };
                group.insert(hi, lo);
            }
        }
        per_move.push((first.clone(), m.rules.len()));
    }
    let mut out: BTreeMap<String, Demand> = BTreeMap::new();
    let keys: Vec<String> = group.keys().cloned().collect();
    for t in keys {
        let r = root(&group, &t);
        out.entry(r.clone())
            .or_insert_with(|| Demand {
                tables: Vec::new(),
                eips: 0,
                rules: 0,
            })
            .tables
            .push(t);
    }
    for (t, rules) in per_move {
        let d = out
            .get_mut(&root(&group, &t))
            .expect("every table has a group");
        d.eips += 1;
        d.rules += rules;
    }
    for s in pinned_subnets(inv, &moves, &covered, &routed_instance, &|_| false) {
        if let Some(d) = out.get_mut(&root(&group, &s.route_table_id)) {
            d.rules += 1;
        }
    }
    out.into_values().collect()
}

/// Adds the moves to step 3's `plan` (after its route changes). `routed`: the route tables that
/// send `0.0.0.0/0` to their gateway once the step's routes are made; `gws`: each table's.
#[allow(clippy::too_many_arguments)]
pub fn plan(
    plan: &mut Plan,
    inv: &Inventory,
    gws: &Gateways,
    run_tag: &str,
    baseline: &BTreeMap<String, Egress>,
    marks: &KeepMarks,
    protected: &BTreeSet<String>,
    routed: &BTreeSet<String>,
) {
    let shared = shared_egress(inv, baseline);
    warn_unkept_shared(plan, &shared, marks);
    if keeps_nothing(inv, marks) {
        return;
    }
    let mut missing = false;
    for nat_id in gws.ids() {
        if inv.nat(nat_id).is_none() {
            plan.conflict("nat", format!("NAT gateway {nat_id} was not found"), false);
            missing = true;
        }
    }
    if missing {
        return;
    }
    let by_subnet = table_by_subnet(inv);
    let routed_instance = |i: &Instance| {
        by_subnet
            .get(i.subnet_id.as_str())
            .is_some_and(|t| routed.contains(*t))
    };
    let (moves, covered) = collect_moves(
        plan,
        inv,
        &shared,
        baseline,
        marks,
        protected,
        &routed_instance,
    );
    if moves.is_empty() {
        return;
    }
    for m in &moves {
        if let Some(u) = inv.unmovable_eips.iter().find(|u| u.ip == m.ip) {
            plan.conflict(
                &m.ip,
                format!("{} cannot move onto the NAT gateway: {}", m.ip, u.reason),
                false,
            );
        }
    }
    // Each move goes to the gateway of the tables its rules apply in.
    let mut gateway_of_move: Vec<&NatGatewayId> = Vec::new();
    for m in &moves {
        let gs: BTreeSet<&NatGatewayId> = move_tables(inv, m).iter().map(|t| gws.of(t)).collect();
        if gs.len() > 1 {
            plan.conflict(
                &m.ip,
                format!(
                    "{} keeps the egress of route tables that step 2 gave different NAT gateways ({}); an SNAT rule only applies on one gateway: roll back and start a new run, so step 2 plans the gateways for the VPC as it is now",
                    m.ip,
                    gs.iter().map(|g| g.as_str()).collect::<Vec<_>>().join(", ")
                ),
                false,
            );
        }
        gateway_of_move.push(gs.into_iter().next().unwrap_or(&gws.first));
    }
    let pools: BTreeMap<&NatGatewayId, Vec<String>> = gws
        .ids()
        .into_iter()
        .map(|id| {
            let pool = inv
                .nat(id)
                .map(|n| n.eip_ips().map(str::to_owned).collect())
                .unwrap_or_default();
            (id, pool)
        })
        .collect();
    let has_rule = |s: &crate::wizard::observed::Subnet| {
        let nat_id = gws.of(&s.route_table_id);
        inv.snat_rules
            .iter()
            .any(|r| r.nat_id == *nat_id && r.resource_id == s.id)
    };
    let pinned = pinned_subnets(inv, &moves, &covered, &routed_instance, &has_rule);
    for (nat_id, own_pool) in &pools {
        let here: Vec<&Move> = moves
            .iter()
            .zip(&gateway_of_move)
            .filter(|(_, g)| *g == nat_id)
            .map(|(m, _)| m)
            .collect();
        let pinned_here = pinned
            .iter()
            .filter(|s| gws.of(&s.route_table_id) == *nat_id)
            .count();
        if here.is_empty() && pinned_here == 0 {
            continue;
        }
        if own_pool.is_empty() {
            plan.conflict("nat", format!("NAT gateway {nat_id} has no EIP of its own; a gateway keeps at least one, and it is the egress of everyone not kept"), false);
        }
        let eips_needed = own_pool.len() + here.len();
        if eips_needed > MAX_EIPS_PER_NAT {
            plan.conflict(
                "nat_eips",
                format!(
                    "keeping {} egress IPs needs {eips_needed} EIPs on NAT gateway {nat_id} ({} of its own), and a gateway holds at most {MAX_EIPS_PER_NAT}: keep fewer IPs, or give the gateway fewer EIPs of its own",
                    here.len(),
                    own_pool.len()
                ),
                false,
            );
        }
        let ours = inv
            .snat_rules
            .iter()
            .filter(|r| {
                r.nat_id == **nat_id && !r.description.starts_with(&format!("np {run_tag} "))
            })
            .count();
        let rules_needed = ours + pinned_here + here.iter().map(|m| m.rules.len()).sum::<usize>();
        if rules_needed > MAX_SNAT_RULES_PER_NAT {
            plan.conflict(
                "snat_rules",
                format!("keeping these egress IPs needs {rules_needed} SNAT rules on NAT gateway {nat_id}, and a gateway holds at most {MAX_SNAT_RULES_PER_NAT}: keep fewer instances one by one (mark whole subnets by rule instead)"),
                false,
            );
        }
    }
    let transforms = moves.iter().filter(|m| m.address_id.is_none()).count();
    if inv.quota.limit > 0 && transforms > inv.quota.free() as usize {
        plan.conflict(
            "eip_quota",
            format!("keeping {transforms} ordinary public IPs needs them converted to EIPs, and only {} EIPs of quota are free: raise the EIP quota or keep fewer", inv.quota.free()),
            false,
        );
    }
    for s in pinned {
        let nat_id = gws.of(&s.route_table_id);
        let pool = pools.get(nat_id).cloned().unwrap_or_default();
        push_rule(plan, nat_id, run_tag, "SUBNET", &s.id, &s.cidr, &pool, None);
    }
    for (m, nat_id) in moves.iter().zip(&gateway_of_move) {
        push_move(plan, nat_id, run_tag, m);
    }
    let longest = moves
        .iter()
        .map(|m| if m.address_id.is_none() { 3 } else { 2 })
        .max()
        .unwrap_or(0);
    let onto = if gws.is_single() {
        format!("NAT gateway {}", gws.first)
    } else {
        let used: BTreeSet<&str> = gateway_of_move.iter().map(|g| g.as_str()).collect();
        format!(
            "the NAT gateway of each one's route table ({})",
            used.into_iter().collect::<Vec<_>>().join(", ")
        )
    };
    plan.warnings.push(format!(
        "{} egress IP(s) move onto {onto} after the routes change: {}. No instance is without egress meanwhile; until its SNAT rule exists (about {} s, one EIP task after another, moves side by side), a kept instance leaves through one of the gateway's own EIPs",
        moves.len(),
        moves.iter().map(|m| format!("{} ({})", m.ip, m.holder.name)).collect::<Vec<_>>().join(", "),
        longest * TASK_SECS + 1
    ));
}

/// Why an instance marked to keep its egress IP cannot, if it cannot.
fn cannot_keep(
    inv: &Inventory,
    eips: &BTreeMap<&str, (&str, &str)>,
    i: &Instance,
    baseline: &BTreeMap<String, Egress>,
    protected: &BTreeSet<String>,
    routed: &dyn Fn(&Instance) -> bool,
) -> Option<String> {
    if protected.contains(&i.id) {
        return Some("it is also protected (it keeps its public IP as it is): unprotect it or stop keeping its egress IP".into());
    }
    let seen = match baseline.get(&i.id) {
        Some(Egress::Ip { ip }) => Some(ip.trim().to_owned()),
        _ => None,
    };
    let Some((ip, _)) = own_ip(eips, i) else {
        return Some(match seen {
            Some(seen) => format!(
                "it has no public IP of its own; it leaves through {seen} today, which can be kept as a shared egress IP in step 1"
            ),
            None => "it has no public IP of its own to keep".into(),
        });
    };
    if let Some(seen) = seen
        && seen != ip
    {
        return Some(format!(
            "it leaves through {seen} today, not through its own {ip}; keep {seen} as a shared egress IP instead"
        ));
    }
    if i.private_ip.is_none() {
        return Some("its primary private IP is unknown, and an SNAT rule needs it".into());
    }
    if !routed(i) {
        return Some(format!(
            "its subnet {} is in a route table this step does not send to the NAT gateway, so an SNAT rule would not apply to it",
            i.subnet_id
        ));
    }
    if inv.instance(&i.id).is_none() {
        return Some("it is not in the VPC".into());
    }
    None
}

#[allow(clippy::too_many_arguments)]
fn push_rule(
    plan: &mut Plan,
    nat_id: &NatGatewayId,
    run_tag: &str,
    resource_type: &str,
    resource_id: &str,
    private_ip: &str,
    pool: &[String],
    keeps_for: Option<&str>,
) {
    let description = rule_description(run_tag, resource_id);
    plan.push(
        Change::CreateSnatRule {
            nat_id: nat_id.clone(),
            resource_type: resource_type.to_owned(),
            resource_id: resource_id.to_owned(),
            private_ip: private_ip.to_owned(),
            public_ips: pool.to_vec(),
            description: description.clone(),
            keeps_for: keeps_for.map(str::to_owned),
        },
        Undo::DeleteSnatRule {
            nat_id: nat_id.clone(),
            snat_id: None,
            description,
        },
    );
}

/// One move, in the order that keeps the instance's egress working: TransformAddress (an
/// ordinary IP), unbind from the instance, bind to the gateway, then its rules.
fn push_move(plan: &mut Plan, nat_id: &NatGatewayId, run_tag: &str, m: &Move<'_>) {
    let (instance_id, ip) = (m.holder.id.clone(), m.ip.clone());
    if m.address_id.is_none() {
        plan.push(
            Change::TransformAddress {
                instance_id: instance_id.clone(),
                ip: ip.clone(),
            },
            Undo::CannotUndo {
                what: format!("ordinary public IP {ip} of {instance_id} stays an EIP (rollback binds it back as an EIP); it cannot become an ordinary public IP again"),
            },
        );
    }
    plan.push(
        Change::DisassociateEip {
            instance_id: instance_id.clone(),
            address_id: m.address_id.clone().unwrap_or_default(),
            ip: ip.clone(),
        },
        Undo::ReassociateEip {
            instance_id: instance_id.clone(),
            address_id: m.address_id.clone(),
            ip: ip.clone(),
        },
    );
    plan.push(
        Change::AssociateNatEip {
            nat_id: nat_id.clone(),
            ip: ip.clone(),
            from_instance: instance_id.clone(),
        },
        Undo::DisassociateNatEip {
            nat_id: nat_id.clone(),
            ip: ip.clone(),
        },
    );
    for (kind, resource, source) in &m.rules {
        push_rule(
            plan,
            nat_id,
            run_tag,
            kind,
            resource,
            source,
            std::slice::from_ref(&ip),
            Some(&instance_id),
        );
    }
}

/// A shared egress IP that is not kept is retired by step 4 without anyone noticing: say so.
fn warn_unkept_shared(plan: &mut Plan, shared: &[SharedEgress], marks: &KeepMarks) {
    for s in shared.iter().filter(|s| !marks.shared_ips.contains(&s.ip)) {
        plan.warnings.push(format!(
            "{} instances leave through {} today{}; after this step they leave through the NAT gateway's EIPs instead. If partners allowlist {}, keep it as the NAT gateway's egress (step 1, “Keep this IP”) before confirming step 1",
            s.instances.len(),
            s.ip,
            s.holder.as_deref().map(|h| format!(" (the public IP of {h})")).unwrap_or_default(),
            s.ip
        ));
    }
}

/// Instance id → the IP its egress must show after the move, from step 3's plan: the pool of
/// the keeping rule that covers it. Step 4's check demands exactly that IP.
pub fn expected_egress(inv: &Inventory, plan: &Plan) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut by_subnet: BTreeMap<&str, &str> = BTreeMap::new();
    for c in plan.changes() {
        let Change::CreateSnatRule {
            resource_type,
            resource_id,
            public_ips,
            keeps_for: Some(_),
            ..
        } = c
        else {
            continue;
        };
        let Some(ip) = public_ips.first() else {
            continue;
        };
        match resource_type.as_str() {
            "SUBNET" => {
                by_subnet.insert(resource_id, ip);
            }
            _ => {
                out.insert(resource_id.clone(), ip.clone());
            }
        }
    }
    for i in &inv.instances {
        if let Some(ip) = by_subnet.get(i.subnet_id.as_str()) {
            out.entry(i.id.clone()).or_insert_with(|| (*ip).to_owned());
        }
    }
    out
}

/// The IPs step 3 moved onto the gateway for someone.
pub fn reserved_ips(plan: &Plan) -> BTreeSet<String> {
    plan.changes()
        .filter_map(|c| match c {
            Change::AssociateNatEip { ip, .. } => Some(ip.clone()),
            _ => None,
        })
        .collect()
}

/// Whether an instance's after-step egress passes: a kept one through exactly its kept IP,
/// anyone else through a gateway EIP that is not kept for someone.
pub fn egress_passes(
    instance_id: &str,
    egress: Option<&Egress>,
    nat_ips: &BTreeSet<String>,
    expected: &BTreeMap<String, String>,
    reserved: &BTreeSet<String>,
) -> bool {
    let Some(Egress::Ip { ip }) = egress else {
        return false;
    };
    let ip = ip.trim();
    match expected.get(instance_id) {
        Some(want) => want == ip,
        None => nat_ips.contains(ip) && !reserved.contains(ip),
    }
}

/// The route tables that send `0.0.0.0/0` to their gateway once step 3 has made the routes it
/// plans for `input` (already routed, created, or replaced with consent).
pub fn routed_after(
    inv: &Inventory,
    gws: &Gateways,
    input: &crate::wizard::input::RouteInput,
) -> BTreeSet<String> {
    use crate::wizard::steps::route::{Consent, RouteDecision, decide, tables_in_use};
    let consent = if input.replace_existing_default {
        Consent::AnyUserRoute
    } else {
        Consent::No
    };
    tables_in_use(inv)
        .into_iter()
        .filter(|t| {
            inv.route_table(t).is_some_and(|table| {
                matches!(
                    decide(table, gws.of(t), consent),
                    RouteDecision::AlreadyRouted
                        | RouteDecision::Create
                        | RouteDecision::Replace(_)
                )
            })
        })
        .collect()
}

/// Step 4's egress check (issue 12 item 3), from step 3's confirmed plan.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EgressCheck {
    /// Kept instances and the IP each must leave through.
    pub expected: BTreeMap<String, String>,
    /// IPs moved onto the gateway for someone: nobody else may leave through them.
    pub reserved: BTreeSet<String>,
}

impl EgressCheck {
    pub fn from_step3(inv: &Inventory, step3: &Plan) -> EgressCheck {
        EgressCheck {
            expected: expected_egress(inv, step3),
            reserved: reserved_ips(step3),
        }
    }

    pub fn passes(
        &self,
        instance_id: &str,
        egress: Option<&Egress>,
        nat_ips: &BTreeSet<String>,
    ) -> bool {
        egress_passes(instance_id, egress, nat_ips, &self.expected, &self.reserved)
    }
}

#[cfg(test)]
#[path = "keep_tests.rs"]
mod tests;
