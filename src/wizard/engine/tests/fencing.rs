//! Fencing (issue 10, defect 3): a mutating call of a run whose lease another process holds is
//! refused before it leaves — the simulator receives nothing — with a message naming the
//! holder; reads go through; with the lease, the same call is sent.

use std::sync::Arc;
use std::time::Duration;

use crate::sim::{SimConfig, spawn};
use crate::store::{self, Step, runs::NewRun};
use crate::tencent::Client;
use crate::wizard::cloud::{CallScope, CloudConnector};
use crate::wizard::engine::ctx::{LEASE_NOT_HELD, LedgerWriter};
use crate::wizard::poll::Poll;
use crate::wizard::tencent_cloud::TencentConnector;

#[tokio::test]
async fn a_mutating_call_whose_run_lease_another_process_holds_is_not_sent() {
    let sim = spawn(SimConfig::for_tests()).await.unwrap();
    let h = sim.handle();
    let client = Client::for_endpoint(&sim.endpoint(), h.secret_id(), h.secret_key()).unwrap();
    let connector = TencentConnector::new(client, Poll::fixed(Duration::from_millis(1)));
    let dir = tempfile::tempdir().unwrap();
    let store = crate::store::test_store::open(dir.path()).await.unwrap();
    let new = NewRun {
        account: "sim",
        region: &h.region(),
        vpc_id: "vpc-tut0rial",
        started_by: "alice",
    };
    let run = store::runs::insert(&store, &new).await.unwrap().id;
    let w = store.writer();
    let other = store::lease::take(w.clone(), run, "natpilot-other", Duration::from_secs(600))
        .await
        .unwrap()
        .unwrap();

    let scope = CallScope {
        run,
        step: Step::Provision,
    };
    let ledger = Arc::new(LedgerWriter::new(
        store.clone(),
        scope,
        "natpilot-me".into(),
    ));
    let cloud = connector.connect("sim", &h.region(), ledger).unwrap();
    let err = cloud.delete_nat(&"nat-0000beef".into()).await.unwrap_err();
    assert_eq!(err.code, LEASE_NOT_HELD);
    let expected = format!(
        "lease for run {run} is held by process natpilot-other until {}; not sending DeleteNatGateway",
        other.expires_at.to_rfc3339()
    );
    assert_eq!(err.message, expected);
    assert!(!err.retryable);
    assert!(
        h.received_mutations().is_empty(),
        "the refused call reached the cloud"
    );
    // Reads are not fenced.
    cloud.nat_gateways("vpc-tut0rial").await.unwrap();
    let actions = |calls: Vec<store::ledger::ApiCall>| -> Vec<String> {
        calls.into_iter().map(|c| c.action).collect()
    };
    let calls = store::ledger::list(store.readers(), run, 0, 100)
        .await
        .unwrap();
    assert_eq!(actions(calls), ["DescribeNatGateways"]);

    // Once this process holds the lease, the same call leaves (and gets its row).
    store::lease::expire(w.clone(), run, "natpilot-other")
        .await
        .unwrap();
    store::lease::take(w.clone(), run, "natpilot-me", Duration::from_secs(600))
        .await
        .unwrap()
        .unwrap();
    let _ = cloud.delete_nat(&"nat-0000beef".into()).await;
    let received: Vec<String> = h
        .received_mutations()
        .into_iter()
        .map(|r| r.action)
        .collect();
    assert_eq!(received, ["DeleteNatGateway"]);
    let calls = store::ledger::list(store.readers(), run, 0, 100)
        .await
        .unwrap();
    assert_eq!(actions(calls), ["DescribeNatGateways", "DeleteNatGateway"]);
}
