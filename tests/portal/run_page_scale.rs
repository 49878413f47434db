//! Issue 11, the run page at scale: a 10,000-instance step 4 in progress. The run's step 4
//! is recorded through the store as the engine records it (a confirmed plan of 10,000
//! retirements, an undo record per change written before its call and moved on after, an
//! event and a ledger row per call), so the page is measured at that size without driving
//! 10,000 simulated retirements on a loaded machine. Then: the page stays small, its records
//! page by keyset, and the live fragment and stream report the counts the store holds, up to
//! the final state.

use std::collections::BTreeSet;

use natpilot::store::users::Role;
use natpilot::store::{
    self, EventLevel, RunId, RunStatus, Step, UndoState,
    ledger::{ApiCall, CallState},
};
use natpilot::wizard::engine::UndoEntry;
use natpilot::wizard::input::{StepInput, VerifyInput};
use natpilot::wizard::plan::{Change, Plan, Undo};
use reqwest::{StatusCode, header};

use crate::harness::{Browser, TestApp};
use crate::wizard::start;

const INSTANCES: usize = 10_000;
const DONE: usize = 6_000;
const UNDER_WAY: usize = 64;

fn retirement(n: usize) -> (Change, Undo) {
    let (instance_id, ip) = (
        format!("ins-{n:05}"),
        format!("10.{}.{}.{}", n / 65536, (n / 256) % 256, n % 256),
    );
    (
        Change::DisassociateEip {
            instance_id: instance_id.clone(),
            address_id: format!("eip-{n:05}"),
            ip: ip.clone(),
        },
        Undo::ReassociateEip {
            instance_id,
            address_id: Some(format!("eip-{n:05}")),
            ip,
        },
    )
}

/// Step 4 of `run` confirmed with 10,000 retirements, `DONE` made, `UNDER_WAY` in flight.
async fn a_large_step_4_in_progress(app: &TestApp, run: RunId) {
    let mut plan = Plan::default();
    for n in 0..INSTANCES {
        let (change, undo) = retirement(n);
        plan.push(change, undo);
    }
    let input = serde_json::to_value(StepInput::Verify(VerifyInput::default())).unwrap();
    let plan_json = serde_json::to_value(&plan).unwrap();
    // The step is "driven" by a lease holder that does nothing: this process's engine must
    // not take the run over and apply the made-up plan to the simulator.
    let lease = store::lease::take(
        app.store().writer(),
        run,
        "test: a quiet engine",
        std::time::Duration::from_secs(3600),
    )
    .await
    .unwrap();
    assert!(lease.is_ok(), "the assessment's lease was released");
    let mut tx = app.store().begin_write().await.unwrap();
    store::steps::confirm(&mut *tx, run, Step::Verify, &input, &plan_json, "olga")
        .await
        .unwrap();
    let moved = store::runs::transition(
        &mut *tx,
        run,
        &[RunStatus::Active],
        RunStatus::Applying,
        Step::Verify,
        None,
    )
    .await
    .unwrap();
    assert!(moved, "the run was waiting at a step");
    for (n, item) in plan.items.iter().enumerate().take(DONE + UNDER_WAY) {
        let entry = UndoEntry {
            key: format!("disassociate:{n}"),
            undo: item.undo.clone(),
        };
        let record = store::undo::insert_pending(
            &mut *tx,
            run,
            Step::Verify,
            &serde_json::to_value(&entry).unwrap(),
        )
        .await
        .unwrap();
        if n < DONE {
            store::undo::set_state(&mut *tx, record, UndoState::Done, None, None)
                .await
                .unwrap();
            let call = ApiCall {
                id: 0,
                run_id: run,
                step: Some(Step::Verify),
                at: chrono::Utc::now(),
                service: "vpc".into(),
                action: "DisassociateAddress".into(),
                region: "ap-guangzhou".into(),
                request_id: Some(format!("req-{n}")),
                duration_ms: 40,
                attempt: 1,
                error_code: None,
                params: serde_json::json!({"AddressId": format!("eip-{n:05}")}),
                state: CallState::Ok,
            };
            store::ledger::record(&mut *tx, &call).await.unwrap();
            let message = format!("Unbound EIP of ins-{n:05}");
            store::events::append(
                &mut *tx,
                run,
                Some(Step::Verify),
                EventLevel::Info,
                &message,
                &serde_json::Value::Null,
            )
            .await
            .unwrap();
        }
    }
    store::events::append(
        &mut *tx,
        run,
        Some(Step::Verify),
        EventLevel::Warn,
        "DisassociateAddress of ins-00042 was retried (RequestLimitExceeded)",
        &serde_json::Value::Null,
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
}

/// What the store says of step 4: (done, under way).
async fn store_counts(app: &TestApp, run: RunId) -> (usize, usize) {
    let records = store::undo::list(app.store().readers(), run).await.unwrap();
    let steps4 = records.iter().filter(|r| r.step == Step::Verify);
    let done = steps4
        .clone()
        .filter(|r| r.state == UndoState::Done)
        .count();
    let pending = steps4.filter(|r| r.state == UndoState::Pending).count();
    (done, pending)
}

fn progress_of(page: &crate::harness::Page) -> [i64; 4] {
    [
        "data-total",
        "data-done",
        "data-under-way",
        "data-remaining",
    ]
    .map(|a| {
        page.attr("#step-progress", a)
            .unwrap_or_else(|| panic!("no {a} in {}", page.body))
            .parse()
            .unwrap()
    })
}

#[tokio::test]
async fn a_ten_thousand_instance_step_4_in_progress_has_a_small_live_page() {
    let app = TestApp::start().await;
    let mut olga = app.signed_in("olga", Role::Operator).await;
    let id = start(&app, &mut olga).await;
    app.settle(&id).await;
    let run: RunId = id.parse().unwrap();
    a_large_step_4_in_progress(&app, run).await;
    let (done, under_way) = store_counts(&app, run).await;
    assert_eq!((done, under_way), (DONE, UNDER_WAY));

    // The page: small, its live part counting what the store holds.
    let page = olga.get(&format!("/runs/{id}")).await;
    assert_eq!(page.status, StatusCode::OK);
    println!(
        "run page of a {INSTANCES}-instance step 4 in progress: {} bytes",
        page.body.len()
    );
    assert!(page.body.len() < 150_000, "{} bytes", page.body.len());
    assert_eq!(
        page.attr("#run-status", "data-status").as_deref(),
        Some("applying")
    );
    let remaining = (INSTANCES - DONE - UNDER_WAY) as i64;
    assert_eq!(
        progress_of(&page),
        [INSTANCES as i64, DONE as i64, UNDER_WAY as i64, remaining]
    );
    assert_eq!(page.attr("#progress-bar", "value").as_deref(), Some("6000"));
    // Time left from the plan's kinds and the cloud's limits: 4,000 unbinds not yet made.
    assert!(
        page.text("#progress-pace").contains(
            "time left about 6 min 40 s at best (4,000 EIPs to unbind at the cloud's limit of 10 a second)"
        ),
        "{}",
        page.text("#progress-pace")
    );
    assert!(page.text("#run-problems").contains("ins-00042 was retried"));
    assert!(page.text("#live-note").starts_with("Live:"));
    // No rollback or abandon while the step applies.
    assert_eq!(page.count("#rollback") + page.count("#abandon"), 0);

    // Undo records: counts per state at the top, the first page below, the rest by keyset.
    assert_eq!(page.count("#undo tbody tr"), 50);
    let counts = page.text("#undo-counts");
    assert!(counts.contains("6064 record(s)"), "{counts}");
    assert!(
        counts.contains("6000 undo ready") && counts.contains("64 under way"),
        "{counts}"
    );
    assert!(
        page.texts("#undo .undo-state")
            .iter()
            .all(|s| s == "change made — undo ready"),
        "a made change does not read as \"done\""
    );
    let mut seen = BTreeSet::new();
    let mut next = Some(format!("/runs/{id}/undo?state=done"));
    let mut pages = 0;
    while let Some(url) = next {
        let p = olga.get(&url).await;
        assert_eq!(p.status, StatusCode::OK, "{}", p.body);
        assert!(p.body.len() < 150_000);
        let ids = p.select_attrs("#undo tbody tr", "data-undo-id");
        assert!(ids.len() <= 200 && !ids.is_empty());
        assert_eq!(p.count("#undo tbody tr[data-state=done]"), ids.len());
        for i in ids {
            assert!(seen.insert(i.parse::<i64>().unwrap()), "no record twice");
        }
        next = p.attr("#undo-next", "href");
        pages += 1;
    }
    assert_eq!(seen.len(), DONE);
    assert_eq!(pages, DONE.div_ceil(200));
    let bad = olga.get(&format!("/runs/{id}/undo?state=finished")).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.body.contains("not a state of an undo record"));

    // The fragment alone is smaller still, with the same counts.
    let fragment = olga.get(&format!("/runs/{id}/progress")).await;
    assert!(
        fragment.body.len() < 30_000,
        "{} bytes",
        fragment.body.len()
    );
    assert_eq!(progress_of(&fragment)[1], DONE as i64);

    live_stream_follows_the_store(&app, &olga, run).await;
}

/// The stream's first message holds the store's counts; a change the store records arrives
/// without an engine event (the status tick re-reads, so a run another process drives is
/// followed too: here the lease holder is "a quiet engine"), and the end arrives with `done`.
async fn live_stream_follows_the_store(app: &TestApp, olga: &Browser, run: RunId) {
    let mut resp = reqwest::Client::new()
        .get(olga.url(&format!("/runs/{run}/events")))
        .header(header::COOKIE, olga.cookie_header())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let first = read_until(&mut resp, "data-done=\"6000\"").await;
    assert!(first.contains("data-under-way=\"64\""), "{first}");
    assert!(
        !first.contains("event: records"),
        "the page has just shown them"
    );

    // 64 in-flight changes complete; the stream shows it, then the step and run end.
    let records = store::undo::list(app.store().readers(), run).await.unwrap();
    let mut tx = app.store().begin_write().await.unwrap();
    for r in records.iter().filter(|r| r.state == UndoState::Pending) {
        store::undo::set_state(&mut *tx, r.id, UndoState::Done, None, None)
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();
    read_until(&mut resp, "data-done=\"6064\"").await;
    // The step stops: a failed run still holds its VPC, so the stream stays open.
    let moved = |from: RunStatus, to: RunStatus| async move {
        let ok =
            store::runs::transition(app.store().writer(), run, &[from], to, Step::Verify, None)
                .await
                .unwrap();
        assert!(ok, "{from} → {to}");
    };
    moved(RunStatus::Applying, RunStatus::Failed).await;
    let mut failed = read_until(&mut resp, "data-status=\"failed\"").await;
    assert!(!failed.contains("event: done"), "{failed}");
    // The records below the live part (calls, undo records, inputs) are not in the
    // fragment: a new status asks the page to fetch them once.
    if !failed.contains("event: records") {
        failed += &read_until(&mut resp, "event: records").await;
    }
    assert!(
        failed.find("event: records") > failed.find("data-status=\"failed\""),
        "records are asked for after the fragment that changed: {failed}"
    );

    // A rollback counts every step's records by what it made of them, not step 4's
    // "changes made".
    moved(RunStatus::Failed, RunStatus::RollingBack).await;
    let rolling = read_until(&mut resp, "id=\"rollback-progress\"").await;
    assert!(
        rolling.contains("data-total=\"6064\" data-handled=\"0\""),
        "{rolling}"
    );
    assert!(!rolling.contains("id=\"step-progress\""), "{rolling}");
    let records = store::undo::list(app.store().readers(), run).await.unwrap();
    let mut tx = app.store().begin_write().await.unwrap();
    for r in records.iter().rev().take(100) {
        store::undo::set_state(&mut *tx, r.id, UndoState::Undone, None, None)
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();
    let undoing = read_until(&mut resp, "data-handled=\"100\"").await;
    assert!(undoing.contains("data-to-go=\"5964\""), "{undoing}");
    assert!(undoing.contains("100 undone"), "{undoing}");
    // The run ends: the final state, then `done`, then the end of the stream.
    moved(RunStatus::RollingBack, RunStatus::RolledBack).await;
    let last = read_until(&mut resp, "event: done").await;
    assert!(last.contains("data-status=\"rolled_back\""), "{last}");
    let end = tokio::time::timeout(std::time::Duration::from_secs(60), resp.chunk())
        .await
        .expect("the stream ends after `done`")
        .unwrap();
    assert!(end.is_none());
}

/// Reads an SSE response until `needle` appears; a guard against hanging, not a timing test.
async fn read_until(resp: &mut reqwest::Response, needle: &str) -> String {
    let mut seen = String::new();
    while !seen.contains(needle) {
        let chunk = tokio::time::timeout(std::time::Duration::from_secs(60), resp.chunk())
            .await
            .unwrap_or_else(|_| panic!("no {needle:?} within 60 s; saw {seen}"))
            .unwrap()
            .unwrap_or_else(|| panic!("the stream ended before {needle:?}; saw {seen}"));
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }
    seen
}
