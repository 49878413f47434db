//! Issue 12, a second NAT gateway: a crash anywhere around the second gateway's create, or
//! inside a move onto it, resumes without a duplicate gateway, binding or rule, and the run
//! ends with every kept instance leaving through its old IP.

use std::sync::{
    Arc,
    atomic::{AtomicBool, Ordering},
};

use natpilot::sim::{ScenarioSource, scenario::many_kept};
use natpilot::store::RunStatus;
use natpilot::wizard::engine::{CrashHook, CrashPoint};
use natpilot::wizard::input::*;

use crate::harness::*;

fn crash_once(point: CrashPoint, prefix: &'static str, fired: Arc<AtomicBool>) -> CrashHook {
    Arc::new(move |p, key: &str| {
        p == point && key.starts_with(prefix) && !fired.swap(true, Ordering::SeqCst)
    })
}

#[tokio::test]
async fn a_crash_around_the_second_gateway_resumes_without_a_duplicate() {
    for prefix in ["create_nat@2", "nat_eip:119.28.41.", "snat:ins-keep1"] {
        for point in [
            CrashPoint::UndoWritten,
            CrashPoint::CallSent,
            CrashPoint::ResultRecorded,
        ] {
            let what = format!("crash at {point:?} of {prefix}");
            let env = start(ScenarioSource::Inline(Box::new(many_kept(&[6, 6])))).await;
            let fired = Arc::new(AtomicBool::new(false));
            let mut engine = env.restart(Some(crash_once(point, prefix, fired.clone())));
            let run = start_run(&engine).await;
            let inputs = [
                StepInput::Assess(AssessInput::default()),
                provision(),
                StepInput::Route(RouteInput::default()),
                StepInput::Verify(VerifyInput::default()),
            ];
            let mut restarts = 0;
            for input in inputs {
                engine.confirm_step(run, input, "alice").await.unwrap();
                if engine.wait(run).await.unwrap().status == RunStatus::Applying {
                    engine = env.restart(None);
                    restarts += 1;
                    assert_eq!(engine.resume().await.unwrap(), 1, "{what}");
                    let r = engine.wait(run).await.unwrap();
                    assert_eq!(r.status, RunStatus::Active, "{what}: {:?}", r.last_error);
                }
            }
            assert!(fired.load(Ordering::SeqCst), "{what}: the hook fired");
            assert_eq!(restarts, 1, "{what}");
            let r = env.engine.run(run).await.unwrap();
            assert_eq!(r.status, RunStatus::Completed, "{what}: {:?}", r.last_error);
            assert_eq!(env.sim.handle().nat_gateways(VPC).len(), 2, "{what}");
            let (rules, bound) = env.sim.handle().with_world(|w| {
                let rules: Vec<String> = w
                    .snat_rules
                    .values()
                    .map(|r| r.resource_id.clone())
                    .collect();
                let nats: Vec<String> = w.nat_gateways.keys().cloned().collect();
                let bound = w
                    .addresses
                    .values()
                    .filter(|a| a.instance_id.as_ref().is_some_and(|i| nats.contains(i)))
                    .count();
                (rules, bound)
            });
            let mut unique = rules.clone();
            unique.sort();
            unique.dedup();
            assert_eq!(
                unique.len(),
                rules.len(),
                "{what}: no duplicate rule: {rules:?}"
            );
            assert_eq!(
                bound, 14,
                "{what}: 12 kept EIPs and one own EIP per gateway"
            );
            for t in 0..2 {
                for k in 1..=6 {
                    let id = format!("ins-keep{t}{k:02}");
                    let old = format!("119.28.{}.{}", 40 + t, 10 + k);
                    assert_eq!(
                        env.sim.handle().egress_ip(&id).as_deref(),
                        Some(old.as_str()),
                        "{what}: {id}"
                    );
                }
            }
        }
    }
}
