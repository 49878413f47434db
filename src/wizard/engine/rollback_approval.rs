//! A rollback that also releases the NAT gateway's EIPs waits for an admin's approval, like an
//! irreversible step (issue 14, item 2: "irreversible choices need an admin's approval").
//! Releasing an EIP cannot be undone: the address is gone for good, and with it every
//! allowlist entry that named it.
//!
//! Only that choice waits. A rollback that keeps the EIPs starts at once (it is what an
//! operator reaches for when something broke), and starting one voids a pending request, so
//! an urgent rollback is never held up by a request nobody has decided yet.
//!
//! The request names exactly what it would do: the undo records it acts on and the EIPs the
//! gateway's undo record names as natpilot's. Its digest covers every undo record (id, state
//! and action) and the release flag; approving reads them again and starts the rollback only
//! when they are unchanged, else the request is void and says so.

use chrono::Utc;
use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::{Digest, Sha256};

use super::actor::Actor;
use super::approvals::Decision;
use super::errors::EngineError;
use super::jobs::{UndoEntry, to_json};
use super::records::{self, RecordError};
use super::{Engine, rollback};
use crate::notify::{self, Notification};
use crate::store::{
    self, RunId, RunStatus,
    approvals::{ApprovalKind, ApprovalRow, NewApproval},
    undo::UndoRecord,
    users::Role,
};
use crate::wizard::plan::{AllocatedEip, Undo};

/// The statuses a run is rolled back from.
pub(super) const ROLLBACK_FROM: [RunStatus; 3] =
    [RunStatus::Active, RunStatus::Failed, RunStatus::Completed];

/// What a rollback request would do, as the approver reads it (the request's stored plan).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RollbackRequest {
    /// Always true: only a rollback that releases EIPs waits for approval.
    pub release_nat_eips: bool,
    /// The run's NAT gateway, whose EIPs would be released.
    pub nat_gateway: Option<String>,
    /// The EIPs the gateway's undo record names as allocated by natpilot: exactly these are
    /// released, never the operator's own. Empty while the record has not learnt them (it
    /// learns them from the gateway before deleting it, and releases only those).
    pub release: Vec<AllocatedEip>,
    /// How many undo actions the rollback takes.
    pub actions: usize,
}

/// What starting a rollback did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RollbackStart {
    /// The rollback job runs.
    Started,
    /// It releases EIPs, so it waits for an admin: request `id`. Nothing was undone.
    ApprovalRequested { id: i64 },
}

/// An approved rollback request, recorded in the transaction that starts the rollback.
pub(super) struct ApprovedRollback<'a> {
    pub row: &'a ApprovalRow,
    pub comment: Option<&'a str>,
}

/// Hex SHA-256 over every undo record (id, state, action) and the release flag.
fn digest(records: &[UndoRecord], release: bool) -> String {
    let parts: Vec<_> = records
        .iter()
        .map(|r| json!([r.id, r.state.as_str(), r.action]))
        .collect();
    let bytes = serde_json::to_vec(&json!([release, parts])).expect("JSON values serialise");
    hex::encode(Sha256::digest(&bytes))
}

/// The request's summary from the records; a record that does not decode stops it (the
/// rollback itself would stop there too).
fn summarise(
    run: RunId,
    records: &[UndoRecord],
    nat_gateway: Option<String>,
) -> Result<RollbackRequest, RecordError> {
    let mut release = Vec::new();
    for r in records {
        let entry: UndoEntry =
            records::decode(run, format!("undo record {}", r.id), r.action.clone())?;
        if let Undo::DeleteNatGateway { allocated_eips, .. } = entry.undo {
            release.extend(allocated_eips);
        }
    }
    Ok(RollbackRequest {
        release_nat_eips: true,
        nat_gateway,
        release,
        actions: rollback::preview(records).len(),
    })
}

impl Engine {
    /// Files the request for a rollback of `run` that releases the NAT gateway's EIPs, in one
    /// transaction with its audit entry, timeline event and notification. Nothing is undone.
    pub(super) async fn request_rollback_approval(
        &self,
        run: RunId,
        actor: Actor<'_>,
    ) -> Result<i64, EngineError> {
        let r = self.run(run).await?;
        if !ROLLBACK_FROM.contains(&r.status) {
            return Err(EngineError::wrong(
                r.status,
                r.current_step,
                "it cannot be rolled back now",
            ));
        }
        let db = self.store().readers();
        let records = store::undo::list(db, run).await?;
        let nat = store::nat_gateways::get(db, run).await?;
        let request = summarise(run, &records, nat)?;
        let now = Utc::now();
        let (input, plan) = (json!({"release_nat_eips": true}), to_json(&request));
        let plan_digest = digest(&records, true);
        let new = NewApproval {
            kind: ApprovalKind::Rollback,
            run,
            step: r.current_step,
            input: &input,
            plan: &plan,
            plan_digest: &plan_digest,
            // A rollback looks at the cloud before each undo; what it is bound to is the
            // run's own record of its changes.
            observed_digest: "",
            observed_at: now,
            irreversible: true,
            needs_role: Role::Admin,
            requested_by: actor.user,
            requested_at: now,
            expires_at: self.expiry_from(now),
        };
        let (mut tx, id) = self.file_request(&new).await?;
        let details = json!({
            "approval": id,
            "kind": "rollback",
            "release_nat_eips": true,
            "eips": request.release.iter().map(|e| &e.address_id).collect::<Vec<_>>(),
            "needs": "admin",
        });
        actor
            .audit(&mut *tx, "approval.request", run, &details)
            .await?;
        let msg = format!(
            "{} asked to roll back the run and release the NAT gateway's EIPs (request {id}); \
             waiting for another admin's approval. A rollback that keeps the EIPs can start \
             at any time",
            actor.user
        );
        self.append_event(&mut tx, run, r.current_step, &msg)
            .await?;
        let note =
            Notification::rollback_approval_requested(&r, id, actor.user, request.release.len());
        notify::event::record(&mut tx, &note).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// What rollback request `a` would do, decoded strictly.
    pub fn rollback_request(&self, a: &ApprovalRow) -> Result<RollbackRequest, EngineError> {
        let what = format!("rollback of approval request {}", a.id);
        Ok(records::decode(a.run_id, what, a.plan.clone())?)
    }

    /// Approves a rollback request (the role and the four eyes were checked by the caller):
    /// starts the rollback with release when the run can still be rolled back and its undo
    /// records are the ones the request named; otherwise voids it and says why.
    pub(super) async fn approve_rollback(
        &self,
        a: &ApprovalRow,
        actor: Actor<'_>,
        comment: &str,
    ) -> Result<Decision, EngineError> {
        self.rollback_request(a)?;
        let r = self.run(a.run_id).await?;
        if !ROLLBACK_FROM.contains(&r.status) {
            let why = format!(
                "the run is now {}; it can no longer be rolled back",
                r.status
            );
            self.void(a, actor, &why).await?;
            return Ok(Decision::Void(why));
        }
        let records = store::undo::list(self.store().readers(), a.run_id).await?;
        if digest(&records, true) != a.plan_digest {
            let why = "the run changed since the request: its changes or their undo records \
                       are not the ones the request named (a step was applied, retried or \
                       undone meanwhile)"
                .to_owned();
            self.void(a, actor, &why).await?;
            return Ok(Decision::Void(why));
        }
        let comment = (!comment.is_empty()).then_some(comment);
        let approved = ApprovedRollback { row: a, comment };
        self.start_rollback(
            a.run_id,
            &ROLLBACK_FROM,
            actor,
            true,
            "run.rollback",
            Some(approved),
        )
        .await?;
        Ok(Decision::Applying)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::UndoState;
    use crate::wizard::engine::rollback::tests::record;

    fn nat_undo(eips: &[&str]) -> Undo {
        Undo::DeleteNatGateway {
            nat_id: None,
            run_tag: "np-test".into(),
            allocated_eips: eips
                .iter()
                .map(|a| AllocatedEip {
                    address_id: (*a).into(),
                    ip: "203.0.113.9".into(),
                })
                .collect(),
            operator_eips: Some(Vec::new()),
        }
    }

    #[test]
    fn the_request_names_the_eips_of_the_gateways_record_and_its_digest_moves_with_any_record() {
        let records = vec![record(1, UndoState::Done, nat_undo(&["eip-aaaa1111"]))];
        let request = summarise(RunId::new(), &records, Some("nat-1".into())).unwrap();
        assert_eq!(request.release.len(), 1);
        assert_eq!(request.release[0].address_id, "eip-aaaa1111");
        assert_eq!(request.actions, 1);
        let before = digest(&records, true);
        assert_ne!(before, digest(&records, false), "the release flag is bound");
        let undone = vec![record(1, UndoState::Undone, nat_undo(&["eip-aaaa1111"]))];
        assert_ne!(before, digest(&undone, true), "a record's state is bound");
        let other = vec![record(1, UndoState::Done, nat_undo(&["eip-bbbb2222"]))];
        assert_ne!(before, digest(&other, true), "what a record names is bound");
        let mut more = records.clone();
        more.push(record(2, UndoState::Done, nat_undo(&[])));
        assert_ne!(before, digest(&more, true), "a new record is bound");
    }

    #[test]
    fn a_record_that_does_not_decode_stops_the_request() {
        let mut bad = record(7, UndoState::Done, nat_undo(&[]));
        bad.action = json!({"key": "k7", "undo": {"kind": "nonsense"}});
        let err = summarise(RunId::new(), &[bad], None).unwrap_err();
        assert!(err.to_string().contains("undo record 7"), "{err}");
    }
}
