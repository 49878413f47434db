//! Step pages observe the VPC once per step (a snapshot shared by show, preview, paging and
//! filters), say when, and observe again on Refresh; confirm always observes afresh and
//! applies only the plan the operator was shown.

use natpilot::store::users::Role;
use reqwest::StatusCode;

use crate::harness::{Browser, Page, TestApp};
use crate::route_step::move_worker_to_a_new_route_table;
use crate::wizard::{start, step};

const NAT: [(&str, &str); 4] = [
    ("name", "egress-nat"),
    ("bandwidth_mbps", "100"),
    ("max_connections", "1000000"),
    ("new_eips", "1"),
];

/// The read calls an inventory of the VPC makes.
const DESCRIBES: [&str; 6] = [
    "DescribeSubnets",
    "DescribeRouteTables",
    "DescribeInstances",
    "DescribeAddresses",
    "DescribeNatGateways",
    "DescribeAutomationAgentStatus",
];

/// How many Describe calls of an inventory the simulator has executed so far.
fn describes(app: &TestApp) -> u64 {
    let sim = app.sim.handle();
    DESCRIBES.iter().map(|a| sim.executed(a)).sum()
}

/// A run through steps 1 and 2, waiting at step 3.
async fn at_route_step(app: &TestApp) -> (Browser, String) {
    let mut olga = app.signed_in("olga", Role::Operator).await;
    let id = start(app, &mut olga).await;
    step(app, &mut olga, &id, 1, &[]).await;
    step(app, &mut olga, &id, 2, &NAT).await;
    (olga, id)
}

fn digest(page: &Page) -> String {
    page.attr("#step-form input[name=plan_digest]", "value")
        .expect("the page shows a plan")
}

#[tokio::test]
async fn views_of_a_step_share_one_observation_until_the_operator_refreshes_it() {
    let app = TestApp::start().await;
    let (mut olga, id) = at_route_step(&app).await;
    let page = format!("/runs/{id}/step/3");
    let before = describes(&app);

    let first = olga.get(&page).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    let one = describes(&app) - before;
    assert!(one >= 3, "the first view observes the VPC ({one} calls)");
    assert!(first.text("#observed").contains("Cloud observed at"));
    let taken = first.attr("#observed-at", "datetime").unwrap();

    // Show again, preview, and the same page with a query: no new observation.
    olga.get(&page).await;
    let preview = olga.post(&format!("{page}/plan"), &[]).await;
    assert_eq!(preview.status, StatusCode::OK, "{}", preview.body);
    olga.get(&format!("{page}?sort=name")).await;
    assert_eq!(
        describes(&app) - before,
        one,
        "later views reuse the snapshot"
    );
    assert_eq!(
        preview.attr("#observed-at", "datetime"),
        Some(taken.clone())
    );

    let refreshed = olga.post(&format!("{page}/refresh"), &[]).await;
    assert_eq!(
        refreshed.status,
        StatusCode::SEE_OTHER,
        "{}",
        refreshed.body
    );
    assert_eq!(refreshed.location().as_deref(), Some(page.as_str()));
    assert_eq!(describes(&app) - before, 2 * one, "refresh observes again");
    let after = olga.get(&page).await;
    assert_eq!(describes(&app) - before, 2 * one);
    let retaken = after.attr("#observed-at", "datetime").unwrap();
    let at = |t: &str| chrono::DateTime::parse_from_rfc3339(t).unwrap();
    assert!(at(&retaken) > at(&taken), "{retaken} is not after {taken}");

    // A viewer sees when, but may not make the run observe again.
    let mut vera = app.signed_in("vera", Role::Viewer).await;
    let seen = vera.get(&page).await;
    assert_eq!(seen.attr("#observed-at", "datetime"), Some(retaken));
    assert_eq!(seen.count("#refresh-observation"), 0);
    let refused = vera.post(&format!("{page}/refresh"), &[]).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(describes(&app) - before, 2 * one);
}

#[tokio::test]
async fn confirm_observes_afresh_and_a_cloud_changed_since_the_snapshot_is_shown_not_applied() {
    let app = TestApp::start().await;
    let (mut olga, id) = at_route_step(&app).await;
    let page = format!("/runs/{id}/step/3");
    // The route table an instance moves to after the snapshot (the plan is per route table).
    let moved = "[data-route-table=rtb-moved000]";
    let before = describes(&app);
    let shown = olga.get(&page).await;
    let one = describes(&app) - before;
    let previewed = digest(&shown);

    // The cloud changes after the snapshot: the pages still show the snapshot...
    move_worker_to_a_new_route_table(&app);
    let again = olga.get(&page).await;
    assert_eq!(again.count(moved), 0, "the page still shows the snapshot");
    assert_eq!(digest(&again), previewed);

    // ...but confirm observes the cloud itself, finds another plan and shows it, unapplied.
    let confirm = format!("{page}/confirm");
    let refused = olga.post(&confirm, &[("plan_digest", &previewed)]).await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.body);
    assert!(
        refused
            .text("#step-errors")
            .contains("not the one previewed"),
        "{}",
        refused.body
    );
    assert_eq!(describes(&app) - before, 2 * one, "confirm observed afresh");
    assert_eq!(
        refused.count(moved),
        1,
        "the refused confirm shows the VPC as it is now"
    );
    let now = digest(&refused);
    assert_ne!(now, previewed);
    assert_eq!(app.sim.handle().executed("CreateRoutes"), 0);

    // Confirm's observation is what the pages show from now on.
    let current = olga.get(&page).await;
    assert_eq!(current.count(moved), 1);
    assert_eq!(describes(&app) - before, 2 * one);

    let done = olga.post(&confirm, &[("plan_digest", &now)]).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    app.settle(&id).await;
    // One route per table that had none: the tutorial's and the new one.
    assert_eq!(app.sim.handle().executed("CreateRoutes"), 2);

    // The run moved on: step 4's first view observes the VPC as the route left it.
    let at_step4 = describes(&app);
    let verify = olga.get(&format!("/runs/{id}/step/4")).await;
    assert_eq!(verify.status, StatusCode::OK, "{}", verify.body);
    assert!(
        describes(&app) > at_step4,
        "the next step takes its own snapshot"
    );
}
