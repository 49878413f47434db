//! What the Provision, Route and Verify step pages show besides the form: a fresh, read-only
//! inventory of the VPC (through the engine, ledgered): step 2's pre-flight facts, or broken
//! down per route table or per instance,
//! next to the plan — the preview when the step is open, or the plan that was confirmed.

use std::collections::BTreeSet;
use std::sync::Arc;

use crate::{
    app::AppState,
    store::{self, EgressPhase, RunStatus, Step, runs::Run},
    web::error::WebError,
    wizard::{
        engine::EngineError,
        input::{StepInput, VerifyInput},
        observed::Inventory,
        plan::Plan,
    },
};

use super::{
    provision_step::{self, ProvisionView},
    route_step::{self, RouteStepView},
    run_actions::engine_error,
    verify_step::{self, VerifyQuery, VerifyTable},
};

#[derive(Default)]
pub struct StepDetails {
    /// Step 2: what was observed before asking (quota, gateways, unbound EIPs).
    pub provision: Option<ProvisionView>,
    /// Step 3: a summary and one section per route table.
    pub route_tables: RouteStepView,
    /// Step 4: one page of egress before/after and the retire plan per instance, with the
    /// counts over the whole VPC.
    pub verify: VerifyTable,
    /// Step 4: the EIPs of the run's NAT gateway (what a passing test prints).
    pub nat_ips: Vec<String>,
    /// "preview" or "confirmed": where the plan shown came from.
    pub plan_source: &'static str,
    /// Step 4: its table is being rebuilt (`verify_build`); no row is shown meanwhile.
    pub rebuilding: Option<Rebuilding>,
}

/// How far step 4's table is rebuilt: rows stored of `total` (0 while planning).
#[derive(Debug, Default, Clone)]
pub struct Rebuilding {
    pub stored: usize,
    pub total: usize,
}

impl Rebuilding {
    pub fn words(&self) -> String {
        use super::verify_query::thousands;
        match self.total {
            0 => "planning with the current inputs".to_owned(),
            total => format!(
                "{} of {} rows stored",
                thousands(self.stored),
                thousands(total)
            ),
        }
    }
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
        source: "confirmed",
        ..Shown::default()
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
    /// Step 4: the input the plan was made with (its rules and exceptions) and the table view.
    pub verify: (VerifyInput, VerifyQuery),
}

impl Shown {
    pub fn preview(plan: Plan, inventory: Option<Arc<Inventory>>) -> Shown {
        Shown {
            plan: Some(plan),
            inventory,
            source: "preview",
            ..Shown::default()
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
    if !matches!(step, Step::Provision | Step::Route | Step::Verify) {
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
    if step == Step::Provision {
        return Ok(StepDetails {
            provision: Some(provision_step::view(&inventory, &run.id.tag_value())),
            ..StepDetails::default()
        });
    }
    let mut details = StepDetails {
        plan_source: if plan.is_some() { plan_source } else { "" },
        ..StepDetails::default()
    };
    if step == Step::Verify {
        let (input, query) = &shown.verify;
        let (lines, nat_ips) = verify_lines(state, run, &inventory, plan, input).await?;
        details.verify = VerifyTable::select(lines, query.clone());
        details.nat_ips = nat_ips.into_iter().collect();
        return Ok(details);
    }
    let protected = crate::wizard::engine::protected_set(&state.store, run.id).await?;
    // Each table against its own gateway: with two gateways, one routed to the second is
    // "routed", not "unknown".
    let gateways = state
        .engine
        .gateways(run.id, &inventory)
        .await
        .map_err(engine_error)?;
    details.route_tables = route_step::tables(&inventory, gateways.as_ref(), plan, &protected);
    Ok(details)
}

/// The run's protected instances and its NAT gateway: what steps 3 and 4 draw around.
async fn protected_and_nat(
    state: &AppState,
    run: &Run,
) -> Result<(BTreeSet<String>, Option<crate::wizard::ids::NatGatewayId>), WebError> {
    let protected = crate::wizard::engine::protected_set(&state.store, run.id).await?;
    let nat_id = state
        .engine
        .nat_gateway(run.id)
        .await
        .map_err(engine_error)?;
    Ok((protected, nat_id))
}

/// The EIPs of the run's gateways: its first, and any further one (issue 12) found by its tag.
/// The plan checks each instance against its own gateway; the page's verdict against these.
fn gateway_ips(
    inventory: &Inventory,
    run: &Run,
    first: Option<&crate::wizard::ids::NatGatewayId>,
) -> BTreeSet<String> {
    let Some(first) = first else {
        return BTreeSet::new();
    };
    let tag = run.id.tag_value();
    inventory
        .nat_gateways
        .iter()
        .filter(|n| n.id == *first || crate::wizard::steps::gateways::is_runs(n, &tag))
        .flat_map(|n| n.eip_ips().map(str::to_owned))
        .collect()
}

/// Step 4's line per instance of `inventory` around `plan`, and the NAT gateway's EIPs the
/// check compares with.
pub async fn verify_lines(
    state: &AppState,
    run: &Run,
    inventory: &Inventory,
    plan: Option<&Plan>,
    input: &VerifyInput,
) -> Result<(Vec<verify_step::EgressLine>, BTreeSet<String>), WebError> {
    let readers = state.store.readers();
    let (protected, nat_id) = protected_and_nat(state, run).await?;
    let nat_ips = gateway_ips(inventory, run, nat_id.as_ref());
    let baseline = store::results::list_egress(readers, run.id, EgressPhase::Baseline).await?;
    let after = store::results::list_egress(readers, run.id, EgressPhase::After).await?;
    let sources = verify_step::Sources {
        nat_ips: &nat_ips,
        baseline: &baseline,
        after: &after,
        plan,
        protected: &protected,
        input,
    };
    Ok((verify_step::lines(inventory, &sources), nat_ips))
}

/// [`verify_lines`]' line of one instance (an exception saved: only its row changes), with
/// only that instance's results read.
pub async fn verify_line(
    state: &AppState,
    run: &Run,
    inventory: &Inventory,
    plan: &Plan,
    input: &VerifyInput,
    instance_id: &str,
) -> Result<Option<verify_step::EgressLine>, WebError> {
    let readers = state.store.readers();
    let (protected, nat_id) = protected_and_nat(state, run).await?;
    let nat_ips = gateway_ips(inventory, run, nat_id.as_ref());
    let of = |phase| store::results::egress_of(readers, run.id, phase, instance_id);
    let (baseline, after) = (
        of(EgressPhase::Baseline).await?,
        of(EgressPhase::After).await?,
    );
    let sources = verify_step::Sources {
        nat_ips: &nat_ips,
        baseline: &baseline,
        after: &after,
        plan: Some(plan),
        protected: &protected,
        input,
    };
    Ok(verify_step::line_for(inventory, &sources, instance_id))
}
