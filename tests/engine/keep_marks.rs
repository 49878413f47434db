//! Issue 12: the keep-egress marks are part of what step 1 confirms (its plan and digest), and
//! step 3 keeps exactly those. A mark changed after step 1 was confirmed (outside natpilot:
//! the engine refuses the edit) makes step 3 refuse, fail closed, rather than keep or drop an
//! egress IP nobody confirmed.

use natpilot::sim::ScenarioSource;
use natpilot::store::keep_egress::MarkKind;
use natpilot::store::{self, RunStatus};
use natpilot::wizard::engine::EngineError;
use natpilot::wizard::input::*;

use crate::harness::*;

const WORKER1: &str = "ins-worker01";
const WORKER2: &str = "ins-worker02";

fn snat_rule_count(env: &Env) -> usize {
    env.sim.handle().with_world(|w| w.snat_rules.len())
}

#[tokio::test]
async fn a_mark_changed_since_step_1_makes_step_3_refuse_and_say_so() {
    for change in ["added", "removed"] {
        let env = start(ScenarioSource::Tutorial).await;
        let run = start_run(&env.engine).await;
        env.engine
            .set_keep_egress(run, MarkKind::Instance, WORKER2, true, "alice")
            .await
            .unwrap();
        let assess = StepInput::Assess(AssessInput::default());
        assert_eq!(confirm(&env.engine, run, assess).await, RunStatus::Active);
        assert_eq!(
            confirm(&env.engine, run, provision()).await,
            RunStatus::Active
        );
        // The engine refuses edits once step 1 is confirmed; the database is changed directly.
        let refused = env
            .engine
            .set_keep_egress(run, MarkKind::Instance, WORKER1, true, "alice")
            .await;
        assert!(refused.is_err(), "marks are frozen after step 1");
        let db = env.store.writer();
        let which = if change == "added" {
            store::keep_egress::add(db, run, MarkKind::Instance, WORKER1, "mallory").await
        } else {
            store::keep_egress::remove(db, run, MarkKind::Instance, WORKER2).await
        };
        assert!(which.unwrap());

        let route = StepInput::Route(RouteInput::default());
        let plan = env.engine.plan_step(run, &route).await.unwrap();
        let conflict = plan
            .conflicts
            .iter()
            .find(|c| c.subject == "keep_egress")
            .unwrap_or_else(|| panic!("{change}: step 3 is blocked: {:?}", plan.conflicts));
        let (word, who) = if change == "added" {
            ("marked since", WORKER1)
        } else {
            ("unmarked since", WORKER2)
        };
        assert!(
            conflict.message.contains("changed since step 1")
                && conflict.message.contains(word)
                && conflict.message.contains(who)
                && conflict.message.contains("Go back to step 1"),
            "{}",
            conflict.message
        );
        assert_step_3_blocked(&env.engine, run, route).await;
        assert_eq!(snat_rule_count(&env), 0, "{change}: nothing was applied");
    }
}

#[tokio::test]
async fn step_1s_digest_covers_the_marks_so_a_preview_from_before_a_mark_is_refused() {
    let env = start(ScenarioSource::Tutorial).await;
    let run = start_run(&env.engine).await;
    let assess = StepInput::Assess(AssessInput::default());
    let before = env.engine.plan_step(run, &assess).await.unwrap();
    env.engine
        .set_keep_egress(run, MarkKind::Instance, WORKER2, true, "alice")
        .await
        .unwrap();
    let after = env.engine.plan_step(run, &assess).await.unwrap();
    assert_ne!(before.digest(), after.digest());
    let refused = env
        .engine
        .confirm_previewed(run, assess.clone(), &before.digest(), "alice")
        .await
        .unwrap_err();
    assert!(matches!(refused, EngineError::PlanChanged), "{refused}");

    // Confirmed with the marks shown, step 3 plans worker-2's move without complaint.
    env.engine
        .confirm_previewed(run, assess, &after.digest(), "alice")
        .await
        .unwrap();
    assert_eq!(
        env.engine.wait(run).await.unwrap().status,
        RunStatus::Active
    );
    assert_eq!(
        confirm(&env.engine, run, provision()).await,
        RunStatus::Active
    );
    let plan = env
        .engine
        .plan_step(run, &StepInput::Route(RouteInput::default()))
        .await
        .unwrap();
    assert!(plan.conflicts.is_empty(), "{:?}", plan.conflicts);
    assert!(
        plan.changes().any(|c| matches!(
            c,
            natpilot::wizard::plan::Change::AssociateNatEip { from_instance, .. } if from_instance == WORKER2
        )),
        "step 3 moves worker-2's EIP"
    );
}

/// Step 1 finds shared egress IPs from its stored exposure rows, not by decoding the stored
/// "before" inventory on each view: the view works (and finds the same) with that unreadable.
#[tokio::test]
async fn shared_egress_ips_are_found_from_the_exposure_rows() {
    const GATEWAY: &str = "ins-gateway1";
    const GATEWAY_EIP: &str = "119.28.20.1";
    let env = start(ScenarioSource::Conflict).await;
    let run = start_run(&env.engine).await;
    let before = env.engine.keep_egress_view(run).await.unwrap().shared;
    natpilot::store::sql::query(
        "UPDATE run_inventories SET body = '{\"damaged\": true}' WHERE run_id = ?",
    )
    .bind(run.to_string())
    .execute(env.store.writer())
    .await
    .unwrap();
    let after = env.engine.keep_egress_view(run).await.unwrap().shared;
    assert_eq!(before, after);
    let proxy = after
        .iter()
        .find(|s| s.ip == GATEWAY_EIP)
        .expect("the proxy's EIP is found as shared");
    assert_eq!(proxy.holder.as_deref(), Some(GATEWAY));
    assert!(proxy.instances.len() >= 2, "{proxy:?}");
}
