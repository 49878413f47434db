//! Reading back what the engine stored to act on later — confirmed plans and inputs, undo
//! records, the run's NAT gateway, the exposure report — strictly. A record that does not
//! decode is an error that stops the caller and names the record; it is never read as
//! "nothing", because "nothing" can turn into "release everything else".

use serde::de::DeserializeOwned;

use super::jobs::UndoEntry;
use crate::store::{self, ReportKind, RunId, Step, Store, undo::UndoRecord};
use crate::wizard::ids::NatGatewayId;
use crate::wizard::input::StepInput;
use crate::wizard::plan::Plan;
use crate::wizard::steps::assess::ExposureReport;
use crate::wizard::steps::gateways::Gateways;
use crate::wizard::steps::provision;

/// A stored record that could not be read back, or could not be read at all.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    #[error(
        "the stored {what} of run {run} does not decode ({detail}); natpilot stops rather than \
         guess. The database was changed outside natpilot or written by another version: \
         restore it from a backup, or abandon the run and clean up in the console"
    )]
    Corrupt {
        what: String,
        run: RunId,
        detail: String,
    },
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
}

pub(super) fn decode<T: DeserializeOwned>(
    run: RunId,
    what: impl Into<String>,
    value: serde_json::Value,
) -> Result<T, RecordError> {
    serde_json::from_value(value).map_err(|e| RecordError::Corrupt {
        what: what.into(),
        run,
        detail: e.to_string(),
    })
}

/// The confirmed plan of a step, if the step was confirmed.
pub async fn plan(store: &Store, run: RunId, step: Step) -> Result<Option<Plan>, RecordError> {
    match store::steps::get(store.readers(), run, step).await? {
        Some(row) => Ok(Some(decode(
            run,
            format!("plan of step {}", step.number()),
            row.plan,
        )?)),
        None => Ok(None),
    }
}

/// The confirmed input of a step, if the step was confirmed.
pub async fn input(
    store: &Store,
    run: RunId,
    step: Step,
) -> Result<Option<StepInput>, RecordError> {
    match store::steps::get(store.readers(), run, step).await? {
        Some(row) => Ok(Some(decode(
            run,
            format!("input of step {}", step.number()),
            row.input,
        )?)),
        None => Ok(None),
    }
}

/// One undo record with its decoded action.
pub struct Undoable {
    pub record: UndoRecord,
    pub entry: UndoEntry,
}

/// Every undo record of the run in the order written, each decoded; one that does not decode
/// fails the whole read.
pub async fn undo_records(store: &Store, run: RunId) -> Result<Vec<Undoable>, RecordError> {
    store::undo::list(store.readers(), run)
        .await?
        .into_iter()
        .map(|record| {
            let what = format!("undo record {}", record.id);
            let entry = decode(run, what, record.action.clone())?;
            Ok(Undoable { record, entry })
        })
        .collect()
}

/// The NAT gateway the run uses (created by it or adopted), once step 2 has named one.
pub async fn nat_gateway(store: &Store, run: RunId) -> Result<Option<NatGatewayId>, RecordError> {
    match store::nat_gateways::get(store.readers(), run).await? {
        Some(id) => NatGatewayId::parse(&id)
            .map(Some)
            .map_err(|detail| RecordError::Corrupt {
                what: "NAT gateway".into(),
                run,
                detail,
            }),
        None => Ok(None),
    }
}

/// Every gateway of the run (issue 12): the first one, plus the further ones step 2's plan
/// created for some route tables, found in `inv` by their tags.
pub async fn gateways(
    store: &Store,
    run: RunId,
    first: NatGatewayId,
    inv: &crate::wizard::observed::Inventory,
) -> Result<Gateways, RecordError> {
    let step2 = plan(store, run, Step::Provision).await?.unwrap_or_default();
    Ok(Gateways::resolve(
        first,
        &provision::planned_extras(&step2),
        inv,
    ))
}

/// Step 1's exposure report, once the assessment has written it.
pub async fn exposure(store: &Store, run: RunId) -> Result<Option<ExposureReport>, RecordError> {
    match store::results::get_report(store.readers(), run, ReportKind::Exposure).await? {
        Some(v) => Ok(Some(decode(run, "exposure report", v)?)),
        None => Ok(None),
    }
}
