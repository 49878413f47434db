//! The estate page's trend (issue 13 item 3): after two scans with a server given a public IP
//! between them, the page draws both series as an SVG and lists the figures per scan; with a
//! single scan it says the trend comes after the next one.

use natpilot::store::users::Role;

use crate::harness::TestApp;

async fn scan_now(app: &TestApp) {
    natpilot::estate::scan::scan_all(app.store(), &app.app.state.accounts, "test")
        .await
        .unwrap();
}

#[tokio::test]
async fn two_scans_draw_the_estates_exposure_over_time() {
    let app = TestApp::start().await;
    let mut vera = app.signed_in("vera", Role::Viewer).await;
    let none = vera.get("/estate").await;
    assert_eq!(none.count("#estate-trend"), 0);
    assert_eq!(none.count("#trend-later"), 0);

    scan_now(&app).await;
    let one = vera.get("/estate").await;
    assert_eq!(one.count("#estate-trend"), 0);
    assert_eq!(one.count("#trend-later"), 1);
    let before: i64 = one.text("#total-eip").parse::<i64>().unwrap()
        + one.text("#total-ordinary").parse::<i64>().unwrap();

    // A server with an ordinary public IP appears behind natpilot's back; the next scan counts it.
    app.sim.handle().with_world(|w| {
        let mut i = w.instance("ins-backend1").unwrap().clone();
        i.id = "ins-n3wpub1c".into();
        i.name = "made-in-the-console".into();
        i.private_ip = "10.0.2.98".into();
        i.public_ip = Some("119.28.77.78".into());
        w.push_instance(i);
    });
    scan_now(&app).await;
    let two = vera.get("/estate").await;
    assert_eq!(two.count("#estate-trend svg polyline#trend-public"), 1);
    assert_eq!(two.count("#estate-trend svg polyline#trend-unbound"), 1);
    let points = two
        .attr("#trend-public", "points")
        .unwrap()
        .split(' ')
        .count();
    assert_eq!(points, 2);
    // Newest first in the table: the second scan counts one more server with a public IP.
    let figures: Vec<i64> = two
        .texts("#trend-table .trend-public")
        .iter()
        .map(|t| t.parse().unwrap())
        .collect();
    assert_eq!(figures, [before + 1, before]);
    assert!(
        two.text("#trend-desc")
            .contains(&format!("went from {before} on")),
        "{}",
        two.text("#trend-desc")
    );
}
