//! Engine tests against an in-memory cloud (`fake`): whole runs, consent, crash and resume at
//! every crash point, failures with retry, rollback, busy VPCs, concurrency. The same flows run
//! against the simulator in `tests/` at the crate root.

mod fake;
mod fencing;
mod flows;
mod recovery;
mod rehearsals;
mod shutdown;

use std::{sync::Arc, time::Duration};

use fake::{Connector, Fake};

use super::{CrashHook, Engine, EngineOptions};
use crate::store::{RunId, RunStatus, Step, Store};
use crate::wizard::input::*;
use crate::wizard::poll::Poll;

pub struct T {
    pub _dir: tempfile::TempDir,
    pub store: Store,
    pub fake: Fake,
    pub engine: Engine,
}

pub fn options() -> EngineOptions {
    EngineOptions {
        poll: Poll::fixed(Duration::from_millis(1)),
        ..EngineOptions::default()
    }
}

pub async fn setup(vpcs: &[&str]) -> T {
    let dir = tempfile::tempdir().unwrap();
    let store = crate::store::test_store::open(dir.path()).await.unwrap();
    let fake = Fake::new(vpcs);
    let engine = Engine::new(store.clone(), Arc::new(Connector(fake.clone())), options());
    T {
        _dir: dir,
        store,
        fake,
        engine,
    }
}

impl T {
    /// A second engine on the same database and cloud, as after a restart.
    pub fn restart(&self, hook: Option<CrashHook>) -> Engine {
        let connector = Arc::new(Connector(self.fake.clone()));
        match hook {
            Some(h) => Engine::with_crash_hook(self.store.clone(), connector, options(), h),
            None => Engine::new(self.store.clone(), connector, options()),
        }
    }
}

pub fn provision() -> StepInput {
    StepInput::Provision(ProvisionInput::Create(NewNat {
        name: "egress".into(),
        bandwidth_mbps: 100,
        max_connections: 1_000_000,
        eips: EipChoice::New(1),
        zone: None,
    }))
}

/// Starts a run and waits for its assessment.
pub async fn start(engine: &Engine, vpc: &str) -> RunId {
    let run = engine
        .start_run("acct", "ap-guangzhou", vpc, "alice")
        .await
        .unwrap();
    let r = engine.wait(run).await.unwrap();
    assert_eq!(
        (r.status, r.current_step),
        (RunStatus::Active, Step::Assess)
    );
    run
}

/// Confirms `input` and waits for the job; returns the run's status afterwards.
pub async fn confirm(engine: &Engine, run: RunId, input: StepInput) -> RunStatus {
    engine.confirm_step(run, input, "alice").await.unwrap();
    engine.wait(run).await.unwrap().status
}

/// Drives a started run through all four steps with default choices.
pub async fn complete(engine: &Engine, run: RunId) {
    assert_eq!(
        confirm(engine, run, StepInput::Assess(AssessInput::default())).await,
        RunStatus::Active
    );
    assert_eq!(confirm(engine, run, provision()).await, RunStatus::Active);
    assert_eq!(
        confirm(engine, run, StepInput::Route(RouteInput::default())).await,
        RunStatus::Active
    );
    assert_eq!(
        confirm(engine, run, StepInput::Verify(VerifyInput::default())).await,
        RunStatus::Completed
    );
}
