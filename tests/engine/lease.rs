//! One engine per run and the write-ahead ledger (issue 10, defects 3 and 4), on the
//! simulator: a job killed while its CreateNatGateway is in flight leaves the call's ledger
//! row; a second engine does not drive a run whose lease is live and takes it over once the
//! lease expires, without a second gateway; a job whose lease is taken over sends nothing more.
//! `Engine::halt` is the `kill -9`: jobs stop where they are, nothing is released or recorded.

use std::time::Duration;

use natpilot::sim::{FaultConfig, FaultKind, ScenarioSource};
use natpilot::store::ledger::{ApiCall, CallState};
use natpilot::store::{self, RunId, RunStatus, Step};
use natpilot::wizard::engine::Engine;
use natpilot::wizard::input::*;

use crate::common::{self, until};
use crate::harness::*;

/// CreateNatGateway runs in the sim at once but its answer takes `delay`: long enough to kill
/// the engine while the call is in flight.
fn slow_create_nat(env: &Env, delay: Duration) {
    env.sim.handle().set_faults(FaultConfig {
        per_action: [("CreateNatGateway".to_owned(), 1.0)].into(),
        kinds: vec![FaultKind::Slow],
        slow_delay: delay,
        ..FaultConfig::default()
    });
}

fn received(env: &Env, action: &str) -> usize {
    env.sim
        .handle()
        .received_mutations()
        .iter()
        .filter(|r| r.action == action)
        .count()
}

async fn ledger(env: &Env, run: RunId) -> Vec<ApiCall> {
    store::ledger::list(env.store.readers(), run, 0, 100_000)
        .await
        .unwrap()
}

async fn assert_every_received_call_is_ledgered(env: &Env, run: RunId) {
    let calls = ledger(env, run).await;
    common::assert_every_received_call_is_ledgered(&env.sim.handle(), &calls);
}

/// Another process takes the run's lease from `holder` (as after a long stall of it).
async fn steal_lease(env: &Env, run: RunId, holder: &Engine) {
    let w = env.store.writer();
    store::lease::expire(w.clone(), run, holder.holder())
        .await
        .unwrap();
    store::lease::take(w.clone(), run, "natpilot-other", Duration::from_secs(600))
        .await
        .unwrap()
        .unwrap();
}

async fn status(env: &Env, run: RunId) -> (RunStatus, Step) {
    let r = store::runs::get(env.store.readers(), run)
        .await
        .unwrap()
        .unwrap();
    (r.status, r.current_step)
}

/// Starts a run and confirms step 2 on `engine`, then waits until the (slow) CreateNatGateway
/// has reached the simulator.
async fn create_nat_in_flight(env: &Env, engine: &Engine) -> RunId {
    let run = start_run(engine).await;
    confirm(engine, run, StepInput::Assess(AssessInput::default())).await;
    slow_create_nat(env, Duration::from_secs(30));
    engine
        .confirm_step(run, provision(), "alice")
        .await
        .unwrap();
    until("CreateNatGateway to reach the cloud", || async {
        received(env, "CreateNatGateway") == 1
    })
    .await;
    run
}

#[tokio::test]
async fn a_kill_while_create_nat_gateway_is_in_flight_leaves_its_ledger_row_and_a_takeover_makes_no_second_gateway()
 {
    let env = start(ScenarioSource::Tutorial).await;
    let first = env.restart(None);
    let run = create_nat_in_flight(&env, &first).await;
    first.halt();

    let calls = ledger(&env, run).await;
    let create: Vec<&ApiCall> = calls
        .iter()
        .filter(|c| c.action == "CreateNatGateway")
        .collect();
    assert_eq!(create.len(), 1, "{calls:#?}");
    assert_eq!(create[0].state, CallState::Sent);
    assert_eq!(create[0].step, Some(Step::Provision));
    assert_eq!(create[0].params["VpcId"], VPC);
    assert_every_received_call_is_ledgered(&env, run).await;

    // A second engine: the dead one's lease is live for a few seconds, then it takes over.
    env.sim.handle().set_faults(FaultConfig::default());
    let second = env.restart(None);
    assert_eq!(second.resume().await.unwrap(), 0, "the lease is still live");
    second.watch_leases();
    until("the second engine to finish step 2", || async {
        status(&env, run).await == (RunStatus::Active, Step::Route)
    })
    .await;
    assert_eq!(env.sim.handle().nat_gateways(VPC).len(), 1);
    assert_eq!(received(&env, "CreateNatGateway"), 1);

    // The rest of the run, then the whole record against what the cloud received.
    assert_eq!(
        confirm(&second, run, StepInput::Route(RouteInput::default())).await,
        RunStatus::Active
    );
    assert_eq!(
        confirm(&second, run, StepInput::Verify(VerifyInput::default())).await,
        RunStatus::Completed
    );
    assert_every_received_call_is_ledgered(&env, run).await;
    let calls = ledger(&env, run).await;
    let sent: Vec<&str> = calls
        .iter()
        .filter(|c| c.state == CallState::Sent)
        .map(|c| c.action.as_str())
        .collect();
    assert_eq!(
        sent,
        ["CreateNatGateway"],
        "only the killed call has no answer"
    );
}

#[tokio::test]
async fn a_job_whose_lease_is_taken_over_stops_and_sends_nothing_more() {
    let env = start(ScenarioSource::Tutorial).await;
    let first = env.restart(None);
    let run = start_run(&first).await;
    confirm(&first, run, StepInput::Assess(AssessInput::default())).await;
    // The job's reconcile-first DescribeNatGateways answers late; meanwhile another process
    // takes the run's lease (as after a long stall of this one).
    env.sim.handle().set_faults(FaultConfig {
        per_action: [("DescribeNatGateways".to_owned(), 1.0)].into(),
        kinds: vec![FaultKind::Slow],
        slow_delay: Duration::from_secs(2),
        ..FaultConfig::default()
    });
    first.confirm_step(run, provision(), "alice").await.unwrap();
    // (The confirm's own plan made a DescribeNatGateways too, answered before it returned.)
    until("the job's DescribeNatGateways to be in flight", || async {
        let in_flight = ledger(&env, run)
            .await
            .iter()
            .any(|c| c.action == "DescribeNatGateways" && c.state == CallState::Sent);
        let lease = store::lease::get(env.store.readers(), run).await.unwrap();
        in_flight && lease.is_some_and(|l| l.holder == first.holder())
    })
    .await;
    steal_lease(&env, run, &first).await;

    let r = first.wait(run).await.unwrap();
    assert_eq!(
        (r.status, r.last_error),
        (RunStatus::Applying, None),
        "the job that lost its lease records nothing"
    );
    assert_eq!(received(&env, "CreateNatGateway"), 0);
    assert!(env.sim.handle().nat_gateways(VPC).is_empty());
    assert!(
        !ledger(&env, run)
            .await
            .iter()
            .any(|c| c.action == "CreateNatGateway")
    );
    // Nor does a fresh engine drive it while the other process holds the lease.
    let second = env.restart(None);
    assert_eq!(second.resume().await.unwrap(), 0);
    assert_eq!(
        second
            .driver(run)
            .await
            .unwrap()
            .map(|d| d.holder)
            .as_deref(),
        Some("natpilot-other")
    );
}

/// What a killed engine was doing.
enum Doing {
    Confirm(StepInput),
    Rollback,
}

/// Starts `doing` on `engine` with `action` answering late, kills the engine as soon as one
/// `action` reached the cloud, and returns a new engine that took the run over (after the dead
/// one's lease expired) and finished that job.
async fn killed_while_in_flight(
    env: &Env,
    engine: &Engine,
    run: RunId,
    doing: Doing,
    action: &str,
) -> Engine {
    env.sim.handle().set_faults(FaultConfig {
        per_action: [(action.to_owned(), 1.0)].into(),
        kinds: vec![FaultKind::Slow],
        slow_delay: Duration::from_secs(30),
        ..FaultConfig::default()
    });
    let before = received(env, action);
    match doing {
        Doing::Confirm(input) => engine.confirm_step(run, input, "alice").await.map(|_| ()),
        Doing::Rollback => engine.rollback(run, "alice", false).await.map(|_| ()),
    }
    .unwrap();
    until(&format!("{action} to reach the cloud"), || async {
        received(env, action) > before
    })
    .await;
    engine.halt();
    env.sim.handle().set_faults(FaultConfig::default());
    let next = env.restart(None);
    next.watch_leases();
    until(
        &format!("the take-over after a kill during {action}"),
        || async {
            !matches!(
                status(env, run).await.0,
                RunStatus::Applying | RunStatus::RollingBack
            )
        },
    )
    .await;
    next
}

#[tokio::test]
async fn a_kill_with_any_kind_of_change_in_flight_leaves_its_ledger_row_and_the_takeover_duplicates_nothing()
 {
    let route = || StepInput::Route(RouteInput::default());
    let verify = || StepInput::Verify(VerifyInput::default());
    for (at, action) in [
        (2, "CreateRoutes"),
        (3, "TransformAddress"),
        (3, "DisassociateAddress"),
        (4, "AssociateAddress"),
        (4, "DeleteNatGateway"),
    ] {
        let env = start(ScenarioSource::Tutorial).await;
        let ips_before = crate::retire::records_per_ip(&env);
        let mut engine = env.restart(None);
        let run = start_run(&engine).await;
        confirm(&engine, run, StepInput::Assess(AssessInput::default())).await;
        confirm(&engine, run, provision()).await;
        let steps = [
            Doing::Confirm(route()),
            Doing::Confirm(verify()),
            Doing::Rollback,
        ];
        for (i, doing) in steps.into_iter().enumerate() {
            if i + 2 == at {
                engine = killed_while_in_flight(&env, &engine, run, doing, action).await;
                continue;
            }
            match doing {
                Doing::Confirm(input) => {
                    confirm(&engine, run, input).await;
                }
                Doing::Rollback => {
                    engine.rollback(run, "alice", false).await.unwrap();
                    engine.wait(run).await.unwrap();
                }
            }
        }
        let r = engine.run(run).await.unwrap();
        assert_eq!(
            r.status,
            RunStatus::RolledBack,
            "kill during {action}: {:?}",
            r.last_error
        );
        assert!(
            env.sim.handle().nat_gateways(VPC).is_empty(),
            "kill during {action}: the rollback deleted the one gateway"
        );
        let per_ip = crate::retire::records_per_ip(&env);
        assert!(
            per_ip.values().all(|n| *n == 1),
            "kill during {action}: {per_ip:?}"
        );
        assert!(
            ips_before.keys().all(|ip| per_ip.contains_key(ip)),
            "kill during {action}: an IP was lost"
        );
        assert_every_received_call_is_ledgered(&env, run).await;
        let calls = ledger(&env, run).await;
        assert!(
            calls
                .iter()
                .any(|c| c.action == action && c.state == CallState::Sent),
            "kill during {action}: its row is left sent"
        );
    }
}

#[tokio::test]
async fn a_rollback_that_loses_its_lease_leaves_its_undo_records_for_the_new_holder() {
    let env = start(ScenarioSource::Tutorial).await;
    // A heartbeat far away: the loss is found by the fence on the next mutating call.
    let first = env.restart_with_lease(Duration::from_secs(600));
    let run = start_run(&first).await;
    complete(&first, run, RouteInput::default()).await;
    // Each rebind looks the EIP up first; those looks answer late, and meanwhile another
    // process takes the run's lease.
    env.sim.handle().set_faults(FaultConfig {
        per_action: [("DescribeAddresses".to_owned(), 1.0)].into(),
        kinds: vec![FaultKind::Slow],
        slow_delay: Duration::from_millis(500),
        ..FaultConfig::default()
    });
    first.rollback(run, "alice", false).await.unwrap();
    until("a rebind's DescribeAddresses to be in flight", || async {
        ledger(&env, run)
            .await
            .iter()
            .any(|c| c.action == "DescribeAddresses" && c.state == CallState::Sent)
    })
    .await;
    steal_lease(&env, run, &first).await;
    let r = first.wait(run).await.unwrap();
    assert_eq!(r.status, RunStatus::RollingBack, "{:?}", r.last_error);
    // A call refused for want of the lease did not fail: the new holder undoes it.
    let failed: Vec<_> = store::undo::list(env.store.readers(), run)
        .await
        .unwrap()
        .into_iter()
        .filter(|u| u.state == store::UndoState::Failed)
        .collect();
    assert!(failed.is_empty(), "{failed:?}");
    assert_eq!(received(&env, "AssociateAddress"), 0);
}
