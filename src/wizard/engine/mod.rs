//! The run engine: starts runs, plans and confirms steps, and executes apply / rollback as
//! background tokio tasks that persist every transition, emit live events, and resume after a
//! restart. Web handlers call only this (and `store` read functions); they never run SQL or
//! cloud calls themselves. One engine drives a run at a time, whatever the number of
//! processes: see `lease`.

mod actor;
mod approvals;
mod batch;
mod changes;
mod ctx;
mod errors;
mod exposure_rows;
mod inspect;
mod jobs;
mod keep;
mod keep_rows;
mod kept_action;
mod kept_eips;
mod kept_list;
pub use kept_action::{InstanceId, KeptAction, KeptRefusal, KeptRequest, release_from};
pub use kept_list::{KeptEip, KeptOrigin};
mod lease;
mod observe;
pub use observe::protected_set;
mod protection;
mod records;
mod rehearsal;
mod rehearsal_copy;
pub use rehearsal_copy::COPY_PHASE;
mod rollback;
mod rollback_approval;
mod snapshots;
mod view_cache;

use std::{collections::HashMap, sync::Arc};

use tokio::{
    sync::{broadcast, watch},
    task::JoinHandle,
};

pub use actor::Actor;
pub use approvals::{ApprovalError, Confirmation, Decision};
pub use confirm::REHEARSAL_NO_APPROVAL;
pub use ctx::{CrashHook, CrashPoint};
pub use errors::{EngineError, StartError};
pub use jobs::UndoEntry;
pub use lease::{Driver, LeaseOptions};
pub use records::RecordError;
pub use rollback::{Disposition, Released, RollbackReport, preview as rollback_preview};
pub use rollback_approval::{RollbackRequest, RollbackStart};
pub use shutdown::SHUTDOWN_BOUND;
pub use snapshots::Snapshot;
pub use view_cache::Observed;

use crate::store::{self, RunId, RunStatus, Step, Store, events::Event, runs::Run};
use crate::wizard::cloud::CloudConnector;
use crate::wizard::poll::Poll;

/// Knobs of the engine; defaults suit the real cloud.
#[derive(Debug, Clone)]
pub struct EngineOptions {
    /// Pauses between polls of an asynchronous cloud state (NAT gateway creation/deletion).
    pub poll: Poll,
    /// How many instances have their public IPs retired at once in step 4. The client's
    /// per-action limiter keeps the calls within the documented rates (reference §3.5); this
    /// only needs to be large enough to keep DisassociateAddress (10/s) busy while each
    /// retirement waits for its task, and small enough not to flood the database.
    pub concurrency: usize,
    /// The run lease's period and heartbeat (config `engine.lease_secs`).
    pub lease: LeaseOptions,
    /// Which confirmations wait for a second person's approval (config `[approvals]`,
    /// resolved for the cloud by `app::serve`). Off by default: the engine alone cannot tell
    /// a real cloud from the simulator.
    pub approvals: crate::approvals::ApprovalPolicy,
}

impl Default for EngineOptions {
    fn default() -> Self {
        EngineOptions {
            poll: Poll::default(),
            concurrency: DEFAULT_CONCURRENCY,
            lease: LeaseOptions::default(),
            approvals: Default::default(),
        }
    }
}

/// 10 DisassociateAddress/s × up to ~5 s per task on Tencent Cloud, with room to spare.
pub const DEFAULT_CONCURRENCY: usize = 64;

/// Cheap to clone; share one per process.
#[derive(Clone)]
pub struct Engine {
    inner: Arc<Inner>,
}

struct Inner {
    store: Store,
    connector: Arc<dyn CloudConnector>,
    options: EngineOptions,
    crash: Option<CrashHook>,
    channels: std::sync::Mutex<HashMap<RunId, broadcast::Sender<Event>>>,
    tasks: std::sync::Mutex<HashMap<RunId, JoinHandle<()>>>,
    /// This process's run-lease holder id.
    holder: Arc<str>,
    /// One job per run at a time in this process (a job queued behind another waits here).
    run_locks: std::sync::Mutex<HashMap<RunId, Arc<tokio::sync::Mutex<()>>>>,
    /// The periodic take-over of runs whose lease expired (`watch_leases`).
    watcher: std::sync::Mutex<Option<JoinHandle<()>>>,
    /// True once the process shuts down: jobs stop at their next persisted point, no new
    /// job starts (its run stays as it is and resumes at the next start).
    shutdown: watch::Sender<bool>,
    /// Page views' inventory snapshots (`snapshots`); never used by confirm or a job.
    snapshots: snapshots::Snapshots,
    /// The topology and Terraform views' recent observation (`view_cache`).
    view_cache: view_cache::ViewCache,
}

/// Which background job a run needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Job {
    Assess,
    Apply(Step),
    Rollback { release_nat_eips: bool },
}

impl Engine {
    pub fn new(store: Store, connector: Arc<dyn CloudConnector>, options: EngineOptions) -> Engine {
        Engine {
            inner: Arc::new(Inner {
                store,
                connector,
                options,
                crash: None,
                channels: Default::default(),
                tasks: Default::default(),
                holder: lease::new_holder(),
                run_locks: Default::default(),
                watcher: Default::default(),
                shutdown: watch::channel(false).0,
                snapshots: Default::default(),
                view_cache: Default::default(),
            }),
        }
    }

    /// Tests only: stop jobs dead at chosen points to simulate a crash.
    pub fn with_crash_hook(
        store: Store,
        connector: Arc<dyn CloudConnector>,
        options: EngineOptions,
        hook: CrashHook,
    ) -> Engine {
        let mut e = Engine::new(store, connector, options);
        if let Some(inner) = Arc::get_mut(&mut e.inner) {
            inner.crash = Some(hook);
        }
        e
    }

    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    /// Live events of a run (persisted before they are sent). Subscribe first, then read the
    /// stored events with `store::events::list` to fill in what came before.
    pub fn subscribe(&self, run: RunId) -> broadcast::Receiver<Event> {
        self.sender(run).subscribe()
    }

    fn sender(&self, run: RunId) -> broadcast::Sender<Event> {
        let mut map = self
            .inner
            .channels
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        map.entry(run)
            .or_insert_with(|| broadcast::channel(256).0)
            .clone()
    }

    /// Picks up every run left `applying` or `rolling_back` by a previous process (call once
    /// at start-up), except those whose lease another live process holds: those are logged
    /// and left to it. Returns how many jobs were restarted.
    pub async fn resume(&self) -> Result<usize, EngineError> {
        self.pick_up_unfinished(true).await
    }

    /// The job an unfinished run needs.
    async fn job_for(&self, run: &Run) -> Result<Job, EngineError> {
        Ok(match run.status {
            RunStatus::RollingBack => Job::Rollback {
                release_nat_eips: self.rollback_release_flag(run.id).await?,
            },
            _ if run.current_step == Step::Assess
                && store::steps::get(self.store().readers(), run.id, Step::Assess)
                    .await?
                    .is_none() =>
            {
                Job::Assess
            }
            _ => Job::Apply(run.current_step),
        })
    }

    /// Waits for the run's background job, if any, and returns the run as it then stands.
    pub async fn wait(&self, run: RunId) -> Result<Run, EngineError> {
        let handle = self
            .inner
            .tasks
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&run);
        if let Some(h) = handle {
            let _ = h.await;
        }
        self.run(run).await
    }

    pub async fn run(&self, run: RunId) -> Result<Run, EngineError> {
        store::runs::get(self.store().readers(), run)
            .await?
            .ok_or(EngineError::NotFound(run))
    }

    fn spawn(&self, run: Run, job: Job) {
        if self.is_shutting_down() {
            // The run's state is already persisted (applying / rolling back): the next start
            // resumes it, which is what a job started now would have to leave anyway.
            tracing::info!(run = %run.id, ?job, "shutting down: job left for the next start");
            return;
        }
        self.forget_snapshot(run.id);
        let engine = self.clone();
        let id = run.id;
        let handle = tokio::spawn(async move { engine.drive(run, job).await });
        self.inner
            .tasks
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(id, handle);
    }
}

mod api;
mod confirm;
mod ending;
mod exceptions;
mod execute;
mod shutdown;

#[cfg(test)]
mod tests;
