//! Issue 10: the client address (throttling, audit) comes from `X-Forwarded-For` only
//! behind a proxy listed in `security.trusted_proxies`.

use natpilot::{
    config::{Config, Overrides},
    store::{self, audit::AuditFilter, users::Role},
    web::settings::WebSettings,
};

use crate::harness::TestApp;

async fn failed_login_ip(app: &TestApp, xff: &str) -> String {
    let mut b = app.browser();
    b.get("/login").await;
    let req = reqwest::Client::new()
        .post(b.url("/login"))
        .header(reqwest::header::COOKIE, b.cookie_header())
        .header(reqwest::header::ORIGIN, b.url(""))
        .header("x-forwarded-for", xff)
        .form(&[
            ("name", "olga"),
            ("password", "wrong password"),
            ("csrf_token", &b.csrf.clone().unwrap()),
        ]);
    assert_eq!(req.send().await.unwrap().status(), 401);
    let filter = AuditFilter {
        action: Some("login.failed".into()),
        ..Default::default()
    };
    let entries = store::audit::list(app.store().readers(), &filter, 1)
        .await
        .unwrap();
    entries[0].ip.clone()
}

#[tokio::test]
async fn forwarded_for_is_ignored_without_trusted_proxies() {
    let app = TestApp::start().await;
    app.user("olga", Role::Operator).await;
    assert_eq!(failed_login_ip(&app, "203.0.113.9").await, "127.0.0.1");
}

#[tokio::test]
async fn behind_a_trusted_proxy_the_right_most_untrusted_address_is_audited() {
    let app = TestApp::start_with(WebSettings {
        trusted_proxies: vec![
            "127.0.0.1/32".parse().unwrap(),
            "10.0.0.0/8".parse().unwrap(),
        ],
        ..Default::default()
    })
    .await;
    app.user("olga", Role::Operator).await;
    let ip = failed_login_ip(&app, "198.51.100.1, 203.0.113.9, 10.1.2.3").await;
    assert_eq!(ip, "203.0.113.9");
}

#[test]
fn a_bad_trusted_proxy_names_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("natpilot.toml");
    std::fs::write(
        &path,
        "[security]\ntrusted_proxies = [\"10.0.0.0/8\", \"proxy.local\"]\n",
    )
    .unwrap();
    let err = Config::load_from(Some(&path), Vec::new(), &Overrides::default())
        .unwrap_err()
        .to_string();
    assert!(err.contains("trusted_proxies"), "{err}");
    assert!(err.contains("proxy.local"), "{err}");
    std::fs::write(
        &path,
        "[security]\ntrusted_proxies = [\"10.0.0.0/8\", \"::1\"]\n",
    )
    .unwrap();
    let ok = Config::load_from(Some(&path), Vec::new(), &Overrides::default()).unwrap();
    assert_eq!(ok.security.trusted_proxies.len(), 2);
}
