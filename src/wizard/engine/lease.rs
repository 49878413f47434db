//! One engine per run, whatever the number of natpilot processes on the database (issue 10,
//! defect 3). A job drives a run only while its process holds the run's lease
//! (`store::lease`): taken before the job starts, renewed by a heartbeat, released when the
//! job ends. Every mutating cloud call is fenced by it (`ctx::LedgerWriter`), and a job that
//! loses its lease stops where it is, recording nothing more. A process that finds a run's
//! lease held by another live process serves its pages but does not drive it; when a dead
//! process's lease expires, the periodic check of [`Engine::watch_leases`] takes the run over.
//! The same rule lets several replicas share one database later.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::errors::EngineError;
use super::{Engine, Job};
use crate::store::{self, RunId, RunStatus, Step, runs::Run};

/// How long a lease lasts and how often its holder renews it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LeaseOptions {
    /// A process that stops renewing loses its runs after this long.
    pub ttl: Duration,
    /// Heartbeat period, also the period of the check for runs whose lease expired.
    pub renew_every: Duration,
}

impl LeaseOptions {
    /// A lease of `ttl`, renewed three times per period (two renewals may fail in a row).
    pub fn with_ttl(ttl: Duration) -> LeaseOptions {
        LeaseOptions {
            ttl,
            renew_every: (ttl / 3).max(Duration::from_millis(10)),
        }
    }
}

impl Default for LeaseOptions {
    fn default() -> Self {
        LeaseOptions::with_ttl(Duration::from_secs(15))
    }
}

/// A lease holder id for this engine: random per process (and per engine, so two engines in
/// one test process are two holders), with the pid to help whoever reads it on a page.
pub(super) fn new_holder() -> Arc<str> {
    format!(
        "natpilot-pid{}-{:08x}",
        std::process::id(),
        rand::random::<u32>()
    )
    .into()
}

/// How a job ended, as far as its lease is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum JobEnd {
    /// Done, failed or refused: its end is recorded; release the lease.
    Finished,
    /// A test's crash hook fired, or the job paused for shutdown: leave everything as a dead
    /// process would, except that the
    /// lease is expired at once so that the test's next engine can resume without waiting.
    Crashed,
    /// Another process holds the lease now: stop, touch nothing.
    LeaseLost,
}

/// Another process driving a run, as a page shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Driver {
    pub holder: String,
    pub until: DateTime<Utc>,
}

/// Whether `run` (as it stands now) still needs `job`: a job queued behind another of the
/// same run, or taken over, must not redo work that has moved on meanwhile.
fn still_needed(run: &Run, job: Job) -> bool {
    match job {
        Job::Assess => run.status == RunStatus::Applying && run.current_step == Step::Assess,
        Job::Apply(step) => run.status == RunStatus::Applying && run.current_step == step,
        Job::Rollback { .. } => run.status == RunStatus::RollingBack,
    }
}

impl Engine {
    /// This process's lease holder id.
    pub fn holder(&self) -> &str {
        &self.inner.holder
    }

    /// The process that drives `run` when it is not this one and its lease is live.
    pub async fn driver(&self, run: RunId) -> sqlx::Result<Option<Driver>> {
        let lease = store::lease::get(self.store().readers(), run).await?;
        Ok(lease
            .filter(|l| l.holder != self.holder() && l.is_live(Utc::now()))
            .map(|l| Driver {
                holder: l.holder,
                until: l.expires_at,
            }))
    }

    /// The body of a spawned job: one job per run at a time in this process, the run's lease
    /// around it, a heartbeat beside it.
    pub(super) async fn drive(&self, run: Run, job: Job) {
        let lock = self.run_lock(run.id);
        let _one_at_a_time = lock.lock().await;
        let lease = self.inner.options.lease;
        match store::lease::take(self.store().writer(), run.id, self.holder(), lease.ttl).await {
            Ok(Ok(_)) => {}
            Ok(Err(other)) => {
                tracing::info!(run = %run.id, holder = %other.holder, until = %other.expires_at,
                    "run is driven by another natpilot process; not driving it here");
                return;
            }
            Err(e) => {
                tracing::error!(run = %run.id, error = %e, "could not take the run's lease; not driving it");
                return;
            }
        }
        let current = match self.run(run.id).await {
            Ok(r) if still_needed(&r, job) => r,
            Ok(_) => return self.release(run.id).await,
            Err(e) => {
                tracing::error!(run = %run.id, error = %e, "could not re-read the run");
                return self.release(run.id).await;
            }
        };
        let end = tokio::select! {
            end = self.execute(current, job) => end,
            () = self.keep_lease(run.id) => JobEnd::LeaseLost,
        };
        match end {
            JobEnd::Finished => self.release(run.id).await,
            JobEnd::Crashed => {
                if let Err(e) =
                    store::lease::expire(self.store().writer(), run.id, self.holder()).await
                {
                    tracing::error!(run = %run.id, error = %e, "could not expire the lease");
                }
            }
            JobEnd::LeaseLost => {
                tracing::warn!(run = %run.id, holder = self.holder(),
                    "lost the run's lease to another natpilot process; stopped driving it");
            }
        }
    }

    async fn release(&self, run: RunId) {
        if let Err(e) = store::lease::release(self.store().writer(), run, self.holder()).await {
            // It expires on its own; another process then takes the run (which has ended).
            tracing::error!(run = %run, error = %e, "could not release the run's lease");
        }
    }

    /// Renews the lease every `renew_every`; returns when it is lost: taken by another process,
    /// or not renewed for a whole `ttl` (then fencing refuses our calls anyway).
    pub(super) async fn keep_lease(&self, run: RunId) {
        let lease = self.inner.options.lease;
        let mut renewed = tokio::time::Instant::now();
        loop {
            tokio::time::sleep(lease.renew_every).await;
            match store::lease::renew(self.store().writer(), run, self.holder(), lease.ttl).await {
                Ok(true) => renewed = tokio::time::Instant::now(),
                Ok(false) => return,
                Err(e) => {
                    tracing::warn!(run = %run, error = %e, "could not renew the run's lease");
                    if renewed.elapsed() >= lease.ttl {
                        return;
                    }
                }
            }
        }
    }

    /// The per-run lock that keeps this process to one job per run at a time.
    pub(super) fn run_lock(&self, run: RunId) -> Arc<tokio::sync::Mutex<()>> {
        let mut locks = self
            .inner
            .run_locks
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        locks.entry(run).or_default().clone()
    }

    /// Whether a job of `run` runs (or waits to run) in this process.
    fn driving_here(&self, run: RunId) -> bool {
        self.run_lock(run).try_lock().is_err()
    }

    /// Starts the jobs of unfinished runs that no live process drives: at start-up, runs a
    /// previous process left; later, runs of a process that died (its lease expired). Runs
    /// another live process holds are left to it, and said so. Returns how many were started.
    pub(super) async fn pick_up_unfinished(&self, at_start: bool) -> Result<usize, EngineError> {
        let runs = store::runs::unfinished_work(self.store().readers()).await?;
        let mut started = 0;
        for run in &runs {
            if self.driving_here(run.id) {
                continue;
            }
            // A rehearsal's twin lives only in the process that made it: taking the run over
            // could only fail (`end_lost_rehearsals` ends it at this process's next start).
            if crate::rehearsal::TwinLabel::is_twin(&run.account) {
                continue;
            }
            if let Some(d) = self.driver(run.id).await? {
                if at_start {
                    tracing::info!(run = %run.id, holder = %d.holder, until = %d.until,
                        "run is driven by another natpilot process; this process serves its pages but does not drive it");
                }
                continue;
            }
            let job = self.job_for(run).await?;
            tracing::info!(run = %run.id, ?job, "resuming unfinished work");
            self.spawn(run.clone(), job);
            started += 1;
        }
        Ok(started)
    }

    /// Every lease period, takes over unfinished runs whose lease expired (their process
    /// died). Call once at start-up, after [`Engine::resume`]; `natpilot serve` does.
    pub fn watch_leases(&self) {
        let engine = self.clone();
        let period = self.inner.options.lease.renew_every;
        let task = tokio::spawn(async move {
            let mut tick = tokio::time::interval(period);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                if let Err(e) = engine.watch_rehearsals().await {
                    tracing::warn!(error = %e, "could not renew or check rehearsal owners");
                }
                if let Err(e) = engine.pick_up_unfinished(false).await {
                    tracing::warn!(error = %e, "could not look for runs to take over");
                }
            }
        });
        let old = self
            .inner
            .watcher
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .replace(task);
        if let Some(old) = old {
            old.abort();
        }
    }

    /// Stops every job of this engine where it stands and the lease watch, releasing nothing
    /// and recording nothing — what `kill -9` does to a process (tests of a second process).
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
        for (_, task) in self
            .inner
            .tasks
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .drain()
        {
            task.abort();
        }
    }
}
