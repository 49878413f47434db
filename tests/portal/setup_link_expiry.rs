//! Issue 10, defect 5: the setup link expires (`WebSettings::setup_link_ttl`, one hour by
//! default); a restart prints a new one.

use std::time::Duration;

use natpilot::web::settings::WebSettings;
use reqwest::StatusCode;

use crate::harness::TestApp;

#[tokio::test]
async fn an_expired_setup_link_is_refused_and_says_how_to_get_a_new_one() {
    let app = TestApp::start_with(WebSettings {
        setup_link_ttl: Duration::ZERO,
        ..Default::default()
    })
    .await;
    let setup = app.app.setup_path.clone().unwrap();
    let mut b = app.browser();
    let page = b.get(&setup).await;
    assert_eq!(page.status, StatusCode::NOT_FOUND, "{}", page.body);
    let detail = page.text("#error-detail");
    assert!(
        detail.contains("expired") && detail.contains("Restart natpilot"),
        "{detail}"
    );
    b.get("/login").await;
    let post = b.submit_setup(&setup, "root").await;
    assert_eq!(post.status, StatusCode::NOT_FOUND);
    assert!(b.cookie.is_none());
}

#[test]
fn the_default_setup_link_lasts_an_hour() {
    assert_eq!(
        WebSettings::default().setup_link_ttl,
        Duration::from_secs(3600)
    );
}
