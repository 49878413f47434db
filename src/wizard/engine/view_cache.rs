//! The topology and Terraform views' observation of a run's VPC, shared by the views that
//! follow each other (issue 11: the topology page observed the whole VPC on every view, tens
//! of thousands of Describe results at 50,000 instances). Unlike the step pages' snapshots it
//! serves runs in any state but one changing the cloud: a completed or rolled-back run's VPC
//! is shown as it was observed at most [`MAX_AGE`] ago, with the time on the page and a
//! Refresh that observes it again. It never feeds a change.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, Utc};

use crate::store::{RunId, RunStatus, runs::Run};
use crate::wizard::observed::Inventory;

/// A picture older than this is taken again at the next view.
pub const MAX_AGE: Duration = Duration::minutes(5);

/// Views of this many runs at most are kept; the oldest goes first.
const MAX_RUNS: usize = 8;

/// One observation for the views, and when it finished.
#[derive(Clone)]
pub struct Observed {
    pub inventory: Arc<Inventory>,
    pub taken_at: DateTime<Utc>,
}

struct Entry {
    /// The run's `updated_at` then: a transition since (a step applied, a rollback) means
    /// the cloud was changed by the run, so the picture is taken again.
    run_version: DateTime<Utc>,
    observed: Observed,
}

#[derive(Default)]
pub(super) struct ViewCache {
    entries: Mutex<HashMap<RunId, Entry>>,
}

/// A run whose job is changing the cloud is always observed afresh.
fn cacheable(run: &Run) -> bool {
    !matches!(run.status, RunStatus::Applying | RunStatus::RollingBack)
}

impl ViewCache {
    pub(super) fn get(&self, run: &Run, now: DateTime<Utc>) -> Option<Observed> {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        let entry = entries.get(&run.id)?;
        let fresh = now - entry.observed.taken_at <= MAX_AGE;
        if !(cacheable(run) && entry.run_version == run.updated_at && fresh) {
            entries.remove(&run.id);
            return None;
        }
        Some(entry.observed.clone())
    }

    pub(super) fn put(&self, run: &Run, inventory: Arc<Inventory>) -> Observed {
        let observed = Observed {
            inventory,
            taken_at: Utc::now(),
        };
        if !cacheable(run) {
            return observed;
        }
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        super::snapshots::make_room(&mut entries, run.id, MAX_RUNS, |e| e.observed.taken_at);
        let entry = Entry {
            run_version: run.updated_at,
            observed: observed.clone(),
        };
        entries.insert(run.id, entry);
        observed
    }

    pub(super) fn forget(&self, run: RunId) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries.remove(&run);
    }
}

impl super::Engine {
    /// The run's VPC for the topology and Terraform views: the picture an earlier view took
    /// if it is recent and the run has not moved since, else a new read-only observation
    /// (outside the run's ledger, like [`super::Engine::view_inventory`]).
    pub async fn view_observed(&self, run: RunId) -> Result<Observed, super::EngineError> {
        let r = self.run(run).await?;
        if let Some(o) = self.inner.view_cache.get(&r, Utc::now()) {
            return Ok(o);
        }
        let inventory = Arc::new(self.view_inventory(run).await?);
        Ok(self.inner.view_cache.put(&r, inventory))
    }

    /// Drops the views' picture of the run, so the next view observes the VPC again.
    pub fn refresh_view(&self, run: RunId) {
        self.inner.view_cache.forget(run);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Step;

    fn run(status: RunStatus, updated_at: DateTime<Utc>) -> Run {
        Run {
            id: RunId::new(),
            account: "default".into(),
            region: "ap-guangzhou".into(),
            vpc_id: "vpc-1".into(),
            started_by: "olga".into(),
            status,
            current_step: Step::Verify,
            last_error: None,
            started_at: updated_at,
            updated_at,
            finished_at: None,
            finished_by: None,
        }
    }

    fn inventory() -> Arc<Inventory> {
        Arc::new(Inventory::default())
    }

    #[test]
    fn a_picture_is_reused_until_the_run_moves_or_it_is_too_old() {
        let cache = ViewCache::default();
        let t0 = Utc::now();
        let done = run(RunStatus::Completed, t0);
        assert!(cache.get(&done, t0).is_none());
        let taken = cache.put(&done, inventory()).taken_at;
        assert_eq!(cache.get(&done, taken).unwrap().taken_at, taken);
        assert!(cache.get(&done, taken + MAX_AGE).is_some());
        assert!(
            cache
                .get(&done, taken + MAX_AGE + Duration::seconds(1))
                .is_none()
        );
        // Gone once too old: a later view within the age does not bring it back.
        assert!(cache.get(&done, taken).is_none());

        cache.put(&done, inventory());
        let moved = Run {
            updated_at: t0 + Duration::seconds(1),
            ..done.clone()
        };
        assert!(cache.get(&moved, Utc::now()).is_none());

        cache.put(&done, inventory());
        cache.forget(done.id);
        assert!(cache.get(&done, Utc::now()).is_none());
    }

    #[test]
    fn a_run_changing_the_cloud_is_never_served_from_the_cache() {
        let cache = ViewCache::default();
        for status in [RunStatus::Applying, RunStatus::RollingBack] {
            let r = run(status, Utc::now());
            cache.put(&r, inventory());
            assert!(cache.get(&r, Utc::now()).is_none(), "{status:?}");
        }
    }
}
