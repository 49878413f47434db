//! Ending a run early or undoing it: rollback (started here, run by the `rollback` job) and
//! abandon. Each persists its transition in one short write transaction.

use serde_json::json;

use super::actor::Actor;
use super::errors::EngineError;
use super::records::{self, RecordError};
use super::rollback::RollbackReport;
use super::rollback_approval::{ApprovedRollback, ROLLBACK_FROM, RollbackStart};
use super::{Engine, Job, jobs::to_json};
use crate::notify::{self, Notification};
use crate::store::approvals::ApprovalState;
use crate::store::{self, EventLevel, ReportKind, RunId, RunStatus, Step};
use crate::wizard::ids::NatGatewayId;

impl Engine {
    /// Undoes everything the run did, newest first. Allowed when the run is waiting, failed or
    /// completed. `release_nat_eips` also releases the EIPs allocated for the NAT gateway:
    /// irreversible, so when the policy says irreversible choices need an admin, that
    /// rollback waits for another admin's approval instead (nothing is undone meanwhile).
    pub async fn rollback(
        &self,
        run: RunId,
        actor: impl Into<Actor<'_>>,
        release_nat_eips: bool,
    ) -> Result<RollbackStart, EngineError> {
        let actor = actor.into();
        if release_nat_eips && self.approval_policy().irreversible_needs_admin {
            let id = self.request_rollback_approval(run, actor).await?;
            return Ok(RollbackStart::ApprovalRequested { id });
        }
        self.start_rollback(
            run,
            &ROLLBACK_FROM,
            actor,
            release_nat_eips,
            "run.rollback",
            None,
        )
        .await?;
        Ok(RollbackStart::Started)
    }

    /// `audit`: the action the audit log names (`run.rollback`, or `run.retry` of a failed
    /// rollback), written in the transaction that starts the rollback. `approved`: the
    /// approval request this rollback carries out, marked approved in the same transaction
    /// (so a request is approved exactly when its rollback starts).
    pub(super) async fn start_rollback(
        &self,
        run: RunId,
        from: &[RunStatus],
        actor: Actor<'_>,
        release: bool,
        audit: &str,
        approved: Option<ApprovedRollback<'_>>,
    ) -> Result<(), EngineError> {
        let user = actor.user;
        let r = self.run(run).await?;
        let mut tx = self.store().begin_write().await?;
        let moved = match store::runs::transition(
            &mut *tx,
            run,
            from,
            RunStatus::RollingBack,
            r.current_step,
            None,
        )
        .await
        {
            Ok(m) => m,
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                drop(tx);
                return Err(self.vpc_busy(&r).await);
            }
            Err(e) => return Err(e.into()),
        };
        if !moved {
            return Err(EngineError::wrong(
                r.status,
                r.current_step,
                "it cannot be rolled back now",
            ));
        }
        let report = RollbackReport {
            release_nat_eips: release,
            ..Default::default()
        };
        store::results::put_report(&mut *tx, run, ReportKind::Rollback, &to_json(&report)).await?;
        let mut details = json!({"release_nat_eips": release});
        let started = match &approved {
            None => format!("{user} started a rollback"),
            Some(ApprovedRollback { row, comment }) => {
                if !store::approvals::decide(
                    &mut *tx,
                    row.id,
                    ApprovalState::Approved,
                    Some(user),
                    *comment,
                    None,
                )
                .await?
                {
                    drop(tx);
                    return Err(self.already_decided(row.id).await);
                }
                let approval = json!({
                    "approval": row.id,
                    "kind": "rollback",
                    "requested_by": row.requested_by,
                    "comment": comment,
                    "plan_digest": row.plan_digest,
                });
                actor
                    .audit(&mut *tx, "approval.approve", run, &approval)
                    .await?;
                let note = Notification::approval_decided(
                    &r,
                    row.step,
                    row.id,
                    "approved",
                    user,
                    comment.unwrap_or(""),
                );
                notify::event::record(&mut tx, &note).await?;
                details["approval"] = json!(row.id);
                details["requested_by"] = json!(row.requested_by);
                format!(
                    "{user} approved {}'s rollback releasing the NAT gateway's EIPs (request {}) \
                     and started it",
                    row.requested_by, row.id
                )
            }
        };
        self.append_event(&mut tx, run, r.current_step, &started)
            .await?;
        actor.audit(&mut *tx, audit, run, &details).await?;
        let why = format!("{user} started a rollback of the run");
        self.void_pending_in(&mut tx, &r, actor, &why).await?;
        tx.commit().await?;
        self.spawn(
            self.run(run).await?,
            Job::Rollback {
                release_nat_eips: release,
            },
        );
        Ok(())
    }

    /// Whether the rollback under way was asked to release the gateway's EIPs, from the
    /// report it started with. An unreadable report stops the resume (never guessed either way).
    pub(super) async fn rollback_release_flag(&self, run: RunId) -> Result<bool, EngineError> {
        let v =
            store::results::get_report(self.store().readers(), run, ReportKind::Rollback).await?;
        match v {
            None => Ok(false),
            Some(v) => serde_json::from_value::<RollbackReport>(v)
                .map(|r| r.release_nat_eips)
                .map_err(|e| {
                    RecordError::Corrupt {
                        what: "rollback report".into(),
                        run,
                        detail: e.to_string(),
                    }
                    .into()
                }),
        }
    }

    /// The plan a step was confirmed with (a stored plan that does not decode is an error).
    pub async fn confirmed_plan(
        &self,
        run: RunId,
        step: crate::store::Step,
    ) -> Result<Option<crate::wizard::plan::Plan>, EngineError> {
        Ok(records::plan(self.store(), run, step).await?)
    }

    /// The NAT gateway the run uses, once step 2 has named one.
    pub async fn nat_gateway(&self, run: RunId) -> Result<Option<NatGatewayId>, EngineError> {
        Ok(records::nat_gateway(self.store(), run).await?)
    }

    /// Every NAT gateway of the run and the route tables each carries (issue 12: step 2 may
    /// have created further ones), as found in `inv`; `None` before the run has a gateway.
    pub async fn gateways(
        &self,
        run: RunId,
        inv: &crate::wizard::observed::Inventory,
    ) -> Result<Option<crate::wizard::steps::gateways::Gateways>, EngineError> {
        let Some(first) = records::nat_gateway(self.store(), run).await? else {
            return Ok(None);
        };
        Ok(Some(
            records::gateways(self.store(), run, first, inv).await?,
        ))
    }

    /// Gives up on a waiting or failed run, freeing its VPC. Nothing in the cloud is changed;
    /// what the run did stays as it is (its undo records remain for reference).
    pub async fn abandon(
        &self,
        run: RunId,
        actor: impl Into<Actor<'_>>,
    ) -> Result<(), EngineError> {
        let actor = actor.into();
        let user = actor.user;
        let r = self.run(run).await?;
        let mut tx = self.store().begin_write().await?;
        // A rehearsal still copying its real VPC "applies" step 1 but has changed nothing
        // anywhere: it may be abandoned, and its copy stops (`until_not_copying`).
        let copying = (r.status, r.current_step) == (RunStatus::Applying, Step::Assess);
        let from: &[RunStatus] = if copying {
            &[RunStatus::Applying]
        } else {
            &[RunStatus::Active, RunStatus::Failed]
        };
        let wanted = "only a waiting or failed run, or a rehearsal still copying its VPC, can be \
                      abandoned";
        if !store::runs::transition(
            &mut *tx,
            run,
            from,
            RunStatus::Abandoned,
            r.current_step,
            Some(user),
        )
        .await?
        {
            return Err(EngineError::wrong(r.status, r.current_step, wanted));
        }
        // Looked at after the transition holds the run's row: a copy that finished meanwhile
        // (its `copied` holds the row too) shows here, and the abandon is rolled back.
        if copying
            && !store::rehearsals::get(&mut *tx, run)
                .await?
                .is_some_and(|h| h.phase == store::rehearsals::RehearsalPhase::Copying)
        {
            return Err(EngineError::wrong(r.status, r.current_step, wanted));
        }
        let msg = if copying {
            format!(
                "{user} abandoned the rehearsal during the copy of the real VPC; the copy stops \
                 (describe calls only: nothing was changed)"
            )
        } else {
            format!("{user} abandoned the run; cloud resources were left as they are")
        };
        let ev = store::events::append(
            &mut *tx,
            run,
            Some(r.current_step),
            EventLevel::Warn,
            &msg,
            &json!({}),
        )
        .await?;
        actor
            .audit(&mut *tx, "run.abandon", run, &json!({}))
            .await?;
        let why = format!("{user} abandoned the run");
        self.void_pending_in(&mut tx, &r, actor, &why).await?;
        tx.commit().await?;
        let _ = self.sender(run).send(ev);
        Ok(())
    }

    /// Another run took the VPC meanwhile (the one-active-run-per-VPC index refused us).
    async fn vpc_busy(&self, r: &store::runs::Run) -> EngineError {
        let holder =
            store::runs::active_holder(self.store().readers(), &r.account, &r.region, &r.vpc_id)
                .await;
        match holder {
            Ok(Some(h)) => EngineError::VpcBusy {
                holder: h.run,
                started_by: h.started_by,
                since: h.since,
            },
            Ok(None) => sqlx::Error::RowNotFound.into(),
            Err(e) => e.into(),
        }
    }
}
