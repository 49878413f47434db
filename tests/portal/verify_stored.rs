//! Step 4's stored rows (issue 11 "Performance"): a view reads one page of rows stored with
//! the inputs they were built from. These tests change each input in turn — an exception,
//! the rule, an egress result written behind the page's back, the snapshot — and check the
//! next view shows the change, not the rows stored before it.

use natpilot::store::{EgressOutcome, EgressPhase, RunId, results};
use reqwest::StatusCode;

use crate::harness::{Page, TestApp};
use crate::verify_step::{at_verify_step, cell};

fn ids(page: &Page) -> Vec<String> {
    page.select_attrs("#egress-table tbody tr", "data-instance-id")
}

fn verdict(page: &Page, instance: &str) -> Option<String> {
    page.attr(
        &format!("#egress-table tr[data-instance-id={instance}] .verdict"),
        "data-verdict",
    )
}

#[tokio::test]
async fn stored_step_4_rows_follow_exceptions_rules_egress_results_and_snapshots() {
    let app = TestApp::start().await;
    let (mut olga, id) = at_verify_step(&app).await;
    let page = format!("/runs/{id}/step/4");
    let first = olga.get(&page).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    assert!(cell(&first, "ins-backend2", "retire-action").contains("Unbind EIP 119.28.20.12"));
    assert_eq!(verdict(&first, "ins-backend2").as_deref(), Some("pass"));

    // A second view (from the stored rows) shows exactly the same table, counts and plan.
    let again = olga.get(&page).await;
    assert_eq!(ids(&again), ids(&first));
    for css in ["#egress-table", "#verify-counts", "#plan", "#nat-ips"] {
        assert_eq!(again.text(css), first.text(css), "{css}");
    }
    assert_eq!(
        again.attr("#step-form input[name=plan_digest]", "value"),
        first.attr("#step-form input[name=plan_digest]", "value")
    );

    // An exception edited: the row and the counts follow.
    let done = olga
        .post(
            &format!("/runs/{id}/retire-exception"),
            &[("set", "ins-backend2=keep")],
        )
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    let kept = olga.get(&page).await;
    assert_eq!(
        kept.attr(
            "#egress-table tr[data-instance-id=ins-backend2]",
            "data-exception"
        )
        .as_deref(),
        Some("keep")
    );
    assert!(cell(&kept, "ins-backend2", "kept").contains("exception"));
    assert!(kept.text("#verify-counts").contains("1 exception"));
    assert_ne!(
        kept.attr("#step-form input[name=plan_digest]", "value"),
        first.attr("#step-form input[name=plan_digest]", "value")
    );
    let done = olga
        .post(
            &format!("/runs/{id}/retire-exception"),
            &[("set", "ins-backend2=rule")],
        )
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);

    // Another rule: its plan, then the default's again.
    let release = olga.get(&format!("{page}?eip=release")).await;
    assert!(
        cell(&release, "ins-backend2", "retire-plan").contains("Release EIP 119.28.20.12"),
        "{}",
        cell(&release, "ins-backend2", "retire-plan")
    );
    let back = olga.get(&page).await;
    assert!(cell(&back, "ins-backend2", "retire-action").contains("Unbind EIP 119.28.20.12"));
    assert!(!back.text("#verify-counts").contains("exception"));

    // A new egress result, written straight into the store (no page was told): it fails.
    let run: RunId = id.parse().expect("a run id");
    let result = results::EgressResult {
        instance_id: "ins-backend2".into(),
        phase: EgressPhase::After,
        outcome: EgressOutcome::Ip,
        ip: Some("203.0.113.9".into()),
        detail: String::new(),
        at: chrono::Utc::now(),
    };
    results::put_egress(app.store().writer(), run, &result)
        .await
        .unwrap();
    let retested = olga.get(&page).await;
    assert_eq!(verdict(&retested, "ins-backend2").as_deref(), Some("fail"));
    assert_eq!(
        cell(&retested, "ins-backend2", "egress-after"),
        "203.0.113.9"
    );
    assert!(retested.text("#verify-counts").contains("1 failed"));

    // The cloud changes: the page shows its snapshot until the operator refreshes it.
    app.sim.handle().with_world(|w| {
        w.instance_mut("ins-backend2").unwrap().name = "renamed-by-test".into();
    });
    let same = olga.get(&page).await;
    assert!(!cell(&same, "ins-backend2", "instance-name").contains("renamed-by-test"));
    let refreshed = olga.post(&format!("{page}/refresh"), &[]).await;
    assert_eq!(
        refreshed.status,
        StatusCode::SEE_OTHER,
        "{}",
        refreshed.body
    );
    let fresh = olga.get(&page).await;
    assert_eq!(
        cell(&fresh, "ins-backend2", "instance-name"),
        "renamed-by-test"
    );
}

#[tokio::test]
async fn the_confirm_applies_the_engines_plan_not_the_stored_rows() {
    let app = TestApp::start().await;
    let (mut olga, id) = at_verify_step(&app).await;
    let page = format!("/runs/{id}/step/4");
    let shown = olga.get(&page).await;
    assert_eq!(shown.status, StatusCode::OK, "{}", shown.body);
    // The stored row is made to say something else: the next view shows it (the rows are
    // what the page reads) ...
    natpilot::store::sql::query(
        "UPDATE verify_rows SET action = 'release', \
         actions = '[[\"Release EIP 119.28.20.12 of ins-backend2 (tampered)\", true]]' \
         WHERE instance_id = 'ins-backend2'",
    )
    .execute(app.store().writer())
    .await
    .unwrap();
    let tampered = olga.get(&page).await;
    assert!(cell(&tampered, "ins-backend2", "retire-plan").contains("(tampered)"));
    // ... but the confirm is decided from the engine's plan: the EIP is unbound and kept.
    let digest = tampered
        .attr("#step-form input[name=plan_digest]", "value")
        .unwrap();
    let done = olga
        .post(
            &format!("{page}/confirm"),
            &[("plan_digest", digest.as_str())],
        )
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    app.settle(&id).await;
    let (kept, bound) = app.sim.handle().with_world(|w| {
        let a = w.addresses.get("eip-backend2");
        (a.is_some(), a.and_then(|a| a.instance_id.clone()))
    });
    assert!(kept, "the EIP was not released");
    assert_eq!(bound, None, "it was unbound, as the engine planned");
}
