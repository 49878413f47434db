//! One campaign's driver: while it holds the campaign's lease, each tick looks at every
//! started run (through the engine), moves it on when it waits at a step the campaign may
//! confirm, records where each VPC stands, and starts the next waiting VPCs while fewer than
//! the limit are under way. Everything it knows is re-read from the store at each tick, so
//! a driver that starts after a restart carries on where the last one stopped.

use std::collections::HashMap;
use std::time::Duration;

use chrono::Utc;

use super::inputs::CampaignInputs;
use super::warnings;
use crate::store::{
    self, RunStatus, Step,
    approvals::ApprovalState,
    campaigns::{Campaign, CampaignId, CampaignState, Member, MemberState},
    runs::Run,
};
use crate::wizard::engine::{
    Actor, ApprovalError, Confirmation, Engine, EngineError, LeaseOptions, StartError,
};
use crate::wizard::input::{RouteInput, StepInput};

/// How often a driver looks at its runs. Runs move at the pace of cloud calls (seconds), so
/// this only bounds how long a finished step waits for the next confirm.
const TICK: Duration = Duration::from_millis(150);
/// A plan that changes between preview and confirm this many times in a row goes to a person.
const MAX_PLAN_CHANGES: u32 = 3;

pub(super) struct Driver {
    engine: Engine,
    /// True once the process shuts down: the driver ends between two actions.
    stopping: tokio::sync::watch::Receiver<bool>,
    lease: LeaseOptions,
    id: CampaignId,
    /// Per member: how often in a row the plan changed between preview and confirm.
    plan_changes: HashMap<i64, u32>,
}

/// What a tick found.
enum Tick {
    Continue,
    /// Stopped or finished: the driver ends.
    Over,
}

impl Driver {
    pub(super) fn new(
        engine: Engine,
        stopping: tokio::sync::watch::Receiver<bool>,
        lease: LeaseOptions,
        id: CampaignId,
    ) -> Driver {
        Driver {
            engine,
            stopping,
            lease,
            id,
            plan_changes: HashMap::new(),
        }
    }

    fn store(&self) -> &store::Store {
        self.engine.store()
    }

    fn holder(&self) -> String {
        self.engine.holder().to_owned()
    }

    /// Takes the lease (or leaves the campaign to the live process that holds it), then ticks
    /// until the campaign is over or the lease is lost.
    pub(super) async fn run(mut self) {
        let (id, holder) = (self.id, self.holder());
        match store::campaigns::take_lease(self.store().writer(), id, &holder, self.lease.ttl).await
        {
            Ok(None) => {}
            Ok(Some(other)) => {
                tracing::info!(campaign = %id, holder = %other,
                    "campaign is driven by another natpilot process; not driving it here");
                return;
            }
            Err(e) => {
                tracing::error!(campaign = %id, error = %e, "could not take the campaign lease");
                return;
            }
        }
        let mut renewed = tokio::time::Instant::now();
        loop {
            if renewed.elapsed() >= self.lease.renew_every {
                match store::campaigns::renew_lease(
                    self.store().writer(),
                    id,
                    &holder,
                    self.lease.ttl,
                )
                .await
                {
                    Ok(true) => renewed = tokio::time::Instant::now(),
                    Ok(false) => {
                        tracing::warn!(campaign = %id, "lost the campaign lease; stopped driving it");
                        return;
                    }
                    Err(e) => {
                        tracing::warn!(campaign = %id, error = %e, "could not renew the campaign lease")
                    }
                }
            }
            match self.tick().await {
                Ok(Tick::Continue) => {}
                Ok(Tick::Over) => break,
                Err(e) => {
                    tracing::warn!(campaign = %id, error = %e, "campaign tick failed; trying again")
                }
            }
            if *self.stopping.borrow() {
                break;
            }
            let mut stopping = self.stopping.clone();
            tokio::select! {
                () = tokio::time::sleep(TICK) => {}
                _ = stopping.changed() => {}
            }
            if *self.stopping.borrow() {
                break;
            }
        }
        if let Err(e) = store::campaigns::release_lease(self.store().writer(), id, &holder).await {
            tracing::warn!(campaign = %id, error = %e, "could not release the campaign lease");
        }
    }

    /// Whether the campaign still runs and this process still drives it: checked before
    /// every action, so Stop (or a take-over) is obeyed before the next call.
    async fn may_act(&self) -> sqlx::Result<bool> {
        if *self.stopping.borrow() {
            return Ok(false);
        }
        let running = store::campaigns::get(self.store().readers(), self.id)
            .await?
            .is_some_and(|c| c.state == CampaignState::Running);
        Ok(running
            && store::campaigns::holds_lease(self.store().readers(), self.id, &self.holder())
                .await?)
    }

    async fn tick(&mut self) -> Result<Tick, EngineError> {
        let Some(c) = store::campaigns::get(self.store().readers(), self.id).await? else {
            return Ok(Tick::Over);
        };
        if c.state != CampaignState::Running {
            return Ok(Tick::Over);
        }
        let inputs = match CampaignInputs::decode(&c.inputs) {
            Ok(i) => i,
            Err(why) => {
                self.stop_closed(&why).await?;
                return Ok(Tick::Over);
            }
        };
        let mut members = store::campaigns::members(self.store().readers(), self.id).await?;
        let mut halted = c.halted_by_failure.is_some();
        for m in members.iter_mut().filter(|m| m.state.in_flight()) {
            if !self.may_act().await? {
                return Ok(Tick::Continue);
            }
            let before = m.clone();
            self.advance(&c, &inputs, m).await?;
            if *m != before {
                self.record(&before, m).await?;
            }
            if matches!(m.state, MemberState::Failed | MemberState::Refused)
                && !c.keep_going
                && !halted
            {
                halted = self.halt(m).await?;
            }
        }
        let mut in_flight = members.iter().filter(|m| m.state.in_flight()).count();
        for m in members
            .iter_mut()
            .filter(|m| m.state == MemberState::Waiting)
        {
            if halted {
                m.state = MemberState::Skipped;
                m.detail = "not started: the campaign stopped starting runs after a failure".into();
                store::campaigns::put_member(self.store().writer(), self.id, m).await?;
                continue;
            }
            if in_flight >= c.concurrency as usize {
                break;
            }
            if !self.may_act().await? {
                return Ok(Tick::Continue);
            }
            let before = m.clone();
            if !self.start(&c, m).await? {
                // Stopped meanwhile: the next tick sees it.
                return Ok(Tick::Continue);
            }
            self.record(&before, m).await?;
            if m.state.in_flight() {
                in_flight += 1;
            } else if !c.keep_going && !halted {
                halted = self.halt(m).await?;
            }
        }
        if members.iter().all(|m| m.state.is_end()) {
            let count = |s: MemberState| members.iter().filter(|m| m.state == s).count();
            let msg = format!(
                "campaign finished: {} completed, {} failed, {} refused, {} not started",
                count(MemberState::Done),
                count(MemberState::Failed),
                count(MemberState::Refused),
                count(MemberState::Skipped)
            );
            let mut tx = self.store().begin_write().await?;
            if store::campaigns::finish(&mut *tx, self.id).await? {
                store::campaigns::append_event(&mut *tx, self.id, &msg).await?;
            }
            tx.commit().await?;
            return Ok(Tick::Over);
        }
        Ok(Tick::Continue)
    }

    /// A stored campaign that cannot be driven safely is stopped, saying why.
    async fn stop_closed(&self, why: &str) -> sqlx::Result<()> {
        let mut tx = self.store().begin_write().await?;
        if store::campaigns::stop(&mut *tx, self.id, "natpilot").await? {
            store::campaigns::append_event(&mut *tx, self.id, &format!("stopped: {why}")).await?;
        }
        tx.commit().await
    }

    /// The first failure of a campaign that does not keep going: no run starts after it.
    async fn halt(&self, m: &Member) -> sqlx::Result<bool> {
        let why = format!("{} ({}, {}): {}", m.vpc_id, m.account, m.region, m.detail);
        let mut tx = self.store().begin_write().await?;
        if store::campaigns::halt(&mut *tx, self.id, &why).await? {
            let msg = format!("stopped starting new runs after the failure of {why}");
            store::campaigns::append_event(&mut *tx, self.id, &msg).await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    /// Stores the member, with a timeline entry when its state changed.
    async fn record(&self, before: &Member, m: &Member) -> sqlx::Result<()> {
        let mut tx = self.store().begin_write().await?;
        store::campaigns::put_member(&mut *tx, self.id, m).await?;
        if before.state != m.state || before.run_id != m.run_id {
            let run = m.run_id.map(|r| format!(" run {r}")).unwrap_or_default();
            let msg = format!(
                "{} ({}, {}){run}: {} — {}",
                m.vpc_id,
                m.account,
                m.region,
                m.state.as_str().replace('_', " "),
                m.detail
            );
            store::campaigns::append_event(&mut *tx, self.id, &msg).await?;
        }
        tx.commit().await
    }

    /// Starts the member's run. The intent is stored first (driving, no run yet, when), so a
    /// driver that crashes between the start and storing the run id finds its run again
    /// (`reconcile`) instead of being refused by it.
    async fn start(&self, c: &Campaign, m: &mut Member) -> Result<bool, EngineError> {
        let detail = "starting the run";
        let claimed =
            store::campaigns::claim_member(self.store().writer(), self.id, m.position, detail)
                .await?;
        let Some(at) = claimed else {
            return Ok(false);
        };
        m.state = MemberState::Driving;
        m.started_at = Some(at);
        m.detail = detail.into();
        self.start_run(c, m).await?;
        Ok(true)
    }

    async fn start_run(&self, c: &Campaign, m: &mut Member) -> Result<(), EngineError> {
        let actor = Actor {
            user: &c.started_by,
            ip: None,
        };
        match self
            .engine
            .start_run(&m.account, &m.region, &m.vpc_id, actor)
            .await
        {
            Ok(run) => {
                m.run_id = Some(run);
                m.detail = "started; assessing the VPC (step 1)".into();
            }
            Err(StartError::Db(e)) => return Err(e.into()),
            Err(e) => self.end(m, MemberState::Refused, format!("not started: {e}")),
        }
        Ok(())
    }

    /// A member marked driving without a run: a driver stopped between storing the intent
    /// and the run id. Its run is the VPC's active run if the campaign's starter started it
    /// since; else nothing was started and it starts now.
    async fn reconcile(&self, c: &Campaign, m: &mut Member) -> Result<(), EngineError> {
        let held =
            store::runs::active_holder(self.store().readers(), &m.account, &m.region, &m.vpc_id)
                .await?;
        let since = m.started_at.unwrap_or(c.started_at) - chrono::Duration::seconds(1);
        match held {
            Some(h) if h.started_by == c.started_by && h.since >= since => {
                m.run_id = Some(h.run);
                m.detail = "run found again after a restart".into();
                Ok(())
            }
            _ => self.start_run(c, m).await,
        }
    }

    fn end(&self, m: &mut Member, state: MemberState, detail: String) {
        m.state = state;
        m.detail = detail;
        m.held = None;
        m.ended_at = Some(Utc::now());
    }

    /// Hands the run to a person at its current position.
    fn hold(&self, m: &mut Member, r: &Run, state: MemberState, detail: String) {
        m.state = state;
        m.detail = detail;
        m.held = Some((r.status, r.current_step));
    }

    /// Looks at a started member's run and moves it on when the campaign may.
    async fn advance(
        &mut self,
        c: &Campaign,
        inputs: &CampaignInputs,
        m: &mut Member,
    ) -> Result<(), EngineError> {
        let Some(run) = m.run_id else {
            return self.reconcile(c, m).await;
        };
        let r = self.engine.run(run).await?;
        match r.status {
            RunStatus::Completed => {
                self.end(m, MemberState::Done, "completed".into());
                return Ok(());
            }
            RunStatus::Failed => {
                let why = r.last_error.as_ref().map_or_else(
                    || "no error was recorded".to_owned(),
                    |f| {
                        let id = f.request_id.as_deref().unwrap_or("none");
                        format!("{}: {} (RequestId {id})", f.code, f.message)
                    },
                );
                let detail = format!(
                    "failed at step {} ({}): {why}; retry or roll back on the run's page",
                    r.current_step.number(),
                    r.current_step.title()
                );
                self.end(m, MemberState::Failed, detail);
                return Ok(());
            }
            RunStatus::RolledBack | RunStatus::Abandoned => {
                let by = r.finished_by.as_deref().unwrap_or("someone");
                let detail = format!("ended without completing: {} by {by}", r.status);
                self.end(m, MemberState::Failed, detail);
                return Ok(());
            }
            RunStatus::Applying | RunStatus::RollingBack => {
                m.state = MemberState::Driving;
                m.held = None;
                m.approval_id = None;
                m.detail = match r.status {
                    RunStatus::RollingBack => "rolling back".into(),
                    _ if r.current_step == Step::Assess => "assessing the VPC (step 1)".into(),
                    _ => format!(
                        "applying step {} ({})",
                        r.current_step.number(),
                        r.current_step.title()
                    ),
                };
                return Ok(());
            }
            RunStatus::Active => {}
        }
        if m.held == Some((r.status, r.current_step)) {
            // Still where a person must move it; an approval may have ended meanwhile.
            if m.state == MemberState::Approval {
                self.check_approval(m, &r).await?;
            }
            return Ok(());
        }
        m.state = MemberState::Driving;
        m.held = None;
        m.approval_id = None;
        self.drive_step(c, inputs, m, &r).await
    }

    /// A request this campaign filed that is no longer pending (rejected, void, expired)
    /// leaves the step to a person: the campaign never asks again on its own.
    async fn check_approval(&self, m: &mut Member, r: &Run) -> Result<(), EngineError> {
        let Some(id) = m.approval_id else {
            return Ok(());
        };
        let row = store::approvals::get(self.store().readers(), id).await?;
        let state = match &row {
            Some(a) if a.state == ApprovalState::Pending && a.expires_at > Utc::now() => {
                return Ok(());
            }
            Some(a) if a.state == ApprovalState::Pending => "expired".to_owned(),
            Some(a) => a.state.as_str().to_owned(),
            None => "gone".to_owned(),
        };
        let detail = format!(
            "approval request {id} for step {} was {state}; continue on the run's page",
            r.current_step.number()
        );
        self.hold(m, r, MemberState::NeedsYou, detail);
        Ok(())
    }

    /// The run waits at a step: preview it with the campaign's input, and confirm exactly that
    /// plan unless something in it needs a person.
    async fn drive_step(
        &mut self,
        c: &Campaign,
        inputs: &CampaignInputs,
        m: &mut Member,
        r: &Run,
    ) -> Result<(), EngineError> {
        let step = r.current_step;
        let n = step.number();
        let input = match step {
            Step::Assess if !c.confirm_assessed => {
                let detail = "review step 1 (which servers are protected) on the run's page and \
                              confirm it; the campaign then drives the other steps"
                    .into();
                self.hold(m, r, MemberState::NeedsYou, detail);
                return Ok(());
            }
            Step::Assess => {
                if !self.engine.exposure_ready(r.id).await? {
                    m.detail = "assessing the VPC (step 1)".into();
                    return Ok(());
                }
                StepInput::Assess(self.engine.stored_assess_input(r.id).await?)
            }
            Step::Provision => StepInput::Provision(inputs.provision.clone()),
            // Never consents to replacing an existing default route: that is a person's call.
            Step::Route => StepInput::Route(RouteInput::default()),
            Step::Verify if inputs.irreversible() => {
                let detail = "step 4 releases or returns public IPs, which cannot be undone: \
                              type the VPC id on the run's page to confirm it"
                    .into();
                self.hold(m, r, MemberState::NeedsYou, detail);
                return Ok(());
            }
            Step::Verify => {
                StepInput::Verify(inputs.verify(self.engine.retire_exceptions(r.id).await?))
            }
        };
        let plan = match self.engine.plan_step(r.id, &input).await {
            Ok(p) => p,
            Err(EngineError::WrongState { .. }) => return Ok(()),
            Err(EngineError::Db(e)) => return Err(e.into()),
            Err(e) => {
                let detail = format!("previewing step {n} failed: {e}; continue on the run's page");
                self.hold(m, r, MemberState::NeedsYou, detail);
                return Ok(());
            }
        };
        if plan.is_blocked() {
            let why: Vec<&str> = plan.conflicts.iter().map(|c| c.message.as_str()).collect();
            let detail = format!(
                "step {n} is blocked: {}; resolve it and confirm the step on the run's page",
                why.join("; ")
            );
            self.hold(m, r, MemberState::NeedsYou, detail);
            return Ok(());
        }
        let warned = warnings::for_a_person(step, &plan.warnings);
        if !warned.is_empty() {
            let detail = format!(
                "step {n} warns: {}; read it and confirm the step on the run's page",
                warned.join("; ")
            );
            self.hold(m, r, MemberState::NeedsYou, detail);
            return Ok(());
        }
        if !self.may_act().await? {
            return Ok(());
        }
        let digest = plan.digest();
        let actor = Actor {
            user: &c.started_by,
            ip: None,
        };
        match self
            .engine
            .confirm_previewed(r.id, input, &digest, actor)
            .await
        {
            Ok(Confirmation::Applying(p)) => {
                self.plan_changes.remove(&m.position);
                m.detail = format!("confirmed step {n} ({} change(s))", p.items.len());
                let msg = format!(
                    "{} confirmed step {n} of run {} ({}) with the plan previewed, digest {}",
                    c.started_by,
                    r.id,
                    m.vpc_id,
                    &digest.0[..12.min(digest.0.len())]
                );
                store::campaigns::append_event(self.store().writer(), self.id, &msg).await?;
            }
            Ok(Confirmation::ApprovalRequested { id, needs, .. }) => {
                m.approval_id = Some(id);
                let detail = format!(
                    "step {n} waits for approval request {id} (someone with the {needs} role, \
                     not {})",
                    c.started_by
                );
                self.hold(m, r, MemberState::Approval, detail);
            }
            Err(EngineError::PlanChanged) => {
                let times = self.plan_changes.entry(m.position).or_default();
                *times += 1;
                if *times >= MAX_PLAN_CHANGES {
                    let detail = format!(
                        "the plan of step {n} changed between preview and confirm {times} times \
                         in a row; review it on the run's page"
                    );
                    self.hold(m, r, MemberState::NeedsYou, detail);
                } else {
                    m.detail =
                        format!("the plan of step {n} changed since its preview; previewing again");
                }
            }
            Err(EngineError::Approval(ApprovalError::Pending { id, .. })) => {
                m.approval_id = Some(id);
                let detail = format!("step {n} waits for approval request {id}");
                self.hold(m, r, MemberState::Approval, detail);
            }
            Err(EngineError::WrongState { .. }) => {}
            Err(EngineError::Db(e)) => return Err(e.into()),
            Err(e) => {
                let detail =
                    format!("confirming step {n} was refused: {e}; continue on the run's page");
                self.hold(m, r, MemberState::NeedsYou, detail);
            }
        }
        Ok(())
    }
}
