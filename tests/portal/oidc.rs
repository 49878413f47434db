//! Single sign-on against a real OpenID provider: the npm package `oidc-provider` (a
//! certified implementation) from `tests/fixtures/oidc`, started on loopback per test
//! (feature `oidc-tests`; `.ci/run` runs `npm ci` there first). The authorization code flow is
//! driven with plain HTTP through the provider's login interaction, as a browser would.

use natpilot::{
    store::users::{self, Role},
    web::settings::WebSettings,
};
use reqwest::{StatusCode, Url, header};
use serde_json::{Value, json};

use crate::harness::{Browser, PASSWORD, Page, TestApp};

#[path = "../support/oidc_op.rs"]
mod oidc_op;
use oidc_op::{Op, SECRET, accounts, auth_settings};

/// A provider with `fixture` and a portal whose client is registered at it with `secret`.
async fn start(fixture: Value, secret: &str, local_login: bool) -> (Op, TestApp) {
    let mut fixture = fixture;
    fixture["accounts"] = accounts();
    let op = Op::start(fixture).await;
    let settings = WebSettings {
        auth: auth_settings(&op.issuer, local_login),
        ..WebSettings::default()
    };
    let app = TestApp::start_with(settings).await;
    op.register(&app.app.url(""), secret).await;
    (op, app)
}

/// The provider's side of a browser: its own cookies (natpilot's are in `Browser`).
#[derive(Default)]
struct OpCookies(std::collections::BTreeMap<String, String>);

impl OpCookies {
    async fn send(&mut self, req: reqwest::RequestBuilder) -> reqwest::Response {
        let cookies: Vec<String> = self.0.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let resp = req
            .header(header::COOKIE, cookies.join("; "))
            .send()
            .await
            .unwrap();
        for v in resp.headers().get_all(header::SET_COOKIE) {
            let pair = v.to_str().unwrap().split(';').next().unwrap();
            let (name, value) = pair.split_once('=').unwrap();
            if value.is_empty() {
                self.0.remove(name);
            } else {
                self.0.insert(name.to_owned(), value.to_owned());
            }
        }
        resp
    }
}

/// Where one sign-in ended: natpilot's answer to the callback (or to the start, when the
/// portal answered without sending the browser to the provider), and whether the provider
/// asked to log in.
struct SignIn {
    page: Page,
    asked_to_log_in: bool,
}

/// Clicks "Sign in with …" and walks the provider's pages as `login` until the browser is
/// back at natpilot.
async fn sso_sign_in(
    app: &TestApp,
    b: &mut Browser,
    op_cookies: &mut OpCookies,
    login: &str,
) -> SignIn {
    let page = b.get("/login").await;
    assert_eq!(page.text("#sso-submit"), "Sign in with Fixture ID");
    // The form's hidden field, as a browser sends it.
    let allowed = page
        .attr("input[name=endpoints_allowed]", "value")
        .unwrap_or_default();
    let started = b
        .post(
            "/auth/oidc/start",
            &[("next", "/runs"), ("endpoints_allowed", &allowed)],
        )
        .await;
    if started.status != StatusCode::SEE_OTHER {
        return SignIn {
            page: started,
            asked_to_log_in: false,
        };
    }
    let portal = app.app.url("");
    let mut url = Url::parse(&started.location().unwrap()).unwrap();
    let mut asked_to_log_in = false;
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    for _ in 0..12 {
        if url.as_str().starts_with(&portal) {
            let path = &url.as_str()[portal.len()..];
            return SignIn {
                page: b.get(path).await,
                asked_to_log_in,
            };
        }
        let resp = op_cookies.send(http.get(url.clone())).await;
        let status = resp.status();
        if status.is_redirection() {
            let to = resp.headers()[header::LOCATION]
                .to_str()
                .unwrap()
                .to_owned();
            url = url.join(&to).unwrap();
            continue;
        }
        let body = resp.text().await.unwrap();
        assert_eq!(status, StatusCode::OK, "provider page {url}: {body}");
        assert!(
            body.contains("id=\"login\""),
            "no login form at {url}: {body}"
        );
        asked_to_log_in = true;
        let action = url.join(&format!("{}/login", url.path())).unwrap();
        let resp = op_cookies
            .send(http.post(action).form(&[("login", login)]))
            .await;
        assert_eq!(resp.status(), StatusCode::SEE_OTHER, "login as {login}");
        let to = resp.headers()[header::LOCATION]
            .to_str()
            .unwrap()
            .to_owned();
        url = url.join(&to).unwrap();
    }
    panic!("the sign-in did not come back to natpilot");
}

/// The problem page's code (`data-code`), or a panic naming what was there instead.
fn problem(page: &Page) -> String {
    page.attr("#sso-problem", "data-code")
        .unwrap_or_else(|| panic!("no problem page ({}): {}", page.status, page.body))
}

async fn user_named(app: &TestApp, name: &str) -> Option<users::User> {
    users::by_name(app.store().readers(), name).await.unwrap()
}

#[tokio::test]
async fn sso_sign_in_creates_the_user_by_subject_and_updates_its_role_each_time() {
    let (op, app) = start(json!({}), SECRET, true).await;
    // A local admin whose name the provider also hands out (account "root" says
    // preferred_username = admin): it must not be taken over.
    app.user("admin", Role::Admin).await;

    let mut b = app.browser();
    let done = sso_sign_in(&app, &mut b, &mut OpCookies::default(), "alice").await;
    assert!(done.asked_to_log_in);
    assert_eq!(done.page.status, StatusCode::OK, "{}", done.page.body);
    assert_eq!(done.page.text("#signed-in-as"), "alice");
    assert_eq!(
        done.page.attr("#continue", "href").as_deref(),
        Some("/runs")
    );
    assert!(b.cookie.is_some(), "a natpilot session was started");
    let runs = b.get("/runs").await;
    assert_eq!(runs.status, StatusCode::OK, "signed in: {}", runs.body);
    let alice = user_named(&app, "alice")
        .await
        .expect("user created on first sign-in");
    assert_eq!(alice.role, Role::Operator, "natpilot-operators → operator");
    assert_eq!(app.audited("user.created_sso").await.len(), 1);
    let login = &app.audited("login.sso").await[0];
    assert_eq!(login.actor, "alice");

    // The provider now puts alice into the admins group: the next sign-in makes her admin,
    // on the same natpilot user.
    let mut fixture_accounts = accounts();
    fixture_accounts["alice"]["claims"]["groups"] = json!(["natpilot-admins"]);
    op.set(json!({ "accounts": fixture_accounts })).await;
    let mut b2 = app.browser();
    let again = sso_sign_in(&app, &mut b2, &mut OpCookies::default(), "alice").await;
    assert_eq!(again.page.status, StatusCode::OK, "{}", again.page.body);
    let alice_now = user_named(&app, "alice").await.unwrap();
    assert_eq!((alice_now.id, alice_now.role), (alice.id, Role::Admin));
    let changed = app.audited("user.role_from_sso").await;
    assert_eq!(changed.len(), 1);
    assert!(
        changed[0].details.to_string().contains("\"to\":\"admin\""),
        "{:?}",
        changed[0].details
    );
    assert_eq!(
        app.audited("user.created_sso").await.len(),
        1,
        "no second user"
    );

    // "root" calls itself admin at the provider: a new user, not the local admin.
    let mut b3 = app.browser();
    let root = sso_sign_in(&app, &mut b3, &mut OpCookies::default(), "root").await;
    assert_eq!(root.page.status, StatusCode::OK, "{}", root.page.body);
    assert_eq!(root.page.text("#signed-in-as"), "admin (2)");
    assert_eq!(
        user_named(&app, "admin (2)").await.unwrap().role,
        Role::Viewer
    );
    assert_eq!(user_named(&app, "admin").await.unwrap().role, Role::Admin);
    let mut local = app.browser();
    assert_eq!(
        local.login("admin", PASSWORD).await.status,
        StatusCode::SEE_OTHER
    );

    // The client secret is nowhere: not in the database, not in the log, not on a page.
    assert!(!String::from_utf8_lossy(&app.db_contents().await).contains(SECRET));
    assert!(!String::from_utf8_lossy(&crate::harness::captured_logs()).contains(SECRET));
    assert!(!done.page.body.contains(SECRET) && !runs.body.contains(SECRET));
}

#[tokio::test]
async fn a_missing_claim_or_an_unmapped_group_is_refused_with_a_page_saying_so() {
    let (_op, app) = start(json!({}), SECRET, true).await;
    let mut b = app.browser();
    let bob = sso_sign_in(&app, &mut b, &mut OpCookies::default(), "bob").await;
    assert_eq!(bob.page.status, StatusCode::UNAUTHORIZED);
    assert_eq!(problem(&bob.page), "missing_claim");
    assert!(
        bob.page.text("#sso-problem").contains("no `groups` claim"),
        "{}",
        bob.page.body
    );
    assert!(bob.page.text("#sso-fix").contains("role_claim"));
    assert!(b.cookie.is_none(), "no session");

    let mut b = app.browser();
    let carol = sso_sign_in(&app, &mut b, &mut OpCookies::default(), "carol").await;
    assert_eq!(carol.page.status, StatusCode::FORBIDDEN);
    assert_eq!(problem(&carol.page), "no_role");
    assert!(
        carol.page.text("#sso-problem").contains("sales"),
        "{}",
        carol.page.body
    );
    assert!(b.cookie.is_none());
    for name in ["bob", "bob@example.com", "carol", "u-1004"] {
        assert!(user_named(&app, name).await.is_none(), "{name} was created");
    }
    assert_eq!(app.audited("login.sso_failed").await.len(), 2);
}

#[tokio::test]
async fn a_tampered_id_token_is_refused() {
    // The provider's answer is altered after signing: alice's groups gain natpilot-admins.
    let (_op, app) = start(json!({"id_token": "tampered"}), SECRET, true).await;
    let mut b = app.browser();
    let done = sso_sign_in(&app, &mut b, &mut OpCookies::default(), "alice").await;
    assert_eq!(
        done.page.status,
        StatusCode::UNAUTHORIZED,
        "{}",
        done.page.body
    );
    assert_eq!(problem(&done.page), "bad_signature");
    assert!(b.cookie.is_none());
    assert!(user_named(&app, "alice").await.is_none());
}

#[tokio::test]
async fn an_expired_id_token_is_refused_with_the_clocks_named() {
    // Signed with the provider's real key, expired an hour ago (a provider clock far behind).
    let (_op, app) = start(json!({"id_token": "expired"}), SECRET, true).await;
    let mut b = app.browser();
    let done = sso_sign_in(&app, &mut b, &mut OpCookies::default(), "alice").await;
    assert_eq!(
        done.page.status,
        StatusCode::UNAUTHORIZED,
        "{}",
        done.page.body
    );
    assert_eq!(problem(&done.page), "expired_token");
    assert!(
        done.page
            .text("#sso-problem")
            .contains("natpilot's clock says")
    );
    assert!(done.page.text("#sso-fix").contains("NTP"));
    assert!(b.cookie.is_none());
    assert!(user_named(&app, "alice").await.is_none());
}

#[tokio::test]
async fn a_wrong_client_secret_gives_a_page_naming_it() {
    let (_op, app) = start(json!({}), "the-secret-the-provider-has", true).await;
    let mut b = app.browser();
    let done = sso_sign_in(&app, &mut b, &mut OpCookies::default(), "alice").await;
    assert_eq!(
        done.page.status,
        StatusCode::BAD_GATEWAY,
        "{}",
        done.page.body
    );
    assert_eq!(problem(&done.page), "client_refused");
    assert!(done.page.text("#sso-problem").contains("invalid_client"));
    assert!(done.page.text("#sso-fix").contains("client_secret"));
    assert!(!done.page.body.contains(SECRET));
    assert!(b.cookie.is_none());
}

#[tokio::test]
async fn an_unreachable_issuer_gives_a_page_and_the_break_glass_admin_still_signs_in() {
    // A loopback port nobody listens on.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let issuer = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let settings = WebSettings {
        auth: auth_settings(&issuer, false),
        ..WebSettings::default()
    };
    let app = TestApp::start_with(settings).await;
    app.user("breakglass", Role::Admin).await;
    app.user("olga", Role::Admin).await;
    let mut b = app.browser();
    let page = b.get("/login").await;
    assert_eq!(page.text("#break-glass-title"), "Break-glass sign-in");
    let failed = b.post("/auth/oidc/start", &[("next", "/")]).await;
    assert_eq!(failed.status, StatusCode::BAD_GATEWAY, "{}", failed.body);
    assert_eq!(problem(&failed), "unreachable_issuer");
    assert!(failed.text("#sso-problem").contains(&issuer));
    assert!(failed.text("#sso-fix").contains("[auth] issuer"));
    assert_eq!(
        failed.text("#password-sign-in"),
        "Sign in with the break-glass admin account"
    );

    // Password sign-in is off for everyone else, admins included.
    let mut other = app.browser();
    let refused = other.login("olga", PASSWORD).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(
        refused
            .text("#login-error")
            .contains("Password sign-in is turned off")
    );
    assert!(other.cookie.is_none());
    assert_eq!(
        refused.attr("#login-name", "value").as_deref(),
        Some("olga")
    );
    let signed_in = b.login("breakglass", PASSWORD).await;
    assert_eq!(
        signed_in.status,
        StatusCode::SEE_OTHER,
        "{}",
        signed_in.body
    );
    assert_eq!(b.get("/admin/users").await.status, StatusCode::OK);
}

#[tokio::test]
async fn signing_out_ends_the_natpilot_session_and_the_providers() {
    let (_op, app) = start(json!({}), SECRET, true).await;
    let mut b = app.browser();
    let mut op_cookies = OpCookies::default();
    let done = sso_sign_in(&app, &mut b, &mut op_cookies, "alice").await;
    assert_eq!(done.page.status, StatusCode::OK, "{}", done.page.body);
    // Signed in at the provider, a second sign-in does not ask again.
    let mut b2 = app.browser();
    let seamless = sso_sign_in(&app, &mut b2, &mut op_cookies, "alice").await;
    assert!(!seamless.asked_to_log_in);
    assert_eq!(seamless.page.status, StatusCode::OK);

    b.get("/runs").await; // the session's CSRF token, as the page a user clicks on has
    let out = b.post("/logout", &[]).await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    let to = Url::parse(&out.location().unwrap()).expect("an absolute URL: the provider's");
    assert!(
        to.as_str()
            .starts_with(&format!("{}/session/end", _op.issuer)),
        "{to}"
    );
    let query: Vec<(String, String)> = to.query_pairs().into_owned().collect();
    assert!(query.contains(&("client_id".into(), "natpilot".into())));
    let back = app.app.url("/login?signed_out=1");
    assert!(
        query.contains(&("post_logout_redirect_uri".into(), back.clone())),
        "{query:?}"
    );
    assert_eq!(
        b.get("/runs").await.status,
        StatusCode::SEE_OTHER,
        "natpilot session ended"
    );
    assert_eq!(app.audited("logout").await.len(), 1);

    // The provider asks to confirm, then sends the browser back to natpilot.
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let confirm = op_cookies.send(http.get(to.clone())).await;
    assert_eq!(confirm.status(), StatusCode::OK);
    let html = scraper::Html::parse_document(&confirm.text().await.unwrap());
    let form = scraper::Selector::parse("form").unwrap();
    let xsrf = scraper::Selector::parse("input[name=xsrf]").unwrap();
    let form = html
        .select(&form)
        .next()
        .expect("the provider's logout form");
    let action = to.join(form.value().attr("action").unwrap()).unwrap();
    let xsrf = html
        .select(&xsrf)
        .next()
        .unwrap()
        .value()
        .attr("value")
        .unwrap()
        .to_owned();
    let ended = op_cookies
        .send(
            http.post(action)
                .form(&[("xsrf", xsrf.as_str()), ("logout", "yes")]),
        )
        .await;
    assert_eq!(ended.status(), StatusCode::SEE_OTHER);
    assert_eq!(ended.headers()[header::LOCATION].to_str().unwrap(), back);
    let login = b.get("/login?signed_out=1").await;
    assert_eq!(login.text("#signed-out"), "You are signed out.");

    // The provider's session is over too: signing in asks to log in again.
    let mut b3 = app.browser();
    let again = sso_sign_in(&app, &mut b3, &mut op_cookies, "alice").await;
    assert!(again.asked_to_log_in);
    assert_eq!(again.page.status, StatusCode::OK);
}

#[tokio::test]
async fn keys_rotated_at_the_provider_are_fetched_again() {
    let (op, app) = start(json!({}), SECRET, true).await;
    let mut b = app.browser();
    let first = sso_sign_in(&app, &mut b, &mut OpCookies::default(), "alice").await;
    assert_eq!(first.page.status, StatusCode::OK, "{}", first.page.body);
    // New signing key, new kid: natpilot's cached JWKS does not know it.
    op.rotate_keys().await;
    op.register(&app.app.url(""), SECRET).await;
    let mut b2 = app.browser();
    let second = sso_sign_in(&app, &mut b2, &mut OpCookies::default(), "alice").await;
    assert_eq!(second.page.status, StatusCode::OK, "{}", second.page.body);
    assert_eq!(second.page.text("#signed-in-as"), "alice");
}

#[tokio::test]
async fn a_callback_without_a_sign_in_under_way_is_refused() {
    let (_op, app) = start(json!({}), SECRET, true).await;
    let mut b = app.browser();
    let page = b.get("/auth/oidc/callback?code=abc&state=xyz").await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert_eq!(problem(&page), "stale");

    // A started sign-in answered with another state is refused too, and is used up.
    b.get("/login").await;
    let started = b.post("/auth/oidc/start", &[]).await;
    assert_eq!(started.status, StatusCode::SEE_OTHER);
    let page = b.get("/auth/oidc/callback?code=abc&state=forged").await;
    assert_eq!(problem(&page), "stale");
    assert!(b.cookie.is_none());
}

#[tokio::test]
async fn groups_only_on_the_userinfo_endpoint_still_give_the_role() {
    // As Okta and Auth0 do by default: the ID token has only `sub`; groups, name and email
    // are behind the userinfo endpoint.
    let (_op, app) = start(json!({ "claims_in": "userinfo" }), SECRET, true).await;
    let mut b = app.browser();
    let done = sso_sign_in(&app, &mut b, &mut OpCookies::default(), "alice").await;
    assert_eq!(done.page.status, StatusCode::OK, "{}", done.page.body);
    assert_eq!(
        done.page.text("#signed-in-as"),
        "alice",
        "the name from userinfo"
    );
    let alice = user_named(&app, "alice").await.expect("user created");
    assert_eq!(alice.role, Role::Operator, "natpilot-operators → operator");
    let login = &app.audited("login.sso").await[0];
    assert!(
        login.details.to_string().contains("natpilot-operators"),
        "{:?}",
        login.details
    );

    // Neither the token nor userinfo has groups: refused, and the page says where it looked.
    let mut b2 = app.browser();
    let bob = sso_sign_in(&app, &mut b2, &mut OpCookies::default(), "bob").await;
    assert_eq!(problem(&bob.page), "missing_claim");
    assert!(
        bob.page.text("#sso-problem").contains("userinfo"),
        "{}",
        bob.page.text("#sso-problem")
    );
    assert!(b2.cookie.is_none());
}

/// The CSP of a page, or a panic.
fn csp(page: &Page) -> String {
    page.headers["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn an_authorization_endpoint_on_another_origin_is_reached_even_before_discovery() {
    // The provider is down when the portal starts: the background discovery fails, and the
    // sign-in page's CSP can allow only the issuer's origin.
    let fixture = json!({ "separate_authorization": true, "unavailable": true });
    let (op, app) = start(fixture, SECRET, true).await;
    let mut b = app.browser();
    let before = b.get("/login").await;
    assert_eq!(
        before
            .attr("input[name=endpoints_allowed]", "value")
            .as_deref(),
        Some("0")
    );
    assert!(!csp(&before).contains(&op.authorization_origin));
    op.set(json!({ "unavailable": false })).await;

    // Started from that page, a redirect to the other origin would be blocked by the
    // browser (`form-action`): natpilot answers with a link that follows itself instead.
    let started = b
        .post(
            "/auth/oidc/start",
            &[("next", "/runs"), ("endpoints_allowed", "0")],
        )
        .await;
    assert_eq!(started.status, StatusCode::OK, "{}", started.body);
    let link = started.attr("#continue", "href").unwrap();
    assert!(
        link.starts_with(&format!("{}/auth?", op.authorization_origin)),
        "{link}"
    );
    assert!(started.attr("#continue", "data-auto-follow").is_some());

    // A page rendered after discovery allows that origin, says so, and gets the redirect.
    let after = b.get("/login").await;
    assert_eq!(
        after
            .attr("input[name=endpoints_allowed]", "value")
            .as_deref(),
        Some("1")
    );
    assert!(
        csp(&after).contains(&op.authorization_origin),
        "{}",
        csp(&after)
    );
    let redirected = b
        .post(
            "/auth/oidc/start",
            &[("next", "/runs"), ("endpoints_allowed", "1")],
        )
        .await;
    assert_eq!(redirected.status, StatusCode::SEE_OTHER);
    assert!(
        redirected
            .location()
            .unwrap()
            .starts_with(&op.authorization_origin)
    );
    // The whole sign-in through the other origin works.
    let mut b2 = app.browser();
    let done = sso_sign_in(&app, &mut b2, &mut OpCookies::default(), "alice").await;
    assert_eq!(done.page.status, StatusCode::OK, "{}", done.page.body);
    assert_eq!(done.page.text("#signed-in-as"), "alice");
}

#[tokio::test]
async fn discovery_runs_in_the_background_from_start_up() {
    let fixture = json!({ "separate_authorization": true });
    let (op, app) = start(fixture, SECRET, true).await;
    // Nobody signs in; the sign-in page soon allows the authorization endpoint's origin.
    let mut b = app.browser();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let page = b.get("/login").await;
        if csp(&page).contains(&op.authorization_origin) {
            assert_eq!(
                page.attr("input[name=endpoints_allowed]", "value")
                    .as_deref(),
                Some("1")
            );
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "discovery never ran: {}",
            csp(&page)
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}
