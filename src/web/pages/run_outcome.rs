//! A finished run's outcome in words, the first thing its page shows: public IPs before and
//! after per kind, what step 4 took off and how, what it kept and why (counted by reason),
//! the hosts that could not be tested, and, after a rollback, who rolled back when and what
//! differs from the world before the run (an ordinary IP that came back as an EIP, a released
//! address). Read from the stored reports; one that does not decode is said so, never
//! guessed. The JSON report stays one click away.

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;

use crate::{
    app::AppState,
    store::{self, ReportKind, RunId, RunStatus, Step, runs::Run},
    web::error::WebError,
    wizard::{
        engine::UndoEntry,
        plan::{Change, Kept, Undo},
        steps::assess::{Egress, ExposureReport, PublicIpKind},
    },
};

/// Names listed before the rest are counted.
const NAMED: usize = 10;

/// The final report as `after_verify` writes it (fields the page reads).
#[derive(Deserialize)]
struct FinalReport {
    #[serde(default)]
    nat_id: Option<String>,
    egress_after: BTreeMap<String, Egress>,
    removed: Vec<Removed>,
    kept: Vec<Kept>,
}

#[derive(Deserialize)]
struct Removed {
    instance_id: String,
    how: String,
}

#[derive(Deserialize)]
struct RollbackReport {
    #[serde(default)]
    release_nat_eips: bool,
    #[serde(default)]
    undone: Vec<String>,
    #[serde(default)]
    cannot_undo: Vec<String>,
}

/// One kind of public address, before the run and now.
pub struct KindRow {
    pub kind: &'static str,
    /// None where "before" does not apply: the EIPs this run kept did not exist as such.
    pub before: Option<usize>,
    pub after: usize,
}

pub struct Completed {
    pub nat_id: Option<String>,
    pub rows: Vec<KindRow>,
    pub unbound: usize,
    pub converted: usize,
    pub released: usize,
    pub returned: usize,
    /// Kept public IPs by reason, most frequent first.
    pub kept: Vec<(String, usize)>,
    pub kept_total: usize,
    pub untestable: Vec<String>,
    pub untestable_total: usize,
}

impl Completed {
    /// EIPs left unbound on the account (Tencent charges for idle EIPs): the unbound ones
    /// kept and the converted ordinary IPs.
    pub fn idle_eips(&self) -> usize {
        self.unbound + self.converted
    }

    pub fn more_untestable(&self) -> usize {
        self.untestable_total - self.untestable.len()
    }
}

pub struct RolledBack {
    pub by: String,
    /// When it was started, and when it finished.
    pub started: Option<String>,
    pub at: String,
    pub undone: usize,
    /// What is not as it was before the run, in words (first few), and how many.
    pub differs: Vec<String>,
    pub differs_total: usize,
}

impl RolledBack {
    pub fn more_differences(&self) -> usize {
        self.differs_total - self.differs.len()
    }
}

pub enum Outcome {
    Completed(Completed),
    RolledBack(RolledBack),
    /// A stored report does not decode: the page says which and why.
    Unreadable(String),
}

/// The outcome of a finished run (None while it runs, or when it ended without one).
pub async fn outcome(state: &AppState, run: &Run) -> Result<Option<Outcome>, WebError> {
    let db = state.store.readers();
    match run.status {
        RunStatus::Completed => {
            let Some(v) = store::results::get_report(db, run.id, ReportKind::Final).await? else {
                return Ok(None);
            };
            let report: FinalReport = match serde_json::from_value(v) {
                Ok(r) => r,
                Err(e) => return Ok(Some(unreadable("final report", e))),
            };
            let exposure = match store::results::get_report(db, run.id, ReportKind::Exposure)
                .await?
                .map(serde_json::from_value::<ExposureReport>)
                .transpose()
            {
                Ok(e) => e,
                Err(e) => return Ok(Some(unreadable("exposure report", e))),
            };
            let plan = state
                .engine
                .confirmed_plan(run.id, Step::Verify)
                .await
                .map_err(super::run_actions::engine_error)?
                .unwrap_or_default();
            let converted: BTreeSet<&str> = plan
                .changes()
                .filter_map(|c| match c {
                    Change::TransformAddress { instance_id, .. } => Some(instance_id.as_str()),
                    _ => None,
                })
                .collect();
            Ok(Some(Outcome::Completed(completed(
                &report,
                exposure.as_ref(),
                &converted,
            ))))
        }
        RunStatus::RolledBack => {
            let v = store::results::get_report(db, run.id, ReportKind::Rollback).await?;
            let report: RollbackReport = match v.map(serde_json::from_value).transpose() {
                Ok(r) => r.unwrap_or(RollbackReport {
                    release_nat_eips: false,
                    undone: Vec::new(),
                    cannot_undo: Vec::new(),
                }),
                Err(e) => return Ok(Some(unreadable("rollback report", e))),
            };
            let mut differs = report.cannot_undo;
            if !report.release_nat_eips {
                differs.extend(kept_nat_eips(state, run.id).await?);
            }
            let started = store::run_views::rollback_started(db, run.id).await?;
            let when =
                |t: chrono::DateTime<chrono::Utc>| t.format("%Y-%m-%d %H:%M:%S UTC").to_string();
            Ok(Some(Outcome::RolledBack(RolledBack {
                by: started
                    .as_ref()
                    .map(|(who, _)| who.clone())
                    .or_else(|| run.finished_by.clone())
                    .unwrap_or_else(|| "someone the record does not name".into()),
                started: started.map(|(_, at)| when(at)),
                at: run.finished_at.map(when).unwrap_or_default(),
                undone: report.undone.len(),
                differs_total: differs.len(),
                differs: differs.into_iter().take(NAMED).collect(),
            })))
        }
        _ => Ok(None),
    }
}

/// The EIPs Tencent allocated for the run's NAT gateway: a rollback that was not asked to
/// release them leaves them on the account, unbound (the gateway's undo record names them).
async fn kept_nat_eips(state: &AppState, run: RunId) -> Result<Vec<String>, WebError> {
    let records = store::undo::list(state.store.readers(), run).await?;
    let mut out = Vec::new();
    for r in records.iter().filter(|r| r.step == Step::Provision) {
        match serde_json::from_value::<UndoEntry>(r.action.clone()) {
            Ok(UndoEntry {
                undo: Undo::DeleteNatGateway { allocated_eips, .. },
                ..
            }) => out.extend(allocated_eips.iter().map(|a| {
                format!(
                    "EIP {} ({}), allocated for the NAT gateway, stays on the account unbound \
                     (Tencent Cloud charges for idle EIPs)",
                    a.ip, a.address_id
                )
            })),
            Ok(_) => {}
            // Said, not skipped: the page cannot tell what this record left behind.
            Err(e) => out.push(format!(
                "Undo record {} does not decode ({e}); what it left behind is unknown",
                r.id
            )),
        }
    }
    Ok(out)
}

fn unreadable(what: &str, e: serde_json::Error) -> Outcome {
    Outcome::Unreadable(format!(
        "The stored {what} does not decode ({e}); the JSON report holds it as it was written."
    ))
}

fn completed(
    report: &FinalReport,
    exposure: Option<&ExposureReport>,
    converted_instances: &BTreeSet<&str>,
) -> Completed {
    let count = |how: &str| report.removed.iter().filter(|r| r.how == how).count();
    let converted = report
        .removed
        .iter()
        .filter(|r| r.how == "unbound" && converted_instances.contains(r.instance_id.as_str()))
        .count();
    let (released, returned) = (count("released"), count("returned"));
    // A released EIP was unbound first (two entries): `unbound` is what stays on the account.
    let unbound = count("unbound")
        .saturating_sub(converted)
        .saturating_sub(released);
    let before = |kind: PublicIpKind| {
        exposure.map_or(0, |e| e.rows.iter().filter(|r| r.kind == kind).count())
    };
    let (eips, ordinary) = (before(PublicIpKind::Eip), before(PublicIpKind::Ordinary));
    let rows = vec![
        KindRow {
            kind: "EIPs bound to instances",
            before: Some(eips),
            after: eips.saturating_sub(unbound + released),
        },
        KindRow {
            kind: "Ordinary public IPs",
            before: Some(ordinary),
            after: ordinary.saturating_sub(converted + returned),
        },
        KindRow {
            // Only the ones this run kept: EIPs that were idle before the run are not counted
            // here, so there is no "before" to show.
            kind: "Unbound EIPs this run kept",
            before: None,
            after: unbound + converted,
        },
    ];
    let mut reasons: BTreeMap<&str, usize> = BTreeMap::new();
    for k in &report.kept {
        *reasons.entry(k.reason.as_str()).or_default() += 1;
    }
    let mut kept: Vec<(String, usize)> = reasons
        .into_iter()
        .map(|(r, n)| (r.to_owned(), n))
        .collect();
    kept.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let untestable: Vec<&String> = report
        .egress_after
        .iter()
        .filter(|(_, e)| matches!(e, Egress::Untestable { .. }))
        .map(|(id, _)| id)
        .collect();
    Completed {
        nat_id: report.nat_id.clone(),
        rows,
        unbound,
        converted,
        released,
        returned,
        kept_total: report.kept.len(),
        kept,
        untestable_total: untestable.len(),
        untestable: untestable.into_iter().take(NAMED).cloned().collect(),
    }
}
