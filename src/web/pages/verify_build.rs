//! Step 4's stored rows rebuilt outside the page request (issue 11). After an input changed
//! that an exception's in-place edit (`verify_edit`) does not cover — the rule, an egress
//! result, a protection, a new snapshot, the NAT gateway or routes — the first view that finds
//! the rows stale starts a rebuild in the background (one per run: a newer one replaces an
//! older, which is stopped) and waits for it a moment ([`WAIT`]; a small VPC's table is ready
//! by then and the page is the table, as before). Otherwise the page answers at once and says
//! "the table is being rebuilt", with how far it is, and — once the engine has planned — the
//! plan and the counts, which are then the fresh ones.
//!
//! Why not the previous rows, marked as being refreshed: an operator reads a step 4 row as
//! "this is what will happen to this address", and acts on it (saves an exception, confirms).
//! Rows of the previous rule or before a failed re-test say something else will happen, and a
//! banner above 50 rows is easy to miss; a table that is not shown until it is current cannot
//! be misread, and the plan and counts shown meanwhile are current. The confirm is decided by
//! the engine's fresh plan and the plan digest in any case.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use sha2::{Digest, Sha256};
use tokio::sync::watch;

use crate::{
    app::AppState,
    store::{
        RunId,
        runs::Run,
        verify_rows::{self, Header, VerifyRecord},
    },
    web::error::WebError,
    wizard::{
        engine::{EngineError, Snapshot},
        input::{StepInput, VerifyInput},
    },
};

use super::{
    step_details,
    step_view::{PlanView, plan_view},
    verify_query::VerifyCounts,
    verify_stored::{self, Body},
};

/// How long a view waits for a rebuild before it answers with the notice instead.
pub const WAIT: Duration = Duration::from_millis(1500);

/// How far a rebuild is.
#[derive(Clone)]
pub enum Progress {
    /// Observing the VPC (when no snapshot is kept) and planning.
    Planning,
    /// Planned: the plan and counts are the fresh ones; the rows are being stored.
    Storing {
        stored: usize,
        total: usize,
        plan: Box<PlanView>,
        counts: VerifyCounts,
        nat_ips: Vec<String>,
    },
    /// Stored, with the header naming them (current, unless an input moved meanwhile).
    Done,
    /// The engine did not plan (e.g. the step is no longer open): the page says why itself.
    Refused,
    /// A database error, in words.
    Failed(String),
}

impl Progress {
    pub fn finished(&self) -> bool {
        matches!(
            self,
            Progress::Done | Progress::Refused | Progress::Failed(_)
        )
    }
}

struct Build {
    /// What it builds: the run's state, the input and the inputs version it read.
    key: String,
    progress: watch::Receiver<Progress>,
    task: tokio::task::AbortHandle,
}

/// The running rebuilds, one per run at most, and the digest of each run's snapshot.
#[derive(Default)]
pub struct Builds {
    runs: Mutex<HashMap<RunId, Build>>,
    pictures: Mutex<HashMap<RunId, (chrono::DateTime<chrono::Utc>, String)>>,
}

impl Builds {
    /// What `snapshot` saw, as a digest of the whole observation (computed once per
    /// snapshot): the rows are of a picture, not of a moment, so a new snapshot of an
    /// unchanged VPC — a confirm observes it afresh — leaves them current.
    pub fn picture(&self, run: RunId, snapshot: &Snapshot) -> String {
        {
            let pictures = self.pictures.lock().unwrap_or_else(|p| p.into_inner());
            if let Some((at, digest)) = pictures.get(&run)
                && *at == snapshot.taken_at
            {
                return digest.clone();
            }
        }
        let bytes = serde_json::to_vec(&*snapshot.inventory).unwrap_or_default();
        let digest = hex::encode(Sha256::digest(&bytes));
        let mut pictures = self.pictures.lock().unwrap_or_else(|p| p.into_inner());
        pictures.insert(run, (snapshot.taken_at, digest.clone()));
        digest
    }

    /// The rebuild of `key` for `run`: the one under way, or one `start`ed now (stopping any
    /// other of the run, which builds what is no longer asked for).
    fn ensure(
        &self,
        run: RunId,
        key: String,
        start: impl FnOnce(watch::Sender<Progress>) -> tokio::task::AbortHandle,
    ) -> watch::Receiver<Progress> {
        let mut runs = self.runs.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(b) = runs.get(&run)
            && b.key == key
            && !b.progress.borrow().finished()
        {
            return b.progress.clone();
        }
        if let Some(old) = runs.remove(&run) {
            old.task.abort();
        }
        let (tx, rx) = watch::channel(Progress::Planning);
        let task = start(tx);
        runs.insert(
            run,
            Build {
                key,
                progress: rx.clone(),
                task,
            },
        );
        rx
    }

    /// Waits until no rebuild of `run` is under way (tests wait on this, not on time).
    pub async fn settled(&self, run: RunId) {
        let progress = {
            let runs = self.runs.lock().unwrap_or_else(|p| p.into_inner());
            runs.get(&run).map(|b| b.progress.clone())
        };
        if let Some(mut p) = progress {
            let _ = p.wait_for(Progress::finished).await;
        }
    }
}

/// The rebuild of the rows of `input` (its typed VPC id aside) for `run`, started if none is
/// under way, after waiting for it at most [`WAIT`]: how far it is then.
pub async fn rebuild(
    state: &AppState,
    run: &Run,
    input: &VerifyInput,
) -> Result<Progress, WebError> {
    // Read before planning: an input written while the rows are built bumps it past them.
    let version = verify_rows::inputs_version(state.store.readers(), run.id).await?;
    let input = VerifyInput {
        confirm_irreversible: false,
        ..input.clone()
    };
    let key = format!("{} v{version}", verify_stored::basis(run, "(any)", &input));
    let mut progress = state.verify_builds.ensure(run.id, key, |tx| {
        let (state, run) = (state.clone(), run.clone());
        tokio::spawn(async move { build(state, run, input, version, tx).await }).abort_handle()
    });
    let _ = tokio::time::timeout(WAIT, progress.wait_for(Progress::finished)).await;
    let now = progress.borrow().clone();
    Ok(now)
}

async fn build(
    state: AppState,
    run: Run,
    input: VerifyInput,
    version: i64,
    tx: watch::Sender<Progress>,
) {
    let outcome = match build_rows(&state, &run, &input, version, &tx).await {
        Ok(true) => Progress::Done,
        Ok(false) => Progress::Refused,
        Err(e) => {
            tracing::warn!(run = %run.id, error = %e, "rebuilding step 4's table failed");
            Progress::Failed(format!("rebuilding step 4's table failed: {e}"))
        }
    };
    tx.send_replace(outcome);
}

/// Plans with `input`, builds every row and stores them with their header: `false` when the
/// engine did not plan.
async fn build_rows(
    state: &AppState,
    run: &Run,
    input: &VerifyInput,
    version: i64,
    tx: &watch::Sender<Progress>,
) -> Result<bool, WebError> {
    let wrapped = StepInput::Verify(input.clone());
    let (plan, inventory, taken_at) = match state.engine.preview_step_seen(run.id, &wrapped).await {
        Ok((plan, Some(inventory), Some(taken_at))) => (plan, inventory, taken_at),
        Ok(_) => return Ok(false),
        Err(EngineError::Db(e)) => return Err(e.into()),
        Err(_) => return Ok(false),
    };
    let view = plan_view(&plan, Some(&inventory));
    let (lines, nat_ips) =
        step_details::verify_lines(state, run, &inventory, Some(&plan), input).await?;
    let body = Body {
        counts: VerifyCounts::of(&lines),
        plan: view,
        nat_ips: nat_ips.into_iter().collect(),
    };
    let records: Vec<VerifyRecord> = lines.iter().map(verify_stored::record_of).collect();
    tx.send_replace(Progress::Storing {
        stored: 0,
        total: records.len(),
        plan: Box::new(body.plan.clone()),
        counts: body.counts.clone(),
        nat_ips: body.nat_ips.clone(),
    });
    let snapshot = Snapshot {
        inventory,
        taken_at,
    };
    let picture = state.verify_builds.picture(run.id, &snapshot);
    let header = Header {
        generation: verify_stored::next_gen(),
        version,
        basis: verify_stored::basis(run, &picture, input),
        body: serde_json::to_string(&body).map_err(|e| WebError::Internal(e.into()))?,
    };
    let count = |n: usize| {
        tx.send_modify(|p| {
            if let Progress::Storing { stored, .. } = p {
                *stored = n;
            }
        });
    };
    verify_rows::write_counted(
        &state.store,
        run.id,
        header.generation,
        &header,
        &records,
        count,
    )
    .await?;
    Ok(true)
}
