//! Running a job and recording how it ended: success moves the run on, a cloud error marks
//! the step failed with code, message and RequestId (offering retry / rollback / abandon), a
//! test crash leaves everything as a real crash would, and a job whose run lease another
//! process took records nothing.

use serde_json::json;

use std::sync::Arc;

use super::ctx::{Ctx, JobError, LEASE_NOT_HELD, LedgerWriter};
use super::lease::JobEnd;
use super::{Engine, Job, jobs, records, rollback};
use crate::notify::{self, Notification};
use crate::store::{self, EventLevel, RunStatus, Step, StepState, runs::Failure, runs::Run};
use crate::wizard::cloud::{CallScope, CloudError};
use crate::wizard::plan::Plan;

impl Engine {
    /// Runs the job (its calls ledgered ahead and fenced by the run's lease, which the caller
    /// holds) and records how it ended — only while the lease is still held.
    pub(super) async fn execute(&self, run: Run, job: Job) -> JobEnd {
        let step = match job {
            Job::Assess => Step::Assess,
            Job::Apply(s) => s,
            Job::Rollback { .. } => run.current_step,
        };
        let scope = CallScope { run: run.id, step };
        let ledger = Arc::new(LedgerWriter::new(
            self.store().clone(),
            scope,
            self.inner.holder.clone(),
        ));
        let result = match self
            .inner
            .connector
            .connect(&run.account, &run.region, ledger)
        {
            Ok(cloud) => {
                let ctx = Ctx {
                    store: self.store().clone(),
                    run: run.clone(),
                    cloud,
                    events: self.sender(run.id),
                    crash: self.inner.crash.clone(),
                    shutdown: self.shutdown_signal(),
                    poll: self.inner.options.poll,
                    concurrency: self.inner.options.concurrency.max(1),
                };
                self.run_job(&ctx, job).await
            }
            Err(e) => Err(JobError::Cloud(e)),
        };
        let recorded = match result {
            Ok(()) => self.finish_ok(&run, job).await,
            Err(JobError::Crashed(point)) => {
                tracing::warn!(run = %run.id, ?point, "job stopped by the crash hook");
                return JobEnd::Crashed;
            }
            // A refused call: another process took the run over. Its end is theirs to record.
            Err(JobError::Cloud(e)) if e.code == LEASE_NOT_HELD => {
                tracing::warn!(run = %run.id, error = %e, "job stopped: the run's lease is not held");
                return JobEnd::LeaseLost;
            }
            // Paused for shutdown: like a crash (the run stays as it is), but the lease is
            // given up at once so the next start resumes without waiting for it to expire.
            Err(JobError::ShuttingDown(point)) => {
                if let Err(e) = self.record_paused(&run, step, point).await {
                    tracing::error!(run = %run.id, error = %e, "could not record the pause");
                }
                return JobEnd::Crashed;
            }
            Err(e) => self.finish_failed(&run, job, step, e).await,
        };
        match recorded {
            Ok(true) => JobEnd::Finished,
            Ok(false) => JobEnd::LeaseLost,
            Err(e) => {
                tracing::error!(run = %run.id, error = %e, "could not record the end of a job; it resumes at start-up");
                JobEnd::Finished
            }
        }
    }

    /// Fencing of a job's last write: whether this process still holds the run's lease, in
    /// the transaction that records the job's end (a job that lost it records nothing).
    async fn still_leased(
        &self,
        tx: &mut sqlx::AnyConnection,
        run: &Run,
    ) -> Result<bool, sqlx::Error> {
        let held = store::lease::held(&mut *tx, run.id, self.holder()).await?;
        if !held {
            tracing::warn!(run = %run.id, "the run's lease was lost before the job's end was recorded; leaving it to the new holder");
        }
        Ok(held)
    }

    /// A job stopped for shutdown: the run stays as it is; the timeline says why it paused.
    async fn record_paused(
        &self,
        run: &Run,
        step: Step,
        point: super::CrashPoint,
    ) -> Result<(), sqlx::Error> {
        tracing::info!(run = %run.id, %step, ?point, "job stopped for shutdown; it resumes at the next start");
        let ev = store::events::append(
            self.store().writer(),
            run.id,
            Some(step),
            EventLevel::Warn,
            "natpilot is shutting down: paused after the last recorded change; it resumes when natpilot starts again",
            &json!({"shutdown": format!("{point:?}")}),
        )
        .await?;
        let _ = self.sender(run.id).send(ev);
        Ok(())
    }

    async fn run_job(&self, ctx: &Ctx, job: Job) -> Result<(), JobError> {
        match job {
            Job::Assess => jobs::assess(ctx).await,
            Job::Apply(step) => {
                let plan: Plan = records::plan(self.store(), ctx.id(), step)
                    .await?
                    .ok_or_else(|| {
                        CloudError::state(
                            "apply",
                            "natpilot.NoPlan",
                            "no confirmed plan was found for this step; plan it again",
                        )
                    })?;
                jobs::apply(ctx, step, &plan).await
            }
            Job::Rollback { release_nat_eips } => rollback::rollback(ctx, release_nat_eips).await,
        }
    }

    async fn finish_ok(&self, run: &Run, job: Job) -> Result<bool, sqlx::Error> {
        let events = self.sender(run.id);
        let mut tx = self.store().begin_write().await?;
        if !self.still_leased(&mut tx, run).await? {
            return Ok(false);
        }
        let (msg, step) = record_finish(&mut tx, run, job).await?;
        let ev = store::events::append(
            &mut *tx,
            run.id,
            Some(step),
            EventLevel::Info,
            &msg,
            &json!({"status": "ok"}),
        )
        .await?;
        tx.commit().await?;
        let _ = events.send(ev);
        Ok(true)
    }

    async fn finish_failed(
        &self,
        run: &Run,
        job: Job,
        step: Step,
        e: JobError,
    ) -> Result<bool, sqlx::Error> {
        let (code, message, request_id) = match &e {
            JobError::Cloud(c) => (c.code.clone(), c.message.clone(), c.request_id.clone()),
            JobError::Record(r) => ("natpilot.CorruptRecord".to_owned(), r.to_string(), None),
            other => ("natpilot.Internal".to_owned(), other.to_string(), None),
        };
        let phase = if matches!(job, Job::Rollback { .. }) {
            "rollback"
        } else {
            "apply"
        };
        let failure = Failure {
            step,
            phase: phase.into(),
            code,
            message,
            request_id,
        };
        let events = self.sender(run.id);
        let mut tx = self.store().begin_write().await?;
        if !self.still_leased(&mut tx, run).await? {
            return Ok(false);
        }
        if phase == "apply" {
            store::steps::set_state(&mut *tx, run.id, step, StepState::Failed, Some(&failure))
                .await?;
        }
        store::runs::set_status(
            &mut *tx,
            run.id,
            RunStatus::Failed,
            step,
            Some(&failure),
            None,
        )
        .await?;
        let msg = format!(
            "{} failed during {phase}: {} — {} (RequestId {}). Next: retry, roll back, or abandon",
            step.title(),
            failure.code,
            failure.message,
            failure.request_id.as_deref().unwrap_or("none")
        );
        let ev = store::events::append(
            &mut *tx,
            run.id,
            Some(step),
            EventLevel::Error,
            &msg,
            &jobs::to_json(&failure),
        )
        .await?;
        let note = Notification::step_failed(
            run,
            step,
            phase,
            &failure.code,
            &failure.message,
            failure.request_id.as_deref(),
        );
        notify::event::record(&mut tx, &note).await?;
        tx.commit().await?;
        let _ = events.send(ev);
        Ok(true)
    }
}

/// The state changes that end a job successfully, inside the caller's transaction; returns
/// the event message and the step it belongs to.
async fn record_finish(
    tx: &mut sqlx::AnyConnection,
    run: &Run,
    job: Job,
) -> Result<(String, Step), sqlx::Error> {
    let finished = match job {
        Job::Assess => {
            store::runs::transition(
                &mut *tx,
                run.id,
                &[RunStatus::Applying],
                RunStatus::Active,
                Step::Assess,
                None,
            )
            .await?;
            (
                "assessment finished: review the exposure report and protected hosts, then confirm"
                    .to_owned(),
                Step::Assess,
            )
        }
        Job::Apply(step) => {
            store::steps::set_state(&mut *tx, run.id, step, StepState::Applied, None).await?;
            let (status, next) = match step.next() {
                Some(n) => (RunStatus::Active, n),
                None => (RunStatus::Completed, step),
            };
            store::runs::transition(
                &mut *tx,
                run.id,
                &[RunStatus::Applying],
                status,
                next,
                Some(&run.started_by),
            )
            .await?;
            if status == RunStatus::Completed {
                notify::event::record(&mut *tx, &Notification::run_completed(run)).await?;
                // Issue 13: this run now sets what the VPC may expose; older drift is moot.
                let vpc = crate::estate::drift::VpcKey {
                    account: run.account.clone(),
                    region: run.region.clone(),
                    vpc_id: run.vpc_id.clone(),
                };
                store::drift::close_for_new_run(&mut *tx, &vpc, run.id).await?;
            }
            (format!("{} done", step.title()), step)
        }
        Job::Rollback { .. } => {
            for s in Step::ALL {
                store::steps::set_state(&mut *tx, run.id, s, StepState::RolledBack, None).await?;
            }
            store::runs::transition(
                &mut *tx,
                run.id,
                &[RunStatus::RollingBack],
                RunStatus::RolledBack,
                run.current_step,
                None,
            )
            .await?;
            notify::event::record(&mut *tx, &Notification::run_rolled_back(run)).await?;
            ("rollback finished".to_owned(), run.current_step)
        }
    };
    Ok(finished)
}
