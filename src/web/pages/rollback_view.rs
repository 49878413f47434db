//! What the run page offers for rolling back, and what it says a rollback would do: the
//! engine's own preview, summarised (a 10,000-instance step has 10,000 undo actions: the
//! page names the kinds with counts and the first few, not every one). Nothing is offered
//! before the run changed anything: with no NAT gateway and no change in place, a rollback
//! would only end the run, which Abandon does.

use crate::{
    app::AppState,
    store::{self, RunId, RunStatus, undo::UndoRecord},
    web::error::WebError,
    wizard::{
        engine::{self, Disposition},
        plan::Undo,
    },
};

use super::step_view::describe_undo;

/// Undo actions named one by one before the rest are counted.
const NAMED: usize = 8;

pub struct RollbackOffer {
    /// The run has a NAT gateway, so "also release its new EIPs" means something.
    pub nat_gateway: Option<String>,
    /// The first actions, in the order a rollback takes them.
    pub first: Vec<String>,
    /// How many actions in all, and how many of them re-bind an EIP.
    pub total: usize,
    pub rebinds: usize,
    /// Releasing EIPs is irreversible, so (by the approval policy) such a rollback waits for
    /// another admin's approval; the form says so.
    pub release_needs_admin: bool,
}

impl RollbackOffer {
    /// A count as the page shows it ("1,988").
    pub fn n(&self, v: impl std::borrow::Borrow<usize>) -> String {
        super::numbers::grouped(*v.borrow())
    }

    pub fn more(&self) -> usize {
        self.total.saturating_sub(self.first.len())
    }
}

/// The statuses the engine rolls back from.
pub fn may_offer(status: RunStatus) -> bool {
    matches!(
        status,
        RunStatus::Active | RunStatus::Failed | RunStatus::Completed
    )
}

pub async fn offer(state: &AppState, run: RunId) -> Result<Option<RollbackOffer>, WebError> {
    let db = state.store.readers();
    let nat_gateway = store::nat_gateways::get(db, run).await?;
    let records = store::undo::list(db, run).await?;
    let (first, total, rebinds) = summarise(&records);
    if nat_gateway.is_none() && total == 0 {
        return Ok(None);
    }
    Ok(Some(RollbackOffer {
        nat_gateway,
        first,
        total,
        rebinds,
        release_needs_admin: state.engine.approval_policy().irreversible_needs_admin,
    }))
}

/// The engine's rollback order and skips, in words: the first [`NAMED`] actions, the count
/// of all, and how many re-bind an EIP (the bulk of a large step 4).
fn summarise(records: &[UndoRecord]) -> (Vec<String>, usize, usize) {
    let mut first = Vec::new();
    let (mut total, mut rebinds) = (0, 0);
    for d in engine::rollback_preview(records) {
        let line = match d {
            Disposition::Undo {
                entry,
                maybe_not_made,
            } => {
                if matches!(entry.undo, Undo::ReassociateEip { .. }) {
                    rebinds += 1;
                }
                let words = describe_undo(&entry.undo);
                if maybe_not_made {
                    format!("{words} (if the change was made)")
                } else {
                    words
                }
            }
            Disposition::Irreversible(entry) => describe_undo(&entry.undo),
            Disposition::Unreadable { record, detail } => format!(
                "Undo record {record} cannot be read ({detail}): the rollback stops before \
                 undoing anything"
            ),
            Disposition::Skip => continue,
        };
        total += 1;
        if first.len() < NAMED {
            first.push(line);
        }
    }
    (first, total, rebinds)
}
