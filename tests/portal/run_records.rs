//! A run's whole record past what its page shows: every API call and every event, paged
//! and filtered (`/runs/{id}/calls`, `/runs/{id}/timeline`).

use natpilot::store::users::Role;
use natpilot::store::{
    self, EventLevel, RunId, Step,
    ledger::{ApiCall, CallFilter, CallState},
};
use reqwest::StatusCode;

use crate::harness::TestApp;
use crate::wizard::start;

/// Adds `ok` successful DescribeInstances calls and `failed` failed DisassociateAddress calls
/// (as a run on a large VPC makes), and `warnings` warning events among as many infos.
async fn a_long_record(app: &TestApp, id: &str, ok: usize, failed: usize, warnings: usize) {
    let run: RunId = id.parse().unwrap();
    let call = |action: &str, error: Option<&str>, n: usize| ApiCall {
        id: 0,
        run_id: run,
        step: Some(Step::Verify),
        at: chrono::Utc::now(),
        service: "vpc".into(),
        action: action.into(),
        region: "ap-guangzhou".into(),
        request_id: Some(format!("req-{action}-{n}")),
        duration_ms: 3,
        attempt: 1,
        error_code: error.map(str::to_owned),
        params: serde_json::json!({"AddressId": format!("eip-{n}")}),
        state: match error {
            None => CallState::Ok,
            Some(_) => CallState::Error,
        },
    };
    let store = app.store();
    for n in 0..ok {
        store::ledger::record(store.writer(), &call("DescribeInstances", None, n))
            .await
            .unwrap();
    }
    for n in 0..failed {
        let c = call("DisassociateAddress", Some("FailedOperation.Mutex"), n);
        store::ledger::record(store.writer(), &c).await.unwrap();
    }
    for n in 0..warnings * 2 {
        let level = if n % 2 == 0 {
            EventLevel::Warn
        } else {
            EventLevel::Info
        };
        let message = format!("event {n}");
        store::events::append(
            store.writer(),
            run,
            Some(Step::Verify),
            level,
            &message,
            &serde_json::json!({}),
        )
        .await
        .unwrap();
    }
}

#[tokio::test]
async fn the_run_page_shows_the_newest_calls_and_totals_and_links_to_every_call() {
    let app = TestApp::start().await;
    let mut olga = app.signed_in("olga", Role::Operator).await;
    let id = start(&app, &mut olga).await;
    a_long_record(&app, &id, 300, 12, 0).await;
    let run: RunId = id.parse().unwrap();
    let total = store::ledger::list(app.store().readers(), run, 0, u32::MAX)
        .await
        .unwrap()
        .len();
    assert!(total > 312, "the assessment's own calls are there too");

    let page = olga.get(&format!("/runs/{id}")).await;
    assert_eq!(page.count("#ledger tbody tr"), 25);
    assert!(
        page.text("#ledger-more")
            .contains(&format!("latest 25 of {total} calls")),
        "{}",
        page.text("#ledger-more")
    );
    assert!(page.text("#ledger-count").contains("12 failed"));
    let failed = "#ledger-summary tr[data-action=DisassociateAddress]";
    assert_eq!(page.text(&format!("{failed} .calls")), "12");
    assert_eq!(page.text(&format!("{failed} .failed")), "12");
    // The newest call is on the page; the oldest is not.
    assert!(page.body.contains("req-DisassociateAddress-11"));
    assert!(!page.body.contains("req-DescribeInstances-0<"));

    // Every call, page by page (200 a page), oldest first, each once.
    let mut seen = Vec::new();
    let mut next = Some(page.attr("#all-calls", "href").unwrap());
    let mut pages = 0;
    while let Some(url) = next {
        let p = olga.get(&url).await;
        assert_eq!(p.status, StatusCode::OK, "{}", p.body);
        let ids = p.select_attrs("#calls tbody tr", "data-call-id");
        assert!(ids.len() <= 200);
        seen.extend(ids);
        next = p.attr("#calls-next", "href");
        pages += 1;
        if pages > 1 {
            assert_eq!(p.count("#calls-first"), 1);
        }
    }
    assert_eq!(pages, total.div_ceil(200));
    assert_eq!(seen.len(), total);
    let ids: Vec<i64> = seen.iter().map(|s| s.parse().unwrap()).collect();
    assert!(
        ids.windows(2).all(|w| w[0] < w[1]),
        "oldest first, no call twice"
    );

    // Filtered to the failures of one action, with their parameters.
    let only = olga
        .get(&format!(
            "/runs/{id}/calls?action=DisassociateAddress&failed=1"
        ))
        .await;
    assert_eq!(only.count("#calls tbody tr"), 12);
    assert_eq!(only.count("#calls tbody tr .badge.failed"), 12);
    assert!(only.text("#calls tbody tr .call-params").contains("eip-0"));
    assert_eq!(
        only.attr("#calls-action option[selected]", "value")
            .as_deref(),
        Some("DisassociateAddress")
    );
    assert_eq!(only.count("#calls-failed[checked]"), 1);
    let filtered = CallFilter {
        action: Some("DescribeInstances".into()),
        failed_only: true,
    };
    let none = store::ledger::page(app.store().readers(), run, &filtered, 0, 10)
        .await
        .unwrap();
    assert!(none.is_empty(), "DescribeInstances never failed here");
}

#[tokio::test]
async fn the_whole_timeline_pages_and_filters_warnings() {
    let app = TestApp::start().await;
    let mut olga = app.signed_in("olga", Role::Operator).await;
    let id = start(&app, &mut olga).await;
    a_long_record(&app, &id, 0, 0, 150).await;
    let run: RunId = id.parse().unwrap();
    let total = store::events::count(app.store().readers(), run)
        .await
        .unwrap();

    // While the run is live, its page shows the newest few events (the live fragment);
    // the newest problems are listed above them.
    let page = olga.get(&format!("/runs/{id}")).await;
    assert_eq!(page.count("#timeline-body tr"), 12);
    assert!(
        page.text("#timeline-more")
            .contains(&format!("latest 12 of {total} events"))
    );
    assert!(
        page.text("#timeline-body tr:last-child")
            .contains("event 299")
    );
    assert_eq!(page.count("#run-problems li"), 5);
    assert!(
        page.text("#run-problems li:first-child")
            .contains("event 298")
    );

    let first = olga.get(&format!("/runs/{id}/timeline")).await;
    assert_eq!(first.count("#timeline tbody tr"), 200);
    assert!(
        first
            .texts("#timeline .event-message")
            .iter()
            .any(|m| m.contains("run started by olga")),
        "the first page starts at the beginning"
    );
    let second = olga
        .get(&first.attr("#timeline-next", "href").unwrap())
        .await;
    assert_eq!(second.count("#timeline tbody tr") as i64, total - 200);
    assert_eq!(second.count("#timeline-next"), 0);

    let bad = olga
        .get(&format!("/runs/{id}/timeline?after=yesterday"))
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(
        bad.body
            .contains("Leave it out to start from the first page")
    );

    let warnings = olga.get(&format!("/runs/{id}/timeline?problems=1")).await;
    assert_eq!(warnings.count("#timeline tbody tr"), 150);
    assert_eq!(warnings.count("#timeline tbody .badge.warn"), 150);
}
