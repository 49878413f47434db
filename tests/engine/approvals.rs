//! Issue 14, item 2: four-eyes approvals bound to the exact plan, on the simulator. A held
//! step applies nothing until another person approves; approving applies exactly the
//! requested plan; the requester cannot approve; a changed cloud voids the request; an
//! expired request cannot be approved; an irreversible plan needs an admin; a rejection leaves
//! the step to be confirmed again.

use std::time::Duration;

use chrono::Utc;
use natpilot::approvals::ApprovalPolicy;
use natpilot::store::{
    self, RunId, RunStatus, Step,
    approvals::{ApprovalKind, ApprovalState},
    audit::AuditFilter,
    users::Role,
};
use natpilot::wizard::engine::{
    ApprovalError, Confirmation, Decision, Engine, EngineError, RollbackStart,
};
use natpilot::wizard::input::*;

use crate::common::until;
use crate::harness::*;

fn four_eyes() -> ApprovalPolicy {
    ApprovalPolicy::four_eyes(Duration::from_secs(3600))
}

/// A run of alice's at step 2 (step 1 needs no approval: it changes nothing in the cloud).
async fn at_step_2(engine: &Engine) -> RunId {
    let run = start_run(engine).await;
    let done = engine
        .confirm_step(run, StepInput::Assess(AssessInput::default()), "alice")
        .await
        .unwrap();
    assert!(matches!(done, Confirmation::Applying(_)), "{done:?}");
    let r = engine.wait(run).await.unwrap();
    assert_eq!(
        (r.status, r.current_step),
        (RunStatus::Active, Step::Provision)
    );
    run
}

/// Alice confirms `input`; returns the request id the policy filed instead of applying.
async fn requested(engine: &Engine, run: RunId, input: StepInput) -> i64 {
    match engine.confirm_step(run, input, "alice").await.unwrap() {
        Confirmation::ApprovalRequested { id, .. } => id,
        other => panic!("expected an approval request, got {other:?}"),
    }
}

async fn audited(env: &Env, action: &str) -> usize {
    let filter = AuditFilter {
        action: Some(action.into()),
        ..Default::default()
    };
    store::audit::list(env.store.readers(), &filter, 100)
        .await
        .unwrap()
        .len()
}

async fn state_of(engine: &Engine, id: i64) -> ApprovalState {
    engine.approval(id).await.unwrap().state
}

/// Bob approves request `id` and the step is applied; the run then waits at the next step.
async fn approved(engine: &Engine, run: RunId, id: i64) {
    let d = engine
        .approve(id, "bob", Role::Operator, "ok")
        .await
        .unwrap();
    assert_eq!(d, Decision::Applying);
    let r = engine.wait(run).await.unwrap();
    assert_eq!(r.status, RunStatus::Active, "{:?}", r.last_error);
}

#[tokio::test]
async fn a_held_step_applies_exactly_the_requested_plan_only_once_another_operator_approves() {
    let env = start(natpilot::sim::ScenarioSource::Tutorial).await;
    let engine = env.with_approvals(four_eyes());
    let run = at_step_2(&engine).await;
    let id = requested(&engine, run, provision()).await;
    let a = engine.approval(id).await.unwrap();
    assert_eq!(
        (a.state, a.step, a.needs_role, a.requested_by.as_str()),
        (
            ApprovalState::Pending,
            Step::Provision,
            Role::Operator,
            "alice"
        )
    );
    assert_eq!(a.observed_digest.len(), 64, "bound to the observed cloud");
    // Nothing happened in the cloud; the run still waits at step 2.
    assert!(env.sim.handle().nat_gateways(VPC).is_empty());
    let r = engine.run(run).await.unwrap();
    assert_eq!(
        (r.status, r.current_step),
        (RunStatus::Active, Step::Provision)
    );
    // Nobody confirms the step again meanwhile (fails closed).
    let again = engine.confirm_step(run, provision(), "alice").await;
    assert!(
        matches!(again, Err(EngineError::Approval(ApprovalError::Pending { id: p, .. })) if p == id),
        "{again:?}"
    );
    approved(&engine, run, id).await;
    assert_eq!(state_of(&engine, id).await, ApprovalState::Approved);
    let r = engine.run(run).await.unwrap();
    assert_eq!(r.current_step, Step::Route);
    assert_eq!(env.sim.handle().nat_gateways(VPC).len(), 1);
    // The plan applied is the one requested (same digest), confirmed by alice, approved by bob.
    let row = store::steps::get(env.store.readers(), run, Step::Provision)
        .await
        .unwrap()
        .unwrap();
    let applied: natpilot::wizard::plan::Plan = serde_json::from_value(row.plan).unwrap();
    assert_eq!(applied.digest().0, a.plan_digest);
    assert_eq!(row.confirmed_by.as_deref(), Some("alice"));
    let a = engine.approval(id).await.unwrap();
    assert_eq!(a.decided_by.as_deref(), Some("bob"));
    assert_eq!(audited(&env, "approval.request").await, 1);
    assert_eq!(audited(&env, "approval.approve").await, 1);
    let events = store::events::list(env.store.readers(), run, 0, 1000)
        .await
        .unwrap();
    assert!(
        events
            .iter()
            .any(|e| e.message.contains("bob approved alice's"))
    );
}

#[tokio::test]
async fn the_requester_cannot_approve_or_reject_their_own_request() {
    let env = start(natpilot::sim::ScenarioSource::Tutorial).await;
    let engine = env.with_approvals(four_eyes());
    let run = at_step_2(&engine).await;
    let id = requested(&engine, run, provision()).await;
    // Even as an admin.
    let own = engine.approve(id, "alice", Role::Admin, "").await;
    assert!(
        matches!(own, Err(EngineError::Approval(ApprovalError::OwnRequest))),
        "{own:?}"
    );
    let own = engine.reject(id, "alice", Role::Admin, "never mind").await;
    assert!(
        matches!(own, Err(EngineError::Approval(ApprovalError::OwnRequest))),
        "{own:?}"
    );
    assert_eq!(state_of(&engine, id).await, ApprovalState::Pending);
    assert!(env.sim.handle().nat_gateways(VPC).is_empty());
    assert_eq!(audited(&env, "approval.approve_refused").await, 1);
    assert_eq!(audited(&env, "approval.reject_refused").await, 1);
    // A viewer cannot decide either.
    let viewer = engine.approve(id, "vera", Role::Viewer, "").await;
    assert!(
        matches!(
            viewer,
            Err(EngineError::Approval(ApprovalError::NeedsRole { .. }))
        ),
        "{viewer:?}"
    );
}

/// Moves `ins-worker01` into a new subnet of a new route table `rtb-moved000` (no routes): a
/// cloud change step 3's per-table plan sees.
fn move_worker_to_a_new_route_table(env: &Env) {
    env.sim.handle().with_world(|w| {
        let mut table = w.route_tables.values().next().unwrap().clone();
        table.id = "rtb-moved000".into();
        table.name = "moved".into();
        table.main = false;
        table.routes.clear();
        w.route_tables.insert(table.id.clone(), table);
        let mut subnet = w.subnets.values().next().unwrap().clone();
        subnet.id = "subnet-moved001".into();
        subnet.cidr = "10.0.9.0/24".into();
        subnet.route_table_id = "rtb-moved000".into();
        w.subnets.insert(subnet.id.clone(), subnet);
        w.instance_mut("ins-worker01").unwrap().subnet_id = "subnet-moved001".into();
    });
}

fn nat_routes(env: &Env) -> usize {
    env.sim.handle().with_world(|w| {
        w.route_tables
            .values()
            .flat_map(|t| t.routes.iter())
            .filter(|r| r.destination == "0.0.0.0/0" && r.gateway_id.starts_with("nat-"))
            .count()
    })
}

#[tokio::test]
async fn a_cloud_changed_after_the_request_voids_the_approval_and_says_what_changed() {
    let env = start(natpilot::sim::ScenarioSource::Tutorial).await;
    let engine = env.with_approvals(four_eyes());
    let run = at_step_2(&engine).await;
    let id = requested(&engine, run, provision()).await;
    approved(&engine, run, id).await;
    let route = StepInput::Route(RouteInput::default());
    let id = requested(&engine, run, route.clone()).await;
    move_worker_to_a_new_route_table(&env);
    let d = engine.approve(id, "bob", Role::Operator, "").await.unwrap();
    let Decision::Void(why) = d else {
        panic!("expected a void request, got {d:?}")
    };
    assert!(why.contains("rtb-moved000"), "{why}");
    let a = engine.approval(id).await.unwrap();
    assert_eq!(a.state, ApprovalState::Void);
    assert_eq!(a.outcome.as_deref(), Some(why.as_str()));
    // Nothing applied: no NAT route anywhere, the run still waits at step 3.
    assert_eq!(nat_routes(&env), 0);
    let r = engine.run(run).await.unwrap();
    assert_eq!((r.status, r.current_step), (RunStatus::Active, Step::Route));
    assert_eq!(audited(&env, "approval.void").await, 1);
    // The step can be confirmed again: a new request for the plan as it is now.
    let again = requested(&engine, run, route).await;
    assert_ne!(again, id);
}

#[tokio::test]
async fn an_expired_request_cannot_be_approved_and_no_longer_holds_the_step() {
    let env = start(natpilot::sim::ScenarioSource::Tutorial).await;
    let engine = env.with_approvals(ApprovalPolicy::four_eyes(Duration::from_secs(1)));
    let run = at_step_2(&engine).await;
    let id = requested(&engine, run, provision()).await;
    let expires = engine.approval(id).await.unwrap().expires_at;
    until("the request's expiry", || async { Utc::now() > expires }).await;
    let late = engine.approve(id, "bob", Role::Operator, "").await;
    assert!(
        matches!(
            late,
            Err(EngineError::Approval(ApprovalError::Expired { .. }))
        ),
        "{late:?}"
    );
    assert_eq!(state_of(&engine, id).await, ApprovalState::Expired);
    assert!(env.sim.handle().nat_gateways(VPC).is_empty());
    assert_eq!(audited(&env, "approval.expired").await, 1);
    // Confirming again asks anew.
    let again = requested(&engine, run, provision()).await;
    assert_ne!(again, id);
}

#[tokio::test]
async fn an_irreversible_plan_needs_an_admins_approval() {
    let env = start(natpilot::sim::ScenarioSource::Tutorial).await;
    let engine = env.with_approvals(four_eyes());
    let run = at_step_2(&engine).await;
    let id = requested(&engine, run, provision()).await;
    approved(&engine, run, id).await;
    let id = requested(&engine, run, StepInput::Route(RouteInput::default())).await;
    approved(&engine, run, id).await;
    let release = StepInput::Verify(VerifyInput {
        eip_rule: EipRule::Release,
        ordinary_rule: OrdinaryRule::Return,
        confirm_irreversible: true,
        ..VerifyInput::default()
    });
    let (id, needs) = match engine.confirm_step(run, release, "alice").await.unwrap() {
        Confirmation::ApprovalRequested { id, needs, plan } => {
            assert!(plan.has_irreversible());
            (id, needs)
        }
        other => panic!("{other:?}"),
    };
    assert_eq!(needs, Role::Admin);
    assert!(engine.approval(id).await.unwrap().irreversible);
    let op = engine.approve(id, "bob", Role::Operator, "").await;
    assert!(
        matches!(
            op,
            Err(EngineError::Approval(ApprovalError::NeedsRole { .. }))
        ),
        "{op:?}"
    );
    assert_eq!(state_of(&engine, id).await, ApprovalState::Pending);
    let d = engine
        .approve(id, "root", Role::Admin, "checked")
        .await
        .unwrap();
    assert_eq!(d, Decision::Applying);
    let r = engine.wait(run).await.unwrap();
    assert_eq!(r.status, RunStatus::Completed, "{:?}", r.last_error);
}

#[tokio::test]
async fn a_rejected_request_applies_nothing_and_the_step_can_be_confirmed_again() {
    let env = start(natpilot::sim::ScenarioSource::Tutorial).await;
    let engine = env.with_approvals(four_eyes());
    let run = at_step_2(&engine).await;
    let id = requested(&engine, run, provision()).await;
    let bare = engine.reject(id, "bob", Role::Operator, "  ").await;
    assert!(
        matches!(
            bare,
            Err(EngineError::Approval(ApprovalError::CommentRequired))
        ),
        "{bare:?}"
    );
    engine
        .reject(id, "bob", Role::Operator, "use two EIPs")
        .await
        .unwrap();
    let a = engine.approval(id).await.unwrap();
    assert_eq!(a.state, ApprovalState::Rejected);
    assert_eq!(a.comment.as_deref(), Some("use two EIPs"));
    // Decided once: approving a rejected request is refused.
    let late = engine.approve(id, "carol", Role::Operator, "").await;
    assert!(
        matches!(
            late,
            Err(EngineError::Approval(ApprovalError::Decided { .. }))
        ),
        "{late:?}"
    );
    assert!(env.sim.handle().nat_gateways(VPC).is_empty());
    let r = engine.run(run).await.unwrap();
    assert_eq!(
        (r.status, r.current_step),
        (RunStatus::Active, Step::Provision)
    );
    let again = requested(&engine, run, provision()).await;
    assert_ne!(again, id);
    assert_eq!(audited(&env, "approval.reject").await, 1);
}

#[tokio::test]
async fn rolling_back_or_abandoning_the_run_voids_the_request_its_step_waits_for() {
    let env = start(natpilot::sim::ScenarioSource::Tutorial).await;
    let engine = env.with_approvals(four_eyes());
    let run = at_step_2(&engine).await;
    let id = requested(&engine, run, provision()).await;
    engine.rollback(run, "alice", false).await.unwrap();
    engine.wait(run).await.unwrap();
    let a = engine.approval(id).await.unwrap();
    assert_eq!(a.state, ApprovalState::Void);
    assert!(a.outcome.unwrap().contains("rollback"));
    let late = engine.approve(id, "bob", Role::Operator, "").await;
    assert!(
        matches!(
            late,
            Err(EngineError::Approval(ApprovalError::Decided { .. }))
        ),
        "{late:?}"
    );
    assert!(env.sim.handle().nat_gateways(VPC).is_empty());

    let run = at_step_2(&engine).await;
    let id = requested(&engine, run, provision()).await;
    engine.abandon(run, "alice").await.unwrap();
    let a = engine.approval(id).await.unwrap();
    assert_eq!(a.state, ApprovalState::Void);
    assert!(a.outcome.unwrap().contains("abandoned"));
}

/// A run with step 2 approved and applied (a NAT gateway with one EIP natpilot allocated),
/// and the id of that EIP.
async fn with_gateway(env: &Env, engine: &Engine) -> (RunId, String) {
    let run = at_step_2(engine).await;
    let id = requested(engine, run, provision()).await;
    approved(engine, run, id).await;
    let nat = env.sim.handle().nat_gateways(VPC)[0].id.clone();
    let eip = env.sim.handle().with_world(|w| {
        let on_nat: Vec<_> = w
            .addresses
            .values()
            .filter(|a| a.instance_id.as_deref() == Some(nat.as_str()))
            .map(|a| a.id.clone())
            .collect();
        assert_eq!(on_nat.len(), 1, "step 2 made a gateway with one new EIP");
        on_nat[0].clone()
    });
    (run, eip)
}

fn eip_exists(env: &Env, eip: &str) -> bool {
    env.sim
        .handle()
        .with_world(|w| w.addresses.contains_key(eip))
}

async fn rollback_requested(engine: &Engine, run: RunId) -> i64 {
    match engine.rollback(run, "alice", true).await.unwrap() {
        RollbackStart::ApprovalRequested { id } => id,
        RollbackStart::Started => panic!("a rollback releasing EIPs started without approval"),
    }
}

#[tokio::test]
async fn a_rollback_that_releases_the_gateways_eips_waits_for_another_admin() {
    let env = start(natpilot::sim::ScenarioSource::Tutorial).await;
    let engine = env.with_approvals(four_eyes());
    let (run, eip) = with_gateway(&env, &engine).await;
    let id = rollback_requested(&engine, run).await;
    // Nothing was undone: the gateway and its EIP are there, the run still waits at step 3.
    let r = engine.run(run).await.unwrap();
    assert_eq!((r.status, r.current_step), (RunStatus::Active, Step::Route));
    assert_eq!(env.sim.handle().nat_gateways(VPC).len(), 1);
    let a = engine.approval(id).await.unwrap();
    assert_eq!(a.kind, ApprovalKind::Rollback);
    assert_eq!((a.needs_role, a.irreversible), (Role::Admin, true));
    let request = engine.rollback_request(&a).unwrap();
    let named: Vec<_> = request
        .release
        .iter()
        .map(|e| e.address_id.clone())
        .collect();
    assert_eq!(
        named,
        vec![eip.clone()],
        "exactly the EIP natpilot allocated"
    );
    // An operator cannot approve it; an admin cannot approve their own request.
    let operator = engine.approve(id, "bob", Role::Operator, "").await;
    assert!(
        matches!(
            operator,
            Err(EngineError::Approval(ApprovalError::NeedsRole { .. }))
        ),
        "{operator:?}"
    );
    let own = engine.approve(id, "alice", Role::Admin, "").await;
    assert!(
        matches!(own, Err(EngineError::Approval(ApprovalError::OwnRequest))),
        "{own:?}"
    );
    // A step cannot be confirmed meanwhile: the run waits for this one decision.
    let confirm = engine
        .confirm_step(run, StepInput::Route(RouteInput::default()), "alice")
        .await;
    assert!(
        matches!(
            confirm,
            Err(EngineError::Approval(ApprovalError::Pending { .. }))
        ),
        "{confirm:?}"
    );
    assert!(eip_exists(&env, &eip));
    // Carol, an admin, approves: the rollback runs and releases exactly that EIP.
    let d = engine
        .approve(id, "carol", Role::Admin, "agreed")
        .await
        .unwrap();
    assert_eq!(d, Decision::Applying);
    let r = engine.wait(run).await.unwrap();
    assert_eq!(r.status, RunStatus::RolledBack, "{:?}", r.last_error);
    assert!(env.sim.handle().nat_gateways(VPC).is_empty());
    assert!(!eip_exists(&env, &eip), "the gateway's EIP was released");
    let a = engine.approval(id).await.unwrap();
    assert_eq!(a.state, ApprovalState::Approved);
    assert_eq!(a.decided_by.as_deref(), Some("carol"));
    assert!(
        audited(&env, "approval.approve").await >= 2,
        "step 2's and the rollback's"
    );
    assert_eq!(audited(&env, "approval.approve_refused").await, 2);
}

#[tokio::test]
async fn a_rollback_that_keeps_the_eips_starts_at_once_and_voids_the_release_request() {
    let env = start(natpilot::sim::ScenarioSource::Tutorial).await;
    let engine = env.with_approvals(four_eyes());
    let (run, eip) = with_gateway(&env, &engine).await;
    let id = rollback_requested(&engine, run).await;
    let started = engine.rollback(run, "alice", false).await.unwrap();
    assert_eq!(started, RollbackStart::Started);
    let r = engine.wait(run).await.unwrap();
    assert_eq!(r.status, RunStatus::RolledBack, "{:?}", r.last_error);
    assert!(eip_exists(&env, &eip), "kept: nobody approved its release");
    let a = engine.approval(id).await.unwrap();
    assert_eq!(a.state, ApprovalState::Void);
    assert!(a.outcome.unwrap().contains("started a rollback"));
    let late = engine.approve(id, "carol", Role::Admin, "").await;
    assert!(
        matches!(
            late,
            Err(EngineError::Approval(ApprovalError::Decided { .. }))
        ),
        "{late:?}"
    );
    assert!(eip_exists(&env, &eip));
}

#[tokio::test]
async fn a_rollback_request_whose_undo_records_changed_is_void_and_releases_nothing() {
    let env = start(natpilot::sim::ScenarioSource::Tutorial).await;
    let engine = env.with_approvals(four_eyes());
    let (run, eip) = with_gateway(&env, &engine).await;
    let id = rollback_requested(&engine, run).await;
    // Another process (or a repair by hand) changes the run's undo records meanwhile.
    natpilot::store::sql::query(
        "UPDATE undo_records SET note = 'changed elsewhere', state = 'failed' WHERE run_id = ?",
    )
    .bind(run.to_string())
    .execute(env.store.writer())
    .await
    .unwrap();
    let d = engine.approve(id, "carol", Role::Admin, "").await.unwrap();
    let Decision::Void(why) = d else {
        panic!("expected a void request, got {d:?}")
    };
    assert!(why.contains("undo records"), "{why}");
    assert_eq!(state_of(&engine, id).await, ApprovalState::Void);
    let r = engine.run(run).await.unwrap();
    assert_eq!(r.status, RunStatus::Active, "nothing was rolled back");
    assert!(eip_exists(&env, &eip));
}
