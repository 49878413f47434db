//! Fail closed (issue 10): irreversible actions decided from typed records that name exactly
//! what to release, records that cannot be misread, and reports built from what is stored.
//! Each test reproduces a defect that hostile testing found.

use std::collections::BTreeSet;

use natpilot::sim::ScenarioSource;
use natpilot::store::{self, ReportKind, RunId, RunStatus, Step, UndoState};
use natpilot::tencent::models::vpc;
use natpilot::wizard::engine::{CrashPoint, RollbackReport, UndoEntry};
use natpilot::wizard::input::*;
use natpilot::wizard::plan::Undo;

use crate::harness::*;

/// The EIPs bound to a gateway in the simulator, by id.
fn eips_of(env: &Env, nat_id: &str) -> BTreeSet<String> {
    env.sim.handle().with_world(|w| {
        w.addresses
            .values()
            .filter(|a| a.instance_id.as_deref() == Some(nat_id))
            .map(|a| a.id.clone())
            .collect()
    })
}

fn address_exists(env: &Env, id: &str) -> bool {
    env.sim
        .handle()
        .with_world(|w| w.addresses.contains_key(id))
}

async fn rollback_report(env: &Env, run: RunId) -> RollbackReport {
    let v = store::results::get_report(env.store.readers(), run, ReportKind::Rollback)
        .await
        .unwrap()
        .expect("a rollback report");
    serde_json::from_value(v).unwrap()
}

async fn nat_of(env: &Env, run: RunId) -> String {
    env.engine
        .nat_gateway(run)
        .await
        .unwrap()
        .expect("the run names its gateway")
        .to_string()
}

async fn set_column(env: &Env, sql: &'static str, value: &str, run: RunId) {
    natpilot::store::sql::query(sql)
        .bind(value)
        .bind(run.to_string())
        .execute(env.store.writer())
        .await
        .unwrap();
}

#[tokio::test]
async fn a_rollback_resumed_after_the_gateway_was_deleted_still_releases_the_eips_allocated_for_it()
{
    let env = start(ScenarioSource::Tutorial).await;
    let run = start_run(&env.engine).await;
    complete(&env.engine, run, RouteInput::default()).await;
    let nat = nat_of(&env, run).await;
    let allocated = eips_of(&env, &nat);
    assert_eq!(allocated.len(), 1, "step 2 asked for one new EIP");
    // The undo record names them, with their IPs, before any rollback looks at the gateway.
    let records = store::undo::list(env.store.readers(), run).await.unwrap();
    let named: Vec<String> = records
        .iter()
        .filter_map(|r| serde_json::from_value::<UndoEntry>(r.action.clone()).ok())
        .filter_map(|e| match e.undo {
            Undo::DeleteNatGateway { allocated_eips, .. } => Some(allocated_eips),
            _ => None,
        })
        .flatten()
        .map(|a| a.address_id)
        .collect();
    assert_eq!(named.into_iter().collect::<BTreeSet<_>>(), allocated);

    // An earlier rollback sent DeleteNatGateway and died before recording anything: when the
    // rollback runs, the gateway is already gone.
    let client = client_for(&env.sim);
    let req = vpc::DeleteNatGatewayRequest {
        nat_gateway_id: nat.clone(),
        ignore_operation_risk: None,
    };
    client
        .call::<vpc::DeleteNatGateway>(REGION, &req)
        .await
        .unwrap();
    wait_for("the gateway to be gone", || {
        env.sim.handle().nat_gateways(VPC).is_empty()
    })
    .await;

    env.engine.rollback(run, "alice", true).await.unwrap();
    let r = env.engine.wait(run).await.unwrap();
    assert_eq!(r.status, RunStatus::RolledBack, "{:?}", r.last_error);
    for id in &allocated {
        assert!(
            !address_exists(&env, id),
            "{id} is still allocated (and billed)"
        );
    }
    let report = rollback_report(&env, run).await;
    assert!(
        report.undone.iter().any(|m| m.contains("released EIP")),
        "{report:?}"
    );
}

#[tokio::test]
async fn rollback_never_releases_the_operators_own_eips_even_when_the_step_input_is_unreadable() {
    let env = start(ScenarioSource::Tutorial).await;
    let run = start_run(&env.engine).await;
    confirm(&env.engine, run, StepInput::Assess(AssessInput::default())).await;
    let own = StepInput::Provision(ProvisionInput::Create(NewNat {
        name: "natpilot-egress".into(),
        bandwidth_mbps: 100,
        max_connections: 1_000_000,
        eips: EipChoice::Existing(vec!["119.28.20.99".into()]),
        zone: None,
    }));
    assert_eq!(confirm(&env.engine, run, own).await, RunStatus::Active);
    // The stored step input is damaged; the release decision must not depend on it.
    let sql = "UPDATE run_steps SET input = ? WHERE run_id = ? AND step = 2";
    set_column(&env, sql, r#"{"damaged": true}"#, run).await;

    env.engine.rollback(run, "alice", true).await.unwrap();
    let r = env.engine.wait(run).await.unwrap();
    assert_eq!(r.status, RunStatus::RolledBack, "{:?}", r.last_error);
    assert!(
        address_exists(&env, "eip-spare001"),
        "the operator's own EIP was released"
    );
    assert!(env.sim.handle().nat_gateways(VPC).is_empty());
}

#[tokio::test]
async fn an_undo_record_that_does_not_decode_stops_the_rollback_before_anything_is_undone() {
    let env = start(ScenarioSource::Tutorial).await;
    let run = start_run(&env.engine).await;
    complete(&env.engine, run, RouteInput::default()).await;
    let nat = nat_of(&env, run).await;
    let sql = "UPDATE undo_records SET action = ? WHERE run_id = ? AND step = 3";
    set_column(
        &env,
        sql,
        r#"{"key": "route:x", "undo": {"kind": "bogus"}}"#,
        run,
    )
    .await;

    env.engine.rollback(run, "alice", true).await.unwrap();
    let r = env.engine.wait(run).await.unwrap();
    assert_eq!(r.status, RunStatus::Failed);
    let failure = r.last_error.expect("the failure is recorded");
    assert_eq!(failure.code, "natpilot.CorruptRecord");
    assert!(
        failure.message.contains("undo record"),
        "{}",
        failure.message
    );
    // Nothing was undone: the gateway, its EIP and the instances' unbinding are as they were.
    assert_eq!(env.sim.handle().nat_gateways(VPC).len(), 1);
    assert_eq!(eips_of(&env, &nat).len(), 1);
    let undone = store::undo::list(env.store.readers(), run)
        .await
        .unwrap()
        .iter()
        .filter(|u| u.state == UndoState::Undone)
        .count();
    assert_eq!(undone, 0);
}

#[tokio::test]
async fn after_a_failed_gateway_retry_deletes_it_and_creates_a_new_one() {
    let env = start(ScenarioSource::Tutorial).await;
    let run = start_run(&env.engine).await;
    confirm(&env.engine, run, StepInput::Assess(AssessInput::default())).await;
    env.sim.handle().set_nat_creation_fails(true);
    assert_eq!(
        confirm(&env.engine, run, provision()).await,
        RunStatus::Failed
    );
    let failed = env.engine.run(run).await.unwrap().last_error.unwrap();
    assert_eq!(failed.code, "NatGateway.PendFailure");
    assert!(
        failed.request_id.is_some(),
        "the RequestId of the describe that saw the failure is shown"
    );
    let failed_nat = nat_of(&env, run).await;

    env.sim.handle().set_nat_creation_fails(false);
    env.engine.retry(run, "alice").await.unwrap();
    let r = env.engine.wait(run).await.unwrap();
    assert_eq!(
        (r.status, r.current_step),
        (RunStatus::Active, Step::Route),
        "{:?}",
        r.last_error
    );
    let nats = env.sim.handle().nat_gateways(VPC);
    assert_eq!(
        nats.len(),
        1,
        "the failed gateway is gone, one new one exists"
    );
    assert_ne!(nats[0].id, failed_nat);
    assert_eq!(nat_of(&env, run).await, nats[0].id);
    // The rest of the run goes through the new gateway.
    assert_eq!(
        confirm(&env.engine, run, StepInput::Route(RouteInput::default())).await,
        RunStatus::Active
    );
}

#[tokio::test]
async fn a_rollback_resumed_after_a_crash_reports_what_was_undone_before_it() {
    let env = start(ScenarioSource::Tutorial).await;
    let run = start_run(&env.engine).await;
    complete(&env.engine, run, RouteInput::default()).await;
    // The first process undoes step 4's retirements and one route, then dies.
    let fired = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let hook: natpilot::wizard::engine::CrashHook = std::sync::Arc::new(move |p, key: &str| {
        p == CrashPoint::ResultRecorded
            && key.starts_with("undo:route:")
            && !fired.swap(true, std::sync::atomic::Ordering::SeqCst)
    });
    let first = env.restart(Some(hook));
    first.rollback(run, "alice", false).await.unwrap();
    assert_eq!(
        first.wait(run).await.unwrap().status,
        RunStatus::RollingBack
    );
    let second = env.restart(None);
    assert_eq!(second.resume().await.unwrap(), 1);
    let r = second.wait(run).await.unwrap();
    assert_eq!(r.status, RunStatus::RolledBack, "{:?}", r.last_error);
    let report = rollback_report(&env, run).await;
    assert!(
        report.undone.iter().any(|m| m.contains("bound EIP")),
        "the rebinds done before the crash are reported: {report:?}"
    );
    assert!(
        report
            .undone
            .iter()
            .any(|m| m.contains("removed 0.0.0.0/0"))
    );
    assert!(
        report
            .undone
            .iter()
            .any(|m| m.contains("deleted NAT gateway"))
    );
}

#[tokio::test]
async fn routes_name_natpilot_and_the_run_and_rollback_restores_the_old_description() {
    let env = start(ScenarioSource::Conflict).await;
    let run = start_run(&env.engine).await;
    confirm(&env.engine, run, StepInput::Assess(AssessInput::default())).await;
    confirm(&env.engine, run, provision()).await;
    let consent = RouteInput {
        replace_existing_default: true,
    };
    assert_eq!(
        confirm(&env.engine, run, StepInput::Route(consent)).await,
        RunStatus::Active
    );
    let description = |env: &Env| {
        env.sim.handle().with_world(|w| {
            w.route_tables["rtb-default0"]
                .routes
                .iter()
                .find(|r| r.destination == "0.0.0.0/0")
                .map(|r| r.description.clone())
                .unwrap_or_default()
        })
    };
    let now = description(&env);
    assert!(
        now.contains("natpilot") && now.contains(&run.to_string()),
        "the replaced route still reads {now:?}"
    );
    env.engine.rollback(run, "alice", false).await.unwrap();
    assert_eq!(
        env.engine.wait(run).await.unwrap().status,
        RunStatus::RolledBack
    );
    assert_eq!(description(&env), "all egress through the squid gateway");
}

#[tokio::test]
async fn the_final_report_names_converted_eips_and_rollback_marks_what_cannot_be_undone() {
    let env = start(ScenarioSource::Tutorial).await;
    let run = start_run(&env.engine).await;
    complete(&env.engine, run, RouteInput::default()).await;
    let report = store::results::get_report(env.store.readers(), run, ReportKind::Final)
        .await
        .unwrap()
        .unwrap();
    let removed = report["removed"].as_array().unwrap();
    assert!(!removed.is_empty());
    for r in removed {
        assert!(
            r["address_id"]
                .as_str()
                .is_some_and(|id| id.starts_with("eip-")),
            "{r}"
        );
    }
    env.engine.rollback(run, "alice", false).await.unwrap();
    env.engine.wait(run).await.unwrap();
    let records = store::undo::list(env.store.readers(), run).await.unwrap();
    let converted: Vec<_> = records
        .iter()
        .filter(|r| {
            serde_json::from_value::<UndoEntry>(r.action.clone())
                .is_ok_and(|e| matches!(e.undo, Undo::CannotUndo { .. }))
        })
        .collect();
    assert!(!converted.is_empty(), "the tutorial converts ordinary IPs");
    for r in converted {
        assert_eq!(r.state, UndoState::Irreversible, "{:?}", r.action);
    }
    assert!(!rollback_report(&env, run).await.cannot_undo.is_empty());
}

#[tokio::test]
async fn a_run_action_and_its_audit_entry_commit_together_or_not_at_all() {
    let env = start(ScenarioSource::Tutorial).await;
    let run = start_run(&env.engine).await;
    let audited = |env: &Env| {
        let store = env.store.clone();
        async move {
            let filter = store::audit::AuditFilter::default();
            store::audit::list(store.readers(), &filter, 100)
                .await
                .unwrap()
                .into_iter()
                .map(|e| (e.action, e.target))
                .collect::<Vec<_>>()
        }
    };
    assert!(
        audited(&env)
            .await
            .contains(&("run.start".into(), run.to_string()))
    );
    // The audit log refuses the entry: the action must not happen either.
    natpilot::store::test_store::refuse_inserts(&env.store, "audit_log", "audit log unavailable")
        .await
        .unwrap();
    assert!(env.engine.abandon(run, "alice").await.is_err());
    assert_eq!(
        env.engine.run(run).await.unwrap().status,
        RunStatus::Active,
        "the run was abandoned without an audit entry"
    );
    natpilot::store::test_store::allow_inserts(&env.store, "audit_log")
        .await
        .unwrap();
    env.engine.abandon(run, "alice").await.unwrap();
    assert!(
        audited(&env)
            .await
            .contains(&("run.abandon".into(), run.to_string()))
    );
}
