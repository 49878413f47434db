//! After a scan of an account: per VPC whose latest run completed, compare the snapshot with
//! what the run allows (`drift::compare`) and bring the stored findings in step, one
//! transaction per VPC: a new finding is raised with its `drift.found` audit entry and
//! notification (the webhook outbox), one seen again gets its `last_seen`, a live one no
//! longer seen closes, and one against an older run closes too (a newer run completed).
//!
//! Fails closed: a run's plan, a snapshot or a stored finding that does not decode stops
//! the comparison with an error naming it; nothing is skipped.

use crate::notify::{self, Notification};
use crate::store::{
    self, RunId, RunStatus, Step, Store,
    drift::{ClosedHow, Finding},
    estate::VpcRow,
};
use crate::wizard::plan::Plan;

use super::drift::{self, Baseline, DriftKind, VpcKey};

#[derive(Debug, thiserror::Error)]
pub enum DriftError {
    #[error(
        "drift cannot be checked in {vpc}: the stored {what} does not decode ({detail}); \
         natpilot stops rather than guess"
    )]
    Corrupt {
        vpc: String,
        what: String,
        detail: String,
    },
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

/// What one comparison did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Outcome {
    pub raised: usize,
    pub seen_again: usize,
    pub closed: usize,
}

/// Checks every VPC of `scan` (of `account`, started by `started_by`).
pub async fn after_scan(
    store: &Store,
    scan: i64,
    account: &str,
    started_by: &str,
) -> Result<Outcome, DriftError> {
    let mut total = Outcome::default();
    for v in store::estate::vpcs_of(store.readers(), scan).await? {
        let at = VpcKey {
            account: account.to_owned(),
            region: v.region.clone(),
            vpc_id: v.vpc_id.clone(),
        };
        let latest = store::drift::latest_run(store.readers(), &at).await?;
        let Some((run, RunStatus::Completed)) = latest else {
            // No run, or one still under way, rolled back or abandoned: nothing is promised.
            continue;
        };
        let base = baseline(store, &at, run).await?;
        let found = snapshot_drift(&at, &base, &v)?;
        let done = reconcile(store, &at, run, scan, started_by, found).await?;
        total.raised += done.raised;
        total.seen_again += done.seen_again;
        total.closed += done.closed;
    }
    Ok(total)
}

fn snapshot_drift(at: &VpcKey, base: &Baseline, v: &VpcRow) -> Result<Vec<DriftKind>, DriftError> {
    let (hosts, routes) =
        drift::decode_snapshot(&v.public_hosts, &v.default_routes).map_err(|detail| {
            DriftError::Corrupt {
                vpc: at.vpc_id.clone(),
                what: "scan snapshot".into(),
                detail,
            }
        })?;
    Ok(drift::compare(base, &hosts, &routes))
}

/// What the completed run `run` allows, from its stored plans of steps 3 and 4 and its NAT.
async fn baseline(store: &Store, at: &VpcKey, run: RunId) -> Result<Baseline, DriftError> {
    let corrupt = |what: String, detail: String| DriftError::Corrupt {
        vpc: at.vpc_id.clone(),
        what: format!("{what} of run {run}"),
        detail,
    };
    let mut plans = Vec::new();
    for step in [Step::Route, Step::Verify] {
        let what = format!("plan of step {}", step.number());
        let row = store::steps::get(store.readers(), run, step)
            .await?
            .ok_or_else(|| corrupt(what.clone(), "missing from a completed run".into()))?;
        let plan: Plan =
            serde_json::from_value(row.plan).map_err(|e| corrupt(what, e.to_string()))?;
        plans.push(plan);
    }
    let nat = store::nat_gateways::get(store.readers(), run)
        .await?
        .ok_or_else(|| corrupt("NAT gateway".into(), "missing from a completed run".into()))?;
    Ok(Baseline::from_plans(run, nat, &plans[0], &plans[1]))
}

async fn reconcile(
    store: &Store,
    at: &VpcKey,
    run: RunId,
    scan: i64,
    started_by: &str,
    found: Vec<DriftKind>,
) -> Result<Outcome, DriftError> {
    let mut done = Outcome::default();
    let mut tx = store.begin_write().await?;
    let live = store::drift::live_in(&mut *tx, at).await?;
    let same = |l: &Finding, d: &DriftKind| {
        l.run == run && l.finding.kind() == d.kind() && l.finding.subject() == d.subject()
    };
    for l in &live {
        let how = if l.run != run {
            ClosedHow::NewRun
        } else if !found.iter().any(|d| same(l, d)) {
            ClosedHow::Gone
        } else {
            continue;
        };
        store::drift::close(&mut *tx, l.id, how).await?;
        done.closed += 1;
    }
    for d in &found {
        if let Some(l) = live.iter().find(|l| same(l, d)) {
            store::drift::seen_again(&mut *tx, l.id, scan).await?;
            done.seen_again += 1;
            continue;
        }
        let id = store::drift::raise(&mut *tx, at, run, d, scan).await?;
        let details = serde_json::json!({
            "finding": id,
            "account": at.account,
            "region": at.region,
            "vpc_id": at.vpc_id,
            "run": run.to_string(),
            "scan": scan,
            "kind": d.kind(),
            "subject": d.subject(),
            "what": d.words(),
        });
        store::audit::record(
            &mut *tx,
            started_by,
            "",
            "drift.found",
            &at.vpc_id,
            &details,
        )
        .await?;
        let n = Notification::drift_found(at, &run.to_string(), id, d);
        notify::event::record(&mut tx, &n).await?;
        done.raised += 1;
    }
    tx.commit().await?;
    Ok(done)
}
