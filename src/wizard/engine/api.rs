//! The engine's operations for the web layer: start, plan, retry, protect (confirm is in
//! `confirm`, roll back and abandon in `ending`). Each checks the run's state, persists the transition in one short write
//! transaction, and hands slow cloud work to a background job.

use std::sync::Arc;

use chrono::{DateTime, Utc};

use serde_json::json;

use super::actor::Actor;
use super::errors::{EngineError, StartError};
use super::observe::{self, exposure_report};
use super::{Engine, Job, jobs::to_json, records};
use crate::store::{
    self, EventLevel, RunId, RunStatus, Step, results::ProtectedHost, runs::NewRun,
};
use crate::wizard::input::{FieldErrors, StepInput};
use crate::wizard::observed::Inventory;
use crate::wizard::plan::Plan;
use crate::wizard::steps::assess::ExposureReport;

/// A run needs a region and something that looks like a VPC id; one message per field.
fn validate_start(region: &str, vpc_id: &str) -> Result<(), StartError> {
    let mut errs = FieldErrors::default();
    if !vpc_id.starts_with("vpc-") || vpc_id.len() < 5 {
        errs.0
            .insert("vpc_id".into(), "a VPC id looks like vpc-xxxxxxxx".into());
    }
    // The region goes into host names and signed headers: only a region name gets in
    // (issue 10, defect 8; the client refuses others again).
    if let Err(e) = crate::tencent::Region::parse(region) {
        errs.0.insert("region".into(), e.to_string());
    }
    if errs.0.is_empty() {
        Ok(())
    } else {
        Err(errs.into())
    }
}

impl Engine {
    /// Starts a run on (account, region, VPC) and its read-only assessment. Refused with
    /// `VpcBusy` (naming who holds the VPC and since when) while another run is unfinished.
    pub async fn start_run(
        &self,
        account: &str,
        region: &str,
        vpc_id: &str,
        actor: impl Into<Actor<'_>>,
    ) -> Result<RunId, StartError> {
        let run = self
            .start_marked(account, region, vpc_id, actor.into(), None)
            .await?;
        self.spawn(run.clone(), Job::Assess);
        Ok(run.id)
    }

    /// Records the start of a run (applying step 1, audited) and returns it; the caller
    /// starts its first job. `rehearsal` marks the run, in the transaction that starts it, as
    /// the rehearsal of a real VPC, copying it.
    pub(super) async fn start_marked(
        &self,
        account: &str,
        region: &str,
        vpc_id: &str,
        actor: Actor<'_>,
        rehearsal: Option<&store::rehearsals::RehearsalOf>,
    ) -> Result<store::runs::Run, StartError> {
        let user = actor.user;
        validate_start(region, vpc_id)?;
        let new = NewRun {
            account,
            region,
            vpc_id,
            started_by: user,
        };
        let run =
            store::runs::insert(self.store(), &new).await.map_err(|e| {
                match StartError::from(e) {
                    StartError::VpcBusy {
                        holder,
                        started_by,
                        since,
                        ..
                    } => StartError::VpcBusy {
                        vpc_id: vpc_id.to_owned(),
                        holder,
                        started_by,
                        since,
                    },
                    other => other,
                }
            })?;
        let mut tx = self.store().begin_write().await?;
        store::runs::transition(
            &mut *tx,
            run.id,
            &[RunStatus::Active],
            RunStatus::Applying,
            Step::Assess,
            None,
        )
        .await?;
        let msg = match rehearsal {
            None => format!("run started by {user} on {vpc_id} ({region})"),
            Some(of) => format!(
                "rehearsal started by {user} on a simulated twin of {of}: nothing here touches \
                 the real VPC; copying it (describe calls only) first"
            ),
        };
        store::events::append(
            &mut *tx,
            run.id,
            Some(Step::Assess),
            EventLevel::Info,
            &msg,
            &json!({}),
        )
        .await?;
        let details = json!({"account": account, "region": region, "vpc_id": vpc_id});
        match rehearsal {
            None => actor.audit(&mut *tx, "run.start", run.id, &details).await?,
            Some(of) => {
                // The twin will be in this process's memory (the copy job too): this process
                // owns it, renewed by the lease heartbeat (`Engine::watch_leases`).
                let owner = self.rehearsal_owner();
                let copying = store::rehearsals::RehearsalPhase::Copying;
                store::rehearsals::insert(&mut *tx, run.id, of, copying, &owner).await?;
                let details = json!({"twin": account, "rehearsal_of": of});
                actor
                    .audit(&mut *tx, "rehearsal.start", run.id, &details)
                    .await?;
            }
        }
        tx.commit().await?;
        self.run(run.id)
            .await
            .map_err(|_| StartError::Db(sqlx::Error::RowNotFound))
    }

    /// The plan for the run's current step with this input, from a fresh observation: what
    /// confirm plans from. Changes nothing (its read calls do land in the run's ledger). The
    /// observation becomes the step's page-view snapshot, so a page shown after a refused
    /// confirm shows the plan as it is now.
    pub async fn plan_step(&self, run: RunId, input: &StepInput) -> Result<Plan, EngineError> {
        Ok(self.plan_observed(run, input).await?.0)
    }

    /// [`Engine::plan_step`], also returning the fresh inventory the plan was made from (none
    /// for step 1): what an approval request is bound to.
    pub(super) async fn plan_observed(
        &self,
        run: RunId,
        input: &StepInput,
    ) -> Result<(Plan, Option<Arc<Inventory>>), EngineError> {
        let r = self.plannable(run, input).await?;
        let (store, r) = (self.store(), &r);
        let (plan, inventory) = self
            .with_cloud(r, input.step(), |cloud| async move {
                observe::plan(store, r, input, async || {
                    observe::fresh(cloud.as_ref(), r).await
                })
                .await
            })
            .await?;
        if let Some(inventory) = &inventory {
            self.keep_snapshot(r, inventory.clone());
        }
        Ok((plan, inventory))
    }

    /// For pages: the plan with this input from the step's page-view snapshot (taken at the
    /// first view, see `snapshots`), plus the inventory it was made from (none for step 1),
    /// so a page can show the VPC next to the plan without observing it again.
    pub async fn preview_step(
        &self,
        run: RunId,
        input: &StepInput,
    ) -> Result<(Plan, Option<Arc<Inventory>>), EngineError> {
        let (plan, inventory, _) = self.preview_step_seen(run, input).await?;
        Ok((plan, inventory))
    }

    /// [`Engine::preview_step`], with when the snapshot it planned from was taken (none for
    /// step 1): what a page's stored rows name as the observation they were built from.
    pub async fn preview_step_seen(
        &self,
        run: RunId,
        input: &StepInput,
    ) -> Result<(Plan, Option<Arc<Inventory>>, Option<DateTime<Utc>>), EngineError> {
        let r = self.plannable(run, input).await?;
        let r = &r;
        let taken_at = std::sync::Mutex::new(None);
        let (plan, inventory) = observe::plan(self.store(), r, input, async || {
            let s = self.snapshot(r).await?;
            *taken_at.lock().unwrap_or_else(|p| p.into_inner()) = Some(s.taken_at);
            Ok(s.inventory)
        })
        .await?;
        let taken_at = taken_at.into_inner().unwrap_or_else(|p| p.into_inner());
        Ok((plan, inventory, taken_at))
    }

    /// The run, if `input`'s step is the one it waits at.
    async fn plannable(
        &self,
        run: RunId,
        input: &StepInput,
    ) -> Result<store::runs::Run, EngineError> {
        let r = self.run(run).await?;
        if r.status != RunStatus::Active || r.current_step != input.step() {
            return Err(EngineError::wrong(
                r.status,
                r.current_step,
                format!("{} cannot be planned now", input.step().title()),
            ));
        }
        Ok(r)
    }

    /// After a failure: applies the failed step again (re-planned from fresh observations with
    /// the same input; reconcile keeps it from repeating what was done), or resumes a failed
    /// rollback.
    pub async fn retry(&self, run: RunId, actor: impl Into<Actor<'_>>) -> Result<(), EngineError> {
        let actor = actor.into();
        let user = actor.user;
        let r = self.run(run).await?;
        if r.status != RunStatus::Failed {
            return Err(EngineError::wrong(
                r.status,
                r.current_step,
                "only a failed run can be retried",
            ));
        }
        if r.last_error.as_ref().is_some_and(|f| f.phase == "rollback") {
            let release = self.rollback_release_flag(run).await?;
            return self
                .start_rollback(run, &[RunStatus::Failed], actor, release, "run.retry", None)
                .await;
        }
        let step = r.current_step;
        let mut confirmed = None;
        let job = match store::steps::get(self.store().readers(), run, step).await? {
            None => Job::Assess,
            Some(_) => {
                let input = records::input(self.store(), run, step)
                    .await?
                    .ok_or(sqlx::Error::RowNotFound)?;
                let plan = self.plan_failed_step(&r, &input).await?;
                if plan.is_blocked() {
                    return Err(EngineError::Blocked(plan.conflicts));
                }
                confirmed = Some((input, plan));
                Job::Apply(step)
            }
        };
        let mut tx = self.store().begin_write().await?;
        if let Some((input, plan)) = &confirmed {
            let (input, plan) = (to_json(input), to_json(plan));
            store::steps::confirm(&mut *tx, run, step, &input, &plan, user).await?;
        }
        let details = json!({"step": step.number()});
        actor.audit(&mut *tx, "run.retry", run, &details).await?;
        let msg = format!("{user} retried {}", step.title());
        self.start_applying(tx, run, RunStatus::Failed, step, &msg, job)
            .await
    }

    /// The common end of confirm and retry: in `tx`, moves the run from `from` to `applying`
    /// and records `msg`, commits, then starts `job`. Refuses when the run changed meanwhile
    /// (another operator was quicker), leaving nothing written.
    pub(super) async fn start_applying(
        &self,
        mut tx: crate::store::WriteTx,
        run: RunId,
        from: RunStatus,
        step: Step,
        msg: &str,
        job: Job,
    ) -> Result<(), EngineError> {
        let moved =
            store::runs::transition(&mut *tx, run, &[from], RunStatus::Applying, step, None)
                .await?;
        if !moved {
            return Err(self.not_now(run, "the run changed meanwhile; reload").await);
        }
        self.append_event(&mut tx, run, step, msg).await?;
        tx.commit().await?;
        self.spawn(self.run(run).await?, job);
        Ok(())
    }

    async fn plan_failed_step(
        &self,
        r: &store::runs::Run,
        input: &StepInput,
    ) -> Result<Plan, EngineError> {
        let store = self.store();
        let (plan, _) = self
            .with_cloud(r, r.current_step, |cloud| async move {
                observe::plan(store, r, input, async || {
                    observe::fresh(cloud.as_ref(), r).await
                })
                .await
            })
            .await?;
        Ok(plan)
    }

    /// Marks one instance protected or not (operator decision), before the retire step runs.
    pub async fn set_protected(
        &self,
        run: RunId,
        instance_id: &str,
        protected: bool,
        actor: impl Into<Actor<'_>>,
    ) -> Result<(), EngineError> {
        let actor = actor.into();
        let user = actor.user;
        let r = self.run(run).await?;
        if r.status != RunStatus::Active {
            return Err(EngineError::wrong(
                r.status,
                r.current_step,
                "protection can change only while the run waits for you",
            ));
        }
        // By id through the stored rows: decoding the whole report per click does not scale.
        let known = super::protection::ensure_rows(self.store(), run).await?
            && store::exposure::has_instance(self.store().readers(), run, instance_id).await?;
        if !known {
            let mut errs = FieldErrors::default();
            errs.0.insert(
                "instance_id".into(),
                format!(
                    "{instance_id} is not an instance of {}; reload the exposure table and pick \
                     one from it",
                    r.vpc_id
                ),
            );
            return Err(errs.into());
        }
        let h = ProtectedHost {
            instance_id: instance_id.to_owned(),
            protected,
            reason: "operator".into(),
            detail: String::new(),
            decided_by: user.to_owned(),
            at: chrono::Utc::now(),
        };
        let mut tx = self.store().begin_write().await?;
        store::results::put_protected(&mut *tx, run, &h).await?;
        super::protection::refresh(&mut tx, run, Some(instance_id)).await?;
        let verb = if protected {
            "protected"
        } else {
            "unprotected"
        };
        self.append_event(
            &mut tx,
            run,
            r.current_step,
            &format!("{user} {verb} {instance_id}"),
        )
        .await?;
        let action = if protected {
            "run.protect"
        } else {
            "run.unprotect"
        };
        let details = json!({ "instance_id": instance_id });
        actor.audit(&mut *tx, action, run, &details).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The exposure report of step 1 (with the operator's confirmed choices once confirmed).
    pub async fn exposure_report(&self, run: RunId) -> Result<Option<ExposureReport>, EngineError> {
        Ok(exposure_report(self.store(), run).await?)
    }

    pub(super) async fn append_event(
        &self,
        tx: &mut crate::store::WriteTx,
        run: RunId,
        step: Step,
        msg: &str,
    ) -> sqlx::Result<()> {
        let ev = store::events::append(
            &mut **tx,
            run,
            Some(step),
            EventLevel::Info,
            msg,
            &json!({}),
        )
        .await?;
        // Sent before commit; a viewer may see it a moment early, never one that was lost.
        let _ = self.sender(run).send(ev);
        Ok(())
    }

    pub(super) async fn not_now(&self, run: RunId, wanted: &str) -> EngineError {
        match self.run(run).await {
            Ok(r) => EngineError::wrong(r.status, r.current_step, wanted),
            Err(e) => e,
        }
    }
}
