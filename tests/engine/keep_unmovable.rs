//! Issue 12's unmovable-EIP blocker end to end: an instance that keeps its egress IP through
//! an EIP a NAT gateway refuses (single-line, or billed by bandwidth; addendum 2 §3.1) blocks
//! step 3's plan with the reason, before anything is unbound — the simulator would refuse the
//! bind with the documented code (tests/sim/unmovable.rs), leaving the instance without its IP.

use natpilot::sim::ScenarioSource;
use natpilot::store::RunStatus;
use natpilot::store::keep_egress::MarkKind;
use natpilot::wizard::input::*;

use crate::harness::*;

const WORKER2: &str = "ins-worker02";
const WORKER2_EIP: &str = "eip-worker02";
const WORKER2_IP: &str = "119.28.20.22";

#[tokio::test]
async fn keeping_an_eip_the_gateway_refuses_blocks_step_3_before_anything_moves() {
    for (isp, charge, reason) in [
        ("CMCC", "TRAFFIC_POSTPAID_BY_HOUR", "single-line (CMCC)"),
        (
            "BGP",
            "BANDWIDTH_POSTPAID_BY_HOUR",
            "billed BANDWIDTH_POSTPAID_BY_HOUR",
        ),
    ] {
        let env = start(ScenarioSource::Tutorial).await;
        env.sim.handle().with_world(|w| {
            let a = w.addresses.get_mut(WORKER2_EIP).expect("worker-2's EIP");
            a.isp = isp.into();
            a.charge_type = charge.into();
        });
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

        let route = StepInput::Route(RouteInput::default());
        let plan = env.engine.plan_step(run, &route).await.unwrap();
        let conflict = plan
            .conflicts
            .iter()
            .find(|c| c.subject == WORKER2_IP)
            .unwrap_or_else(|| panic!("{isp}/{charge}: blocked: {:?}", plan.conflicts));
        assert!(
            conflict
                .message
                .contains("cannot move onto the NAT gateway")
                && conflict.message.contains(reason),
            "{}",
            conflict.message
        );
        assert_step_3_blocked(&env.engine, run, route).await;
        // Nothing moved: worker-2 still holds its EIP.
        let holder = env
            .sim
            .handle()
            .with_world(|w| w.addresses[WORKER2_EIP].instance_id.clone());
        assert_eq!(holder.as_deref(), Some(WORKER2), "{isp}/{charge}");
    }
}
