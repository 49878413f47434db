//! Issue 10, "Also" (ASVS 5.0 L2): `__Host-` session cookie over HTTPS, no session row for
//! an anonymous sign-in page (its CSRF protection kept), safe request ids, audited
//! refusals, read-only views outside the run's ledger.

use natpilot::{
    store::{self, users::Role},
    web::settings::WebSettings,
};
use reqwest::{StatusCode, header};

use crate::harness::{PASSWORD, TestApp};
use crate::wizard::start;

async fn session_rows(app: &TestApp) -> i64 {
    natpilot::store::sql::query_scalar("SELECT COUNT(*) FROM sessions")
        .fetch_one(app.store().readers())
        .await
        .unwrap()
}

#[tokio::test]
async fn over_https_the_session_cookie_has_the_host_prefix() {
    let app = TestApp::start_with(WebSettings {
        secure_cookies: true,
        ..Default::default()
    })
    .await;
    app.user("olga", Role::Operator).await;
    let mut b = app.browser();
    let page = b.login("olga", PASSWORD).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    let set: Vec<&str> = page
        .headers
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap())
        .collect();
    let session = set
        .iter()
        .find(|c| c.starts_with("__Host-natpilot_session="))
        .unwrap_or_else(|| panic!("no __Host- session cookie in {set:?}"));
    assert!(
        session.contains("; Secure") && session.contains("Path=/"),
        "{session}"
    );
    assert!(
        !session.to_ascii_lowercase().contains("domain="),
        "{session}"
    );
    assert!(
        set.iter().all(|c| !c.starts_with("natpilot_session=")),
        "{set:?}"
    );
    // And the browser is signed in with it.
    assert_eq!(b.get("/").await.status, StatusCode::OK);
}

#[tokio::test]
async fn an_anonymous_sign_in_page_writes_no_session_row_and_keeps_csrf() {
    let app = TestApp::start().await;
    app.user("olga", Role::Operator).await;
    for _ in 0..3 {
        assert_eq!(app.browser().get("/login").await.status, StatusCode::OK);
    }
    assert_eq!(session_rows(&app).await, 0);

    // A post without the pre-session cookie (a cross-site form cannot send it) is refused,
    // even with a form token copied from a page.
    let mut b = app.browser();
    b.get("/login").await;
    let token = b.csrf.clone().unwrap();
    let mut stranger = app.browser();
    stranger.csrf = Some(token);
    let refused = stranger
        .post("/login", &[("name", "olga"), ("password", PASSWORD)])
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    // A wrong token with the cookie is refused too.
    let mut forged = app.browser();
    forged.get("/login").await;
    forged.csrf = Some("0".repeat(64));
    let refused = forged
        .post("/login", &[("name", "olga"), ("password", PASSWORD)])
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(session_rows(&app).await, 0);

    // The real form works, and its pre-session cookie is cleared at sign-in.
    let ok = b
        .post("/login", &[("name", "olga"), ("password", PASSWORD)])
        .await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.body);
    assert!(b.jar.is_empty(), "pre-session cookie kept: {:?}", b.jar);
    assert_eq!(session_rows(&app).await, 1);
}

#[tokio::test]
async fn a_client_request_id_is_kept_only_when_short_and_safe() {
    let app = TestApp::start().await;
    let client = reqwest::Client::new();
    let answer = |id: &'static str| {
        client
            .get(app.app.url("/healthz"))
            .header("x-request-id", id)
            .send()
    };
    let kept = answer("abc-123.x:y_z").await.unwrap();
    assert_eq!(kept.headers()["x-request-id"], "abc-123.x:y_z");
    let long: &'static str = Box::leak("a".repeat(65).into_boxed_str());
    for hostile in ["evil id=forged level=ERROR", "\"quoted\"", long] {
        let resp = answer(hostile).await.unwrap();
        let id = resp.headers()["x-request-id"].to_str().unwrap().to_owned();
        assert_ne!(id, hostile);
        assert!(
            (1..=64).contains(&id.len())
                && id
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"._:-".contains(&b)),
            "{id}"
        );
    }
    let logs = String::from_utf8_lossy(&crate::harness::captured_logs()).into_owned();
    assert!(
        !logs.contains("evil id=forged"),
        "a hostile id reached the log"
    );
}

#[tokio::test]
async fn refused_requests_are_audited_with_user_path_reason_and_ip() {
    let app = TestApp::start().await;
    let mut vera = app.signed_in("vera", Role::Viewer).await;
    vera.get("/").await;
    assert_eq!(vera.post("/runs", &[]).await.status, StatusCode::FORBIDDEN);
    let cross = reqwest::Client::new()
        .post(vera.url("/logout"))
        .header(header::COOKIE, vera.cookie_header())
        .header(header::ORIGIN, "https://evil.example")
        .form(&[("csrf_token", vera.csrf.clone().unwrap())])
        .send()
        .await
        .unwrap();
    assert_eq!(cross.status(), StatusCode::FORBIDDEN);
    let mut anon = app.browser();
    assert_eq!(
        anon.post("/login", &[("name", "x")]).await.status,
        StatusCode::FORBIDDEN
    );

    let entries = app.audited("request.refused").await;
    let find = |reason: &str| {
        entries
            .iter()
            .find(|e| {
                e.details["reason"]
                    .as_str()
                    .is_some_and(|r| r.starts_with(reason))
            })
            .unwrap_or_else(|| panic!("no refusal for {reason} in {entries:?}"))
    };
    let role = find("role");
    assert_eq!(
        (role.actor.as_str(), role.target.as_str()),
        ("vera", "/runs")
    );
    assert_eq!(role.ip, "127.0.0.1");
    assert_eq!(role.details["method"], "POST");
    let cross = find("cross-site");
    assert_eq!(
        (cross.actor.as_str(), cross.target.as_str()),
        ("vera", "/logout")
    );
    let csrf = find("csrf");
    assert_eq!((csrf.actor.as_str(), csrf.target.as_str()), ("", "/login"));
}

async fn ledger_rows(app: &TestApp, run: &str) -> usize {
    store::ledger::list(app.store().readers(), run.parse().unwrap(), 0, 100_000)
        .await
        .unwrap()
        .len()
}

#[tokio::test]
async fn viewing_a_runs_topology_or_terraform_adds_nothing_to_its_ledger() {
    let app = TestApp::start().await;
    let mut olga = app.signed_in("olga", Role::Operator).await;
    let id = start(&app, &mut olga).await;
    // Finish the run: an assessed run rolled back is over.
    olga.get(&format!("/runs/{id}")).await;
    let done = olga.post(&format!("/runs/{id}/rollback"), &[]).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    app.settle(&id).await;
    let run = store::runs::get(app.store().readers(), id.parse().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert!(!run.status.holds_vpc(), "the run is over: {:?}", run.status);
    let before = ledger_rows(&app, &id).await;
    assert!(before > 0, "the assessment's calls are in the ledger");
    let mut vera = app.signed_in("vera", Role::Viewer).await;
    let topology = vera.get(&format!("/runs/{id}/topology")).await;
    assert_eq!(topology.status, StatusCode::OK, "{}", topology.body);
    assert_eq!(topology.count("#topology-now svg"), 1);
    let tf = vera.get(&format!("/runs/{id}/terraform")).await;
    assert_eq!(tf.status, StatusCode::OK);
    assert_eq!(ledger_rows(&app, &id).await, before);
}

/// htmx settles swapped elements by copying attributes from the old element; `style` must not
/// be among them (issue 11: an extension that adds inline styles then trips the CSP).
#[tokio::test]
async fn htmx_is_configured_not_to_copy_style_attributes_or_inject_styles() {
    let app = TestApp::start().await;
    let mut b = app.signed_in("olga", Role::Viewer).await;
    let page = b.get("/").await;
    let raw = page
        .attr("meta[name=htmx-config]", "content")
        .expect("every page carries the htmx config");
    let config: serde_json::Value = serde_json::from_str(&raw).unwrap();
    assert_eq!(config["includeIndicatorStyles"], false);
    let settle: Vec<&str> = config["attributesToSettle"]
        .as_array()
        .expect("attributesToSettle is set explicitly (htmx's default includes style)")
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert!(!settle.contains(&"style"), "{settle:?}");
    assert!(settle.contains(&"class"));
}
