//! Planning a step for a run: observe what the step needs (fresh from the cloud, or stored
//! results), then call the step's pure `plan`.

use std::collections::BTreeSet;
use std::sync::Arc;

use super::errors::EngineError;
use super::jobs::{load_egress, routed_tables};
use super::records;
use crate::store::{self, EgressPhase, RunId, Store, runs::Run};
use crate::wizard::cloud::{Cloud, CloudError};
use crate::wizard::input::{AssessInput, StepInput};
use crate::wizard::observed::Inventory;
use crate::wizard::plan::Plan;
use crate::wizard::steps::assess::ExposureReport;
use crate::wizard::steps::{provision, route, verify};

/// Instances currently protected for the run (suggestions accepted + operator's choices).
pub async fn protected_set(store: &Store, run: RunId) -> sqlx::Result<BTreeSet<String>> {
    Ok(store::results::list_protected(store.readers(), run)
        .await?
        .into_iter()
        .filter(|h| h.protected)
        .map(|h| h.instance_id)
        .collect())
}

pub async fn exposure_report(
    store: &Store,
    run: RunId,
) -> Result<Option<ExposureReport>, records::RecordError> {
    records::exposure(store, run).await
}

/// How many gateways the run has asked Tencent to create so far (its create undo records).
async fn creates_so_far(store: &Store, run: RunId) -> Result<u32, records::RecordError> {
    let n = records::undo_records(store, run)
        .await?
        .iter()
        .filter(|u| u.entry.key.starts_with("create_nat"))
        .count();
    Ok(u32::try_from(n).unwrap_or(u32::MAX))
}

/// The exposure report with the operator's protect/unprotect choices applied.
pub fn apply_choices(mut report: ExposureReport, input: &AssessInput) -> ExposureReport {
    for row in &mut report.rows {
        if input.protect.contains(&row.instance_id) {
            (row.protected, row.reason) = (true, "operator".into());
        } else if input.unprotect.contains(&row.instance_id) {
            (row.protected, row.reason) = (false, String::new());
        }
    }
    report.protected = report.rows.iter().filter(|r| r.protected).count();
    report
}

/// The plan for `input`, with the inventory it was made from (none for step 1, which plans
/// from the stored assessment), so a page can show both without observing the VPC twice.
/// `observe` gives the inventory: a fresh observation (confirm, retry) or the page-view
/// snapshot (`snapshots`); it is called at most once, and only once the step's records allow
/// a plan (no observation for a step 3 without a NAT gateway).
pub async fn plan<F>(
    store: &Store,
    run: &Run,
    input: &StepInput,
    observe: F,
) -> Result<(Plan, Option<Arc<Inventory>>), EngineError>
where
    F: AsyncFnOnce() -> Result<Arc<Inventory>, EngineError>,
{
    let missing_nat = || {
        CloudError::state(
            "plan",
            "natpilot.NoNatGateway",
            "this run has no NAT gateway yet; do step 2 first",
        )
    };
    match input {
        StepInput::Assess(choices) => Ok((plan_assessment(store, run, choices).await?, None)),
        StepInput::Provision(p) => {
            let creates = creates_so_far(store, run.id).await?;
            let inv = observe().await?;
            let plan = provision::plan(&inv, p, &run.id.tag_value(), creates);
            Ok((plan, Some(inv)))
        }
        StepInput::Route(r) => {
            let nat = records::nat_gateway(store, run.id)
                .await?
                .ok_or_else(missing_nat)?;
            let inv = observe().await?;
            let protected = protected_set(store, run.id).await?;
            let plan = route::plan(&inv, &nat, &run.id.tag_value(), &protected, r);
            Ok((plan, Some(inv)))
        }
        StepInput::Verify(v) => {
            let nat = records::nat_gateway(store, run.id)
                .await?
                .ok_or_else(missing_nat)?;
            let inv = observe().await?;
            let after = load_egress(store, run.id, EgressPhase::After).await?;
            let routed = routed_tables(&inv, &nat);
            let protected = protected_set(store, run.id).await?;
            let plan = verify::plan(&inv, &nat, &routed, &after, &protected, v);
            Ok((plan, Some(inv)))
        }
    }
}

/// A fresh observation of the run's VPC through `cloud`, for [`plan`].
pub async fn fresh(cloud: &dyn Cloud, run: &Run) -> Result<Arc<Inventory>, EngineError> {
    Ok(Arc::new(cloud.inventory(&run.vpc_id).await?))
}

/// Step 1's "plan": the stored exposure report with the operator's choices; it changes
/// nothing in the cloud, so it only refuses ids that are not instances of the VPC.
async fn plan_assessment(
    store: &Store,
    run: &Run,
    choices: &AssessInput,
) -> Result<Plan, EngineError> {
    let report = exposure_report(store, run.id).await?.ok_or_else(|| {
        CloudError::state(
            "plan",
            "natpilot.NotAssessed",
            "the assessment has not finished yet; wait for it",
        )
    })?;
    let report = apply_choices(report, choices);
    let mut plan = Plan::default();
    let known: BTreeSet<&str> = report.rows.iter().map(|r| r.instance_id.as_str()).collect();
    for id in choices
        .protect
        .iter()
        .chain(&choices.unprotect)
        .filter(|i| !known.contains(i.as_str()))
    {
        plan.conflict(
            id,
            format!("{id} is not an instance of {}", run.vpc_id),
            false,
        );
    }
    for r in report.rows.iter().filter(|r| r.protected) {
        plan.warnings.push(format!(
            "{} ({}) will be protected: {}",
            r.instance_id, r.name, r.reason
        ));
    }
    Ok(plan)
}
