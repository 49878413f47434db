//! The app skeleton: health check, static assets, error pages, headers, metrics, banner.

use natpilot::{store::users::Role, web::headers::CSP};
use reqwest::StatusCode;

use crate::harness::TestApp;

#[tokio::test]
async fn healthz_answers_without_a_session() {
    let app = TestApp::start().await;
    let page = app.browser().get("/healthz").await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(page.body, "ok");
}

#[tokio::test]
async fn healthz_says_503_with_the_reason_once_the_database_stops_answering() {
    let app = TestApp::start().await;
    let mut b = app.browser();
    assert_eq!(b.get("/healthz").await.status, StatusCode::OK);
    // The database goes away under the running portal (as a store on a lost disk would).
    app.store().readers().close().await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let page = b.get("/healthz").await;
        if page.status == StatusCode::SERVICE_UNAVAILABLE {
            assert!(
                page.text("main").contains("store unreachable: the readers"),
                "{}",
                page.body
            );
            break;
        }
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        assert!(
            std::time::Instant::now() < deadline,
            "/healthz never noticed"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn static_assets_are_embedded_and_served_with_their_types() {
    let app = TestApp::start().await;
    let mut b = app.browser();
    let css = b.get("/static/app.css").await;
    assert_eq!(css.status, StatusCode::OK);
    assert!(
        css.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/css")
    );
    assert!(css.body.contains("prefers-color-scheme: dark"));
    let htmx = b.get("/static/vendor/htmx-2.0.11.min.js").await;
    assert_eq!(htmx.status, StatusCode::OK);
    assert!(
        htmx.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/javascript")
    );
    let sse = b.get("/static/vendor/htmx-ext-sse-2.2.4.min.js").await;
    assert_eq!(sse.status, StatusCode::OK);
    assert_eq!(b.get("/static/nope.js").await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn unknown_pages_get_a_helpful_404_page_with_the_cloud_banner() {
    let app = TestApp::start().await;
    let page = app.browser().get("/no/such/page").await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    assert_eq!(page.text("#error-title"), "Not found");
    assert!(page.text("#error-detail").contains("dashboard"));
    assert!(page.text("#cloud-banner").contains("Simulated cloud"));
}

#[tokio::test]
async fn internal_errors_show_the_request_id_and_never_the_error_text() {
    let app = TestApp::start().await;
    let mut admin = app.signed_in("root", Role::Admin).await;
    // Break the database under the app: the users page then fails inside sqlx.
    app.store().readers().close().await;
    let page = admin.get("/admin/users").await;
    assert_eq!(page.status, StatusCode::INTERNAL_SERVER_ERROR);
    let shown_id = page.text("#request-id");
    assert_eq!(page.headers["x-request-id"].to_str().unwrap(), shown_id);
    assert!(
        !page.body.to_lowercase().contains("pool"),
        "error text leaked: {}",
        page.body
    );
    assert!(!page.body.contains("sqlx"));
}

#[tokio::test]
async fn every_response_carries_the_security_headers() {
    let app = TestApp::start().await;
    let mut b = app.browser();
    for path in ["/login", "/healthz", "/nope", "/static/app.css"] {
        let page = b.get(path).await;
        let h = &page.headers;
        assert_eq!(h["content-security-policy"], CSP, "{path}");
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(h["referrer-policy"], "same-origin", "{path}");
        assert!(
            h.get("strict-transport-security").is_none(),
            "no HSTS over plain HTTP"
        );
    }
    assert!(!CSP.contains("unsafe-inline"));
    assert!(CSP.contains("frame-ancestors 'none'"));
}

#[tokio::test]
async fn pages_have_no_inline_scripts_or_styles() {
    let app = TestApp::start().await;
    let mut admin = app.signed_in("root", Role::Admin).await;
    for path in ["/", "/admin/users", "/login", "/nope"] {
        let page = admin.get(path).await;
        assert_eq!(
            page.count("script:not([src])"),
            0,
            "{path} has an inline script"
        );
        assert_eq!(page.count("style"), 0, "{path} has a style element");
        assert_eq!(page.count("[style]"), 0, "{path} has a style attribute");
        assert_eq!(
            page.count("[onclick], [onload], [onsubmit]"),
            0,
            "{path} has a handler attribute"
        );
    }
}

#[tokio::test]
async fn metrics_count_requests_by_route_template_on_their_own_listener() {
    let app = TestApp::start().await;
    let mut b = app.browser();
    b.get("/static/app.css").await;
    b.get("/static/favicon.svg").await;
    b.get("/nope/1").await;
    let metrics_url = format!("http://{}/metrics", app.app.metrics_addr.unwrap());
    let body = reqwest::get(&metrics_url)
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        body.contains(
            r#"natpilot_http_requests_total{method="GET",route="/static/{*path}",status="200"} 2"#
        ),
        "{body}"
    );
    assert!(
        body.contains(r#"route="unmatched",status="404"} 1"#),
        "{body}"
    );
    // The portal itself does not serve metrics.
    assert_eq!(b.get("/metrics").await.status, StatusCode::NOT_FOUND);
}
