//! Rehearsal runs whose twin is gone (issue 13 item 7): ended at start-up with the reason,
//! unless another live process drives them; runs of real accounts are never touched; and a
//! twin's label never reaches a real client, even the default one.

use std::sync::Arc;
use std::time::Duration;

use super::setup;
use crate::rehearsal::{LOST, TwinLabel};
use crate::sim::{SimConfig, spawn};
use crate::store::{self, RunId, RunStatus, Step, rehearsals::RehearsalOf, runs::NewRun};
use crate::tencent::Client;
use crate::wizard::cloud::{CloudConnector, LedgerSink};
use crate::wizard::engine::ctx::LedgerWriter;
use crate::wizard::poll::Poll;
use crate::wizard::tencent_cloud::TencentConnector;

async fn applying_run(t: &super::T, account: &str, vpc: &str, rehearsal: bool) -> RunId {
    let new = NewRun {
        account,
        region: "ap-guangzhou",
        vpc_id: vpc,
        started_by: "olga",
    };
    let run = store::runs::insert(&t.store, &new).await.unwrap().id;
    let moved = store::runs::transition(
        t.store.writer(),
        run,
        &[RunStatus::Active],
        RunStatus::Applying,
        Step::Provision,
        None,
    )
    .await
    .unwrap();
    assert!(moved);
    if rehearsal {
        let of = RehearsalOf {
            account: "prod".into(),
            region: "ap-guangzhou".into(),
            vpc_id: vpc.into(),
        };
        store::rehearsals::insert(t.store.writer(), run, &of, &[])
            .await
            .unwrap();
    }
    run
}

#[tokio::test]
async fn lost_rehearsals_end_with_the_reason_and_nothing_else_is_touched() {
    let t = setup(&[]).await;
    let lost = applying_run(&t, &TwinLabel::new("prod").to_string(), "vpc-a", true).await;
    let elsewhere = applying_run(&t, &TwinLabel::new("prod").to_string(), "vpc-b", true).await;
    store::lease::take(
        t.store.writer(),
        elsewhere,
        "natpilot-other",
        Duration::from_secs(600),
    )
    .await
    .unwrap()
    .unwrap();
    let real = applying_run(&t, "prod", "vpc-c", false).await;

    assert_eq!(t.engine.end_lost_rehearsals().await.unwrap(), 1);
    let status = async |run| t.engine.run(run).await.unwrap().status;
    assert_eq!(status(lost).await, RunStatus::Abandoned);
    assert_eq!(
        status(elsewhere).await,
        RunStatus::Applying,
        "driven elsewhere"
    );
    assert_eq!(status(real).await, RunStatus::Applying, "a real run");
    let h = store::rehearsals::get(t.store.readers(), lost)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(h.ended_reason.as_deref(), Some(LOST));
    let events = store::events::list(t.store.readers(), lost, 0, 100)
        .await
        .unwrap();
    assert!(
        events.iter().any(|e| e.message.contains(LOST)),
        "{events:?}"
    );
    // Once is enough: a second start finds nothing more to end.
    assert_eq!(t.engine.end_lost_rehearsals().await.unwrap(), 0);
}

#[tokio::test]
async fn a_twin_label_without_its_twin_never_falls_back_to_the_default_client() {
    let sim = spawn(SimConfig::for_tests()).await.unwrap();
    let h = sim.handle();
    let client = Client::for_endpoint(&sim.endpoint(), h.secret_id(), h.secret_key()).unwrap();
    let connector = TencentConnector::new(client, Poll::fixed(Duration::from_millis(1)));
    let t = setup(&[]).await;
    let run = applying_run(&t, "sim", "vpc-tut0rial", false).await;
    let scope = crate::wizard::cloud::CallScope {
        run,
        step: Step::Provision,
    };
    let ledger: Arc<dyn LedgerSink> =
        Arc::new(LedgerWriter::new(t.store.clone(), scope, "me".into()));
    let twin = TwinLabel::new("sim").to_string();
    let err = match connector.connect(&twin, &h.region(), ledger) {
        Ok(_) => panic!("a twin's run connected without its twin"),
        Err(e) => e,
    };
    assert_eq!(err.code, "natpilot.TwinLost");
    assert!(!err.retryable);
    assert_eq!(h.executed("DescribeVpcs"), 0);
}
