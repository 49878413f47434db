//! Campaigns (issue 13 item 5): one run per selected (account, region, VPC) with shared
//! inputs, driven with a concurrency limit (how many runs are between start and done at
//! once) through the engine's public API only — the calls the pages make: `start_run`,
//! `plan_step` (the preview), `confirm_previewed` with that preview's digest. A campaign
//! confirms a step only with the plan the engine just previewed, and hands the run to a
//! person at any blocker, at a warning its inputs did not choose (`warnings`), at step 1
//! unless it was started with "confirm step 1 as assessed", and at irreversible step-4
//! changes (only a person types a VPC id). Approvals are asked for and waited on, never
//! bypassed: the campaign confirms as the person who started it, so four eyes still means
//! another person.
//!
//! It stops starting runs at the first failure unless started with "keep going on
//! failure"; Stop stops it altogether. Its state is in the store, so the driver (one per
//! campaign across processes, by a lease like a run's) resumes at start-up or, when a
//! process dies, in the process that takes its lease over (`watch`).

mod driver;
mod inputs;
mod warnings;

pub use inputs::{CampaignInputs, InputsForm};

use std::collections::{BTreeSet, HashMap};

use std::sync::{Arc, Mutex};

use serde_json::json;
use tokio::task::JoinHandle;

use crate::store::{
    self,
    campaigns::{CampaignId, MemberState, NewCampaign},
};
use crate::wizard::engine::{Actor, Engine, LeaseOptions};
use crate::wizard::input::FieldErrors;

/// Most VPCs one campaign takes; more is a second campaign (the page lists every member).
pub const MAX_MEMBERS: usize = 200;
/// Most runs a campaign drives at once.
pub const MAX_CONCURRENCY: u32 = 20;

/// What a campaign is started with.
#[derive(Debug, Clone)]
pub struct NewCampaignRequest {
    pub name: String,
    /// (account, region, VPC id), in the order their runs start.
    pub vpcs: Vec<(String, String, String)>,
    pub concurrency: u32,
    pub keep_going: bool,
    pub confirm_assessed: bool,
    pub inputs: CampaignInputs,
}

/// Why a campaign cannot start or stop; each says what to do instead.
#[derive(Debug, thiserror::Error)]
pub enum CampaignError {
    #[error(transparent)]
    Invalid(#[from] FieldErrors),
    /// Selected VPCs another run holds: nothing was started.
    #[error("{}", busy_words(.0))]
    Busy(Vec<BusyVpc>),
    #[error("there is no campaign {0}")]
    NotFound(CampaignId),
    #[error("the campaign is already {0}; nothing was changed")]
    NotRunning(&'static str),
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
}

/// A selected VPC that another run holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BusyVpc {
    pub account: String,
    pub region: String,
    pub vpc_id: String,
    pub holder: store::runs::Holder,
}

fn busy_words(busy: &[BusyVpc]) -> String {
    let each: Vec<String> = busy
        .iter()
        .map(|b| {
            format!(
                "VPC {} ({}, {}) is busy: run {} started by {} at {} is still active",
                b.vpc_id,
                b.account,
                b.region,
                b.holder.run,
                b.holder.started_by,
                b.holder.since.format("%Y-%m-%d %H:%M UTC")
            )
        })
        .collect();
    format!(
        "{}; nothing was started. Deselect the busy VPCs, or finish or abandon their runs first",
        each.join("; ")
    )
}

/// Starts, stops and drives campaigns. Cheap to clone; one per process.
#[derive(Clone)]
pub struct Campaigns {
    inner: Arc<Inner>,
}

struct Inner {
    engine: Engine,
    lease: LeaseOptions,
    /// The drivers running in this process.
    tasks: Mutex<HashMap<CampaignId, JoinHandle<()>>>,
    watcher: Mutex<Option<JoinHandle<()>>>,
    /// Set at shutdown: drivers end between two actions (never inside an engine call).
    stopping: tokio::sync::watch::Sender<bool>,
}

impl Campaigns {
    /// Campaigns driven by `engine`, with a lease of `lease` (the engine's run lease period).
    pub fn new(engine: Engine, lease: LeaseOptions) -> Campaigns {
        Campaigns {
            inner: Arc::new(Inner {
                engine,
                lease,
                tasks: Default::default(),
                watcher: Default::default(),
                stopping: tokio::sync::watch::channel(false).0,
            }),
        }
    }

    fn store(&self) -> &store::Store {
        self.inner.engine.store()
    }

    /// Checks the request, refuses it whole when a selected VPC is busy (naming each and
    /// who holds it), records the campaign with its members and the audit entry
    /// (`campaign.start`) in one transaction, and starts its driver.
    pub async fn start(
        &self,
        req: &NewCampaignRequest,
        actor: Actor<'_>,
    ) -> Result<CampaignId, CampaignError> {
        validate(req)?;
        let mut busy = Vec::new();
        for (account, region, vpc) in &req.vpcs {
            let held =
                store::runs::active_holder(self.store().readers(), account, region, vpc).await?;
            if let Some(holder) = held {
                busy.push(BusyVpc {
                    account: account.clone(),
                    region: region.clone(),
                    vpc_id: vpc.clone(),
                    holder,
                });
            }
        }
        if !busy.is_empty() {
            let details = json!({"refused": busy_words(&busy), "vpcs": req.vpcs});
            audit(
                self.store().writer(),
                actor,
                "campaign.start_refused",
                "",
                &details,
            )
            .await?;
            return Err(CampaignError::Busy(busy));
        }
        let inputs = serde_json::to_value(&req.inputs).expect("campaign inputs serialise");
        let new = NewCampaign {
            name: &req.name,
            started_by: actor.user,
            concurrency: req.concurrency,
            keep_going: req.keep_going,
            confirm_assessed: req.confirm_assessed,
            inputs: &inputs,
            members: &req.vpcs,
        };
        let mut tx = self.store().begin_write().await?;
        let id = store::campaigns::insert(&mut tx, &new).await?;
        let msg = format!(
            "{} started the campaign: {} VPC(s), at most {} at once{}{}",
            actor.user,
            req.vpcs.len(),
            req.concurrency,
            if req.keep_going {
                ", keeps going on failure"
            } else {
                ", stops starting runs at the first failure"
            },
            if req.confirm_assessed {
                ", confirms step 1 as assessed"
            } else {
                ", step 1 reviewed per run"
            }
        );
        store::campaigns::append_event(&mut *tx, id, &msg).await?;
        let details = json!({
            "name": req.name, "vpcs": req.vpcs, "concurrency": req.concurrency,
            "keep_going": req.keep_going, "confirm_assessed": req.confirm_assessed,
            "inputs": inputs,
        });
        audit(&mut *tx, actor, "campaign.start", &id.to_string(), &details).await?;
        tx.commit().await?;
        self.spawn(id);
        Ok(id)
    }

    /// The Stop button: no run is started or driven by the campaign any more (runs already
    /// started stay where they are; each goes on from its own page). Audited `campaign.stop`.
    pub async fn stop(&self, id: CampaignId, actor: Actor<'_>) -> Result<(), CampaignError> {
        let c = store::campaigns::get(self.store().readers(), id)
            .await?
            .ok_or(CampaignError::NotFound(id))?;
        let mut tx = self.store().begin_write().await?;
        if !store::campaigns::stop(&mut *tx, id, actor.user).await? {
            return Err(CampaignError::NotRunning(c.state.as_str()));
        }
        for mut m in store::campaigns::members(&mut *tx, id).await? {
            if m.state == MemberState::Waiting {
                m.state = MemberState::Skipped;
                m.detail = format!("not started: {} stopped the campaign", actor.user);
                store::campaigns::put_member(&mut *tx, id, &m).await?;
            }
        }
        let msg = format!(
            "{} stopped the campaign; runs already started go on from their own pages",
            actor.user
        );
        store::campaigns::append_event(&mut *tx, id, &msg).await?;
        audit(
            &mut *tx,
            actor,
            "campaign.stop",
            &id.to_string(),
            &json!({}),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Starts the driver of every running campaign no live process drives (call once at
    /// start-up; `watch` repeats it). Returns how many drivers were started.
    pub async fn resume(&self) -> sqlx::Result<usize> {
        let mut started = 0;
        for id in store::campaigns::running(self.store().readers()).await? {
            if self.driving_here(id) {
                continue;
            }
            if store::campaigns::lease_holder(self.store().readers(), id)
                .await?
                .is_some()
            {
                continue;
            }
            tracing::info!(campaign = %id, "resuming campaign");
            self.spawn(id);
            started += 1;
        }
        Ok(started)
    }

    /// Every lease period, takes over running campaigns whose driver's lease expired (its
    /// process died). Call once at start-up, after [`Campaigns::resume`].
    pub fn watch(&self) {
        let me = self.clone();
        let period = self.inner.lease.renew_every;
        let task = tokio::spawn(async move {
            let mut tick = tokio::time::interval(period);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                if let Err(e) = me.resume().await {
                    tracing::warn!(error = %e, "could not look for campaigns to take over");
                }
            }
        });
        if let Some(old) = self
            .inner
            .watcher
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .replace(task)
        {
            old.abort();
        }
    }

    /// Stops this process's drivers between two actions (never inside an engine call, so no
    /// run is left half started), waiting at most `bound`, and gives their leases up so that
    /// the next process resumes the campaigns at once (graceful shutdown).
    pub async fn shutdown(&self, bound: std::time::Duration) {
        if let Some(w) = self
            .inner
            .watcher
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
        {
            w.abort();
        }
        self.inner.stopping.send_replace(true);
        let tasks: Vec<(CampaignId, JoinHandle<()>)> = self
            .inner
            .tasks
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .drain()
            .collect();
        let deadline = tokio::time::Instant::now() + bound;
        for (id, mut task) in tasks {
            if tokio::time::timeout_at(deadline, &mut task).await.is_err() {
                tracing::warn!(campaign = %id, "campaign driver did not stop in time; cut short");
                task.abort();
            }
            let holder = self.inner.engine.holder();
            if let Err(e) = store::campaigns::release_lease(self.store().writer(), id, holder).await
            {
                tracing::warn!(campaign = %id, error = %e, "could not release the campaign lease");
            }
        }
    }

    /// Stops this process's drivers and its watch where they stand, releasing nothing — what
    /// `kill -9` does to a process (tests of a second process taking a campaign over).
    pub fn halt(&self) {
        if let Some(w) = self
            .inner
            .watcher
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
        {
            w.abort();
        }
        for (_, t) in self
            .inner
            .tasks
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .drain()
        {
            t.abort();
        }
    }

    /// Whether this process's driver of `id` is running.
    fn driving_here(&self, id: CampaignId) -> bool {
        self.inner
            .tasks
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&id)
            .is_some_and(|t| !t.is_finished())
    }

    fn spawn(&self, id: CampaignId) {
        if *self.inner.stopping.borrow() {
            return;
        }
        let stopping = self.inner.stopping.subscribe();
        let driver = driver::Driver::new(self.inner.engine.clone(), stopping, self.inner.lease, id);
        let task = tokio::spawn(driver.run());
        self.inner
            .tasks
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(id, task);
    }
}

fn validate(req: &NewCampaignRequest) -> Result<(), FieldErrors> {
    let mut errs = FieldErrors::default();
    let name = req.name.trim();
    if name.is_empty() || name.chars().count() > 80 {
        errs.0.insert(
            "name".into(),
            "give the campaign a name (at most 80 characters)".into(),
        );
    }
    if req.vpcs.is_empty() {
        errs.0
            .insert("vpcs".into(), "select at least one VPC".into());
    } else if req.vpcs.len() > MAX_MEMBERS {
        errs.0.insert(
            "vpcs".into(),
            format!("at most {MAX_MEMBERS} VPCs per campaign; start another for the rest"),
        );
    }
    let mut seen = BTreeSet::new();
    for (account, region, vpc) in &req.vpcs {
        if !vpc.starts_with("vpc-") || vpc.len() < 5 {
            errs.0
                .insert("vpcs".into(), format!("{vpc} does not look like a VPC id"));
        }
        if let Err(e) = crate::tencent::Region::parse(region) {
            errs.0.insert("vpcs".into(), e.to_string());
        }
        if !seen.insert((account, region, vpc)) {
            errs.0.insert(
                "vpcs".into(),
                format!("{vpc} ({account}, {region}) is selected twice"),
            );
        }
    }
    if !(1..=MAX_CONCURRENCY).contains(&req.concurrency) {
        errs.0.insert(
            "concurrency".into(),
            format!("choose 1 to {MAX_CONCURRENCY} runs at once"),
        );
    }
    if errs.0.is_empty() { Ok(()) } else { Err(errs) }
}

/// The audit entry of a campaign action (the `target` is the campaign's id).
async fn audit(
    conn: impl sqlx::AnyExecutor<'_>,
    actor: Actor<'_>,
    action: &str,
    target: &str,
    details: &serde_json::Value,
) -> sqlx::Result<()> {
    let ip = actor.ip.map(|ip| ip.to_string()).unwrap_or_default();
    store::audit::record(conn, actor.user, &ip, action, target, details).await?;
    Ok(())
}
