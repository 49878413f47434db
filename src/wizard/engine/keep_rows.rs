//! Issue 12: each of step 1's exposure rows records whether it keeps its egress IP and why,
//! so the table filters and counts "keeps its egress IP" through an index whatever the VPC
//! size. Decided by the same `KeepMarks::reason` that plans the moves (an operator's mark,
//! the keep tag, a rule), plus the shared egress IPs kept as the NAT gateway's egress: an
//! instance that leaves through such an IP today keeps leaving through it.
//!
//! Rewritten in the transaction that changes a mark; rows written by an assessment (or by a
//! version before the column) are worked out before a page reads them ([`ensure`]), so a
//! page never shows "does not keep" for a row nobody decided.

use super::records::RecordError;
use crate::store::{self, RunId, Store, exposure::KeepFactsRow};
use crate::wizard::observed::{Instance, InstanceState};
use crate::wizard::steps::keep::KeepMarks;

type Tx = crate::store::WriteTx;

fn corrupt(run: RunId, what: &str, detail: impl std::fmt::Display) -> RecordError {
    RecordError::Corrupt {
        what: what.to_owned(),
        run,
        detail: detail.to_string(),
    }
}

/// Why the row keeps its egress IP under `marks`, or `None`.
pub(super) fn reason(
    run: RunId,
    marks: &KeepMarks,
    f: &KeepFactsRow,
) -> Result<Option<String>, RecordError> {
    let tags: Vec<(String, String)> = serde_json::from_str(&f.tags)
        .map_err(|e| corrupt(run, &format!("exposure row of {}", f.instance_id), e))?;
    let instance = Instance {
        id: f.instance_id.clone(),
        name: f.name.clone(),
        subnet_id: f.subnet_id.clone(),
        state: InstanceState::Running,
        private_ip: None,
        public_ip: None,
        tags,
        agent_online: true,
    };
    if let Some(why) = marks.reason(&instance) {
        return Ok(Some(why));
    }
    Ok(
        (!f.egress_ip.is_empty() && marks.shared_ips.contains(&f.egress_ip)).then(|| {
            format!(
                "leaves through the shared egress IP {} today, kept as the NAT gateway's egress",
                f.egress_ip
            )
        }),
    )
}

/// Works out every row of the run again from the stored marks, writing only rows that change.
pub(super) async fn refresh(tx: &mut Tx, run: RunId) -> Result<(), RecordError> {
    let marks = store::keep_egress::list(&mut **tx, run).await?;
    let marks = KeepMarks::from_marks(&marks).map_err(|d| corrupt(run, "keep-egress mark", d))?;
    for f in store::exposure::keep_facts(&mut **tx, run).await? {
        let why = reason(run, &marks, &f)?;
        let unchanged = match (f.keeps_egress, &why) {
            (1, Some(why)) => *why == f.keep_reason,
            (0, None) => true,
            _ => false,
        };
        if !unchanged {
            store::exposure::set_keeps_egress(&mut **tx, run, &f.instance_id, why.as_deref())
                .await?;
        }
    }
    Ok(())
}

/// Works the rows out if some are not yet (after an assessment, or rows of an older version).
pub(super) async fn ensure(store: &Store, run: RunId) -> Result<(), RecordError> {
    if !store::exposure::keeps_unknown(store.readers(), run).await? {
        return Ok(());
    }
    let mut tx = store.begin_write().await?;
    refresh(&mut tx, run).await?;
    tx.commit().await?;
    Ok(())
}
