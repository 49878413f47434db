//! A real browser (Debian chromium, driven through chromedriver) walks the rollout the way an
//! operator does: opens the one-time setup link, creates the first admin, starts a rollout on
//! the simulated cloud, and goes through the four steps by clicking what a person clicks,
//! reading what the page shows. A screenshot of every step lands in `target/screenshots/`.
//!
//! Run with `cargo test --features browser-tests --test browser` (`.ci/run` always does).

#[path = "browser/driver.rs"]
mod driver;
#[cfg(feature = "oidc-tests")]
#[path = "support/oidc_op.rs"]
mod oidc_op;
#[path = "browser/portal.rs"]
mod portal;
#[cfg(feature = "oidc-tests")]
#[path = "browser/sso.rs"]
mod sso;
#[path = "browser/step4_large.rs"]
mod step4_large;

use std::panic::AssertUnwindSafe;

use driver::Browser;
use fantoccini::Locator;
use futures_util::FutureExt as _;
use portal::Portal;

const ADMIN: &str = "alice";
const PASSWORD: &str = "correct horse battery";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_walks_the_whole_rollout_in_a_real_browser() {
    let portal = Portal::start().await;
    let browser = Browser::start().await;
    // A failed assertion must not leave chromium behind: catch it, end the WebDriver session
    // and the browser's processes, then fail with the original panic. (A panic that escapes
    // anyway still kills the process group when `browser` drops.)
    let walked = AssertUnwindSafe(walk(&portal, &browser))
        .catch_unwind()
        .await;
    browser.close().await;
    if let Err(panic) = walked {
        std::panic::resume_unwind(panic);
    }
}

async fn walk(portal: &Portal, browser: &Browser) {
    // First start: the console's one-time link creates the first admin.
    let setup = portal.setup_url();
    browser.goto(&setup).await;
    browser.fill("#setup-name", ADMIN).await;
    browser.fill("#setup-password", PASSWORD).await;
    browser.fill("#setup-password-confirm", PASSWORD).await;
    browser.click("#setup-submit").await;
    browser.wait_for_text("body", "Simulated cloud").await;
    browser.screenshot("01-dashboard").await;

    // Start a rollout on the tutorial VPC.
    browser.click("#start-rollout").await;
    browser.wait_for("#new-run-form").await;
    browser
        .click("input[name=vpc_id][value=vpc-tut0rial]")
        .await;
    browser.screenshot("02-new-run").await;
    browser.click("#start-run").await;
    browser.wait_for_text("h1", "vpc-tut0rial").await;
    browser.screenshot("03-run-started").await;

    let run_url = browser.current_url().await;
    assert!(run_url.contains("/runs/"), "not on a run page: {run_url}");
    let run_url = run_url.trim_end_matches('/').to_string();

    // 1 · Assess exposure: the background assessment fills the table with baseline egress;
    // the frontend behind the DNS records is protected, and says why.
    browser.open_step(&run_url, 1).await;
    browser
        .wait_for_text("#exposure-table", "139.199.10.10")
        .await;
    let frontend = browser.text("tr[data-instance-id=ins-fr0ntend]").await;
    assert!(
        frontend.contains("protected") && frontend.contains("DNS records"),
        "frontend not suggested for protection: {frontend}"
    );
    // Sorting is a plain link in the column heading.
    browser.click("th[data-sort=public_ip] a").await;
    browser
        .wait_for("th[data-sort=public_ip][aria-sort=ascending]")
        .await;
    // Protect a worker and change our mind: each decision is saved at once.
    browser.click("#row-ins-worker01 button.protect").await;
    browser
        .wait_for_text("#row-ins-worker01 .reason", "chosen by alice")
        .await;
    browser.click("#row-ins-worker01 button.unprotect").await;
    browser
        .wait_for_text("#row-ins-worker01 .reason", "not protected")
        .await;
    // What confirming records sits above the button and follows each decision.
    browser
        .wait_for_text("#step-form #plan-protection", "1 protected")
        .await;
    browser.screenshot("04-step1-assess").await;
    browser.click("#confirm-step").await;

    // 2 · Provision the NAT gateway with one new EIP.
    browser.open_step(&run_url, 2).await;
    browser.fill("#nat-name", "natpilot-egress").await;
    browser.click("#preview-plan").await;
    browser
        .wait_for_text("#plan-changes", "Create NAT gateway")
        .await;
    browser.screenshot("05-step2-provision").await;
    browser.click("#confirm-step").await;
    // The run page it lands on follows the engine without a reload: the step turns applied
    // once the NAT gateway is AVAILABLE (the simulator takes its time).
    browser.wait_for("#run-live #run-head").await;
    browser
        .wait_for_text("#step-2 .step-state", "applied")
        .await;
    // The records below follow too, once per step (the run still holds its VPC, so this is
    // not the end-of-run fetch): the inputs table and the NAT gateway's undo record.
    browser
        .wait_for_text("#run-records #input-2", "applied")
        .await;
    browser
        .wait_for_text("#run-records #undo", "undo ready")
        .await;

    // 3 · Route egress: per route table the planned route and whose egress flips at once,
    // the protected frontend flagged.
    browser.open_step(&run_url, 3).await;
    browser
        .wait_for("tr.protected-flip[data-instance-id=ins-fr0ntend]")
        .await;
    browser.click("#preview-plan").await;
    browser
        .wait_for_text(".route-table .planned-change", "Add 0.0.0.0/0")
        .await;
    browser.screenshot("06-step3-route").await;
    browser.click("#confirm-step").await;

    // 4 · Verify and retire, on the reversible path (the default): egress before/after per
    // instance, checked against the NAT's EIPs.
    browser.open_step(&run_url, 4).await;
    browser
        .wait_for("#egress-table tr[data-instance-id=ins-backend1] [data-verdict=pass]")
        .await;
    browser.click("#preview-plan").await;
    browser.wait_for("#plan-changes").await;
    browser.screenshot("07-step4-verify-retire").await;
    browser.click("#confirm-step").await;

    // The run completes; the page the confirm led to shows it, and the final report, without
    // a reload.
    browser.wait_for("#run-live #run-head").await;
    browser.wait_for_text("#run-status", "completed").await;
    browser.wait_for("#run-records #final-report").await;
    browser.screenshot("08-run-completed").await;
    browser
        .client
        .find(Locator::Css("#download-report"))
        .await
        .expect("the run page offers the JSON report");

    // The topology picture shows the NAT gateway the run made, with the route leading to it.
    browser.click("#view-topology").await;
    browser.wait_for("#topology svg .topo-nat").await;
    browser.wait_for("#topology svg .topo-route").await;
    browser.screenshot("09-topology").await;

    // Every cloud call of the run, with its parameters, one click from the run page.
    browser.goto(&run_url).await;
    browser.click("#all-calls").await;
    browser.wait_for("#calls tbody tr[data-call-id]").await;
    browser.screenshot("10-api-calls").await;

    estate(portal, browser).await;
}

/// The estate after the run: a scan shows the VPC routed through the NAT with no public IP
/// left but the protected frontend's; a server made with a public IP behind natpilot's back
/// is a drift finding at the next scan, which an operator accepts with a reason.
async fn estate(portal: &Portal, browser: &Browser) {
    browser.click("#nav-estate").await;
    browser.wait_for("#scan-now").await;
    browser.click("#scan-now").await;
    reload_until(browser, "/estate", "tr.estate-vpc[data-vpc=vpc-tut0rial]").await;
    let row = browser.text("tr.estate-vpc[data-vpc=vpc-tut0rial]").await;
    let routed = browser
        .text("tr.estate-vpc[data-vpc=vpc-tut0rial] .vpc-nat-routed")
        .await;
    assert_eq!(routed, "routed through NAT", "{row}");
    assert_eq!(browser.text("#no-drift").await, "No open drift finding.");
    browser.screenshot("11-estate").await;

    portal._sim.handle().with_world(|w| {
        let mut i = w.instance("ins-backend1").unwrap().clone();
        i.id = "ins-console1".into();
        i.name = "made-in-the-console".into();
        i.private_ip = "10.0.2.99".into();
        i.public_ip = Some("119.29.77.77".into());
        w.push_instance(i);
    });
    browser.click("#scan-now").await;
    reload_until(browser, "/estate", "tr.drift-finding").await;
    let finding = browser.text("tr.drift-finding").await;
    assert!(
        finding.contains("ins-console1") && finding.contains("119.29.77.77"),
        "{finding}"
    );
    browser.click("tr.drift-finding summary").await;
    browser
        .fill(
            "tr.drift-finding input[name=reason]",
            "a test host, removed on Friday",
        )
        .await;
    browser.screenshot("12-estate-drift").await;
    browser
        .click("tr.drift-finding form button[type=submit]")
        .await;
    browser.wait_for("#no-drift").await;
    browser.screenshot("13-estate-drift-accepted").await;

    // Rehearse the VPC on a simulated twin: the run page says so before anything else.
    browser
        .click("tr.estate-vpc[data-vpc=vpc-tut0rial] form.rehearse-form button")
        .await;
    browser
        .wait_for_text("#rehearsal-of", "simulated / ap-guangzhou / vpc-tut0rial")
        .await;
    browser.screenshot("14-rehearsal").await;
    // The copy of the real VPC runs in the background: the page follows it, without a
    // reload, to the assessment on the twin.
    let rehearsal = browser.current_url().await;
    browser
        .wait_for_run_status(rehearsal.trim_end_matches('/'), "active")
        .await;
    browser.wait_for_text("#next-action", "Review step 1").await;
    browser.screenshot("15-rehearsal-assessed").await;
}

/// Loads `path` again until `css` is on it (a background scan takes its time).
async fn reload_until(browser: &Browser, path: &str, css: &str) {
    let url = {
        let current = browser.current_url().await;
        let origin: String = current.splitn(4, '/').take(3).collect::<Vec<_>>().join("/");
        format!("{origin}{path}")
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    loop {
        browser.goto(&url).await;
        if browser.client.find(Locator::Css(css)).await.is_ok() {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{css} never appeared on {path}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
}
