//! The page-view inventory snapshot: one observation of the run's VPC per (run, step), reused
//! by every page view of that step (show, preview, pagination, filters) so that paging through
//! a 50,000-instance table does not send hundreds of Describe calls per click.
//!
//! A snapshot belongs to the run as it stood when it was taken: it is used only while the
//! run is still `active` at the same step with the same `updated_at` (every transition —
//! confirm, a job starting or ending, another process driving it — changes one of those), and
//! it is dropped when a job starts. The operator can retake it (Refresh).
//!
//! It never feeds a change: confirm plans from a fresh observation and applies only when that
//! plan's digest is the one the operator was shown, so a stale snapshot can show an older
//! plan, never apply one. The fresh observation of a confirm replaces the snapshot, so a
//! refused confirm shows the plan as it is now. Per process, in memory: a second process
//! simply takes its own.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};

use crate::store::{RunId, RunStatus, Step, runs::Run};
use crate::wizard::observed::Inventory;

/// Snapshots of this many runs at most are kept (each can be tens of MB at 50,000
/// instances); the oldest goes first.
const MAX_RUNS: usize = 8;

/// One observation of a run's VPC, shared by the page views that show it.
#[derive(Clone)]
pub struct Snapshot {
    pub inventory: Arc<Inventory>,
    /// When the observation finished (shown as "observed at HH:MM:SS").
    pub taken_at: DateTime<Utc>,
}

struct Entry {
    step: Step,
    /// The run's `updated_at` when the snapshot was taken: any later transition invalidates it.
    run_version: DateTime<Utc>,
    snapshot: Snapshot,
}

/// The cache, and one lock per run so that concurrent first views (a page and its htmx
/// requests) observe the VPC once, not once each.
#[derive(Default)]
pub(super) struct Snapshots {
    entries: Mutex<HashMap<RunId, Entry>>,
    observing: Mutex<HashMap<RunId, Arc<tokio::sync::Mutex<()>>>>,
}

/// Whether a snapshot may be taken or used for `run` at `step`: only while the run waits
/// for the operator at that step (nothing of the run is changing the cloud then).
pub(super) fn cacheable(run: &Run, step: Step) -> bool {
    run.status == RunStatus::Active && run.current_step == step
}

/// Before `run` is added to a cache of at most `max` runs: drops the oldest entry if full.
pub(super) fn make_room<E>(
    entries: &mut HashMap<RunId, E>,
    run: RunId,
    max: usize,
    taken_at: impl Fn(&E) -> DateTime<Utc>,
) {
    if entries.contains_key(&run) || entries.len() < max {
        return;
    }
    let oldest = entries
        .iter()
        .min_by_key(|(_, e)| taken_at(e))
        .map(|(id, _)| *id);
    if let Some(id) = oldest {
        entries.remove(&id);
    }
}

impl Snapshots {
    /// The snapshot for `run` at `step`, if one was taken for the run as it stands now.
    /// A snapshot of an earlier state of the run is dropped.
    pub(super) fn get(&self, run: &Run, step: Step) -> Option<Snapshot> {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        let entry = entries.get(&run.id)?;
        if !(cacheable(run, entry.step) && entry.run_version == run.updated_at) {
            entries.remove(&run.id);
            return None;
        }
        (entry.step == step).then(|| entry.snapshot.clone())
    }

    /// Keeps `inventory` as the snapshot of `run` at `step` (replacing any other of the run).
    pub(super) fn put(&self, run: &Run, step: Step, inventory: Arc<Inventory>) -> Snapshot {
        let snapshot = Snapshot {
            inventory,
            taken_at: Utc::now(),
        };
        if !cacheable(run, step) {
            return snapshot;
        }
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        make_room(&mut entries, run.id, MAX_RUNS, |e| e.snapshot.taken_at);
        let entry = Entry {
            step,
            run_version: run.updated_at,
            snapshot: snapshot.clone(),
        };
        entries.insert(run.id, entry);
        snapshot
    }

    /// Drops the run's snapshot (the run moves on, or the operator asked for a new one).
    pub(super) fn forget(&self, run: RunId) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries.remove(&run);
    }

    /// The lock held while the run's VPC is observed for a snapshot.
    pub(super) fn observing(&self, run: RunId) -> Arc<tokio::sync::Mutex<()>> {
        let mut locks = self.observing.lock().unwrap_or_else(|p| p.into_inner());
        // Locks of runs no one is observing are not worth keeping.
        locks.retain(|_, l| Arc::strong_count(l) > 1);
        locks.entry(run).or_default().clone()
    }
}

impl super::Engine {
    /// The page-view snapshot of the run at its current step: the one taken earlier if the
    /// run has not moved since, else a new observation (its calls ledgered under the step,
    /// like any plan's). For a run that is not waiting for the operator it is a fresh
    /// observation each time, kept nowhere.
    pub(super) async fn snapshot(&self, r: &Run) -> Result<Snapshot, super::EngineError> {
        let (snapshots, step) = (&self.inner.snapshots, r.current_step);
        if let Some(s) = snapshots.get(r, step) {
            return Ok(s);
        }
        let lock = snapshots.observing(r.id);
        let _observing = lock.lock().await;
        // Another view may have taken it while this one waited.
        if let Some(s) = snapshots.get(r, step) {
            return Ok(s);
        }
        let inventory = self
            .with_cloud(r, step, |cloud| async move {
                super::observe::fresh(cloud.as_ref(), r).await
            })
            .await?;
        Ok(snapshots.put(r, step, inventory))
    }

    /// Keeps a fresh observation (a confirm's) as the run's page-view snapshot.
    pub(super) fn keep_snapshot(&self, r: &Run, inventory: Arc<Inventory>) {
        self.inner.snapshots.put(r, r.current_step, inventory);
    }

    /// The pages' Refresh: observes the run's VPC again now and keeps that as the snapshot.
    pub async fn refresh_snapshot(&self, run: RunId) -> Result<Snapshot, super::EngineError> {
        let r = self.run(run).await?;
        self.inner.snapshots.forget(run);
        self.snapshot(&r).await
    }

    /// When the snapshot the pages of `run` at `step` show was taken, if they show one.
    pub fn observed_at(&self, run: &Run, step: Step) -> Option<DateTime<Utc>> {
        self.inner.snapshots.get(run, step).map(|s| s.taken_at)
    }

    /// The snapshot the pages of `run` at `step` show, if they show one (without observing).
    pub fn kept_snapshot(&self, run: &Run, step: Step) -> Option<Snapshot> {
        self.inner.snapshots.get(run, step)
    }

    /// Drops the run's snapshot: a job is about to change the cloud.
    pub(super) fn forget_snapshot(&self, run: RunId) {
        self.inner.snapshots.forget(run);
    }
}
