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
