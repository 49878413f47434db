//! Confirming a step: re-plan, refuse a blocked plan or one that is not the plan previewed,
//! record input, plan, who confirmed and the audit entry in one transaction, then start
//! applying (step 1 records the operator's decisions and moves on instead). When the approval
//! policy holds the step back, an approval request bound to the plan is filed instead
//! (`approvals`), and nothing is applied until another person approves it.

use serde_json::json;

use super::actor::Actor;
use super::approvals::{Confirmation, Held};
use super::errors::EngineError;
use super::observe::{apply_choices, exposure_report};
use super::{Engine, Job, jobs::to_json};
use crate::store::{self, ReportKind, RunId, RunStatus, Step, StepState, results::ProtectedHost};
use crate::wizard::cloud::CloudError;
use crate::wizard::input::{AssessInput, StepInput};
use crate::wizard::plan::PlanDigest;

/// Why a rehearsal's confirmation was applied without the approval the policy asks of real
/// runs (its audit entry's `approval`, and what its step page says).
pub const REHEARSAL_NO_APPROVAL: &str =
    "a rehearsal does not wait for approval: it changes only the simulated twin";

impl Engine {
    /// Re-plans with `input`, refuses a blocked plan, records input + plan + who confirmed,
    /// and starts applying it in the background. Returns the plan that is being applied.
    /// For callers that plan and confirm in one go without showing a preview (tests, tools);
    /// a page confirms with [`Engine::confirm_previewed`].
    pub async fn confirm_step(
        &self,
        run: RunId,
        input: StepInput,
        actor: impl Into<Actor<'_>>,
    ) -> Result<Confirmation, EngineError> {
        self.confirm(run, input, None, actor.into()).await
    }

    /// [`Engine::confirm_step`] for a plan the operator was shown: refused with
    /// [`EngineError::PlanChanged`] (nothing recorded, nothing applied) when the plan made now
    /// is not the previewed one, because the input or the cloud changed since the preview.
    pub async fn confirm_previewed(
        &self,
        run: RunId,
        input: StepInput,
        previewed: &PlanDigest,
        actor: impl Into<Actor<'_>>,
    ) -> Result<Confirmation, EngineError> {
        self.confirm(run, input, Some(previewed), actor.into())
            .await
    }

    /// Confirms, and audits the outcome: `run.confirm` in the transaction that records the
    /// confirmation, or `run.confirm_refused` with the reason (who tried what and was stopped).
    /// A database failure is not a decision and is not audited.
    async fn confirm(
        &self,
        run: RunId,
        input: StepInput,
        previewed: Option<&PlanDigest>,
        actor: Actor<'_>,
    ) -> Result<Confirmation, EngineError> {
        let shown = previewed.map(|d| d.0.clone());
        let details = |refused: Option<String>| {
            json!({
                "step": input.step().number(),
                "input": &input,
                "plan_digest": shown,
                "refused": refused,
            })
        };
        let result = self
            .confirm_inner(run, &input, previewed, actor, &details(None))
            .await;
        if let Err(e) = &result
            && !matches!(e, EngineError::Db(_))
        {
            let refused = details(Some(e.to_string()));
            actor
                .audit(self.store().writer(), "run.confirm_refused", run, &refused)
                .await?;
        }
        result
    }

    async fn confirm_inner(
        &self,
        run: RunId,
        input: &StepInput,
        previewed: Option<&PlanDigest>,
        actor: Actor<'_>,
        audit: &serde_json::Value,
    ) -> Result<Confirmation, EngineError> {
        let user = actor.user;
        let step = input.step();
        // Nothing else confirms a step while a request for it waits (fail closed).
        self.refuse_if_pending(run, step).await?;
        let (plan, inventory) = self.plan_observed(run, input).await?;
        if plan.is_blocked() {
            return Err(EngineError::Blocked(plan.conflicts));
        }
        if previewed.is_some_and(|seen| *seen != plan.digest()) {
            return Err(EngineError::PlanChanged);
        }
        let needs = self.approval_policy().needs(step, &plan);
        // A rehearsal changes only its simulated twin: nothing real waits behind a second
        // person, so it is applied at once — and the audit entry says why.
        let rehearsal =
            needs.is_some() && crate::rehearsal::TwinLabel::is_twin(&self.run(run).await?.account);
        let audit = &match rehearsal {
            true => {
                let mut a = audit.clone();
                a["approval"] = json!(REHEARSAL_NO_APPROVAL);
                a
            }
            false => audit.clone(),
        };
        if let Some(needs) = needs.filter(|_| !rehearsal) {
            let held = Held {
                input,
                plan: &plan,
                inventory: inventory.as_deref(),
                needs,
            };
            let id = self.request_approval(run, held, actor, audit).await?;
            return Ok(Confirmation::ApprovalRequested { id, plan, needs });
        }
        let mut tx = self.store().begin_write().await?;
        store::steps::confirm(&mut *tx, run, step, &to_json(input), &to_json(&plan), user).await?;
        actor.audit(&mut *tx, "run.confirm", run, audit).await?;
        if let StepInput::Assess(choices) = input {
            // Step 1 changes nothing in the cloud: record the decisions and move on.
            self.confirm_assessment(tx, run, choices, user).await?;
            return Ok(Confirmation::Applying(plan));
        }
        let msg = format!(
            "{user} confirmed {}: {} change(s)",
            step.title(),
            plan.items.len()
        );
        self.start_applying(tx, run, RunStatus::Active, step, &msg, Job::Apply(step))
            .await?;
        Ok(Confirmation::Applying(plan))
    }

    /// Step 1's confirmation, in `tx` (which already holds the confirmed input and plan):
    /// the protected-host decisions, the exposure report with the operator's choices, and the
    /// move to step 2.
    async fn confirm_assessment(
        &self,
        mut tx: crate::store::WriteTx,
        run: RunId,
        choices: &AssessInput,
        user: &str,
    ) -> Result<(), EngineError> {
        let step = Step::Assess;
        let report = exposure_report(self.store(), run).await?.ok_or_else(|| {
            CloudError::state(
                "confirm",
                "natpilot.NotAssessed",
                "the assessment has not finished yet; wait for it",
            )
        })?;
        let report = apply_choices(report, choices);
        for row in report
            .rows
            .iter()
            .filter(|r| r.protected || r.reason == "exception")
        {
            let h = ProtectedHost {
                instance_id: row.instance_id.clone(),
                protected: row.protected,
                reason: if row.protected {
                    row.reason.clone()
                } else {
                    "operator".into()
                },
                detail: row.dns_names.join(", "),
                decided_by: user.to_owned(),
                at: chrono::Utc::now(),
            };
            store::results::put_protected(&mut *tx, run, &h).await?;
        }
        store::results::put_report(&mut *tx, run, ReportKind::Exposure, &to_json(&report)).await?;
        // The stored rules and rows now say what was confirmed (the input is the record).
        super::protection::replace_rules(&mut tx, run, &choices.rules, user).await?;
        super::protection::refresh(&mut tx, run, None).await?;
        store::steps::set_state(&mut *tx, run, step, StepState::Applied, None).await?;
        if !store::runs::transition(
            &mut *tx,
            run,
            &[RunStatus::Active],
            RunStatus::Active,
            Step::Provision,
            None,
        )
        .await?
        {
            return Err(self.not_now(run, "the run changed meanwhile; reload").await);
        }
        let msg = format!(
            "{user} confirmed the assessment ({} protected)",
            report.protected
        );
        self.append_event(&mut tx, run, step, &msg).await?;
        tx.commit().await?;
        Ok(())
    }
}
