//! The background jobs of a run: the assessment, applying a confirmed step, and what follows
//! each step (waiting for the gateway, checking routes and egress, the final report). Every
//! transition is persisted before the next cloud call; no transaction spans a cloud call.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use serde_json::json;

use super::batch;
use super::ctx::{Ctx, JobError};
use crate::store::{self, EgressOutcome, EgressPhase, EventLevel, ReportKind, Step};
use crate::wizard::cloud::CloudError;
use crate::wizard::input::AssessInput;
use crate::wizard::observed::Inventory;
use crate::wizard::plan::{Change, Plan, Undo};
use crate::wizard::steps::assess::{self, Egress, ExposureReport};
use crate::wizard::steps::verify;

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
            inv.instances.len(),
            inv.subnets.len()
        ),
    )
    .await?;
    let ids: Vec<String> = inv.instances.iter().map(|i| i.id.clone()).collect();
    let baseline = ctx.cloud.egress_test(&inv, &ids).await?;
    store_egress(ctx, EgressPhase::Baseline, &baseline).await?;
    let report = assess::exposure(&inv, &baseline, &AssessInput::default());
    store::results::put_report(
        ctx.store.writer(),
        ctx.id(),
        ReportKind::Exposure,
        &to_json(&report),
    )
    .await?;
    let summary = format!(
        "{} of {} instances are exposed; {} suggested for protection; {} untestable",
        report.exposed,
        report.rows.len(),
        report.protected,
        report.untestable
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

/// The NAT gateway a run uses: the adopted one, or the one its create recorded.
pub async fn nat_id_of(store: &store::Store, run: store::RunId) -> sqlx::Result<Option<String>> {
    for r in store::undo::list(store.readers(), run)
        .await?
        .into_iter()
        .rev()
    {
        if let Ok(UndoEntry {
            undo: Undo::DeleteNatGateway {
                nat_id: Some(id), ..
            },
            ..
        }) = serde_json::from_value(r.action)
        {
            return Ok(Some(id));
        }
    }
    let Some(row) = store::steps::get(store.readers(), run, Step::Provision).await? else {
        return Ok(None);
    };
    let plan: Plan = serde_json::from_value(row.plan).unwrap_or_default();
    Ok(plan.changes.iter().find_map(|c| match c {
        Change::AdoptNatGateway { nat_id } => Some(nat_id.clone()),
        _ => None,
    }))
}

/// Polls until the gateway is AVAILABLE (CreateNatGateway is asynchronous, reference §4.10).
async fn after_provision(ctx: &Ctx, _plan: &Plan) -> Result<(), JobError> {
    let nat_id = nat_id_of(&ctx.store, ctx.id()).await?.ok_or_else(|| {
        CloudError::state(
            "CreateNatGateway",
            "natpilot.NatMissing",
            "no NAT gateway was recorded for this run",
        )
    })?;
    let mut last_state = String::new();
    let mut backoff = ctx.poll.start();
    loop {
        let nats = ctx.cloud.nat_gateways(&ctx.run.vpc_id).await?;
        let nat = nats.iter().find(|n| n.id == nat_id).ok_or_else(|| {
            CloudError::state(
                "DescribeNatGateways",
                "ResourceNotFound",
                format!("NAT gateway {nat_id} disappeared"),
            )
        })?;
        if nat.state != last_state {
            ctx.info(
                Step::Provision,
                &format!("NAT gateway {nat_id} is {}", nat.state),
            )
            .await?;
            last_state = nat.state.clone();
        }
        match nat.state.as_str() {
            "AVAILABLE" => return Ok(()),
            "PENDFAILURE" => {
                return Err(CloudError::state(
                    "CreateNatGateway",
                    "NatGateway.PendFailure",
                    format!("Tencent Cloud could not create NAT gateway {nat_id} (state PENDFAILURE); roll back, then try another zone or fewer EIPs"),
                )
                .into());
            }
            _ => backoff.wait().await,
        }
    }
}

/// Checks every table now routes to the NAT, then runs the post-change egress test.
async fn after_route(ctx: &Ctx, plan: &Plan) -> Result<(), JobError> {
    let nat_id = nat_id_of(&ctx.store, ctx.id()).await?.unwrap_or_default();
    let inv = ctx.cloud.inventory(&ctx.run.vpc_id).await?;
    let routed = routed_tables(&inv, &nat_id);
    for table in crate::wizard::steps::route::tables_in_use(&inv) {
        if !routed.contains(&table) {
            let msg = format!(
                "route table {table} has no 0.0.0.0/0 → {nat_id} after the change; retry the step"
            );
            return Err(
                CloudError::state("DescribeRouteTables", "natpilot.RouteMissing", msg).into(),
            );
        }
    }
    let _ = plan;
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
    let nat_ips: BTreeSet<String> = inv
        .nat(&nat_id)
        .map(|n| n.eip_ips().map(str::to_owned).collect())
        .unwrap_or_default();
    let passed = after
        .values()
        .filter(|e| verify::passed(Some(e), &nat_ips))
        .count();
    ctx.info(
        Step::Route,
        &format!(
            "egress through the NAT confirmed on {passed} of {} instances",
            after.len()
        ),
    )
    .await
}

/// Route tables whose default route points at `nat_id`.
pub fn routed_tables(inv: &Inventory, nat_id: &str) -> BTreeSet<String> {
    inv.route_tables
        .iter()
        .filter(|t| {
            t.default_route()
                .is_some_and(|r| r.gateway_type == "NAT" && r.gateway_id == nat_id)
        })
        .map(|t| t.id.clone())
        .collect()
}

/// The final report: egress before/after, what was removed, what was kept and why.
async fn after_verify(ctx: &Ctx) -> Result<(), JobError> {
    let before = load_egress(&ctx.store, ctx.id(), EgressPhase::Baseline).await?;
    let after = load_egress(&ctx.store, ctx.id(), EgressPhase::After).await?;
    let plan: Plan = match store::steps::get(ctx.store.readers(), ctx.id(), Step::Verify).await? {
        Some(row) => serde_json::from_value(row.plan).unwrap_or_default(),
        None => Plan::default(),
    };
    let exposure: Option<ExposureReport> =
        store::results::get_report(ctx.store.readers(), ctx.id(), ReportKind::Exposure)
            .await?
            .and_then(|v| serde_json::from_value(v).ok());
    let report = json!({
        "nat_id": nat_id_of(&ctx.store, ctx.id()).await?,
        "egress_before": before,
        "egress_after": after,
        "removed": plan.changes,
        "kept": plan.kept,
        "exposed_before": exposure.map(|e| e.exposed),
    });
    store::results::put_report(ctx.store.writer(), ctx.id(), ReportKind::Final, &report).await?;
    ctx.info(Step::Verify, "final report written").await
}
