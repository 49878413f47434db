//! The background jobs of a run: the assessment, applying a confirmed step, and what follows
//! each step (waiting for the gateway, checking routes and egress, the final report). Every
//! transition is persisted before the next cloud call; no transaction spans a cloud call.

use crate::numbers::grouped;
use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use serde_json::json;

use super::batch;
use super::changes;
use super::ctx::{Ctx, JobError};
use super::records;
use crate::store::{self, EgressOutcome, EgressPhase, EventLevel, ReportKind, Step, UndoState};
use crate::wizard::cloud::CloudError;
use crate::wizard::ids::{NatGatewayId, NatState};
use crate::wizard::input::AssessInput;
use crate::wizard::observed::NatGateway;
use crate::wizard::plan::{AllocatedEip, Change, Plan, Undo};
use crate::wizard::steps::assess::{self, Egress};

/// How an undo record's JSON looks: the change key next to the undo action.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct UndoEntry {
    pub key: String,
    pub undo: Undo,
}

/// Step 1's read-only job: full inventory, egress baseline, exposure report, suggestions.
pub async fn assess(ctx: &Ctx) -> Result<(), JobError> {
    ctx.info(Step::Assess, "taking inventory of the VPC")
        .await?;
    let inv = ctx.cloud.inventory(&ctx.run.vpc_id).await?;
    // Kept for the topology page's "before" picture; nothing has changed in the cloud yet.
    store::inventories::put_before(ctx.store.writer(), ctx.id(), &to_json(&inv)).await?;
    ctx.info(
        Step::Assess,
        &format!(
            "found {} instances in {} subnets; testing egress",
            grouped(inv.instances.len()),
            grouped(inv.subnets.len())
        ),
    )
    .await?;
    let ids: Vec<String> = inv.instances.iter().map(|i| i.id.clone()).collect();
    let baseline = ctx.cloud.egress_test(&inv, &ids).await?;
    store_egress(ctx, EgressPhase::Baseline, &baseline).await?;
    let report = assess::exposure(&inv, &baseline, &AssessInput::default());
    // The rows (what the step page reads a page at a time) first, in short transactions;
    // then the report with the default rules, which makes them visible.
    super::protection::write_rows(&ctx.store, ctx.id(), &report).await?;
    let mut tx = ctx.store.begin_write().await?;
    store::results::put_report(&mut *tx, ctx.id(), ReportKind::Exposure, &to_json(&report)).await?;
    super::protection::seed_rules(&mut tx, ctx.id()).await?;
    super::protection::count_matches(&mut tx, ctx.id(), &report).await?;
    store::exposure_counts::store_summary(&mut tx, ctx.id()).await?;
    tx.commit().await?;
    let summary = format!(
        "{} of {} instances are exposed; {} suggested for protection; {} untestable",
        grouped(report.exposed),
        grouped(report.rows.len()),
        grouped(report.protected),
        grouped(report.untestable)
    );
    ctx.event(
        Some(Step::Assess),
        EventLevel::Info,
        &summary,
        json!({"exposed": report.exposed}),
    )
    .await
}

pub fn to_json<T: Serialize>(v: &T) -> serde_json::Value {
    serde_json::to_value(v).unwrap_or(serde_json::Value::Null)
}

async fn store_egress(
    ctx: &Ctx,
    phase: EgressPhase,
    results: &BTreeMap<String, Egress>,
) -> Result<(), JobError> {
    let mut tx = ctx.store.begin_write().await?;
    for (id, e) in results {
        let (outcome, ip, detail) = match e {
            Egress::Ip { ip } => (EgressOutcome::Ip, Some(ip.trim().to_owned()), String::new()),
            Egress::Failed { detail } => (EgressOutcome::Failed, None, detail.clone()),
            Egress::Untestable { detail } => (EgressOutcome::Untestable, None, detail.clone()),
        };
        let r = store::results::EgressResult {
            instance_id: id.clone(),
            phase,
            outcome,
            ip,
            detail,
            at: chrono::Utc::now(),
        };
        store::results::put_egress(&mut *tx, ctx.id(), &r).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Stored egress results of a phase, back in domain form.
pub async fn load_egress(
    store: &store::Store,
    run: store::RunId,
    phase: EgressPhase,
) -> sqlx::Result<BTreeMap<String, Egress>> {
    let rows = store::results::list_egress(store.readers(), run, phase).await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let e = match r.outcome {
                EgressOutcome::Ip => Egress::Ip {
                    ip: r.ip.unwrap_or_default(),
                },
                EgressOutcome::Failed => Egress::Failed { detail: r.detail },
                EgressOutcome::Untestable => Egress::Untestable { detail: r.detail },
            };
            (r.instance_id, e)
        })
        .collect())
}

/// Applies the confirmed plan of `step`, then the step's follow-up.
pub async fn apply(ctx: &Ctx, step: Step, plan: &Plan) -> Result<(), JobError> {
    batch::apply_changes(ctx, step, plan).await?;
    match step {
        Step::Assess => Ok(()),
        Step::Provision => after_provision(ctx, plan).await,
        Step::Route => after_route(ctx, plan).await,
        Step::Verify => after_verify(ctx).await,
    }
}

/// The run's NAT gateway, or a clear error when step 2 never named one.
pub async fn run_nat(ctx: &Ctx) -> Result<NatGatewayId, JobError> {
    records::nat_gateway(&ctx.store, ctx.id())
        .await?
        .ok_or_else(|| {
            CloudError::state(
                "plan",
                "natpilot.NatMissing",
                "no NAT gateway was recorded for this run; do step 2 first",
            )
            .into()
        })
}

/// Polls until the gateway is AVAILABLE (CreateNatGateway is asynchronous, reference §4.10),
/// recording the EIPs Tencent allocated for it in its undo record as soon as they are seen.
async fn after_provision(ctx: &Ctx, plan: &Plan) -> Result<(), JobError> {
    let nat_id = run_nat(ctx).await?;
    wait_available(ctx, &nat_id).await?;
    // Issue 12: the further gateways the plan created, each found by its own tag.
    for (tag, _) in crate::wizard::steps::provision::planned_extras(plan) {
        let seen = ctx.cloud.nat_gateways(&ctx.run.vpc_id).await?;
        let Some(n) = seen
            .items
            .iter()
            .find(|n| n.run_tag() == Some(tag.as_str()) && !n.state.is_dead())
        else {
            return Err(CloudError::state(
                "DescribeNatGateways",
                "ResourceNotFound",
                format!("the NAT gateway tagged natpilot:run={tag} that this step created is not in the VPC (or has failed); retry the step"),
            )
            .with_request_id(seen.request_id.clone())
            .into());
        };
        wait_available(ctx, &n.id.clone()).await?;
    }
    Ok(())
}

/// Polls one gateway until it is AVAILABLE, recording its allocated EIPs as they appear.
async fn wait_available(ctx: &Ctx, nat_id: &NatGatewayId) -> Result<(), JobError> {
    let nat_id = nat_id.clone();
    let mut last_state = None;
    let mut backoff = ctx.poll.start();
    loop {
        let seen = ctx.cloud.nat_gateways(&ctx.run.vpc_id).await?;
        let nat = seen.items.iter().find(|n| n.id == nat_id).ok_or_else(|| {
            CloudError::state(
                "DescribeNatGateways",
                "ResourceNotFound",
                format!("NAT gateway {nat_id} disappeared"),
            )
            .with_request_id(seen.request_id.clone())
        })?;
        record_allocated_eips(ctx, nat).await?;
        if last_state.as_ref() != Some(&nat.state) {
            ctx.info(
                Step::Provision,
                &format!("NAT gateway {nat_id} is {}", nat.state),
            )
            .await?;
            last_state = Some(nat.state.clone());
        }
        match nat.state {
            NatState::Available => return Ok(()),
            NatState::PendFailure => {
                return Err(CloudError::state(
                    "CreateNatGateway",
                    "NatGateway.PendFailure",
                    format!(
                        "Tencent Cloud could not create NAT gateway {nat_id} (state PENDFAILURE, \
                         seen by DescribeNatGateways); Retry deletes it and creates another, or \
                         roll back; another zone or fewer EIPs may help"
                    ),
                )
                .with_request_id(seen.request_id.clone())
                .into());
            }
            _ => backoff.wait().await,
        }
    }
}

/// Adds the gateway's EIPs that the operator did not bring (and step 3 did not move onto it
/// to keep someone's egress IP) to the undo record that deletes it, so a rollback releases
/// exactly those — even after the gateway itself is gone.
pub async fn record_allocated_eips(ctx: &Ctx, nat: &NatGateway) -> Result<(), JobError> {
    let kept = super::kept_eips::kept_eips(&ctx.store, ctx.id()).await?;
    for u in records::undo_records(&ctx.store, ctx.id()).await? {
        let Undo::DeleteNatGateway {
            nat_id: Some(id),
            run_tag,
            allocated_eips,
            operator_eips: Some(operator),
        } = &u.entry.undo
        else {
            continue;
        };
        if *id != nat.id {
            continue;
        }
        let mut allocated = allocated_eips.clone();
        for (address_id, ip) in &nat.eips {
            let known = allocated.iter().any(|a| a.address_id == *address_id);
            if !known && !operator.contains(ip) && !kept.contains(ip) {
                allocated.push(AllocatedEip {
                    address_id: address_id.clone(),
                    ip: ip.clone(),
                });
            }
        }
        if allocated.len() == allocated_eips.len() {
            continue;
        }
        let entry = UndoEntry {
            key: u.entry.key.clone(),
            undo: Undo::DeleteNatGateway {
                nat_id: Some(id.clone()),
                run_tag: run_tag.clone(),
                allocated_eips: allocated,
                operator_eips: Some(operator.clone()),
            },
        };
        store::undo::set_action(ctx.store.writer(), u.record.id, &to_json(&entry)).await?;
    }
    Ok(())
}

/// Checks every table now routes to the NAT, then runs the post-change egress test.
async fn after_route(ctx: &Ctx, plan: &Plan) -> Result<(), JobError> {
    let first = run_nat(ctx).await?;
    let inv = ctx.cloud.inventory(&ctx.run.vpc_id).await?;
    let gws = records::gateways(&ctx.store, ctx.id(), first.clone(), &inv).await?;
    let routed = gws.routed_tables(&inv);
    let nat_id = if gws.is_single() {
        first.to_string()
    } else {
        let ids: Vec<&str> = gws.ids().iter().map(|g| g.as_str()).collect();
        format!("their NAT gateways ({})", ids.join(", "))
    };
    for table in crate::wizard::steps::route::tables_in_use(&inv) {
        if !routed.contains(&table) {
            let nat_id = gws.of(&table);
            let msg = format!(
                "route table {table} has no 0.0.0.0/0 → {nat_id} after the change; retry the step"
            );
            return Err(
                CloudError::state("DescribeRouteTables", "natpilot.RouteMissing", msg).into(),
            );
        }
    }
    ctx.info(
        Step::Route,
        &format!(
            "{} route table(s) send 0.0.0.0/0 to {nat_id}; testing egress",
            routed.len()
        ),
    )
    .await?;
    let ids: Vec<String> = inv
        .instances
        .iter()
        .filter(|i| inv.table_of(i).is_some_and(|t| routed.contains(t)))
        .map(|i| i.id.clone())
        .collect();
    let after = ctx.cloud.egress_test(&inv, &ids).await?;
    store_egress(ctx, EgressPhase::After, &after).await?;
    // Issue 12: a kept instance passes only through its own old IP, others only through an
    // EIP of their own route table's gateway that is not kept for someone.
    let gateway_ips = gws.eips(&inv);
    let empty = BTreeSet::new();
    let nat_ips_of = |id: &str| {
        inv.instance(id)
            .and_then(|i| gateway_ips.get(gws.of_instance(&inv, i)))
            .unwrap_or(&empty)
    };
    let check = crate::wizard::steps::keep::EgressCheck::from_step3(&inv, plan);
    let passed = after
        .iter()
        .filter(|(id, e)| check.passes(id, Some(e), nat_ips_of(id)))
        .count();
    for (id, want) in &check.expected {
        let seen = match after.get(id) {
            Some(Egress::Ip { ip }) => ip.trim().to_owned(),
            Some(_) | None => "no IP".to_owned(),
        };
        let msg = if seen == *want {
            format!("{id} leaves through its kept egress IP {want}")
        } else {
            format!(
                "{id} should leave through its kept egress IP {want}, but its egress test printed {seen}"
            )
        };
        ctx.info(Step::Route, &msg).await?;
    }
    ctx.info(
        Step::Route,
        &format!(
            "egress through the NAT confirmed on {passed} of {} instances",
            after.len()
        ),
    )
    .await
}

/// The final report: egress before/after, what was removed (each change with its undo record,
/// which holds the ids the calls revealed, such as a converted address's new EIP id), what was
/// kept and why.
async fn after_verify(ctx: &Ctx) -> Result<(), JobError> {
    let before = load_egress(&ctx.store, ctx.id(), EgressPhase::Baseline).await?;
    let after = load_egress(&ctx.store, ctx.id(), EgressPhase::After).await?;
    let plan = records::plan(&ctx.store, ctx.id(), Step::Verify)
        .await?
        .unwrap_or_default();
    let exposure = records::exposure(&ctx.store, ctx.id()).await?;
    let undo: BTreeMap<String, (UndoState, Undo)> = records::undo_records(&ctx.store, ctx.id())
        .await?
        .into_iter()
        .filter(|u| u.record.step == Step::Verify)
        .map(|u| (u.entry.key, (u.record.state, u.entry.undo)))
        .collect();
    let removed: Vec<Removed> = plan
        .changes()
        .filter_map(|c| removed(c, undo.get(&changes::key(c))))
        .collect();
    let report = json!({
        "nat_id": records::nat_gateway(&ctx.store, ctx.id()).await?,
        "egress_before": before,
        "egress_after": after,
        "removed": removed,
        "kept": plan.kept,
        "kept_egress": super::keep::kept_report(ctx).await?,
        "exposed_before": exposure.map(|e| e.exposed),
    });
    store::results::put_report(ctx.store.writer(), ctx.id(), ReportKind::Final, &report).await?;
    ctx.info(Step::Verify, "final report written").await
}

/// One public IP step 4 took off an instance, as the final report lists it.
#[derive(Debug, Serialize)]
struct Removed {
    instance_id: String,
    ip: String,
    /// The EIP's id (for a converted ordinary IP: the id TransformAddress gave it).
    address_id: Option<String>,
    /// `unbound` (the EIP is kept, unbound), `released` or `returned` (both irreversible).
    how: &'static str,
}

/// A retirement that took effect (its undo record says so), with the ids its record holds.
fn removed(change: &Change, record: Option<&(UndoState, Undo)>) -> Option<Removed> {
    let (state, undo) = record?;
    if !matches!(state, UndoState::Done | UndoState::Irreversible) {
        return None;
    }
    let (instance_id, ip, address_id, how) = match (change, undo) {
        (
            Change::DisassociateEip {
                instance_id, ip, ..
            },
            Undo::ReassociateEip { address_id, .. },
        ) => (instance_id, ip, address_id.clone(), "unbound"),
        (
            Change::ReleaseEip {
                instance_id,
                ip,
                address_id,
            },
            _,
        ) => (instance_id, ip, Some(address_id.clone()), "released"),
        (Change::ReturnNormalAddress { instance_id, ip }, _) => (instance_id, ip, None, "returned"),
        _ => return None,
    };
    Some(Removed {
        instance_id: instance_id.clone(),
        ip: ip.clone(),
        address_id,
        how,
    })
}
