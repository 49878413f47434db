//! Whole runs on the simulator's tutorial and conflict scenarios.

use std::collections::BTreeMap;
use std::sync::{
    Arc,
    atomic::{AtomicBool, Ordering},
};

use natpilot::sim::{FaultConfig, FaultKind, ScenarioSource};
use natpilot::store::{self, RunStatus, Step};
use natpilot::wizard::engine::{CrashPoint, EngineError};
use natpilot::wizard::input::*;

use crate::harness::*;

/// Instance id → the public IP bound to it (ordinary or EIP), from the simulator's world.
fn public_ips(env: &Env) -> BTreeMap<String, Option<String>> {
    env.sim.handle().with_world(|w| {
        w.instances()
            .iter()
            .map(|i| {
                let eip = w
                    .addresses
                    .values()
                    .find(|a| a.instance_id.as_deref() == Some(i.id.as_str()));
                (
                    i.id.clone(),
                    eip.map(|a| a.ip.clone()).or_else(|| i.public_ip.clone()),
                )
            })
            .collect()
    })
}

fn nat_ips(env: &Env, nat_id: &str) -> Vec<String> {
    env.sim.handle().with_world(|w| {
        w.addresses
            .values()
            .filter(|a| a.instance_id.as_deref() == Some(nat_id))
            .map(|a| a.ip.clone())
            .collect()
    })
}

#[tokio::test]
async fn the_tutorial_run_ends_with_every_routed_instance_leaving_through_the_tagged_nat() {
    let env = start(ScenarioSource::Tutorial).await;
    let before = public_ips(&env);
    let run = start_run(&env.engine).await;
    complete(&env.engine, run, RouteInput::default()).await;

    let nats = env.sim.handle().nat_gateways(VPC);
    assert_eq!(nats.len(), 1);
    let nat = &nats[0];
    assert!(
        nat.tags
            .iter()
            .any(|t| t.key == "natpilot:run" && t.value == run.tag_value())
    );
    let eips = nat_ips(&env, &nat.id);
    assert!(!eips.is_empty());
    let after = public_ips(&env);
    assert_eq!(
        after["ins-fr0ntend"].as_deref(),
        Some("139.199.10.10"),
        "the DNS-protected frontend keeps its EIP"
    );
    let untestable = env.sim.handle().with_world(|w| {
        w.instances()
            .iter()
            .filter(|i| i.state != "RUNNING" || format!("{:?}", i.agent) != "Online")
            .map(|i| i.id.clone())
            .collect::<Vec<_>>()
    });
    let retired = before
        .iter()
        .filter(|(id, ip)| ip.is_some() && after[*id].is_none())
        .count();
    assert!(retired >= 2, "public IPs retired: {retired}");
    for (id, ip) in &before {
        if id == "ins-fr0ntend" || ip.is_none() {
            continue;
        }
        if untestable.contains(id) {
            assert_eq!(
                &after[id], ip,
                "{id} could not be tested, so it keeps its IP"
            );
        } else {
            assert_eq!(
                after[id], None,
                "{id} passed and is not protected: its public IP is retired"
            );
        }
    }
    let running: Vec<String> = env.sim.handle().with_world(|w| {
        w.instances()
            .iter()
            .filter(|i| i.state == "RUNNING")
            .map(|i| i.id.clone())
            .collect()
    });
    for id in running {
        let egress = env.sim.handle().egress_ip(&id);
        assert!(
            egress.as_ref().is_some_and(|ip| eips.contains(ip)),
            "{id} leaves through {egress:?}"
        );
    }
    let ledger = store::ledger::list(env.store.readers(), run, 0, 10_000)
        .await
        .unwrap();
    assert!(
        ledger
            .iter()
            .any(|c| c.action == "CreateNatGateway" && c.request_id.is_some())
    );
    assert!(!ledger.iter().any(|c| {
        c.error_code
            .as_deref()
            .is_some_and(|c| c.starts_with("RequestLimitExceeded"))
    }));
}

#[tokio::test]
async fn the_conflict_route_is_refused_without_consent_replaced_with_it_and_restored_by_rollback() {
    let env = start(ScenarioSource::Conflict).await;
    let original = env.sim.handle().with_world(|w| w.route_tables.clone());
    let run = start_run(&env.engine).await;
    confirm(&env.engine, run, StepInput::Assess(AssessInput::default())).await;
    confirm(&env.engine, run, provision()).await;
    let refused = env
        .engine
        .confirm_step(run, StepInput::Route(RouteInput::default()), "alice")
        .await
        .unwrap_err();
    let EngineError::Blocked(conflicts) = refused else {
        panic!("expected a blocked plan, got {refused}")
    };
    assert!(
        conflicts
            .iter()
            .any(|c| c.needs_consent && c.message.contains("CVM 10.0.0.5"))
    );

    let consent = RouteInput {
        replace_existing_default: true,
    };
    assert_eq!(
        confirm(&env.engine, run, StepInput::Route(consent)).await,
        RunStatus::Active
    );
    let table = env
        .sim
        .handle()
        .with_world(|w| w.route_tables["rtb-default0"].clone());
    let default = table
        .routes
        .iter()
        .find(|r| r.destination == "0.0.0.0/0")
        .unwrap();
    assert_eq!(default.gateway_type, "NAT");

    env.engine.rollback(run, "alice", true).await.unwrap();
    assert_eq!(
        env.engine.wait(run).await.unwrap().status,
        RunStatus::RolledBack
    );
    let restored = env.sim.handle().with_world(|w| w.route_tables.clone());
    assert_eq!(
        restored, original,
        "the squid route is back exactly, the NAT routes are gone"
    );
    assert!(env.sim.handle().nat_gateways(VPC).is_empty());
}

#[tokio::test]
async fn rollback_of_a_completed_run_gives_every_instance_its_public_ip_back() {
    let env = start(ScenarioSource::Tutorial).await;
    let before = public_ips(&env);
    let routes_before = env.sim.handle().with_world(|w| w.route_tables.clone());
    let run = start_run(&env.engine).await;
    complete(&env.engine, run, RouteInput::default()).await;
    env.engine.rollback(run, "alice", true).await.unwrap();
    let r = env.engine.wait(run).await.unwrap();
    assert_eq!(r.status, RunStatus::RolledBack, "{:?}", r.last_error);
    assert_eq!(public_ips(&env), before);
    assert_eq!(
        env.sim.handle().with_world(|w| w.route_tables.clone()),
        routes_before
    );
    assert!(env.sim.handle().nat_gateways(VPC).is_empty());
}

#[tokio::test]
async fn twenty_percent_transient_faults_do_not_stop_a_run() {
    let env = start(ScenarioSource::Tutorial).await;
    env.sim.handle().set_faults(FaultConfig {
        rate: 0.2,
        kinds: vec![
            FaultKind::InternalError,
            FaultKind::RequestLimitExceeded,
            FaultKind::Drop,
        ],
        seed: 7,
        ..FaultConfig::default()
    });
    let run = start_run(&env.engine).await;
    complete(&env.engine, run, RouteInput::default()).await;
    assert_eq!(
        env.sim.handle().nat_gateways(VPC).len(),
        1,
        "no duplicate NAT gateway"
    );
}

#[tokio::test]
async fn a_permanent_error_fails_the_step_with_code_and_request_id_and_retry_works_after() {
    let env = start(ScenarioSource::Tutorial).await;
    let run = start_run(&env.engine).await;
    confirm(&env.engine, run, StepInput::Assess(AssessInput::default())).await;
    env.sim.handle().with_world(|w| w.quotas.nat_per_vpc = 0);
    assert_eq!(
        confirm(&env.engine, run, provision()).await,
        RunStatus::Failed
    );
    let failure = env.engine.run(run).await.unwrap().last_error.unwrap();
    assert!(failure.code.starts_with("LimitExceeded"), "{failure:?}");
    assert!(failure.request_id.is_some());
    assert_eq!(failure.step, Step::Provision);

    env.sim.handle().with_world(|w| w.quotas.nat_per_vpc = 3);
    env.engine.retry(run, "alice").await.unwrap();
    let r = env.engine.wait(run).await.unwrap();
    assert_eq!(
        (r.status, r.current_step),
        (RunStatus::Active, Step::Route),
        "{:?}",
        r.last_error
    );
    assert_eq!(env.sim.handle().nat_gateways(VPC).len(), 1);
}

#[tokio::test]
async fn a_crash_right_after_create_nat_gateway_resumes_without_a_second_gateway() {
    for point in [
        CrashPoint::UndoWritten,
        CrashPoint::CallSent,
        CrashPoint::ResultRecorded,
    ] {
        let env = start(ScenarioSource::Tutorial).await;
        let fired = Arc::new(AtomicBool::new(false));
        let f = fired.clone();
        let hooked = env.restart(Some(Arc::new(move |p, key: &str| {
            p == point && key == "create_nat" && !f.swap(true, Ordering::SeqCst)
        })));
        let run = start_run(&hooked).await;
        confirm(&hooked, run, StepInput::Assess(AssessInput::default())).await;
        assert_eq!(
            confirm(&hooked, run, provision()).await,
            RunStatus::Applying,
            "{point:?}: the job stopped dead"
        );
        let engine = env.restart(None);
        assert_eq!(engine.resume().await.unwrap(), 1);
        assert_eq!(
            engine.wait(run).await.unwrap().status,
            RunStatus::Active,
            "{point:?}"
        );
        assert_eq!(env.sim.handle().nat_gateways(VPC).len(), 1, "{point:?}");
        assert!(fired.load(Ordering::SeqCst));
    }
}

#[tokio::test]
async fn a_second_run_on_the_same_vpc_is_refused() {
    let env = start(ScenarioSource::Tutorial).await;
    let first = start_run(&env.engine).await;
    let err = env
        .engine
        .start_run("sim", REGION, VPC, "bob")
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains(&first.to_string()) && err.to_string().contains("alice"),
        "{err}"
    );
}
