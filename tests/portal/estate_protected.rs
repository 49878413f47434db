//! The estate page's VPC rows grouped account → region with subtotals, and the protected
//! hosts each scan counts (issue 13 item 3): tagged `natpilot:protected=true`, or protected in
//! step 1 of the VPC's newest run (the tutorial's frontend, protected by its DNS record).

use natpilot::sim::world::Tag;
use natpilot::store::users::Role;

use crate::harness::{Page, TestApp};
use crate::wizard::start;

const ROW: &str = "tr.estate-vpc[data-account='simulated'][data-vpc='vpc-tut0rial']";

async fn scanned_page(app: &TestApp, b: &mut crate::harness::Browser) -> Page {
    natpilot::estate::scan::scan_all(app.store(), &app.app.state.accounts, "test")
        .await
        .unwrap();
    b.get("/estate").await
}

#[tokio::test]
async fn protected_hosts_are_counted_per_vpc_by_tag_and_by_the_newest_run_in_grouped_rows() {
    let app = TestApp::start().await;
    // backend-1 (an ordinary public IP) carries the protection tag.
    app.sim.handle().with_world(|w| {
        w.instance_mut("ins-backend1").unwrap().tags.push(Tag {
            key: "natpilot:protected".into(),
            value: "TRUE".into(),
        });
    });
    let mut olga = app.signed_in("olga", Role::Operator).await;
    let page = scanned_page(&app, &mut olga).await;
    assert_eq!(
        page.text(&format!("{ROW} .vpc-protected")),
        "1",
        "{}",
        page.body
    );
    assert_eq!(page.text("#total-protected"), "1");
    // Grouped: one account heading, one region heading, each with its subtotal, before the row.
    assert_eq!(page.count("tr.estate-account[data-account='simulated']"), 1);
    let region = "tr.estate-region[data-account='simulated'][data-region='ap-guangzhou']";
    assert_eq!(page.count(region), 1, "{}", page.body);
    let eip: i64 = page.text(&format!("{ROW} .vpc-eip")).parse().unwrap();
    let ordinary: i64 = page.text(&format!("{ROW} .vpc-ordinary")).parse().unwrap();
    assert_eq!(
        page.text(&format!("{region} .group-subtotal")),
        format!(
            "1 VPC · {} public IPs ({eip} EIP, {ordinary} ordinary) · 1 protected · 0 of 1 routed through NAT",
            eip + ordinary
        )
    );
    // A run's step 1 protects the frontend (its IP backs a DNS record): the next scan counts it.
    let id = start(&app, &mut olga).await;
    let step1 = olga.get(&format!("/runs/{id}/step/1")).await;
    assert_eq!(
        step1.text("#row-ins-fr0ntend .protected-state"),
        "protected",
        "{}",
        step1.body
    );
    let page = scanned_page(&app, &mut olga).await;
    assert_eq!(
        page.text(&format!("{ROW} .vpc-protected")),
        "2",
        "{}",
        page.body
    );
    assert_eq!(page.text("#total-protected"), "2");
    assert!(
        page.text("tr.estate-account[data-account='simulated'] .group-subtotal")
            .contains("· 2 protected ·")
    );
    // The scan's snapshot names why each is protected (drift reads the same JSON strictly).
    let scans = natpilot::store::estate::latest_scans(app.store().readers())
        .await
        .unwrap();
    let vpcs = natpilot::store::estate::vpcs_of(app.store().readers(), scans[0].id)
        .await
        .unwrap();
    let hosts: Vec<serde_json::Value> = serde_json::from_str(&vpcs[0].public_hosts).unwrap();
    let why = |id: &str| {
        hosts
            .iter()
            .find(|h| h["instance_id"] == id)
            .map(|h| h["protected"].clone())
            .unwrap()
    };
    assert_eq!(why("ins-backend1"), "tag");
    assert_eq!(why("ins-fr0ntend"), "run");
    assert_eq!(why("ins-worker01"), serde_json::Value::Null);
}

#[tokio::test]
async fn a_vpc_scanned_before_protected_hosts_were_counted_says_so_instead_of_zero() {
    let app = TestApp::start().await;
    let mut olga = app.signed_in("olga", Role::Operator).await;
    scanned_page(&app, &mut olga).await;
    // As a row written by a scan of an older natpilot reads after migration 0330.
    natpilot::store::sql::query("UPDATE estate_vpcs SET protected_hosts = -1")
        .execute(app.store().writer())
        .await
        .unwrap();
    let page = olga.get("/estate").await;
    assert_eq!(page.text(&format!("{ROW} .vpc-protected")), "not counted");
    assert!(
        page.text("#total-protected").contains("1 VPC not counted"),
        "{}",
        page.body
    );
}
