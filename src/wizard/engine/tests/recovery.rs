//! Crashes at every point around every kind of mutating call, failures, retry.

use std::sync::atomic::{AtomicBool, Ordering};

use super::*;
use crate::store::{self, EventLevel, StepState};
use crate::wizard::cloud::CloudError;
use crate::wizard::engine::CrashPoint;

/// A hook that crashes once, at `point` before/after the first change whose key starts with `prefix`.
fn crash_once(point: CrashPoint, prefix: &'static str) -> CrashHook {
    let fired = Arc::new(AtomicBool::new(false));
    Arc::new(move |p, key: &str| {
        p == point && key.starts_with(prefix) && !fired.swap(true, Ordering::SeqCst)
    })
}

/// Drives a run through every step; when a job stops dead (status still `applying`), starts a
/// fresh engine on the same database and cloud, resumes, and carries on with it.
async fn drive_through_crashes(t: &T, first: Engine, run: RunId, rollback_at_end: bool) -> usize {
    let mut engine = first;
    let mut restarts = 0;
    let inputs = [
        StepInput::Assess(AssessInput::default()),
        provision(),
        StepInput::Route(RouteInput::default()),
        StepInput::Verify(VerifyInput::default()),
    ];
    for input in inputs {
        engine.confirm_step(run, input, "alice").await.unwrap();
        if engine.wait(run).await.unwrap().status == RunStatus::Applying {
            engine = t.restart(None);
            restarts += 1;
            assert_eq!(engine.resume().await.unwrap(), 1);
            let r = engine.wait(run).await.unwrap();
            assert!(
                matches!(r.status, RunStatus::Active | RunStatus::Completed),
                "resumed run is {:?}",
                r.status
            );
        }
    }
    assert_eq!(engine.run(run).await.unwrap().status, RunStatus::Completed);
    if rollback_at_end {
        engine.rollback(run, "alice", false).await.unwrap();
        if engine.wait(run).await.unwrap().status == RunStatus::RollingBack {
            engine = t.restart(None);
            restarts += 1;
            engine.resume().await.unwrap();
        }
        assert_eq!(
            engine.wait(run).await.unwrap().status,
            RunStatus::RolledBack
        );
    }
    restarts
}

#[tokio::test]
async fn a_crash_at_any_point_of_any_change_resumes_without_duplicating_anything() {
    let points = [
        CrashPoint::UndoWritten,
        CrashPoint::CallSent,
        CrashPoint::ResultRecorded,
    ];
    for prefix in ["create_nat", "route:", "transform:", "disassociate:"] {
        for point in points {
            let t = setup(&["vpc-a"]).await;
            let hooked = t.restart(Some(crash_once(point, prefix)));
            let run = start(&hooked, "vpc-a").await;
            let restarts = drive_through_crashes(&t, hooked, run, false).await;
            let what = format!("crash at {point:?} on {prefix}");
            assert_eq!(restarts, 1, "{what}: the engine crashed once and resumed");
            assert_eq!(t.fake.calls("create_nat"), 1, "{what}");
            assert_eq!(t.fake.calls("create_route"), 2, "{what}");
            assert_eq!(t.fake.calls("transform_address"), 1, "{what}");
            assert_eq!(t.fake.calls("disassociate_address"), 1, "{what}");
            let world = t.fake.world(|w| w.vpcs["vpc-a"].clone());
            assert_eq!(world.nat_gateways.len(), 1, "{what}");
            for table in &world.route_tables {
                assert_eq!(
                    table.routes.len(),
                    1,
                    "{what}: one default route in {}",
                    table.id
                );
            }
        }
    }
}

#[tokio::test]
async fn a_crash_during_rollback_resumes_and_undoes_each_change_once() {
    for prefix in ["undo:create_nat", "undo:route:", "undo:disassociate:"] {
        let t = setup(&["vpc-a"]).await;
        let before = t.fake.world(|w| w.vpcs["vpc-a"].route_tables.clone());
        let hooked = t.restart(Some(crash_once(CrashPoint::CallSent, prefix)));
        let run = start(&hooked, "vpc-a").await;
        assert_eq!(
            drive_through_crashes(&t, hooked, run, true).await,
            1,
            "{prefix}"
        );
        assert_eq!(t.fake.calls("delete_nat"), 1, "{prefix}");
        assert_eq!(t.fake.calls("associate_address"), 1, "{prefix}");
        assert_eq!(
            t.fake.world(|w| w.vpcs["vpc-a"].route_tables.clone()),
            before,
            "{prefix}"
        );
    }
}

#[tokio::test]
async fn a_permanent_error_fails_the_step_with_code_and_request_id_and_retry_works_once_fixed() {
    let t = setup(&["vpc-a"]).await;
    let run = start(&t.engine, "vpc-a").await;
    confirm(&t.engine, run, StepInput::Assess(AssessInput::default())).await;
    let error = CloudError {
        action: "CreateNatGateway".into(),
        code: "LimitExceeded.NatGatewayPerVpcLimitExceeded".into(),
        message: "too many NAT gateways".into(),
        request_id: Some("req-42".into()),
        retryable: false,
    };
    t.fake.world(|w| w.fail_next.insert("create_nat", error));
    assert_eq!(
        confirm(&t.engine, run, provision()).await,
        RunStatus::Failed
    );

    let r = t.engine.run(run).await.unwrap();
    let failure = r.last_error.unwrap();
    assert_eq!(
        (failure.code.as_str(), failure.request_id.as_deref()),
        (
            "LimitExceeded.NatGatewayPerVpcLimitExceeded",
            Some("req-42")
        )
    );
    let step = store::steps::get(t.store.readers(), run, Step::Provision)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(step.state, StepState::Failed);
    let events = store::events::list(t.store.readers(), run, 0, 100)
        .await
        .unwrap();
    let last = events.last().unwrap();
    assert_eq!(last.level, EventLevel::Error);
    assert!(last.message.contains("req-42") && last.message.contains("retry"));
    let ledger = store::ledger::list(t.store.readers(), run, 0, 100)
        .await
        .unwrap();
    assert!(ledger.iter().any(|c| c.error_code.as_deref() == Some("LimitExceeded.NatGatewayPerVpcLimitExceeded")));

    t.engine.retry(run, "alice").await.unwrap();
    let r = t.engine.wait(run).await.unwrap();
    assert_eq!((r.status, r.current_step), (RunStatus::Active, Step::Route));
    assert_eq!(t.fake.world(|w| w.vpcs["vpc-a"].nat_gateways.len()), 1);
}

#[tokio::test]
async fn a_failed_run_can_be_rolled_back_or_abandoned_but_not_confirmed() {
    let t = setup(&["vpc-a"]).await;
    let run = start(&t.engine, "vpc-a").await;
    confirm(&t.engine, run, StepInput::Assess(AssessInput::default())).await;
    confirm(&t.engine, run, provision()).await;
    let error = CloudError::state(
        "CreateRoutes",
        "UnsupportedOperation.EcmpWithUserRoute",
        "ECMP",
    );
    t.fake.world(|w| w.fail_next.insert("create_route", error));
    assert_eq!(
        confirm(&t.engine, run, StepInput::Route(RouteInput::default())).await,
        RunStatus::Failed
    );
    let again = t
        .engine
        .confirm_step(run, StepInput::Route(RouteInput::default()), "alice")
        .await;
    assert!(again.is_err());
    t.engine.rollback(run, "alice", false).await.unwrap();
    assert_eq!(
        t.engine.wait(run).await.unwrap().status,
        RunStatus::RolledBack
    );
    assert!(t.fake.world(|w| w.vpcs["vpc-a"].nat_gateways.is_empty()));
    assert!(t.fake.world(|w| {
        w.vpcs["vpc-a"]
            .route_tables
            .iter()
            .all(|t| t.routes.is_empty())
    }));
}
