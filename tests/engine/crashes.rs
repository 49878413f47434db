//! Crash and resume on the simulator at every crash point of the route change and of both
//! kinds of IP retirement (the NAT gateway's creation is in `runs`): the engine stops dead,
//! a new engine on the same database resumes, the run completes, and the world — looked at
//! through the simulator — holds no duplicate NAT gateway, route or address.

use std::sync::{
    Arc,
    atomic::{AtomicBool, Ordering},
};

use natpilot::sim::ScenarioSource;
use natpilot::store::{RunId, RunStatus};
use natpilot::wizard::engine::{CrashHook, CrashPoint, Engine};
use natpilot::wizard::input::*;

use crate::harness::*;
use crate::retire::{public_ips, records_per_ip};

/// Crashes once, at `point` of the first change whose key starts with `prefix`.
fn crash_once(point: CrashPoint, prefix: &'static str, fired: Arc<AtomicBool>) -> CrashHook {
    Arc::new(move |p, key: &str| {
        p == point && key.starts_with(prefix) && !fired.swap(true, Ordering::SeqCst)
    })
}

/// Confirms every step; when a job stopped dead (still `applying`), restarts the engine on the
/// same database and resumes. Returns how many restarts it took.
async fn drive_through_crashes(env: &Env, first: Engine, run: RunId) -> usize {
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
            engine = env.restart(None);
            restarts += 1;
            assert_eq!(engine.resume().await.unwrap(), 1);
            let r = engine.wait(run).await.unwrap();
            assert!(
                matches!(r.status, RunStatus::Active | RunStatus::Completed),
                "resumed run is {:?}: {:?}",
                r.status,
                r.last_error
            );
        }
    }
    assert_eq!(engine.run(run).await.unwrap().status, RunStatus::Completed);
    restarts
}

/// Per route table, the routes for 0.0.0.0/0 (more than one would be a duplicate).
fn default_routes(env: &Env) -> Vec<(String, usize, bool)> {
    env.sim.handle().with_world(|w| {
        w.route_tables
            .values()
            .map(|t| {
                let defaults: Vec<_> = t
                    .routes
                    .iter()
                    .filter(|r| r.destination == "0.0.0.0/0")
                    .collect();
                let to_nat = defaults.iter().all(|r| r.gateway_type == "NAT");
                (t.id.clone(), defaults.len(), to_nat)
            })
            .collect()
    })
}

#[tokio::test]
async fn a_crash_at_any_point_of_a_route_change_or_a_retirement_resumes_without_duplicates() {
    // A clean run first: what the world looks like when nothing crashed.
    let clean = start(ScenarioSource::Tutorial).await;
    let run = start_run(&clean.engine).await;
    complete(&clean.engine, run, RouteInput::default()).await;
    let (clean_ips, clean_routes) = (public_ips(&clean), default_routes(&clean));

    for prefix in ["route:", "disassociate:", "transform:"] {
        for point in [
            CrashPoint::UndoWritten,
            CrashPoint::CallSent,
            CrashPoint::ResultRecorded,
        ] {
            let what = format!("crash at {point:?} of {prefix}");
            let env = start(ScenarioSource::Tutorial).await;
            let fired = Arc::new(AtomicBool::new(false));
            let hooked = env.restart(Some(crash_once(point, prefix, fired.clone())));
            let run = start_run(&hooked).await;
            let restarts = drive_through_crashes(&env, hooked, run).await;
            assert!(fired.load(Ordering::SeqCst), "{what}: the hook fired");
            assert_eq!(restarts, 1, "{what}: one crash, one resume");
            assert_eq!(env.sim.handle().nat_gateways(VPC).len(), 1, "{what}");
            assert_eq!(default_routes(&env), clean_routes, "{what}");
            assert!(
                records_per_ip(&env).values().all(|n| *n == 1),
                "{what}: no IP is held by two records"
            );
            // Same holders as after the clean run; NAT EIPs are new each time, so compare
            // only the instances' addresses.
            let instances_only =
                |ips: std::collections::BTreeMap<_, (Option<String>, Option<String>)>| {
                    ips.into_iter()
                        .filter(|(_, (_, holder))| {
                            !holder.as_deref().is_some_and(|h| h.starts_with("nat-"))
                        })
                        .map(|(ip, (eip, holder))| (ip, eip.is_some(), holder))
                        .collect::<Vec<_>>()
                };
            assert_eq!(
                instances_only(public_ips(&env)),
                instances_only(clean_ips.clone()),
                "{what}"
            );
        }
    }
}
