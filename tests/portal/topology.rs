//! The topology page: the VPC as the assessment recorded it ("before") next to the VPC now.

use natpilot::store::users::Role;
use reqwest::StatusCode;

use crate::harness::TestApp;
use crate::wizard::{start, step};

#[tokio::test]
async fn the_topology_page_draws_the_vpc_before_the_run_next_to_the_vpc_now() {
    let app = TestApp::start().await;
    let mut olga = app.signed_in("olga", Role::Operator).await;
    let id = start(&app, &mut olga).await;

    // Right after the assessment, before and now are the same picture.
    let early = olga.get(&format!("/runs/{id}/topology")).await;
    assert_eq!(early.status, StatusCode::OK, "{}", early.body);
    assert!(early.text("#topology-before-title").contains("assessed"));
    assert_eq!(early.count("#topology-before svg"), 1);
    assert_eq!(early.count("#topology-now svg"), 1);
    assert_eq!(early.count(".topology-change"), 0);

    step(&app, &mut olga, &id, 1, &[]).await;
    let nat = [
        ("name", "egress-nat"),
        ("bandwidth_mbps", "100"),
        ("max_connections", "1000000"),
        ("new_eips", "1"),
    ];
    step(&app, &mut olga, &id, 2, &nat).await;
    let nat_id = app.sim.handle().nat_gateways("vpc-tut0rial")[0].id.clone();
    let page = olga.get(&format!("/runs/{id}/topology")).await;
    assert_eq!(page.count("#topology-before svg g[data-nat]"), 0);
    assert_eq!(
        page.count(&format!("#topology-now svg g[data-nat={nat_id}]")),
        1,
        "{}",
        page.body
    );
    let changes = page.texts(".topology-change");
    assert!(
        changes
            .iter()
            .any(|c| c.starts_with(&format!("NAT gateway {nat_id} added"))),
        "{changes:?}"
    );
    // The instances still have their public IPs: nothing else changed yet.
    assert_eq!(changes.len(), 1, "{changes:?}");
}

#[tokio::test]
async fn views_of_the_topology_share_one_observation_until_refresh_or_the_run_moves() {
    let app = TestApp::start().await;
    let mut olga = app.signed_in("olga", Role::Operator).await;
    let id = start(&app, &mut olga).await;
    let observed = || app.sim.handle().executed("DescribeRouteTables");

    let first = olga.get(&format!("/runs/{id}/topology")).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    let at = first.attr("#observed-at", "datetime").unwrap();
    let after_first = observed();
    // The page again and the Terraform file: no new observation, the same time shown.
    let again = olga.get(&format!("/runs/{id}/topology")).await;
    assert_eq!(again.attr("#observed-at", "datetime").unwrap(), at);
    let tf = olga.get(&format!("/runs/{id}/terraform")).await;
    assert_eq!(tf.status, StatusCode::OK);
    assert_eq!(observed(), after_first);

    // Refresh observes again (and shows what the cloud says now).
    app.sim.handle().with_world(|w| {
        w.instance_mut("ins-worker01").unwrap().name = "renamed-by-someone".into();
    });
    let refreshed = olga
        .post(&format!("/runs/{id}/topology/refresh"), &[])
        .await;
    assert_eq!(
        refreshed.status,
        StatusCode::SEE_OTHER,
        "{}",
        refreshed.body
    );
    let page = olga.get(refreshed.location().as_deref().unwrap()).await;
    assert_eq!(observed(), after_first + 1);
    assert!(page.text("#topology-now").contains("renamed-by-someone"));

    // Once the run moves (step 1 confirmed), the next view observes again by itself.
    step(&app, &mut olga, &id, 1, &[]).await;
    let before_view = observed();
    olga.get(&format!("/runs/{id}/topology")).await;
    assert_eq!(observed(), before_view + 1);
}
