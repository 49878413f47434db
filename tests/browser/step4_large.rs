//! Step 4 on a large VPC in a real browser: the rules chosen once, two exceptions made from
//! the table's rows, the plan confirmed, and the run page it lands on followed live (no
//! reload) until it reads completed.

use std::panic::AssertUnwindSafe;

use futures_util::FutureExt as _;
use natpilot::sim::ScenarioSource;

use crate::driver::Browser;
use crate::portal::Portal;

const VPC: &str = "vpc-large000";
/// Instance 0 has an ordinary public IP, instance 5 an EIP (ids are the index in hex).
const KEEPS_ITS_IP: &str = "ins-00000000";
const RELEASED: &str = "ins-00000005";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn step_4_on_a_large_vpc_with_a_rule_and_two_exceptions_completes_live() {
    let portal = Portal::start_in(ScenarioSource::Large { instances: 240 }).await;
    // Converting the ordinary IPs (the rule) needs EIP quota for each of them.
    portal
        ._sim
        .handle()
        .with_world(|w| w.quotas.eip_total = 10_000);
    let browser = Browser::start().await;
    let walked = AssertUnwindSafe(walk(&portal, &browser))
        .catch_unwind()
        .await;
    browser.close().await;
    if let Err(panic) = walked {
        std::panic::resume_unwind(panic);
    }
}

async fn walk(portal: &Portal, browser: &Browser) {
    browser.goto(&portal.setup_url()).await;
    browser.fill("#setup-name", "alice").await;
    browser
        .fill("#setup-password", "correct horse battery")
        .await;
    browser
        .fill("#setup-password-confirm", "correct horse battery")
        .await;
    browser.click("#setup-submit").await;
    browser.wait_for_text("body", "Simulated cloud").await;
    browser.click("#start-rollout").await;
    browser.wait_for("#new-run-form").await;
    browser
        .click(&format!("input[name=vpc_id][value={VPC}]"))
        .await;
    browser.click("#start-run").await;
    browser.wait_for_text("h1", VPC).await;
    let run_url = browser.current_url().await.trim_end_matches('/').to_owned();

    browser.open_step(&run_url, 1).await;
    browser.wait_for("#step-form #plan").await;
    browser.click("#confirm-step").await;
    browser.open_step(&run_url, 2).await;
    browser.fill("#nat-name", "natpilot-large").await;
    browser.click("#preview-plan").await;
    browser
        .wait_for_text("#plan-changes", "Create NAT gateway")
        .await;
    browser.click("#confirm-step").await;
    browser.wait_for("#run-live #run-head").await;
    browser
        .wait_for_text("#step-2 .step-state", "applied")
        .await;
    browser.open_step(&run_url, 3).await;
    browser.click("#preview-plan").await;
    browser.wait_for("#plan").await;
    browser.click("#confirm-step").await;

    // Step 4: the summary first, the table one page at a time.
    browser.open_step(&run_url, 4).await;
    browser
        .wait_for_text("#verify-summary-counts", "ordinary IPs to convert")
        .await;
    browser.wait_for("#next-page").await;
    // Two exceptions, each saved at once: one ordinary IP kept, one EIP released.
    browser
        .click(&format!("#verify-{KEEPS_ITS_IP} button.keep-ip"))
        .await;
    browser
        .wait_for(&format!("#verify-{KEEPS_ITS_IP}[data-exception=keep]"))
        .await;
    browser
        .click(&format!("#verify-{RELEASED} button.other-choice"))
        .await;
    browser
        .wait_for(&format!("#verify-{RELEASED}[data-exception=irreversible]"))
        .await;
    browser
        .wait_for_text("#verify-counts", "2 exceptions")
        .await;
    // The release needs the VPC id typed; then preview and confirm.
    browser.fill("#confirm-vpc", VPC).await;
    browser.click("#preview-plan").await;
    // The page before already shows a plan: wait for the preview's own page (its address).
    on_page_ending(browser, "/step/4/plan").await;
    browser
        .wait_for_text("#plan-summary", "1 EIP to release")
        .await;
    browser.click("#confirm-step").await;

    // The run page follows the retirements live and ends completed, without a reload.
    browser.wait_for("#run-live #run-head").await;
    browser.wait_for("#run-status[data-status=completed]").await;
    browser.screenshot("step4-large-completed").await;
    let (kept, released) = portal._sim.handle().with_world(|w| {
        let kept = w
            .instances()
            .iter()
            .find(|i| i.id == KEEPS_ITS_IP)
            .and_then(|i| i.public_ip.clone());
        (kept, !w.addresses.contains_key("eip-00000005"))
    });
    assert!(kept.is_some(), "{KEEPS_ITS_IP} kept its ordinary IP");
    assert!(released, "{RELEASED}'s EIP was released");
}

/// Waits until the browser has navigated to an address ending in `suffix` (a form's answer).
async fn on_page_ending(browser: &Browser, suffix: &str) {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(120);
    loop {
        let url = browser.current_url().await;
        if url.split(['?', '#']).next().unwrap_or("").ends_with(suffix) {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "still on {url}, waited for …{suffix}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}
