//! Two natpilot processes on one database file (issue 10, defect 3), each a real app on port
//! 0, sharing one simulator: while the first drives a run through step 2 (its CreateNatGateway
//! in flight), the second serves the run's pages but does not drive it, and says who does;
//! when the first dies without releasing anything, the second takes the run over once the
//! lease expires and finishes the step with exactly one NAT gateway. The call the dead
//! process had in flight reads "outcome unknown — reconciled by …" on the ledger page.

use std::time::Duration;

use natpilot::app::{self, AppConfig, RunningApp};
use natpilot::sim::{FaultConfig, FaultKind, RunningSim, SimConfig};
use natpilot::store::{
    self, RunId, RunStatus, Step, Store,
    users::{self, Role, UserName},
};
use natpilot::tencent::Client;
use natpilot::web::{auth::password, settings::WebSettings};
use natpilot::wizard::engine::{EngineOptions, LeaseOptions};
use natpilot::wizard::input::*;
use natpilot::wizard::poll::Poll;
use secrecy::SecretString;

use crate::common::until;
use crate::harness::{Browser, PASSWORD};

const VPC: &str = "vpc-tut0rial";

/// One natpilot process: the real app on `db`, talking to `sim`, with a short lease.
async fn process(db: &natpilot::store::Database, sim: &RunningSim) -> RunningApp {
    let store = Store::connect(db).await.unwrap();
    let h = sim.handle();
    let client = Client::for_endpoint(&sim.endpoint(), h.secret_id(), h.secret_key()).unwrap();
    app::spawn(AppConfig {
        client,
        listener: tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap(),
        metrics_listener: None,
        store,
        settings: WebSettings::default(),
        tls: None,
        engine: EngineOptions {
            poll: Poll::fixed(Duration::from_millis(10)),
            lease: LeaseOptions::with_ttl(Duration::from_secs(3)),
            ..EngineOptions::default()
        },
    })
    .await
    .unwrap()
}

fn creates_received(sim: &RunningSim) -> usize {
    sim.handle()
        .received_mutations()
        .iter()
        .filter(|r| r.action == "CreateNatGateway")
        .count()
}

async fn signed_in(app: &RunningApp) -> Browser {
    let hash = password::hash(SecretString::from(PASSWORD)).await.unwrap();
    let name = UserName::parse("olga").unwrap();
    // Both processes share the users table; the second call finds her there already.
    let _ = users::insert(app.state.store.writer(), &name, Role::Operator, &hash).await;
    let mut b = Browser::new(app.url(""));
    let page = b.login("olga", PASSWORD).await;
    assert_eq!(page.status, reqwest::StatusCode::SEE_OTHER, "{}", page.body);
    b
}

/// Starts a run on `app` and confirms step 2, whose CreateNatGateway reaches the cloud but
/// answers only after `slow`.
async fn step_two_in_flight(app: &RunningApp, sim: &RunningSim, slow: Duration) -> RunId {
    let engine = &app.state.engine;
    let region = sim.handle().region();
    // The portal's default account (issue 13: a run of an unconfigured account fails closed).
    let run = engine
        .start_run("simulated", &region, VPC, "olga")
        .await
        .unwrap();
    engine.wait(run).await.unwrap();
    let assess = StepInput::Assess(AssessInput::default());
    engine.confirm_step(run, assess, "olga").await.unwrap();
    sim.handle().set_faults(FaultConfig {
        per_action: [("CreateNatGateway".to_owned(), 1.0)].into(),
        kinds: vec![FaultKind::Slow],
        slow_delay: slow,
        ..FaultConfig::default()
    });
    let provision = StepInput::Provision(ProvisionInput::Create(NewNat {
        name: "natpilot-egress".into(),
        bandwidth_mbps: 100,
        max_connections: 1_000_000,
        eips: EipChoice::New(1),
        zone: None,
    }));
    engine.confirm_step(run, provision, "olga").await.unwrap();
    until("CreateNatGateway to reach the cloud", || async {
        creates_received(sim) == 1
    })
    .await;
    run
}

#[tokio::test]
async fn a_second_process_does_not_drive_a_run_the_first_holds_and_takes_it_over_when_the_first_dies()
 {
    let dir = tempfile::tempdir().unwrap();
    let db = natpilot::store::test_store::database(dir.path())
        .await
        .unwrap();
    let sim = natpilot::sim::spawn(SimConfig {
        async_delay: Duration::from_millis(20),
        rate_limit: false,
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let first = process(&db, &sim).await;
    let run = step_two_in_flight(&first, &sim, Duration::from_secs(30)).await;
    let first_holder = first.state.engine.holder().to_owned();

    // The second process starts while the first waits on CreateNatGateway.
    let second = process(&db, &sim).await;
    let mut b = signed_in(&second).await;
    let page = b.get(&format!("/runs/{run}")).await;
    let driver = page.text("#run-driver");
    assert!(
        driver.starts_with("Driven by another natpilot process (holder")
            && driver.contains(&first_holder)
            && driver.contains("lease until"),
        "{driver}"
    );
    let status = |app: &RunningApp| {
        let store = app.state.store.clone();
        async move {
            let r = store::runs::get(store.readers(), run)
                .await
                .unwrap()
                .unwrap();
            (r.status, r.current_step)
        }
    };
    assert_eq!(
        status(&second).await,
        (RunStatus::Applying, Step::Provision)
    );

    // The first process dies: its jobs stop where they are, its lease is not released.
    first.state.engine.halt();
    drop(first);
    sim.handle().set_faults(FaultConfig::default());
    until("the second process to finish step 2", || async {
        status(&second).await == (RunStatus::Active, Step::Route)
    })
    .await;
    assert_eq!(
        sim.handle().nat_gateways(VPC).len(),
        1,
        "exactly one NAT gateway"
    );
    assert_eq!(creates_received(&sim), 1, "no second CreateNatGateway");

    let page = b.get(&format!("/runs/{run}")).await;
    assert_eq!(page.count("#run-driver"), 0, "{}", page.body);
    let calls = b.get(&format!("/runs/{run}/calls")).await;
    let unknown = calls.texts("tr:has(.outcome-unknown) .ledger-action");
    assert_eq!(unknown, ["vpc:CreateNatGateway"], "{}", calls.body);
    let how = calls.text("tr .reconciled-by");
    assert!(
        how.contains("reconciled by the DescribeNatGateways lookup"),
        "{how}"
    );
}

/// Login throttling counts in the store: failures on one process use up the budget on the
/// other as well, so replicas behind a load balancer allow what one process does (issue 15).
#[tokio::test]
async fn sign_in_failures_on_one_process_throttle_the_account_on_the_other() {
    let dir = tempfile::tempdir().unwrap();
    let db = natpilot::store::test_store::database(dir.path())
        .await
        .unwrap();
    let sim = natpilot::sim::spawn(SimConfig::default()).await.unwrap();
    let (first, second) = (process(&db, &sim).await, process(&db, &sim).await);
    let hash = password::hash(SecretString::from(PASSWORD)).await.unwrap();
    let name = UserName::parse("olga").unwrap();
    users::insert(first.state.store.writer(), &name, Role::Operator, &hash)
        .await
        .unwrap();
    let attempts = WebSettings::default().login_attempts;
    // Half of the budget fails on each process (the default budget is 5 per minute).
    for i in 0..attempts {
        let app = if i % 2 == 0 { &first } else { &second };
        let page = Browser::new(app.url(""))
            .login("olga", "wrong password!")
            .await;
        assert_eq!(
            page.status,
            reqwest::StatusCode::UNAUTHORIZED,
            "{}",
            page.body
        );
    }
    for app in [&first, &second] {
        let page = Browser::new(app.url("")).login("olga", PASSWORD).await;
        assert_eq!(
            page.status,
            reqwest::StatusCode::TOO_MANY_REQUESTS,
            "{}",
            page.body
        );
        assert!(
            page.text("#login-error")
                .contains("Too many sign-in attempts")
        );
    }
}
