//! Planning a step for a run: observe what the step needs (fresh from the cloud, or stored
//! results), then call the step's pure `plan`.

use std::collections::BTreeSet;
use std::sync::Arc;

use super::errors::EngineError;
use super::jobs::load_egress;
use super::records;
use crate::store::keep_egress::MarkKind;
use crate::store::{self, EgressPhase, RunId, Step, Store, runs::Run};
use crate::wizard::cloud::{Cloud, CloudError};
use crate::wizard::input::{AssessInput, StepInput};
use crate::wizard::observed::Inventory;
use crate::wizard::plan::{KeepMark, Plan};
use crate::wizard::protection::{Facts, Protection, Rule};
use crate::wizard::steps::assess::ExposureReport;
use crate::wizard::steps::{keep, provision, route, verify};

/// The run's keep-egress marks (issue 12), decoded strictly: a mark that does not decode
/// stops the plan rather than leave a partner's allowlisted IP unkept.
pub async fn keep_marks(store: &Store, run: RunId) -> Result<keep::KeepMarks, EngineError> {
    let marks = store::keep_egress::list(store.readers(), run).await?;
    keep::KeepMarks::from_marks(&marks).map_err(|detail| {
        EngineError::from(records::RecordError::Corrupt {
            what: "keep-egress mark".into(),
            run,
            detail,
        })
    })
}

/// The marks step 3 keeps: exactly those step 1 confirmed (its plan records them, in its
/// digest). The second value, when the run's marks differ from them now, says how: step 3
/// refuses then rather than keep (or drop) an egress IP nobody confirmed. A step 1 plan
/// stored before it recorded marks counts as "none confirmed".
pub async fn confirmed_keep_marks(
    store: &Store,
    run: RunId,
) -> Result<(keep::KeepMarks, Option<String>), EngineError> {
    let live = live_keep_marks(store, run).await?;
    let mut confirmed = records::plan(store, run, Step::Assess)
        .await?
        .and_then(|p| p.keep_egress)
        .unwrap_or_default();
    confirmed.sort();
    let changed = (confirmed != live).then(|| {
        let describe = |m: &KeepMark| match m.kind {
            MarkKind::Instance => format!("instance {}", m.value),
            MarkKind::Rule => format!("rule {}", m.value),
            MarkKind::SharedIp => format!("shared egress IP {}", m.value),
        };
        let list = |of: &[KeepMark], not_in: &[KeepMark]| {
            of.iter()
                .filter(|m| !not_in.contains(m))
                .map(describe)
                .collect::<Vec<_>>()
                .join(", ")
        };
        let (added, removed) = (list(&live, &confirmed), list(&confirmed, &live));
        let mut how = Vec::new();
        if !added.is_empty() {
            how.push(format!("marked since: {added}"));
        }
        if !removed.is_empty() {
            how.push(format!("unmarked since: {removed}"));
        }
        format!(
            "the keep-egress marks changed since step 1 was confirmed ({}); step 3 keeps exactly              the egress IPs step 1 confirmed. Go back to step 1: roll back this run and start a              new one to confirm step 1 with the marks you want",
            how.join("; ")
        )
    });
    let marks: Vec<store::keep_egress::Mark> = confirmed
        .into_iter()
        .map(|m| store::keep_egress::Mark {
            kind: m.kind,
            value: m.value,
            marked_by: String::new(),
        })
        .collect();
    let marks = keep::KeepMarks::from_marks(&marks).map_err(|detail| {
        EngineError::from(records::RecordError::Corrupt {
            what: "keep-egress mark of step 1's plan".into(),
            run,
            detail,
        })
    })?;
    Ok((marks, changed))
}

/// The run's marks now, as step 1's plan records them (sorted).
async fn live_keep_marks(store: &Store, run: RunId) -> Result<Vec<KeepMark>, EngineError> {
    let mut out: Vec<KeepMark> = store::keep_egress::list(store.readers(), run)
        .await?
        .into_iter()
        .map(|m| KeepMark {
            kind: m.kind,
            value: m.value,
        })
        .collect();
    out.sort();
    Ok(out)
}

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
        // The first gateway's attempts only (a further gateway's keys are `create_nat@…`).
        .filter(|u| u.entry.key == "create_nat" || u.entry.key.starts_with("create_nat#"))
        .count();
    Ok(u32::try_from(n).unwrap_or(u32::MAX))
}

/// Per further gateway (issue 12), how many creates the run has recorded for it so far: its
/// records are keyed `create_nat@<n>` and `create_nat@<n>#<attempt>`.
async fn extra_creates(
    store: &Store,
    run: RunId,
) -> Result<std::collections::BTreeMap<u32, u32>, records::RecordError> {
    let mut out = std::collections::BTreeMap::new();
    for u in records::undo_records(store, run).await? {
        let Some(rest) = u.entry.key.strip_prefix("create_nat@") else {
            continue;
        };
        let n = rest.split('#').next().and_then(|n| n.parse::<u32>().ok());
        if let Some(n) = n {
            *out.entry(n).or_insert(0) += 1;
        }
    }
    Ok(out)
}

/// The exposure report with the input's rules and single-host choices applied (by the same
/// `decide` the stored rows use). An exception's `reason` is `exception`.
pub fn apply_choices(mut report: ExposureReport, input: &AssessInput) -> ExposureReport {
    let protection = Protection::new(&input.rules, &input.protect, &input.unprotect);
    for row in &mut report.rows {
        let d = protection.decide(
            &row.instance_id,
            &Facts {
                name: &row.name,
                subnet_id: &row.subnet_id,
                tags: &row.tags,
                has_dns: !row.dns_names.is_empty(),
            },
        );
        (row.protected, row.reason) = (d.protected(), d.reason_kind().to_owned());
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
            let tag = run.id.tag_value();
            let mut plan = provision::plan(&inv, p, &tag, creates);
            // Issue 12: one gateway per group of route tables when one cannot keep them all.
            let baseline = load_egress(store, run.id, EgressPhase::Baseline).await?;
            let (marks, _) = confirmed_keep_marks(store, run.id).await?;
            let protected = protected_set(store, run.id).await?;
            let demands = keep::demand(&inv, &baseline, &marks, &protected);
            let extra = extra_creates(store, run.id).await?;
            provision::plan_gateways(&mut plan, &inv, p, &tag, &demands, &extra);
            Ok((plan, Some(inv)))
        }
        StepInput::Route(r) => {
            let nat = records::nat_gateway(store, run.id)
                .await?
                .ok_or_else(missing_nat)?;
            let inv = observe().await?;
            let gws = records::gateways(store, run.id, nat, &inv).await?;
            let protected = protected_set(store, run.id).await?;
            let mut plan = route::plan(&inv, &gws, &run.id.tag_value(), &protected, r);
            if let Some(msg) = gws.missing_message() {
                plan.conflict("nat_gateways", msg, false);
            }
            let baseline = load_egress(store, run.id, EgressPhase::Baseline).await?;
            let (marks, changed) = confirmed_keep_marks(store, run.id).await?;
            if let Some(msg) = changed {
                plan.conflict("keep_egress", msg, false);
            }
            let routed = keep::routed_after(&inv, &gws, r);
            keep::plan(
                &mut plan,
                &inv,
                &gws,
                &run.id.tag_value(),
                &baseline,
                &marks,
                &protected,
                &routed,
            );
            Ok((plan, Some(inv)))
        }
        StepInput::Verify(v) => {
            let nat = records::nat_gateway(store, run.id)
                .await?
                .ok_or_else(missing_nat)?;
            let inv = observe().await?;
            let after = load_egress(store, run.id, EgressPhase::After).await?;
            let gws = records::gateways(store, run.id, nat, &inv).await?;
            let routed = gws.routed_tables(&inv);
            let protected = protected_set(store, run.id).await?;
            let route_plan = records::plan(store, run.id, Step::Route)
                .await?
                .unwrap_or_default();
            let check = keep::EgressCheck::from_step3(&inv, &route_plan);
            let plan = verify::plan(&inv, &gws, &routed, &after, &protected, v, &check);
            Ok((plan, Some(inv)))
        }
    }
}

/// A fresh observation of the run's VPC through `cloud`, for [`plan`].
pub async fn fresh(cloud: &dyn Cloud, run: &Run) -> Result<Arc<Inventory>, EngineError> {
    Ok(Arc::new(cloud.inventory(&run.vpc_id).await?))
}

/// Step 1's "plan": the rules and exceptions to confirm. It changes nothing in the cloud, so
/// it only refuses ids that are not instances of the VPC and subnets without instances. It
/// reads the stored rows by id (never the whole report): it is made on every page view.
async fn plan_assessment(
    store: &Store,
    run: &Run,
    choices: &AssessInput,
) -> Result<Plan, EngineError> {
    if !super::protection::ensure_rows(store, run.id).await? {
        return Err(CloudError::state(
            "plan",
            "natpilot.NotAssessed",
            "the assessment has not finished yet; wait for it",
        )
        .into());
    }
    let mut plan = Plan::default();
    let db = store.readers();
    for id in choices.protect.iter().chain(&choices.unprotect) {
        if !store::exposure::has_instance(db, run.id, id).await? {
            plan.conflict(
                id,
                format!("{id} is not an instance of {}", run.vpc_id),
                false,
            );
        }
    }
    for rule in &choices.rules {
        if let Rule::Subnet { subnet_id } = rule
            && !store::exposure::has_subnet(db, run.id, subnet_id).await?
        {
            plan.conflict(
                subnet_id,
                format!("no instance of {} is in {subnet_id}", run.vpc_id),
                false,
            );
        }
    }
    let mut shown = choices.clone();
    shown.protect.sort();
    shown.unprotect.sort();
    plan.protection = Some(shown);
    // Strictly: a mark that does not decode stops step 1 here, not step 3 later.
    keep_marks(store, run.id).await?;
    plan.keep_egress = Some(live_keep_marks(store, run.id).await?);
    Ok(plan)
}
