//! Graceful shutdown of the whole app: `RunningApp::shutdown` stops accepting connections and
//! lets the run's job stop at a persisted point; a new app on the same database (and the same
//! cloud) resumes the run and finishes the step with no duplicate NAT gateway.

use natpilot::{
    store::{RunStatus, Step},
    web::settings::WebSettings,
    wizard::input::{AssessInput, EipChoice, NewNat, ProvisionInput, StepInput},
};

use crate::harness::TestApp;

const VPC: &str = "vpc-tut0rial";

fn provision() -> StepInput {
    StepInput::Provision(ProvisionInput::Create(NewNat {
        name: "natpilot-egress".into(),
        bandwidth_mbps: 100,
        max_connections: 1_000_000,
        eips: EipChoice::New(1),
        zone: None,
    }))
}

#[tokio::test]
async fn shutdown_stops_accepting_leaves_the_step_applying_and_a_new_app_resumes_it_once() {
    let t = TestApp::start().await;
    let engine = t.app.state.engine.clone();
    let region = t.sim.handle().region();
    let run = engine
        // The portal's default account (issue 13: a run of an unconfigured account fails closed).
        .start_run("simulated", &region, VPC, "alice")
        .await
        .unwrap();
    assert_eq!(engine.wait(run).await.unwrap().status, RunStatus::Active);
    engine
        .confirm_step(run, StepInput::Assess(AssessInput::default()), "alice")
        .await
        .unwrap();
    engine
        .confirm_step(run, provision(), "alice")
        .await
        .unwrap();

    let TestApp {
        app, sim, database, ..
    } = t;
    let addr = app.addr;
    app.shutdown().await;
    assert!(
        tokio::net::TcpStream::connect(addr).await.is_err(),
        "the portal still accepts connections after shutdown"
    );
    let r = engine.run(run).await.unwrap();
    assert_eq!(
        (r.status, r.current_step),
        (RunStatus::Applying, Step::Provision)
    );
    assert!(sim.handle().nat_gateways(VPC).len() <= 1);

    // Next start: same database, same cloud.
    let app =
        TestApp::process_on(&database, &sim, WebSettings::default(), Default::default()).await;
    let r = app.state.engine.wait(run).await.unwrap();
    assert_eq!(
        (r.status, r.current_step),
        (RunStatus::Active, Step::Route),
        "{:?}",
        r.last_error
    );
    assert_eq!(sim.handle().nat_gateways(VPC).len(), 1, "one NAT gateway");
}
