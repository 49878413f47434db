//! Step 1's keep-egress section on a large VPC (issue 11): the shared egress IPs are counted
//! once, with the exposure summary, when the rows are stored — a view reads the counts, not
//! every instance's row (65 ms per view at 50,000 instances before).

use natpilot::sim::{ScenarioSource, world::World};
use natpilot::store::users::Role;

use crate::harness::TestApp;
use crate::wizard::start;

const SHARED: &str = "#shared-egress li[data-ip='119.28.20.1']";

#[tokio::test]
async fn step_1_lists_the_shared_ips_counted_with_the_summary_not_from_every_row_per_view() {
    let app = TestApp::start().await;
    let scenario = ScenarioSource::Conflict.load().unwrap();
    app.sim.handle().with_world(|w| {
        let behaviour = w.behaviour.clone();
        *w = World::from_scenario(scenario, 7).unwrap();
        w.behaviour = behaviour;
    });
    let mut olga = app.signed_in("olga", Role::Operator).await;
    let id = start(&app, &mut olga).await;
    let base = format!("/runs/{id}/step/1");
    let page = olga.get(&base).await;
    let n = page
        .attr(SHARED, "data-instances")
        .expect("the proxy's IP is shared");
    assert!(n.parse::<usize>().unwrap() >= 2);
    let text = page.text(SHARED);

    // The rows' egress IPs moved under the view (nothing natpilot writes does that): the
    // section still shows what was counted when the rows were stored.
    natpilot::store::sql::query(
        "UPDATE exposure_rows SET egress_ip = '198.51.100.9' WHERE run_id = ?",
    )
    .bind(&id)
    .execute(app.store().writer())
    .await
    .unwrap();
    let again = olga.get(&base).await;
    assert_eq!(again.attr(SHARED, "data-instances"), Some(n));
    assert_eq!(again.text(SHARED), text);
    assert_eq!(again.count("#shared-egress li[data-ip='198.51.100.9']"), 0);
}
