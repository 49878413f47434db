//! One engine + one simulator per test.

use std::{sync::Arc, time::Duration};

use natpilot::sim::{RunningSim, ScenarioSource, SimConfig, spawn};
use natpilot::store::{RunId, RunStatus, Step, Store};
use natpilot::tencent::{
    Client, ClientSettings, CredentialSource, Credentials, CredentialsProvider, Endpoint,
    RetryPolicy,
};
use natpilot::wizard::engine::{CrashHook, Engine, EngineOptions, LeaseOptions};
use natpilot::wizard::input::*;
use natpilot::wizard::poll::Poll;
use natpilot::wizard::tencent_cloud::TencentConnector;

pub const REGION: &str = "ap-guangzhou";
pub const VPC: &str = "vpc-tut0rial";
pub const LARGE_VPC: &str = "vpc-large000";

pub struct Env {
    pub _dir: tempfile::TempDir,
    pub sim: RunningSim,
    pub store: Store,
    pub engine: Engine,
    connector: Arc<TencentConnector>,
}

fn config(scenario: ScenarioSource) -> SimConfig {
    SimConfig {
        scenario,
        // Real clock, short async steps: the engine polls like it would against Tencent Cloud.
        async_delay: Duration::from_millis(30),
        manual_clock: false,
        rate_limit: true,
        ..SimConfig::default()
    }
}

pub async fn start(scenario: ScenarioSource) -> Env {
    let sim = spawn(config(scenario)).await.expect("simulator starts");
    let client = client_for(&sim);
    let connector = Arc::new(TencentConnector::new(
        client,
        Poll::fixed(Duration::from_millis(10)),
    ));
    let dir = tempfile::tempdir().unwrap();
    let store = natpilot::store::test_store::open(dir.path()).await.unwrap();
    let engine = Engine::new(store.clone(), connector.clone(), options());
    Env {
        _dir: dir,
        sim,
        store,
        engine,
        connector,
    }
}

/// A client of the simulator, as the engine's (tests also use it to act as another process).
pub fn client_for(sim: &RunningSim) -> Client {
    let settings = ClientSettings::new(
        Endpoint::override_url(&sim.endpoint()).unwrap(),
        CredentialsProvider::fixed(
            Credentials::new(sim.secret_id(), sim.secret_key()),
            CredentialSource::Explicit,
        ),
    );
    let mut settings = settings;
    // Quick backoff keeps fault-injection tests short; the policy is the same otherwise.
    settings.retry = RetryPolicy {
        // Enough attempts that a 20% fault rate over a few hundred calls never exhausts them.
        max_attempts: 10,
        base_delay: Duration::from_millis(20),
        max_delay: Duration::from_millis(200),
        ..RetryPolicy::default()
    };
    Client::new(settings).unwrap()
}

/// Waits (polling the simulator's state, within a budget a loaded machine meets) until `done`.
pub async fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while !done() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

pub fn options() -> EngineOptions {
    EngineOptions {
        poll: Poll::fixed(Duration::from_millis(10)),
        // Short, so a test of a dead engine's lease waits seconds, not the default 15 s.
        lease: LeaseOptions::with_ttl(Duration::from_secs(3)),
        ..EngineOptions::default()
    }
}

impl Env {
    /// A new engine whose lease lasts `ttl` (its heartbeat renews it every third of that).
    pub fn restart_with_lease(&self, ttl: Duration) -> Engine {
        let options = EngineOptions {
            lease: LeaseOptions::with_ttl(ttl),
            ..options()
        };
        Engine::new(self.store.clone(), self.connector.clone(), options)
    }

    /// A new engine on the same database and cloud that applies this approval policy.
    pub fn with_approvals(&self, policy: natpilot::approvals::ApprovalPolicy) -> Engine {
        let options = EngineOptions {
            approvals: policy,
            ..options()
        };
        Engine::new(self.store.clone(), self.connector.clone(), options)
    }

    /// A new engine on the same database and cloud, as after a restart.
    pub fn restart(&self, hook: Option<CrashHook>) -> Engine {
        match hook {
            Some(h) => {
                Engine::with_crash_hook(self.store.clone(), self.connector.clone(), options(), h)
            }
            None => Engine::new(self.store.clone(), self.connector.clone(), options()),
        }
    }
}

pub fn provision() -> StepInput {
    StepInput::Provision(ProvisionInput::Create(NewNat {
        name: "natpilot-egress".into(),
        bandwidth_mbps: 100,
        max_connections: 1_000_000,
        eips: EipChoice::New(1),
        zone: None,
    }))
}

pub async fn start_run(engine: &Engine) -> RunId {
    start_run_in(engine, VPC).await
}

pub async fn start_run_in(engine: &Engine, vpc: &str) -> RunId {
    let run = engine.start_run("sim", REGION, vpc, "alice").await.unwrap();
    let r = engine.wait(run).await.unwrap();
    assert_eq!(
        (r.status, r.current_step),
        (RunStatus::Active, Step::Assess),
        "{:?}",
        r.last_error
    );
    run
}

pub async fn confirm(engine: &Engine, run: RunId, input: StepInput) -> RunStatus {
    engine.confirm_step(run, input, "alice").await.unwrap();
    let r = engine.wait(run).await.unwrap();
    if r.status == RunStatus::Failed {
        eprintln!("step failed: {:?}", r.last_error);
    }
    r.status
}

/// Confirms steps 1–3 with the default inputs; the run then waits at step 4.
pub async fn through_step_3(engine: &Engine, run: RunId) {
    for input in [
        StepInput::Assess(AssessInput::default()),
        provision(),
        StepInput::Route(RouteInput::default()),
    ] {
        assert_eq!(confirm(engine, run, input).await, RunStatus::Active);
    }
    assert_eq!(engine.run(run).await.unwrap().current_step, Step::Verify);
}

/// Confirming step 3 with `route` is refused as blocked, and the run still waits at step 3.
pub async fn assert_step_3_blocked(engine: &Engine, run: RunId, route: StepInput) {
    let refused = engine.confirm_step(run, route, "alice").await.unwrap_err();
    assert!(
        matches!(refused, natpilot::wizard::engine::EngineError::Blocked(_)),
        "{refused}"
    );
    let r = engine.run(run).await.unwrap();
    assert_eq!((r.status, r.current_step), (RunStatus::Active, Step::Route));
}

pub async fn complete(engine: &Engine, run: RunId, route: RouteInput) {
    assert_eq!(
        confirm(engine, run, StepInput::Assess(AssessInput::default())).await,
        RunStatus::Active
    );
    assert_eq!(confirm(engine, run, provision()).await, RunStatus::Active);
    assert_eq!(
        confirm(engine, run, StepInput::Route(route)).await,
        RunStatus::Active
    );
    assert_eq!(
        confirm(engine, run, StepInput::Verify(VerifyInput::default())).await,
        RunStatus::Completed
    );
}
