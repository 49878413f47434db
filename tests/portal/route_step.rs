//! The Route step page: per route table its subnets, current routes and planned change, the
//! consent control for an existing default route, and whose egress flips at once.

use natpilot::store::users::Role;
use reqwest::StatusCode;

use crate::harness::{Browser, TestApp};
use crate::wizard::{start, step};

const NAT: [(&str, &str); 4] = [
    ("name", "egress-nat"),
    ("bandwidth_mbps", "100"),
    ("max_connections", "1000000"),
    ("new_eips", "1"),
];

/// A run through steps 1 and 2, waiting at step 3.
async fn at_route_step(app: &TestApp) -> (Browser, String) {
    let mut olga = app.signed_in("olga", Role::Operator).await;
    let id = start(app, &mut olga).await;
    step(app, &mut olga, &id, 1, &[]).await;
    step(app, &mut olga, &id, 2, &NAT).await;
    (olga, id)
}

#[tokio::test]
async fn the_route_step_shows_each_tables_subnets_routes_change_and_whose_egress_flips() {
    let app = TestApp::start().await;
    let (mut olga, id) = at_route_step(&app).await;
    let nat_id = app.sim.handle().nat_gateways("vpc-tut0rial")[0].id.clone();
    let page = olga.get(&format!("/runs/{id}/step/3")).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let table = "section.route-table[data-route-table=rtb-default0]";
    let mut subnets = page.texts(&format!("{table} table.subnets tbody td:first-child"));
    subnets.sort();
    assert_eq!(subnets, ["subnet-app00001", "subnet-web00001"]);
    let routes = page.text(&format!("{table} table.routes tbody"));
    assert!(
        routes.contains("172.16.0.0/16")
            && routes.contains("CVM 10.0.2.11")
            && !routes.contains("NORMAL_CVM")
            && routes.contains("added by a user"),
        "{routes}"
    );
    // No default route to replace: no consent to ask for.
    assert_eq!(page.count("#replace-default"), 0);
    assert_eq!(page.count("#no-default-routes"), 1);
    assert_eq!(
        page.attr(&format!("{table} .planned-change"), "data-change")
            .as_deref(),
        Some("create")
    );
    assert!(
        page.text(&format!("{table} .planned-change"))
            .contains(&nat_id)
    );
    assert_eq!(page.count(&format!("{table} table.flips tr.flip")), 7);
    assert_eq!(
        page.attr(&format!("{table} tr.protected-flip"), "data-instance-id")
            .as_deref(),
        Some("ins-fr0ntend")
    );
    let advice = page.text(&format!("{table} .keep-egress"));
    assert!(
        advice.contains("Own subnet and route table") && advice.contains("EIP-type route"),
        "{advice}"
    );
    assert_eq!(page.count(".consent-needed"), 0);
}

#[tokio::test]
async fn an_existing_default_route_needs_consent_and_the_old_route_is_shown() {
    let app = TestApp::start().await;
    app.sim.handle().with_world(|w| {
        let table = w.route_tables.values_mut().next().unwrap();
        let mut default = table.routes[0].clone();
        default.destination = "0.0.0.0/0".into();
        default.gateway_id = "10.0.2.30".into();
        default.description = "egress through the legacy proxy".into();
        table.routes.push(default);
    });
    let (mut olga, id) = at_route_step(&app).await;
    let table = "section.route-table[data-route-table=rtb-default0]";
    let page = olga.get(&format!("/runs/{id}/step/3")).await;
    assert_eq!(
        page.attr(&format!("{table} .planned-change"), "data-change")
            .as_deref(),
        Some("blocked"),
        "{}",
        page.body
    );
    assert_eq!(page.count(&format!("{table} .consent-needed")), 1);
    assert!(
        page.text(&format!("{table} tr.default-route"))
            .contains("CVM 10.0.2.30")
    );
    assert_eq!(page.count("#replace-default:not([checked])"), 1);

    // Confirming the plan shown (its digest), without consent: blocked, nothing changes.
    let shown = digest(&page);
    let refused = olga
        .post(
            &format!("/runs/{id}/step/3/confirm"),
            &[("plan_digest", &shown)],
        )
        .await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.body);
    assert!(refused.text("#step-errors").contains("rtb-default0"));

    let consent = [("replace_existing_default", "1")];
    let preview = olga
        .post(&format!("/runs/{id}/step/3/plan"), &consent)
        .await;
    assert_eq!(
        preview
            .attr(&format!("{table} .planned-change"), "data-change")
            .as_deref(),
        Some("replace")
    );
    assert!(
        preview
            .text(&format!("{table} .old-route"))
            .contains("CVM 10.0.2.30")
    );
    assert_eq!(preview.count("#replace-default[checked]"), 1);
    // The plan's change and its undo name the old next hop as the instance it is.
    let named = "CVM 10.0.2.30 (ins-legacy01 legacy-batch";
    assert!(
        preview.text("#plan-changes").contains(named),
        "{}",
        preview.text("#plan-changes")
    );
    assert!(
        preview.text("#plan-undo").contains(named),
        "{}",
        preview.text("#plan-undo")
    );

    // Once applied, the page shows the plan as it was confirmed.
    step(&app, &mut olga, &id, 3, &consent).await;
    let after = olga.get(&format!("/runs/{id}/step/3")).await;
    assert!(after.text("#route-tables").contains("as confirmed"));
    assert_eq!(
        after
            .attr(&format!("{table} .planned-change"), "data-change")
            .as_deref(),
        Some("replace")
    );
}

/// The digest of the plan a page shows, as its confirm button would send it.
fn digest(page: &crate::harness::Page) -> String {
    page.attr("#step-form input[name=plan_digest]", "value")
        .expect("the page shows a plan")
}

#[tokio::test]
async fn a_plan_that_changed_in_the_cloud_since_the_preview_is_shown_again_not_applied() {
    let app = TestApp::start().await;
    let (mut olga, id) = at_route_step(&app).await;
    let page = olga.get(&format!("/runs/{id}/step/3")).await;
    let previewed = digest(&page);
    let moved = "section.route-table[data-route-table=rtb-moved000]";
    assert_eq!(page.count(moved), 0);

    // Between preview and confirm, someone moves a worker into a subnet of a new route table:
    // that table would get a route too, which the operator was not shown.
    move_worker_to_a_new_route_table(&app);
    let confirm = format!("/runs/{id}/step/3/confirm");
    let refused = olga.post(&confirm, &[("plan_digest", &previewed)]).await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.body);
    assert!(
        refused
            .text("#step-errors")
            .contains("not the one previewed"),
        "{}",
        refused.body
    );
    assert_eq!(
        refused
            .attr(&format!("{moved} .planned-change"), "data-change")
            .as_deref(),
        Some("create")
    );
    assert_eq!(
        refused
            .attr(&format!("{moved} tr.flip"), "data-instance-id")
            .as_deref(),
        Some("ins-worker01")
    );
    let now = digest(&refused);
    assert_ne!(now, previewed);
    assert_eq!(ledgered(&app, &id, "CreateRoutes").await, 0);

    let done = olga.post(&confirm, &[("plan_digest", &now)]).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    app.settle(&id).await;
    assert_eq!(
        ledgered(&app, &id, "CreateRoutes").await,
        2,
        "one route per table"
    );
}

/// How many calls of `action` the run's API-call ledger holds.
/// Moves `ins-worker01` into a new subnet of a new route table `rtb-moved000` (no routes): a
/// cloud change the per-table step 3 plan sees.
pub fn move_worker_to_a_new_route_table(app: &TestApp) {
    app.sim.handle().with_world(|w| {
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

async fn ledgered(app: &TestApp, run: &str, action: &str) -> usize {
    let id = run.parse().unwrap();
    natpilot::store::ledger::list(app.store().readers(), id, 0, 100_000)
        .await
        .unwrap()
        .iter()
        .filter(|c| c.action == action)
        .count()
}

#[tokio::test]
async fn a_visit_to_the_route_step_observes_the_vpc_once_for_the_plan_and_the_breakdown() {
    let app = TestApp::start().await;
    let (mut olga, id) = at_route_step(&app).await;
    let before = ledgered(&app, &id, "DescribeRouteTables").await;
    let page = olga.get(&format!("/runs/{id}/step/3")).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert_eq!(page.count("section.route-table"), 1);
    assert_eq!(
        ledgered(&app, &id, "DescribeRouteTables").await - before,
        1,
        "one inventory serves the preview and the per-table breakdown"
    );
}
