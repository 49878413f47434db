//! What the Route and Verify step pages show besides the form: a fresh, read-only inventory
//! of the VPC (through the engine, ledgered) broken down per route table or per instance,
//! next to the plan — the preview when the step is open, or the plan that was confirmed.

use std::collections::BTreeSet;
use std::sync::Arc;

use crate::{
    app::AppState,
    store::{self, EgressPhase, RunStatus, Step, runs::Run},
    web::error::WebError,
    wizard::{engine::EngineError, input::StepInput, observed::Inventory, plan::Plan},
};

use super::{
    route_step::{self, RouteTableView},
    run_actions::engine_error,
    verify_step::{self, EgressLine},
};

#[derive(Default)]
pub struct StepDetails {
    /// Step 3: one section per route table.
    pub route_tables: Vec<RouteTableView>,
    /// Step 4: egress before/after and the retire plan, per instance.
    pub egress: Vec<EgressLine>,
    /// Step 4: the EIPs of the run's NAT gateway (what a passing test prints).
    pub nat_ips: Vec<String>,
    /// "preview" or "confirmed": where the plan shown came from.
    pub plan_source: &'static str,
}

/// What a fresh visit shows: a preview with the default (safe) input while the step is open
/// (with the inventory it was made from), else the plan that was confirmed for it, if any.
/// Refusals become page errors.
pub async fn plan_for_visit(
    state: &AppState,
    run: &Run,
    step: Step,
    default_input: Option<StepInput>,
    errors: &mut Vec<String>,
) -> Result<Shown, WebError> {
    let open = run.status == RunStatus::Active && run.current_step == step;
    if let (true, Some(input)) = (open, default_input) {
        return match state.engine.preview_step(run.id, &input).await {
            Ok((plan, inventory)) => Ok(Shown::preview(plan, inventory)),
            Err(EngineError::Db(e)) => Err(e.into()),
            Err(e) => {
                errors.push(format!("{e}."));
                Ok(Shown::default())
            }
        };
    }
    let confirmed = state
        .engine
        .confirmed_plan(run.id, step)
        .await
        .map_err(engine_error)?;
    Ok(Shown {
        plan: confirmed,
        inventory: None,
        source: "confirmed",
    })
}

/// A plan to show, where it came from, and the inventory it was made from when that is at
/// hand (a preview), so the breakdown does not observe the VPC a second time.
#[derive(Default)]
pub struct Shown {
    pub plan: Option<Plan>,
    pub inventory: Option<Arc<Inventory>>,
    /// "preview" or "confirmed".
    pub source: &'static str,
}

impl Shown {
    pub fn preview(plan: Plan, inventory: Option<Arc<Inventory>>) -> Shown {
        Shown {
            plan: Some(plan),
            inventory,
            source: "preview",
        }
    }
}

/// The per-table (step 3) or per-instance (step 4) breakdown around `plan`.
pub async fn load(
    state: &AppState,
    run: &Run,
    step: Step,
    shown: Shown,
) -> Result<StepDetails, WebError> {
    if !matches!(step, Step::Route | Step::Verify) {
        return Ok(StepDetails::default());
    }
    let (plan, plan_source) = (shown.plan.as_ref(), shown.source);
    let inventory = match shown.inventory {
        Some(inventory) => inventory,
        None => state
            .engine
            .current_inventory(run.id)
            .await
            .map_err(engine_error)?,
    };
    let readers = state.store.readers();
    let protected: BTreeSet<String> = store::results::list_protected(readers, run.id)
        .await?
        .into_iter()
        .filter(|h| h.protected)
        .map(|h| h.instance_id)
        .collect();
    let mut details = StepDetails {
        plan_source: if plan.is_some() { plan_source } else { "" },
        ..StepDetails::default()
    };
    let nat_id = state
        .engine
        .nat_gateway(run.id)
        .await
        .map_err(engine_error)?;
    if step == Step::Route {
        details.route_tables = route_step::tables(&inventory, nat_id.as_ref(), plan, &protected);
        return Ok(details);
    }
    let nat_ips: BTreeSet<String> = nat_id
        .and_then(|id| inventory.nat(&id))
        .map(|n| n.eip_ips().map(str::to_owned).collect())
        .unwrap_or_default();
    let baseline = store::results::list_egress(readers, run.id, EgressPhase::Baseline).await?;
    let after = store::results::list_egress(readers, run.id, EgressPhase::After).await?;
    details.egress = verify_step::lines(&inventory, &nat_ips, &baseline, &after, plan, &protected);
    details.nat_ips = nat_ips.into_iter().collect();
    Ok(details)
}
