//! Rehearsal runs whose twin is gone (issue 13 item 7): ended at start-up with the reason,
//! unless another live process drives them; runs of real accounts are never touched; and a
//! twin's label never reaches a real client, even the default one.

use std::sync::Arc;
use std::time::Duration;

use super::setup;
use crate::rehearsal::{LOST, TwinLabel};
use crate::sim::{SimConfig, spawn};
use crate::store::rehearsals::{RehearsalOf, RehearsalPhase::Rehearsing};
use crate::store::{self, RunId, RunStatus, Step, runs::NewRun};
use crate::tencent::Client;
use crate::wizard::cloud::{CloudConnector, LedgerSink};
use crate::wizard::engine::ctx::LedgerWriter;
use crate::wizard::poll::Poll;
use crate::wizard::tencent_cloud::TencentConnector;

/// A rehearsal owned by a process that stopped renewing its claim a minute ago.
const GONE: Option<(&str, i64)> = Some(("natpilot-gone", -60));

/// A run at step 2; a rehearsal when `owner` names its twin's owner and how many seconds from
/// now its claim lasts.
async fn applying_run(t: &super::T, account: &str, vpc: &str, owner: Option<(&str, i64)>) -> RunId {
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
    if let Some((holder, secs)) = owner {
        let of = RehearsalOf {
            account: "prod".into(),
            region: "ap-guangzhou".into(),
            vpc_id: vpc.into(),
        };
        let owner = store::rehearsals::Owner {
            holder,
            until: chrono::Utc::now() + chrono::Duration::seconds(secs),
        };
        store::rehearsals::insert(t.store.writer(), run, &of, Rehearsing, &owner)
            .await
            .unwrap();
    }
    run
}

#[tokio::test]
async fn lost_rehearsals_end_with_the_reason_and_nothing_else_is_touched() {
    let t = setup(&[]).await;
    let lost = applying_run(&t, &TwinLabel::new("prod").to_string(), "vpc-a", GONE).await;
    let elsewhere = applying_run(&t, &TwinLabel::new("prod").to_string(), "vpc-b", GONE).await;
    store::lease::take(
        t.store.writer(),
        elsewhere,
        "natpilot-other",
        Duration::from_secs(600),
    )
    .await
    .unwrap()
    .unwrap();
    let real = applying_run(&t, "prod", "vpc-c", None).await;

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
async fn a_rehearsal_whose_owner_lives_is_not_ended_by_another_process_until_the_owner_is_gone() {
    let t = setup(&[]).await;
    // Another process's rehearsal, waiting for its operator: no lease, its owner renewing.
    let label = TwinLabel::new("prod").to_string();
    let waiting = applying_run(&t, &label, "vpc-w", Some(("natpilot-alive", 600))).await;
    let moved = store::runs::transition(
        t.store.writer(),
        waiting,
        &[RunStatus::Applying],
        RunStatus::Active,
        Step::Provision,
        None,
    )
    .await
    .unwrap();
    assert!(moved);
    // This process's own rehearsal is never ended by it, even with its claim run out.
    let mine_label = TwinLabel::new("prod").to_string();
    let mine = applying_run(&t, &mine_label, "vpc-m", GONE).await;
    crate::store::sql::query("UPDATE rehearsals SET owner = ? WHERE run_id = ?")
        .bind(t.engine.holder())
        .bind(mine.to_string())
        .execute(t.store.writer())
        .await
        .unwrap();

    assert_eq!(t.engine.end_lost_rehearsals().await.unwrap(), 0);
    let status = async |run| t.engine.run(run).await.unwrap().status;
    assert_eq!(status(waiting).await, RunStatus::Active, "its owner lives");
    assert_eq!(
        status(mine).await,
        RunStatus::Applying,
        "this process's own"
    );

    // The owner stops renewing (it died): the next check ends it, with the reason.
    let gone = store::rehearsals::Owner {
        holder: "natpilot-alive",
        until: chrono::Utc::now() - chrono::Duration::seconds(1),
    };
    store::rehearsals::renew_owner(t.store.writer(), &gone)
        .await
        .unwrap();
    assert_eq!(t.engine.end_lost_rehearsals().await.unwrap(), 1);
    assert_eq!(status(waiting).await, RunStatus::Abandoned);
    assert_eq!(status(mine).await, RunStatus::Applying);
}

#[tokio::test]
async fn a_twin_label_without_its_twin_never_falls_back_to_the_default_client() {
    let sim = spawn(SimConfig::for_tests()).await.unwrap();
    let h = sim.handle();
    let client = Client::for_endpoint(&sim.endpoint(), h.secret_id(), h.secret_key()).unwrap();
    let connector = TencentConnector::new(client, Poll::fixed(Duration::from_millis(1)));
    let t = setup(&[]).await;
    let run = applying_run(&t, "sim", "vpc-tut0rial", None).await;
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

#[tokio::test]
async fn the_copy_ledger_records_describe_calls_without_a_step_and_refuses_a_mutating_one() {
    let t = setup(&[]).await;
    let twin = TwinLabel::new("prod").to_string();
    let run = applying_run(&t, &twin, "vpc-a", Some(("me", 600))).await;
    let ledger = LedgerWriter::copy_of_real_vpc(t.store.clone(), run, "me".into());
    let params = serde_json::json!({});
    let call = |action, mutates| crate::wizard::cloud::LedgerCall {
        service: "vpc",
        action,
        region: "ap-guangzhou",
        attempt: 1,
        mutates,
        params: &params,
    };
    let refused = ledger
        .sent(call("CreateNatGateway", true))
        .await
        .unwrap_err();
    assert_eq!(refused.code, crate::wizard::engine::ctx::READ_ONLY);
    assert!(
        refused.reason.contains("describe calls only"),
        "{refused:?}"
    );
    ledger.sent(call("DescribeVpcs", false)).await.unwrap();
    let calls = store::ledger::list(t.store.readers(), run, 0, 10)
        .await
        .unwrap();
    let seen: Vec<_> = calls.iter().map(|c| (c.action.as_str(), c.step)).collect();
    assert_eq!(
        seen,
        [("DescribeVpcs", None)],
        "the refused call never left"
    );
}

#[tokio::test]
async fn a_rehearsal_copies_its_vpc_in_the_background_then_assesses_and_a_failed_copy_ends_it() {
    let t = setup(&["vpc-tut0rial"]).await;
    let sim = spawn(SimConfig::for_tests()).await.unwrap();
    let h = sim.handle();
    let real = Client::for_endpoint(&sim.endpoint(), h.secret_id(), h.secret_key()).unwrap();
    let twins = crate::rehearsal::Twins::default();
    let copy = |vpc: &str| crate::rehearsal::TwinCopy {
        label: TwinLabel::new("prod"),
        of: RehearsalOf {
            account: "prod".into(),
            region: h.region(),
            vpc_id: vpc.into(),
        },
        real: real.clone(),
        twins: twins.clone(),
        async_delay: Duration::from_millis(1),
    };
    let rehearsal = async |run| {
        store::rehearsals::get(t.store.readers(), run)
            .await
            .unwrap()
            .unwrap()
    };

    let good = copy("vpc-tut0rial");
    let label = good.label.to_string();
    let run = t.engine.start_rehearsal(good, "olga").await.unwrap();
    let r = t.engine.wait(run).await.unwrap();
    assert_eq!(
        (r.status, r.current_step),
        (RunStatus::Active, Step::Assess)
    );
    let copied = rehearsal(run).await;
    assert_eq!(copied.phase, store::rehearsals::RehearsalPhase::Rehearsing);
    assert_eq!(copied.copy, None);
    assert!(twins.get(&label).is_some(), "the twin is registered");
    let calls = store::ledger::list(t.store.readers(), run, 0, u32::MAX)
        .await
        .unwrap();
    let real_calls: Vec<_> = calls.iter().filter(|c| c.step.is_none()).collect();
    assert!(
        real_calls.iter().any(|c| c.action == "DescribeInstances"),
        "{calls:?}"
    );
    assert!(real_calls.iter().all(|c| c.action.starts_with("Describe")));
    let events = store::events::list(t.store.readers(), run, 0, 100)
        .await
        .unwrap();
    assert!(
        events
            .iter()
            .any(|e| e.message.starts_with("copy of the real VPC — instances: ")),
        "{events:?}"
    );

    let missing = copy("vpc-n0such");
    let label = missing.label.to_string();
    let run = t.engine.start_rehearsal(missing, "olga").await.unwrap();
    let r = t.engine.wait(run).await.unwrap();
    assert_eq!(r.status, RunStatus::Abandoned);
    let error = r.last_error.expect("the copy's error");
    assert_eq!(error.code, "ResourceNotFound");
    assert_eq!(error.phase, crate::wizard::engine::COPY_PHASE);
    assert!(error.request_id.is_some());
    let ended = rehearsal(run).await;
    assert_eq!(ended.phase, store::rehearsals::RehearsalPhase::Copying);
    assert!(
        ended
            .ended_reason
            .as_deref()
            .is_some_and(|w| w.contains("the copy of the real VPC failed")),
        "{ended:?}"
    );
    assert!(twins.get(&label).is_none());
    assert!(h.received_mutations().is_empty());
}
