//! The new-run page: the only VPC of a region is preselected; "Start" on a busy VPC says it
//! is busy, links to the run that holds it and keeps what was chosen.

use natpilot::store::users::Role;
use reqwest::StatusCode;

use crate::harness::TestApp;
use crate::wizard::start;

const VPC: &str = "vpc-tut0rial";

#[tokio::test]
async fn the_only_vpc_is_preselected_and_a_busy_one_links_to_its_run() {
    let app = TestApp::start().await;
    let mut olga = app.signed_in("olga", Role::Operator).await;
    let page = olga.get("/runs/new").await;
    assert_eq!(page.count("#vpcs input[name=vpc_id]"), 1, "{}", page.body);
    assert_eq!(
        page.attr("#vpcs input[name=vpc_id][checked]", "value")
            .as_deref(),
        Some(VPC)
    );

    let held = start(&app, &mut olga).await;
    let mut ivan = app.signed_in("ivan", Role::Operator).await;
    let page = ivan.get("/runs/new").await;
    assert_eq!(
        page.attr("#vpcs .vpc-holder a.holder-run", "href"),
        Some(format!("/runs/{held}"))
    );
    let region = page
        .attr("#new-run-form input[name=region]", "value")
        .unwrap();
    let refused = ivan
        .post("/runs", &[("region", &region), ("vpc_id", VPC)])
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    let said = refused.text("#new-run-error");
    assert!(said.contains(&format!("VPC {VPC} is busy")), "{said}");
    assert!(said.contains("olga"), "{said}");
    assert_eq!(
        refused.attr("#busy-run", "href"),
        Some(format!("/runs/{held}"))
    );
    assert_eq!(
        refused
            .attr("#vpcs input[name=vpc_id][checked]", "value")
            .as_deref(),
        Some(VPC)
    );
    assert_eq!(
        refused.attr("#new-run-form input[name=region]", "value"),
        Some(region)
    );
}
