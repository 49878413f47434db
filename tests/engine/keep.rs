//! Issue 12 on the simulator: the tutorial with `worker-1` (ordinary public IP) and `worker-2`
//! (EIP) keeping their egress IPs. After the run neither has a public IP, each leaves through
//! its old IP (the simulator's `curl ifconfig.co`), every other instance through the NAT
//! gateway's own EIP; crashes inside the move resume without duplicates; rollback restores
//! the world.

use std::collections::BTreeMap;
use std::sync::{
    Arc,
    atomic::{AtomicBool, Ordering},
};

use natpilot::sim::ScenarioSource;
use natpilot::store::keep_egress::MarkKind;
use natpilot::store::{self, ReportKind, RunId, RunStatus};
use natpilot::wizard::engine::{CrashHook, CrashPoint, Engine};
use natpilot::wizard::input::*;

use crate::harness::*;

const WORKER1: &str = "ins-worker01";
const WORKER1_IP: &str = "119.28.20.21";
const WORKER2: &str = "ins-worker02";
const WORKER2_IP: &str = "119.28.20.22";

async fn keep_both(engine: &Engine, run: RunId) {
    for id in [WORKER1, WORKER2] {
        engine
            .set_keep_egress(run, MarkKind::Instance, id, true, "alice")
            .await
            .unwrap();
    }
}

/// Public IPs the simulator gives each instance: its ordinary IP or a bound EIP.
fn own_public_ip(env: &Env, instance: &str) -> Option<String> {
    env.sim.handle().with_world(|w| {
        let ordinary = w
            .instances()
            .iter()
            .find(|i| i.id == instance)
            .and_then(|i| i.public_ip.clone());
        let eip = w
            .addresses
            .values()
            .find(|a| a.instance_id.as_deref() == Some(instance))
            .map(|a| a.ip.clone());
        ordinary.or(eip)
    })
}

fn nat_ips(env: &Env) -> Vec<String> {
    env.sim.handle().with_world(|w| {
        let nats: Vec<String> = w.nat_gateways.keys().cloned().collect();
        w.addresses
            .values()
            .filter(|a| a.instance_id.as_ref().is_some_and(|i| nats.contains(i)))
            .map(|a| a.ip.clone())
            .collect()
    })
}

fn snat_rules(env: &Env) -> Vec<(String, String, Vec<String>)> {
    env.sim.handle().with_world(|w| {
        w.snat_rules
            .values()
            .map(|r| {
                (
                    r.resource_type.clone(),
                    r.resource_id.clone(),
                    r.public_ips.clone(),
                )
            })
            .collect()
    })
}

/// Every instance the simulator gives an egress path, with the IP it leaves through.
fn egress(env: &Env) -> BTreeMap<String, String> {
    let ids: Vec<String> = env
        .sim
        .handle()
        .with_world(|w| w.instances().iter().map(|i| i.id.clone()).collect());
    ids.into_iter()
        .filter_map(|id| env.sim.handle().egress_ip(&id).map(|ip| (id, ip)))
        .collect()
}

fn assert_kept_world(env: &Env, what: &str) {
    assert_eq!(
        own_public_ip(env, WORKER1),
        None,
        "{what}: worker-1 has no public IP"
    );
    assert_eq!(
        own_public_ip(env, WORKER2),
        None,
        "{what}: worker-2 has no public IP"
    );
    let out = egress(env);
    assert_eq!(
        out.get(WORKER1).map(String::as_str),
        Some(WORKER1_IP),
        "{what}"
    );
    assert_eq!(
        out.get(WORKER2).map(String::as_str),
        Some(WORKER2_IP),
        "{what}"
    );
    let own: Vec<String> = nat_ips(env)
        .into_iter()
        .filter(|ip| ip != WORKER1_IP && ip != WORKER2_IP)
        .collect();
    assert_eq!(own.len(), 1, "{what}: the gateway's own EIP: {own:?}");
    for (id, ip) in &out {
        if id != WORKER1 && id != WORKER2 {
            assert_eq!(
                ip, &own[0],
                "{what}: {id} leaves through the gateway's own EIP"
            );
        }
    }
    let rules = snat_rules(env);
    let per_worker = |id: &str| rules.iter().filter(|r| r.1 == id).count();
    assert_eq!(
        per_worker(WORKER1),
        1,
        "{what}: one rule for worker-1: {rules:?}"
    );
    assert_eq!(
        per_worker(WORKER2),
        1,
        "{what}: one rule for worker-2: {rules:?}"
    );
    assert_eq!(
        rules.len(),
        4,
        "{what}: two instance rules and one per subnet: {rules:?}"
    );
}

#[tokio::test]
async fn kept_workers_leave_through_their_old_ips_and_everyone_else_through_the_nat_eip() {
    let env = start(ScenarioSource::Tutorial).await;
    let run = start_run(&env.engine).await;
    keep_both(&env.engine, run).await;
    complete(&env.engine, run, RouteInput::default()).await;
    assert_kept_world(&env, "clean run");

    // Step 4 did not retire the kept IPs again: they are on the gateway, not released or
    // unbound, and the final report lists them with their SNAT rule ids.
    let report = store::results::get_report(env.store.readers(), run, ReportKind::Final)
        .await
        .unwrap()
        .expect("final report");
    let kept = report["kept_egress"]
        .as_array()
        .expect("kept_egress listed");
    assert_eq!(kept.len(), 2, "{kept:?}");
    for k in kept {
        let rules = k["snat_rules"].as_array().unwrap();
        assert_eq!(rules.len(), 1, "{k}");
        assert!(rules[0][0].as_str().unwrap().starts_with("snat-"), "{k}");
        assert_eq!(k["egress_after"], k["ip"], "{k}");
    }
    let worker1 = kept.iter().find(|k| k["from_instance"] == WORKER1).unwrap();
    assert_eq!(worker1["was"], "ordinary");
    assert_eq!(worker1["ip"], WORKER1_IP);
    let removed = report["removed"].as_array().unwrap();
    assert!(
        removed
            .iter()
            .all(|r| r["instance_id"] != WORKER1 && r["instance_id"] != WORKER2),
        "{removed:?}"
    );
}

#[tokio::test]
async fn rollback_puts_the_kept_ips_back_on_their_instances_and_removes_the_rules() {
    let env = start(ScenarioSource::Tutorial).await;
    let routes_before = env.sim.handle().with_world(|w| w.route_tables.clone());
    let run = start_run(&env.engine).await;
    keep_both(&env.engine, run).await;
    through_step_3(&env.engine, run).await;
    env.engine.rollback(run, "alice", true).await.unwrap();
    let r = env.engine.wait(run).await.unwrap();
    assert_eq!(r.status, RunStatus::RolledBack, "{:?}", r.last_error);
    assert_eq!(own_public_ip(&env, WORKER1).as_deref(), Some(WORKER1_IP));
    assert_eq!(own_public_ip(&env, WORKER2).as_deref(), Some(WORKER2_IP));
    // worker-1's ordinary IP came back as an EIP, and the rollback report says so.
    let as_eip = env.sim.handle().with_world(|w| {
        w.addresses
            .values()
            .any(|a| a.ip == WORKER1_IP && a.instance_id.as_deref() == Some(WORKER1))
    });
    assert!(as_eip, "worker-1 holds its IP as an EIP");
    let report = store::results::get_report(env.store.readers(), run, ReportKind::Rollback)
        .await
        .unwrap()
        .unwrap();
    let cannot = report["cannot_undo"].to_string();
    assert!(
        cannot.contains(WORKER1_IP) && cannot.contains("stays an EIP"),
        "{cannot}"
    );
    assert!(snat_rules(&env).is_empty());
    assert!(env.sim.handle().nat_gateways(VPC).is_empty());
    assert_eq!(
        env.sim.handle().with_world(|w| w.route_tables.clone()),
        routes_before
    );
    assert_eq!(
        egress(&env).get(WORKER2).map(String::as_str),
        Some(WORKER2_IP)
    );
    assert_eq!(
        egress(&env).get(WORKER1).map(String::as_str),
        Some(WORKER1_IP)
    );
}

fn crash_once(point: CrashPoint, prefix: &'static str, fired: Arc<AtomicBool>) -> CrashHook {
    Arc::new(move |p, key: &str| {
        p == point && key.starts_with(prefix) && !fired.swap(true, Ordering::SeqCst)
    })
}

#[tokio::test]
async fn a_crash_inside_the_move_resumes_without_a_second_rule_or_binding() {
    for prefix in ["nat_eip:", "snat:ins-", "snat:subnet-"] {
        for point in [
            CrashPoint::UndoWritten,
            CrashPoint::CallSent,
            CrashPoint::ResultRecorded,
        ] {
            let what = format!("crash at {point:?} of {prefix}");
            let env = start(ScenarioSource::Tutorial).await;
            let fired = Arc::new(AtomicBool::new(false));
            let mut engine = env.restart(Some(crash_once(point, prefix, fired.clone())));
            let run = start_run(&engine).await;
            keep_both(&engine, run).await;
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
            assert_eq!(
                env.engine.run(run).await.unwrap().status,
                RunStatus::Completed
            );
            assert_kept_world(&env, &what);
        }
    }
}

#[tokio::test]
async fn the_egress_proxys_shared_ip_is_found_and_kept_as_the_nat_gateways_egress() {
    // The conflict scenario's squid gateway and its EIP (`sim::scenario::conflict`).
    const GATEWAY: &str = "ins-gateway1";
    const GATEWAY_EIP: &str = "119.28.20.1";
    let env = start(ScenarioSource::Conflict).await;
    let run = start_run(&env.engine).await;
    let view = env.engine.keep_egress_view(run).await.unwrap();
    let shared = view
        .shared
        .iter()
        .find(|s| s.ip == GATEWAY_EIP)
        .expect("the proxy's EIP is found as shared");
    assert_eq!(shared.holder.as_deref(), Some(GATEWAY));
    let leaving: Vec<String> = egress(&env)
        .into_iter()
        .filter(|(_, ip)| ip == GATEWAY_EIP)
        .map(|(id, _)| id)
        .collect();
    assert!(leaving.len() >= 2);
    // Instances with an egress test result that left through it, as step 1 counts them.
    assert!(
        shared.instances.iter().all(|i| leaving.contains(i)),
        "{shared:?}"
    );

    env.engine
        .set_keep_egress(run, MarkKind::SharedIp, GATEWAY_EIP, true, "alice")
        .await
        .unwrap();
    let consent = RouteInput {
        replace_existing_default: true,
    };
    complete(&env.engine, run, consent).await;
    assert_eq!(own_public_ip(&env, GATEWAY), None, "the proxy's EIP moved");
    assert!(nat_ips(&env).contains(&GATEWAY_EIP.to_owned()));
    for id in &leaving {
        assert_eq!(
            env.sim.handle().egress_ip(id).as_deref(),
            Some(GATEWAY_EIP),
            "{id} still leaves through the allowlisted IP"
        );
    }
}

#[tokio::test]
async fn a_shared_ip_that_nobody_shares_cannot_be_marked() {
    let env = start(ScenarioSource::Tutorial).await;
    let run = start_run(&env.engine).await;
    let err = env
        .engine
        .set_keep_egress(run, MarkKind::SharedIp, "119.28.20.22", true, "alice")
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("not an egress IP that several instances share"),
        "{err}"
    );
    let err = env
        .engine
        .set_keep_egress(run, MarkKind::Instance, "ins-nothere", true, "alice")
        .await
        .unwrap_err();
    assert!(err.to_string().contains("not an instance"), "{err}");
}

/// The Terraform export of a run that kept two egress IPs, from a fresh read-only observation
/// of the simulator after the run: every SNAT rule the run made on its gateway is a
/// `tencentcloud_nat_gateway_snat` with the provider's import id `<nat id>#<resource id>`,
/// and the kept EIPs are among the gateway's EIPs (its `assigned_eip_set`).
#[tokio::test]
async fn the_terraform_export_adopts_the_runs_snat_rules_and_the_kept_eips() {
    let env = start(ScenarioSource::Tutorial).await;
    let run = start_run(&env.engine).await;
    keep_both(&env.engine, run).await;
    complete(&env.engine, run, RouteInput::default()).await;
    let observed = env.engine.view_observed(run).await.unwrap();
    let tf = natpilot::export::terraform::render(&natpilot::export::terraform::from_inventory(
        &run.to_string(),
        &observed.inventory,
    ));
    let (nat, rules) = env.sim.handle().with_world(|w| {
        let nat = w.nat_gateways.keys().next().unwrap().clone();
        let rules: Vec<String> = w
            .snat_rules
            .values()
            .filter(|r| r.nat_id == nat)
            .map(|r| r.resource_id.clone())
            .collect();
        (nat, rules)
    });
    assert_eq!(rules.len(), 4, "{rules:?}");
    assert_eq!(
        tf.matches("resource \"tencentcloud_nat_gateway_snat\"")
            .count(),
        rules.len(),
        "{tf}"
    );
    for resource in &rules {
        let import = format!("id = \"{nat}#{resource}\"");
        assert!(tf.contains(&import), "no import {import}:\n{tf}");
    }
    // Every EIP on the gateway, the two kept ones among them, is a `tencentcloud_eip`
    // imported by its id and referenced from the gateway's `assigned_eip_set`.
    let on_gateway: Vec<(String, String)> = env.sim.handle().with_world(|w| {
        w.addresses
            .values()
            .filter(|a| a.instance_id.as_deref() == Some(nat.as_str()))
            .map(|a| (a.id.clone(), a.ip.clone()))
            .collect()
    });
    assert_eq!(
        on_gateway.len(),
        3,
        "its own EIP and the two kept: {on_gateway:?}"
    );
    for kept_ip in [WORKER1_IP, WORKER2_IP] {
        let (id, _) = on_gateway.iter().find(|(_, ip)| ip == kept_ip).unwrap();
        assert!(
            tf.contains(&format!("id = \"{id}\"")),
            "the kept EIP {kept_ip} ({id}) is imported:\n{tf}"
        );
    }
    let set = tf
        .lines()
        .find(|l| l.trim_start().starts_with("assigned_eip_set"))
        .expect("the gateway's EIPs");
    assert_eq!(set.matches("tencentcloud_eip.").count(), 3, "{set}");
}
