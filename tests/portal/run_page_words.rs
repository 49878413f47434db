//! Issue 11, the run page in words on the tutorial: each state's one next action as the
//! primary button, no rollback (nor "release the NAT gateway's new EIPs") before the run has
//! a NAT gateway, undo records that say what they mean, a completed run that opens with its
//! outcome, and a rolled-back run that says who rolled it back, when, and what differs from
//! the world before the run.

use natpilot::store::users::Role;
use reqwest::StatusCode;

use crate::harness::TestApp;
use crate::wizard::{start, step};

#[tokio::test]
async fn the_run_page_offers_one_next_action_and_a_rollback_only_once_something_changed() {
    let app = TestApp::start().await;
    let mut olga = app.signed_in("olga", Role::Operator).await;
    let id = start(&app, &mut olga).await;
    app.settle(&id).await;

    // After the assessment: review step 1, nothing to roll back yet.
    let page = olga.get(&format!("/runs/{id}")).await;
    assert_eq!(
        page.text("a#next-action.primary"),
        "Review step 1",
        "{}",
        page.body
    );
    assert_eq!(
        page.attr("#next-action", "href").unwrap(),
        format!("/runs/{id}/step/1")
    );
    assert_eq!(page.count("#rollback"), 0, "{}", page.body);
    assert_eq!(page.count("#release-nat-eips"), 0);
    assert_eq!(page.count("#abandon"), 1);
    // The stepper says step 1 waits for review, not that it never started.
    assert_eq!(page.text("#step-1 .step-state"), "assessed — to review");
    assert_eq!(
        page.attr("#step-1 .step-state", "data-state").as_deref(),
        Some("review")
    );
    assert_eq!(page.text("#step-2 .step-state"), "not started");
    let refused = olga
        .post(
            &format!("/runs/{id}/rollback"),
            &[("release_nat_eips", "1")],
        )
        .await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.body);
    assert!(refused.body.contains("no NAT gateway"), "{}", refused.body);

    step(&app, &mut olga, &id, 1, &[]).await;
    let nat = [
        ("name", "egress-nat"),
        ("bandwidth_mbps", "100"),
        ("max_connections", "1000000"),
        ("new_eips", "1"),
    ];
    step(&app, &mut olga, &id, 2, &nat).await;
    let page = olga.get(&format!("/runs/{id}")).await;
    assert_eq!(page.text("#next-action"), "Open step 3");
    assert_eq!(
        page.text("#step-3 .step-state"),
        "open — to plan and confirm"
    );
    assert_eq!(page.text("#step-4 .step-state"), "not started");
    assert_eq!(page.count("#rollback"), 1, "{}", page.body);
    assert_eq!(page.count("#release-nat-eips"), 1);
    assert!(page.text("#rollback-form").contains("NAT gateway nat-"));
    // A made change says so, and that its undo is ready, not "done".
    let states = page.texts("#undo .undo-state");
    assert!(!states.is_empty());
    assert!(
        states.iter().all(|s| s.starts_with("change made")),
        "{states:?}"
    );

    step(
        &app,
        &mut olga,
        &id,
        3,
        &[("replace_existing_default", "1")],
    )
    .await;
    step(&app, &mut olga, &id, 4, &[]).await;
    let page = olga.get(&format!("/runs/{id}")).await;
    assert_eq!(
        page.attr("#run-status", "data-status").as_deref(),
        Some("completed")
    );
    // "Live: …" ends with the run; the page opens with the outcome, the JSON one click away.
    assert_eq!(page.count("#live-note"), 0);
    assert_eq!(page.count("#run-live[sse-connect]"), 0);
    assert_eq!(
        page.count("#run-outcome #outcome-kinds"),
        1,
        "{}",
        page.body
    );
    let ordinary = "#outcome-kinds tr:nth-child(2)";
    assert_eq!(
        page.text(&format!("{ordinary} td:first-child")),
        "Ordinary public IPs"
    );
    assert_ne!(
        page.text(&format!("{ordinary} .before")),
        page.text(&format!("{ordinary} .after")),
        "{}",
        page.text("#outcome-kinds")
    );
    // The EIPs the run kept have no "before": idle EIPs from before the run are not theirs.
    let kept = "#outcome-kinds tr:nth-child(3)";
    assert_eq!(
        page.text(&format!("{kept} td:first-child")),
        "Unbound EIPs this run kept"
    );
    assert_eq!(page.text(&format!("{kept} .before")), "—");
    assert!(page.text("#outcome-idle").contains("charges for idle EIPs"));
    assert_eq!(
        page.attr("#final-report", "href").unwrap(),
        format!("/runs/{id}/report")
    );
    assert!(page.body.find("id=\"run-outcome\"") < page.body.find("id=\"ledger\""));
    assert!(
        !page.body.contains("<pre id=\"final-report\""),
        "no raw JSON on the page"
    );

    let rolled = olga.post(&format!("/runs/{id}/rollback"), &[]).await;
    assert_eq!(rolled.status, StatusCode::SEE_OTHER, "{}", rolled.body);
    app.settle(&id).await;
    let page = olga.get(&format!("/runs/{id}")).await;
    assert_eq!(page.text("#run-status"), "rolled back");
    assert_eq!(page.text("#rolled-back-by"), "olga");
    // The step pages say it in words too.
    let step = olga.get(&format!("/runs/{id}/step/4")).await;
    assert_eq!(step.text("#run-status"), "rolled back");
    assert!(
        step.text("#step-not-current")
            .contains("the run is rolled back")
    );
    assert!(page.text("#rolled-back-at").ends_with("UTC"));
    // The ordinary IPs came back as EIPs: the page names each difference.
    let differs = page.texts("#rollback-differs li");
    assert!(
        differs
            .iter()
            .any(|d| d.contains("119.28.20.11") && d.contains("EIP")),
        "{differs:?}"
    );
    // Rolled back without releasing them, the NAT gateway's own EIPs stay on the account.
    assert!(
        differs
            .iter()
            .any(|d| d.contains("allocated for the NAT gateway") && d.contains("unbound")),
        "{differs:?}"
    );
    assert!(
        page.texts("#undo .undo-state")
            .iter()
            .all(|s| s != "done" && !s.starts_with("change made — undo ready")),
        "{:?}",
        page.texts("#undo .undo-state")
    );
    assert_eq!(page.text("#next-action"), "Start a new run");
}

#[tokio::test]
async fn the_stepper_says_step_1_is_being_assessed_while_it_is() {
    let app = TestApp::start().await;
    let mut olga = app.signed_in("olga", Role::Operator).await;
    // The assessment is held at its egress test.
    crate::rehearsals::hold(&app, "RunCommand");
    let id = crate::wizard::begin(&mut olga).await;
    crate::common::until("the assessment to test egress", || async {
        app.sim.handle().executed("RunCommand") >= 1
    })
    .await;
    let page = olga.get(&format!("/runs/{id}")).await;
    assert_eq!(
        page.attr("#step-1 .step-state", "data-state").as_deref(),
        Some("assessing"),
        "{}",
        page.body
    );
    assert_eq!(page.text("#step-1 .step-state"), "assessing");
    assert_eq!(page.text("#step-2 .step-state"), "not started");
    crate::rehearsals::release(&app);
    app.settle(&id).await;
    let page = olga.get(&format!("/runs/{id}")).await;
    assert_eq!(page.text("#step-1 .step-state"), "assessed — to review");
}
