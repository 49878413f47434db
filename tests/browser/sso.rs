//! Single sign-on in a real browser (issue 14, item 1): chromium clicks "Sign in with …" on
//! natpilot's login page, signs in on the real OpenID provider's page (npm `oidc-provider`,
//! `tests/fixtures/oidc`), comes back signed in with the role its groups map to, and signs out
//! at both ends (natpilot's session, then the provider's, RP-initiated logout) to natpilot's
//! "You are signed out" page. Needs the `oidc-tests` feature and `npm ci` in the fixture.

use std::panic::AssertUnwindSafe;

use futures_util::FutureExt as _;
use natpilot::{sim::ScenarioSource, web::settings::WebSettings};
use serde_json::json;

use crate::driver::Browser;
use crate::oidc_op::{Op, SECRET, accounts, auth_settings};
use crate::portal::Portal;

/// The provider with `fixture`, a portal signing in through it, and a browser.
async fn start(fixture: serde_json::Value) -> (Op, Portal, Browser) {
    let op = Op::start(fixture).await;
    let settings = WebSettings {
        auth: auth_settings(&op.issuer, true),
        ..WebSettings::default()
    };
    let portal = Portal::start_with(ScenarioSource::Tutorial, settings).await;
    op.register(&portal.app.url(""), SECRET).await;
    (op, portal, Browser::start().await)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_signs_in_and_out_through_the_identity_provider_in_a_real_browser() {
    let (op, portal, browser) = start(json!({ "accounts": accounts() })).await;
    let walked = AssertUnwindSafe(walk(&portal, &op, &browser))
        .catch_unwind()
        .await;
    browser.close().await;
    if let Err(panic) = walked {
        std::panic::resume_unwind(panic);
    }
}

async fn walk(portal: &Portal, op: &Op, browser: &Browser) {
    browser.goto(&portal.app.url("/runs")).await;
    // Not signed in: the login page offers the provider first.
    browser
        .wait_for_text("#sso-submit", "Sign in with Fixture ID")
        .await;
    browser.screenshot("sso-01-login").await;
    browser.click("#sso-submit").await;
    // The provider's own sign-in page, on its own origin.
    browser.wait_for("#login input[name=login]").await;
    assert!(
        browser.current_url().await.starts_with(&op.issuer),
        "the browser is at the provider"
    );
    browser.screenshot("sso-02-provider").await;
    browser.fill("#login input[name=login]", "alice").await;
    browser.click("#login button[type=submit]").await;
    // Back at natpilot, signed in as alice with the role her group maps to, on the page she
    // asked for.
    browser.wait_for_text("#current-user", "alice").await;
    browser.wait_for("#history-filter").await;
    assert!(
        browser.text("#current-user").await.contains("operator"),
        "natpilot-operators maps to operator"
    );
    assert!(browser.current_url().await.ends_with("/runs"));
    browser.screenshot("sso-03-signed-in").await;
    // Sign out: natpilot's session ends, then the provider asks whether to end its own.
    browser.click("#logout").await;
    browser.wait_for("#logout-yes").await;
    browser.screenshot("sso-04-provider-sign-out").await;
    browser.click("#logout-yes").await;
    browser
        .wait_for_text("#signed-out", "You are signed out")
        .await;
    assert!(browser.current_url().await.starts_with(&portal.app.url("")));
    browser.screenshot("sso-05-signed-out").await;
    // The session is gone: natpilot asks to sign in again.
    browser.goto(&portal.app.url("/runs")).await;
    browser.wait_for("#sso-submit").await;
}

/// A provider whose authorization endpoint is on another origin than its issuer (as
/// Cognito's is), down while the portal starts: the first sign-in page's CSP allows only the
/// issuer's origin, so natpilot must not answer "Sign in with …" with a redirect there (the
/// browser would block it under `form-action`), and a page rendered after discovery must
/// allow it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_provider_with_its_authorization_endpoint_on_another_origin_works_from_the_first_sign_in()
{
    let fixture =
        json!({ "accounts": accounts(), "separate_authorization": true, "unavailable": true });
    let (op, portal, browser) = start(fixture).await;
    let walked = AssertUnwindSafe(walk_other_origin(&portal, &op, &browser))
        .catch_unwind()
        .await;
    browser.close().await;
    if let Err(panic) = walked {
        std::panic::resume_unwind(panic);
    }
}

async fn walk_other_origin(portal: &Portal, op: &Op, browser: &Browser) {
    // Rendered while the provider is down: discovery has not run.
    browser.goto(&portal.app.url("/login")).await;
    browser.wait_for("#sso-submit").await;
    op.set(json!({ "unavailable": false })).await;
    for round in ["before discovery", "after discovery"] {
        browser.click("#sso-submit").await;
        browser.wait_for("#login input[name=login]").await;
        assert!(
            browser.current_url().await.starts_with(&op.issuer),
            "{round}: the browser reached the provider through {}",
            op.authorization_origin
        );
        browser.fill("#login input[name=login]", "alice").await;
        browser.click("#login button[type=submit]").await;
        browser.wait_for_text("#current-user", "alice").await;
        browser
            .screenshot(&format!("sso-other-origin-{}", round.replace(' ', "-")))
            .await;
        // Signed out at both ends, back on natpilot's sign-in page (rendered after discovery).
        browser.click("#logout").await;
        browser.wait_for("#logout-yes").await;
        browser.click("#logout-yes").await;
        browser
            .wait_for_text("#signed-out", "You are signed out")
            .await;
        browser.wait_for("#sso-submit").await;
    }
}
