//! Issue 6: authentication, authorization from the one route table, CSRF, sessions,
//! throttling, escaping, and no secrets at rest.

use std::time::Duration;

use natpilot::{
    store::users::Role,
    web::{
        self,
        routes::{Access, RouteSpec},
        settings::WebSettings,
    },
};
use reqwest::{StatusCode, header};

use crate::harness::{Browser, PASSWORD, TestApp, captured_logs};

/// A concrete path for a route template (any value will do for the parameters).
fn concrete(spec: &RouteSpec) -> String {
    spec.path
        .split('/')
        .map(|seg| if seg.starts_with('{') { "x1" } else { seg })
        .collect::<Vec<_>>()
        .join("/")
}

/// Mutating routes a viewer may use: signing out and their own account.
/// Mutations every signed-in user makes on their own account (API tokens: their own, never
/// above their role; checked in `tests/portal/api.rs`).
const VIEWER_MUTATIONS: &[&str] = &[
    "/logout",
    "/account/password",
    "/account/sessions/end",
    "/account/tokens",
    "/account/tokens/{id}/revoke",
];

#[tokio::test]
async fn anonymous_requests_to_every_protected_route_are_sent_to_login_or_refused() {
    let app = TestApp::start().await;
    let mut anon = app.browser();
    let table = web::route_table();
    assert!(table.len() > 5);
    for spec in table.iter().filter(|s| s.access != Access::Open) {
        let page = if spec.is_mutating() {
            anon.post(&concrete(spec), &[]).await
        } else {
            anon.get(&concrete(spec)).await
        };
        let redirected = page.status == StatusCode::SEE_OTHER
            && page.location().is_some_and(|l| l.starts_with("/login"));
        assert!(
            redirected || page.status == StatusCode::FORBIDDEN,
            "{} {} answered {} to an anonymous visitor",
            spec.method,
            spec.path,
            page.status
        );
    }
}

#[tokio::test]
async fn only_login_healthz_setup_and_static_files_are_open() {
    let open: Vec<_> = web::route_table()
        .into_iter()
        .filter(|s| s.access == Access::Open)
        .map(|s| s.path)
        .collect();
    for path in &open {
        assert!(
            [
                "/login",
                "/healthz",
                "/static/{*path}",
                "/setup/{token}",
                "/auth/oidc/start",
                "/auth/oidc/callback"
            ]
            .contains(path),
            "{path} is open without a session"
        );
    }
}

#[tokio::test]
async fn a_viewer_gets_403_on_every_mutating_route() {
    let app = TestApp::start().await;
    let mut viewer = app.signed_in("vera", Role::Viewer).await;
    viewer.get("/").await;
    for spec in web::route_table().iter().filter(|s| s.is_mutating()) {
        if spec.access == Access::Open || VIEWER_MUTATIONS.contains(&spec.path) {
            continue;
        }
        assert!(
            spec.access >= Access::Operator,
            "{} is mutating but open to viewers",
            spec.path
        );
        let page = viewer.post(&concrete(spec), &[]).await;
        assert_eq!(
            page.status,
            StatusCode::FORBIDDEN,
            "{} {}",
            spec.method,
            spec.path
        );
        assert!(page.text("#error-detail").contains("role"), "{}", page.body);
    }
}

#[tokio::test]
async fn a_viewer_gets_403_on_admin_pages() {
    let app = TestApp::start().await;
    let mut viewer = app.signed_in("vera", Role::Viewer).await;
    for spec in web::route_table()
        .iter()
        .filter(|s| s.access == Access::Admin && !s.is_mutating())
    {
        let page = viewer.get(&concrete(spec)).await;
        assert_eq!(page.status, StatusCode::FORBIDDEN, "{}", spec.path);
    }
}

#[tokio::test]
async fn cross_site_posts_are_rejected() {
    let app = TestApp::start().await;
    let mut admin = app.signed_in("root", Role::Admin).await;
    admin.get("/").await;
    let token = admin.csrf.clone().unwrap();
    let cookie = admin.cookie.clone().unwrap();
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let post = |origin: Option<&str>, site: Option<&str>, token: &str| {
        let mut req = client
            .post(admin.url("/logout"))
            .header(header::COOKIE, format!("natpilot_session={cookie}"))
            .form(&[("csrf_token", token)]);
        if let Some(o) = origin {
            req = req.header(header::ORIGIN, o);
        }
        if let Some(s) = site {
            req = req.header("sec-fetch-site", s);
        }
        req.send()
    };
    let evil = post(Some("https://evil.example"), None, &token)
        .await
        .unwrap();
    assert_eq!(evil.status(), StatusCode::FORBIDDEN);
    let cross = post(None, Some("cross-site"), &token).await.unwrap();
    assert_eq!(cross.status(), StatusCode::FORBIDDEN);
    let no_token = post(None, None, "").await.unwrap();
    assert_eq!(no_token.status(), StatusCode::FORBIDDEN);
    // The session survived all of that, and a proper same-origin post works.
    assert_eq!(admin.get("/").await.status, StatusCode::OK);
    let out = admin.post("/logout", &[]).await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    assert_eq!(admin.get("/").await.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn the_session_id_before_login_is_not_the_one_after() {
    let app = TestApp::start().await;
    app.user("olga", Role::Operator).await;
    let mut b = app.browser();
    b.get("/login").await;
    // The login page starts no session, only a pre-session cookie for its form token.
    assert_eq!(b.cookie, None);
    let before = b
        .jar
        .get("natpilot_presession")
        .cloned()
        .expect("a pre-session cookie");
    let page = b
        .post("/login", &[("name", "olga"), ("password", PASSWORD)])
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    let after = b.cookie.clone().unwrap();
    assert_ne!(before, after);
    // The pre-session value is no session id: replaying it as one gets nothing.
    let mut replay = app.browser();
    replay.cookie = Some(before);
    assert_eq!(replay.get("/").await.status, StatusCode::SEE_OTHER);
    assert_eq!(b.get("/").await.status, StatusCode::OK);
}

#[tokio::test]
async fn session_cookies_are_http_only_and_same_site_strict() {
    let app = TestApp::start().await;
    let page = app.browser().get("/login").await;
    let cookie = page.headers[header::SET_COOKIE].to_str().unwrap();
    assert!(cookie.contains("HttpOnly"));
    assert!(cookie.contains("SameSite=Strict"));
    assert!(
        !cookie.contains("Secure"),
        "plain HTTP without --behind-https"
    );
    let secure = TestApp::start_with(WebSettings {
        secure_cookies: true,
        ..Default::default()
    })
    .await;
    let page = secure.browser().get("/login").await;
    assert!(
        page.headers[header::SET_COOKIE]
            .to_str()
            .unwrap()
            .contains("; Secure")
    );
}

#[tokio::test]
async fn failed_logins_get_one_generic_message() {
    let app = TestApp::start().await;
    app.user("olga", Role::Operator).await;
    let mut b = app.browser();
    let wrong_password = b.login("olga", "not the password").await;
    let unknown_user = b.login("nobody", PASSWORD).await;
    assert_eq!(wrong_password.status, StatusCode::UNAUTHORIZED);
    assert_eq!(unknown_user.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        wrong_password.text("#login-error"),
        unknown_user.text("#login-error")
    );
    // The form keeps the name that was typed.
    assert_eq!(
        unknown_user.attr("#login-name", "value").as_deref(),
        Some("nobody")
    );
}

#[tokio::test]
async fn throttling_starts_after_the_configured_failures() {
    let settings = WebSettings {
        login_attempts: 3,
        login_replenish: Duration::from_secs(3600),
        ..Default::default()
    };
    let app = TestApp::start_with(settings).await;
    app.user("olga", Role::Operator).await;
    let mut b = app.browser();
    for _ in 0..3 {
        assert_eq!(
            b.login("olga", "wrong password!").await.status,
            StatusCode::UNAUTHORIZED
        );
    }
    // Even the right password is refused now, with a clear message.
    let page = b.login("olga", PASSWORD).await;
    assert_eq!(page.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(
        page.text("#login-error")
            .contains("Too many sign-in attempts")
    );
    // Another account from the same address is not locked by olga's failures.
    app.user("ivan", Role::Viewer).await;
    assert_eq!(
        app.browser().login("ivan", PASSWORD).await.status,
        StatusCode::SEE_OTHER
    );
}

#[tokio::test]
async fn the_setup_link_creates_the_first_admin_once() {
    let app = TestApp::start().await;
    let setup = app
        .app
        .setup_path
        .clone()
        .expect("no users yet, so a setup link");
    let mut b = app.browser();
    assert_eq!(b.get(&setup).await.status, StatusCode::OK);
    let bad = b
        .post(
            &setup,
            &[
                ("name", "root"),
                ("password", "short"),
                ("password_confirm", "short"),
            ],
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.text("#setup-errors").contains("at least 10"));
    assert_eq!(bad.attr("#setup-name", "value").as_deref(), Some("root"));
    let ok = b.submit_setup(&setup, "root").await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER);
    let home = b.get("/").await;
    assert_eq!(home.status, StatusCode::OK);
    assert!(home.text("#current-user").contains("admin"));
    // Used: the link is gone.
    assert_eq!(
        app.browser().get(&setup).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.browser().get("/setup/guess").await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn a_database_with_users_gets_no_setup_link() {
    let app = TestApp::start().await;
    app.user("root", Role::Admin).await;
    let client = app.app.state.cloud.clone();
    let again = natpilot::app::build(
        app.store().clone(),
        WebSettings::default(),
        client,
        Default::default(),
    )
    .await
    .unwrap();
    assert_eq!(again.0.auth.setup_path(), None);
}

#[tokio::test]
async fn a_disabled_users_sessions_end_at_once() {
    let app = TestApp::start().await;
    let id = app.user("olga", Role::Operator).await;
    let mut b = Browser::new(app.app.url(""));
    assert_eq!(
        b.login("olga", PASSWORD).await.status,
        StatusCode::SEE_OTHER
    );
    assert_eq!(b.get("/").await.status, StatusCode::OK);
    natpilot::store::users::set_disabled(app.store().writer(), id, true)
        .await
        .unwrap();
    assert_eq!(b.get("/").await.status, StatusCode::SEE_OTHER);
    assert_eq!(
        b.login("olga", PASSWORD).await.status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn user_names_with_markup_render_escaped() {
    let app = TestApp::start().await;
    let payload = r#"<script>alert("x")</script><img src=x onerror=alert(1)>"#;
    app.user(payload, Role::Viewer).await;
    let mut admin = app.signed_in("root", Role::Admin).await;
    let page = admin.get("/admin/users").await;
    assert!(
        page.texts("#users-table .user-name")
            .contains(&payload.to_owned())
    );
    assert_eq!(page.count("#users-table script, #users-table img"), 0);
    let mut victim = Browser::new(app.app.url(""));
    victim.login(payload, PASSWORD).await;
    let home = victim.get("/").await;
    assert!(home.text("#current-user").contains(payload));
    assert_eq!(home.count("#current-user script, #current-user img"), 0);
}

#[tokio::test]
async fn passwords_and_session_ids_are_nowhere_in_the_database_or_logs() {
    let app = TestApp::start().await;
    let mut b = app.signed_in("olga", Role::Operator).await;
    b.get("/").await;
    let session = b.cookie.clone().unwrap();
    b.post("/logout", &[]).await;
    let mut again = app.browser();
    again.login("olga", PASSWORD).await;
    let session2 = again.cookie.clone().unwrap();
    let db = app.db_contents().await;
    let logs = captured_logs();
    for secret in [PASSWORD, &session, &session2] {
        for (what, bytes) in [("database", &db), ("logs", &logs)] {
            assert!(
                !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
                "found a secret in the {what}"
            );
        }
    }
    assert!(!logs.is_empty(), "the scan must have seen some logs");
}

/// Ages every session row by `secs` in one column, as if that much time had passed.
async fn age_sessions(app: &TestApp, column: &str, secs: i64) {
    let sql = format!("UPDATE sessions SET {column} = {column} - {secs}");
    natpilot::store::sql::query(sqlx::AssertSqlSafe(sql))
        .execute(app.store().writer())
        .await
        .unwrap();
}

#[tokio::test]
async fn a_session_idle_longer_than_the_idle_timeout_ends() {
    let app = TestApp::start().await;
    let mut b = app.signed_in("olga", Role::Operator).await;
    assert_eq!(b.get("/").await.status, StatusCode::OK);
    let idle = app.app.state.settings.session_idle.as_secs() as i64;
    age_sessions(&app, "last_seen_at", idle - 120).await;
    assert_eq!(
        b.get("/").await.status,
        StatusCode::OK,
        "still within the idle timeout"
    );
    age_sessions(&app, "last_seen_at", idle + 120).await;
    let page = b.get("/").await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert!(
        page.location().unwrap().starts_with("/login"),
        "{:?}",
        page.location()
    );
}

#[tokio::test]
async fn a_session_older_than_the_absolute_timeout_ends_even_when_used() {
    let app = TestApp::start().await;
    let mut b = app.signed_in("olga", Role::Operator).await;
    let absolute = app.app.state.settings.session_absolute.as_secs() as i64;
    age_sessions(&app, "created_at", absolute + 60).await;
    let page = b.get("/").await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert!(
        page.location().unwrap().starts_with("/login"),
        "{:?}",
        page.location()
    );
}

#[tokio::test]
async fn an_oversized_request_body_is_refused() {
    let app = TestApp::start().await;
    let mut b = app.browser();
    b.get("/login").await;
    let huge = "x".repeat(app.app.state.settings.body_limit + 1);
    let page = b
        .post("/login", &[("name", "olga"), ("password", &huge)])
        .await;
    assert!(
        page.status == StatusCode::PAYLOAD_TOO_LARGE || page.status == StatusCode::BAD_REQUEST,
        "{}",
        page.status
    );
}
