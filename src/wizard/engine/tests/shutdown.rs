//! Graceful shutdown: a job stops at its next persisted point (never between a call and its
//! record), the run stays `applying`, and the next engine on the same database resumes it
//! with no duplicate.

use std::sync::{Mutex, mpsc};

use super::*;
use crate::store::{self, StepState, UndoState};
use crate::wizard::engine::{CrashPoint, SHUTDOWN_BOUND};

/// A hook that, the first time the job has sent a `route:` call, tells the test and holds
/// the job there until the test has begun the shutdown: the shutdown then arrives exactly
/// between a call and its record, the one place a job must not stop.
fn pause_after_first_route_call() -> (CrashHook, mpsc::Receiver<()>, mpsc::Sender<()>) {
    let (reached_tx, reached_rx) = mpsc::channel();
    let (go_tx, go_rx) = mpsc::channel::<()>();
    let once = Mutex::new(Some((reached_tx, go_rx)));
    let hook: CrashHook = Arc::new(move |point, key: &str| {
        if point == CrashPoint::CallSent && key.starts_with("route:") {
            let taken = once.lock().unwrap().take();
            if let Some((reached, go)) = taken {
                reached.send(()).unwrap();
                go.recv().unwrap();
            }
        }
        false
    });
    (hook, reached_rx, go_tx)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_stops_a_job_at_its_next_recorded_change_and_a_restart_resumes_it_once() {
    let t = setup(&["vpc-a"]).await;
    let (hook, reached, go) = pause_after_first_route_call();
    let engine = t.restart(Some(hook));
    let run = start(&engine, "vpc-a").await;
    confirm(&engine, run, StepInput::Assess(AssessInput::default())).await;
    confirm(&engine, run, provision()).await;

    engine
        .confirm_step(run, StepInput::Route(RouteInput::default()), "alice")
        .await
        .unwrap();
    tokio::task::spawn_blocking(move || reached.recv().unwrap())
        .await
        .unwrap();
    engine.begin_shutdown();
    go.send(()).unwrap();
    assert_eq!(
        engine.shutdown(SHUTDOWN_BOUND).await,
        0,
        "every job stopped"
    );

    // Stopped after recording the route it had created, before starting the next one.
    let r = engine.run(run).await.unwrap();
    assert_eq!(
        (r.status, r.current_step),
        (RunStatus::Applying, Step::Route)
    );
    assert_eq!(t.fake.calls("create_route"), 1);
    let undo: Vec<_> = store::undo::list(t.store.readers(), run)
        .await
        .unwrap()
        .into_iter()
        .filter(|u| u.step == Step::Route)
        .collect();
    assert_eq!(undo.len(), 1, "{undo:?}");
    assert_eq!(undo[0].state, UndoState::Done, "{undo:?}");
    let step = store::steps::get(t.store.readers(), run, Step::Route)
        .await
        .unwrap()
        .unwrap();
    assert_ne!(step.state, StepState::Failed);
    let events = store::events::list(t.store.readers(), run, 0, 1000)
        .await
        .unwrap();
    assert!(
        events.iter().any(|e| e.message.contains("shutting down")),
        "the timeline says why the run paused"
    );
    // A job asked for during shutdown is left for the next start.
    assert!(engine.is_shutting_down());

    let next = t.restart(None);
    assert_eq!(next.resume().await.unwrap(), 1);
    assert_eq!(next.wait(run).await.unwrap().status, RunStatus::Active);
    assert_eq!(
        confirm(&next, run, StepInput::Verify(VerifyInput::default())).await,
        RunStatus::Completed
    );
    assert_eq!(t.fake.calls("create_nat"), 1);
    assert_eq!(t.fake.calls("create_route"), 2, "each route created once");
    let world = t.fake.world(|w| w.vpcs["vpc-a"].clone());
    for table in &world.route_tables {
        assert_eq!(table.routes.len(), 1, "one default route in {}", table.id);
    }
}

#[tokio::test]
async fn a_job_confirmed_during_shutdown_is_not_started_and_resumes_at_the_next_start() {
    let t = setup(&["vpc-a"]).await;
    let run = start(&t.engine, "vpc-a").await;
    confirm(&t.engine, run, StepInput::Assess(AssessInput::default())).await;
    t.engine.begin_shutdown();
    t.engine
        .confirm_step(run, provision(), "alice")
        .await
        .unwrap();
    let r = t.engine.wait(run).await.unwrap();
    assert_eq!(
        (r.status, r.current_step),
        (RunStatus::Applying, Step::Provision)
    );
    assert_eq!(t.fake.calls("create_nat"), 0);

    let next = t.restart(None);
    assert_eq!(next.resume().await.unwrap(), 1);
    let r = next.wait(run).await.unwrap();
    assert_eq!((r.status, r.current_step), (RunStatus::Active, Step::Route));
    assert_eq!(t.fake.calls("create_nat"), 1);
}

/// The same for a rollback: it stops after an undone change is recorded, stays
/// `rolling_back`, and the next engine finishes it without undoing anything twice.
#[tokio::test]
async fn shutdown_during_rollback_stops_at_a_recorded_undo_and_a_restart_finishes_it_once() {
    let t = setup(&["vpc-a"]).await;
    let before = t.fake.world(|w| w.vpcs["vpc-a"].route_tables.clone());
    let slot: Arc<std::sync::OnceLock<Engine>> = Arc::default();
    let seen = slot.clone();
    let hook: CrashHook = Arc::new(move |point, key: &str| {
        if point == CrashPoint::ResultRecorded && key.starts_with("undo:") {
            seen.get().unwrap().begin_shutdown();
        }
        false
    });
    let engine = t.restart(Some(hook));
    assert!(slot.set(engine.clone()).is_ok());
    let run = start(&engine, "vpc-a").await;
    complete(&engine, run).await;

    engine.rollback(run, "alice", false).await.unwrap();
    assert_eq!(
        engine.wait(run).await.unwrap().status,
        RunStatus::RollingBack
    );
    let undone = store::undo::list(t.store.readers(), run)
        .await
        .unwrap()
        .iter()
        .filter(|u| u.state == UndoState::Undone)
        .count();
    assert_eq!(undone, 1, "stopped after the first recorded undo");

    let next = t.restart(None);
    assert_eq!(next.resume().await.unwrap(), 1);
    assert_eq!(next.wait(run).await.unwrap().status, RunStatus::RolledBack);
    assert_eq!(t.fake.calls("delete_nat"), 1);
    assert_eq!(t.fake.calls("associate_address"), 1);
    assert_eq!(
        t.fake.world(|w| w.vpcs["vpc-a"].route_tables.clone()),
        before
    );
}
