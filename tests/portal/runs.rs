//! Issue 5 pages: dashboard, new run, a run's page and its actions, history, report.

use natpilot::store::{self, runs::NewRun, users::Role};
use reqwest::{StatusCode, header};

use crate::harness::{Browser, TestApp};

const VPC: &str = "vpc-tut0rial";

/// Starts a run on the tutorial VPC through the form and returns its id.
async fn start_run(app: &TestApp, b: &mut Browser) -> String {
    let page = b.get("/runs/new").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let region = page
        .attr("#new-run-form input[name=region]", "value")
        .unwrap();
    let done = b
        .post("/runs", &[("region", &region), ("vpc_id", VPC)])
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    let id = done
        .location()
        .unwrap()
        .trim_start_matches("/runs/")
        .to_owned();
    app.settle(&id).await;
    id
}

#[tokio::test]
async fn an_operator_starts_a_rollout_from_the_dashboard_and_sees_the_run() {
    let app = TestApp::start().await;
    let mut olga = app.signed_in("olga", Role::Operator).await;
    let home = olga.get("/").await;
    assert_eq!(
        home.attr("#start-rollout", "href").as_deref(),
        Some("/runs/new")
    );
    assert_eq!(home.count("#no-active-runs"), 1);
    let new = olga.get("/runs/new").await;
    assert!(new.count(&format!("#vpc-{VPC}")) == 1, "{}", new.body);
    let id = start_run(&app, &mut olga).await;
    let page = olga.get(&format!("/runs/{id}")).await;
    assert_eq!(page.text("#run-vpc"), VPC);
    assert_eq!(page.text("#run-operator"), "olga");
    assert_eq!(page.count("#stepper li"), 4);
    assert!(
        page.texts("#timeline .event-message")
            .iter()
            .any(|m| m.contains("run started by olga"))
    );
    assert!(
        page.count("#ledger tbody tr") > 1,
        "assessment calls are in the ledger"
    );
    let home = olga.get("/").await;
    assert_eq!(home.texts("#active-runs .run-operator"), vec!["olga"]);
    let metrics_url = format!("http://{}/metrics", app.app.metrics_addr.unwrap());
    let metrics = reqwest::get(&metrics_url)
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains(r#"natpilot_cloud_calls_total{action="DescribeVpcs",outcome="ok"}"#),
        "{metrics}"
    );
}

#[tokio::test]
async fn a_busy_vpc_names_who_holds_it() {
    let app = TestApp::start().await;
    let mut olga = app.signed_in("olga", Role::Operator).await;
    start_run(&app, &mut olga).await;
    let mut ivan = app.signed_in("ivan", Role::Operator).await;
    let page = ivan.get("/runs/new").await;
    let row_holder = page.text("#vpcs .vpc-holder");
    assert!(row_holder.contains("held by olga"), "{row_holder}");
    let region = page
        .attr("#new-run-form input[name=region]", "value")
        .unwrap();
    let refused = ivan
        .post("/runs", &[("region", &region), ("vpc_id", VPC)])
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.text("#new-run-error").contains("olga"));
}

#[tokio::test]
async fn only_the_runs_operator_or_an_admin_may_drive_it() {
    let app = TestApp::start().await;
    let mut olga = app.signed_in("olga", Role::Operator).await;
    let id = start_run(&app, &mut olga).await;
    let mut ivan = app.signed_in("ivan", Role::Operator).await;
    let page = ivan.get(&format!("/runs/{id}")).await;
    assert_eq!(page.count("#abandon"), 0, "read-only for other operators");
    let refused = ivan.post(&format!("/runs/{id}/abandon"), &[]).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(refused.text("#error-detail").contains("olga"));
    let mut vera = app.signed_in("vera", Role::Viewer).await;
    assert_eq!(vera.get(&format!("/runs/{id}")).await.count("#abandon"), 0);
    let mut root = app.signed_in("root", Role::Admin).await;
    root.get(&format!("/runs/{id}")).await;
    let done = root.post(&format!("/runs/{id}/abandon"), &[]).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER);
    assert_eq!(
        root.get(&format!("/runs/{id}"))
            .await
            .attr("#run-status", "data-status")
            .as_deref(),
        Some("abandoned")
    );
    let audit = root.get("/admin/audit?action=run.abandon").await;
    assert_eq!(audit.texts("#audit-table .audit-actor"), vec!["root"]);
}

#[tokio::test]
async fn the_run_owner_can_roll_back_an_assessed_run() {
    let app = TestApp::start().await;
    let mut olga = app.signed_in("olga", Role::Operator).await;
    let id = start_run(&app, &mut olga).await;
    olga.get(&format!("/runs/{id}")).await;
    let done = olga.post(&format!("/runs/{id}/rollback"), &[]).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    app.settle(&id).await;
    let page = olga.get(&format!("/runs/{id}")).await;
    // The status in words; the machine value stays in `data-status`.
    assert_eq!(page.text("#run-status"), "rolled back");
    assert_eq!(
        page.attr("#run-status", "data-status").as_deref(),
        Some("rolled_back")
    );
    // History and the dashboard say it in words too.
    let history = olga.get("/runs").await;
    assert_eq!(
        history.text(".run-status"),
        "rolled back",
        "{}",
        history.body
    );
    assert_eq!(
        history.attr(".run-status", "data-status").as_deref(),
        Some("rolled_back")
    );
    assert!(!history.body.contains(">rolled_back<"), "{}", history.body);
    let dashboard = olga.get("/").await;
    assert_eq!(dashboard.text(".run-status"), "rolled back");
}

#[tokio::test]
async fn the_report_downloads_as_json_with_the_whole_record() {
    let app = TestApp::start().await;
    let mut olga = app.signed_in("olga", Role::Operator).await;
    let id = start_run(&app, &mut olga).await;
    let page = olga.get(&format!("/runs/{id}/report")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.headers[header::CONTENT_DISPOSITION]
            .to_str()
            .unwrap()
            .contains(&id)
    );
    let json: serde_json::Value = serde_json::from_str(&page.body).unwrap();
    assert_eq!(json["run"]["vpc_id"], VPC);
    assert!(json["api_calls"].as_array().unwrap().len() > 1);
    assert!(
        json["reports"]["exposure"].is_object(),
        "{}",
        json["reports"]
    );
    assert_eq!(
        olga.get("/runs/not-a-run").await.status,
        StatusCode::NOT_FOUND
    );
}

async fn seed_runs(app: &TestApp, n: usize, by: &str) {
    for i in 0..n {
        let vpc = format!("vpc-seed{i:04}");
        let new = NewRun {
            account: "simulated",
            region: "ap-guangzhou",
            vpc_id: &vpc,
            started_by: by,
        };
        store::runs::insert(app.store(), &new).await.unwrap();
    }
}

#[tokio::test]
async fn history_pages_fifty_runs_at_a_time_with_a_keyset_link() {
    let app = TestApp::start().await;
    seed_runs(&app, 55, "olga").await;
    let mut vera = app.signed_in("vera", Role::Viewer).await;
    let first = vera.get("/runs").await;
    assert_eq!(first.count("#runs-table tbody tr"), 50);
    let next = first.attr("#history-next", "href").unwrap();
    let second = vera.get(&next).await;
    assert_eq!(second.count("#runs-table tbody tr"), 5);
    assert_eq!(second.count("#history-next"), 0);
    let mut all: Vec<String> = first.texts("#runs-table .run-link");
    all.extend(second.texts("#runs-table .run-link"));
    all.sort();
    all.dedup();
    assert_eq!(all.len(), 55, "no run twice, none missing");
}

#[tokio::test]
async fn history_filters_by_status_vpc_operator_and_date_and_keeps_bad_input() {
    let app = TestApp::start().await;
    seed_runs(&app, 3, "olga").await;
    let mut olga = app.signed_in("olga", Role::Operator).await;
    let id = start_run(&app, &mut olga).await;
    olga.get(&format!("/runs/{id}")).await;
    olga.post(&format!("/runs/{id}/abandon"), &[]).await;
    let by_status = olga.get("/runs?status=abandoned").await;
    assert_eq!(by_status.texts("#runs-table .run-link"), vec![VPC]);
    assert_eq!(
        by_status
            .attr("#filter-status option[selected]", "value")
            .as_deref(),
        Some("abandoned")
    );
    let by_vpc = olga.get("/runs?vpc=vpc-seed0001").await;
    assert_eq!(by_vpc.texts("#runs-table .run-link"), vec!["vpc-seed0001"]);
    let by_operator = olga.get("/runs?operator=nobody").await;
    assert_eq!(by_operator.count("#runs-table .run-link"), 0);
    let today = chrono::Utc::now().format("%Y-%m-%d").to_string();
    let by_date = olga.get(&format!("/runs?from={today}&until={today}")).await;
    assert_eq!(by_date.count("#runs-table .run-link"), 4);
    let bad = olga.get("/runs?from=last+week").await;
    assert!(bad.text("#history-errors").contains("not a date"));
    assert_eq!(
        bad.attr("#filter-from", "value").as_deref(),
        Some("last week")
    );
}

#[tokio::test]
async fn cloud_controlled_vpc_names_render_escaped_on_the_new_run_page() {
    let app = TestApp::start().await;
    let payload = r#"<script>alert("vpc")</script>"#;
    app.sim.handle().with_world(|w| {
        w.vpcs.get_mut(VPC).unwrap().name = payload.to_owned();
    });
    let mut olga = app.signed_in("olga", Role::Operator).await;
    let page = olga.get("/runs/new").await;
    assert!(page.texts("#vpcs .vpc-name").contains(&payload.to_owned()));
    assert_eq!(page.count("#vpcs script"), 0);
}

/// Reads an SSE response until `needle` appears (or the stream ends).
async fn read_sse_until(resp: &mut reqwest::Response, needle: &str) -> String {
    let mut seen = String::new();
    // A guard against hanging forever, not a timing assertion.
    let limit = std::time::Duration::from_secs(60);
    while let Some(chunk) = tokio::time::timeout(limit, resp.chunk())
        .await
        .expect("no SSE data for 60 s")
        .unwrap()
    {
        seen.push_str(&String::from_utf8_lossy(&chunk));
        if seen.contains(needle) {
            break;
        }
    }
    seen
}

#[tokio::test]
async fn the_event_stream_sends_whole_fragments_and_ends_with_the_final_state() {
    let app = TestApp::start().await;
    let mut olga = app.signed_in("olga", Role::Operator).await;
    let id = start_run(&app, &mut olga).await;
    let page = olga.get(&format!("/runs/{id}")).await;
    let sse = page.attr("#run-live", "sse-connect").unwrap();
    assert!(sse.starts_with(&format!("/runs/{id}/events")));
    // One stream feeds one fragment; `done` closes it and fetches the records once, as
    // does `records` (the run moved to another status or step).
    assert_eq!(page.attr("#run-live", "sse-close").as_deref(), Some("done"));
    assert_eq!(
        page.attr("#run-live #run-progress", "sse-swap").as_deref(),
        Some("progress")
    );
    assert_eq!(
        page.attr("#run-live #run-records", "hx-trigger").as_deref(),
        Some("sse:done, sse:records")
    );
    assert_eq!(
        page.count("#run-live [sse-swap=event]"),
        0,
        "no per-event swaps"
    );
    assert!(
        page.count("#run-progress #run-status") == 1
            && page.count("#run-progress #run-actions") == 1
    );
    // The fragment alone, as the stream sends it.
    let fragment = olga.get(&format!("/runs/{id}/progress")).await;
    assert_eq!(fragment.status, StatusCode::OK);
    assert_eq!(
        fragment.count("#run-status[data-status=active]"),
        1,
        "{}",
        fragment.body
    );
    assert!(!fragment.body.contains("<html"), "a fragment, not a page");

    let client = reqwest::Client::new();
    let cookie = format!("natpilot_session={}", olga.cookie.clone().unwrap());
    let mut resp = client
        .get(olga.url(&format!("/runs/{id}/events?after=0")))
        .header(header::COOKIE, &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(
        resp.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    // The first message is the run as it stands.
    let first = read_sse_until(&mut resp, "data-status=\"active\"").await;
    assert!(first.contains("event: progress"), "{first}");
    // A rollback's progress arrives on the open stream, then the final state, then `done`,
    // and the stream ends.
    olga.post(&format!("/runs/{id}/rollback"), &[]).await;
    let rest = read_sse_until(&mut resp, "event: done").await;
    assert!(rest.contains("data-status=\"rolled_back\""), "{rest}");
    // Records are asked for at most once, when the rollback is seen under way (a quick one
    // may be seen only at its end, which `done` covers), never with every fragment.
    assert!(rest.matches("event: records").count() <= 1, "{rest}");
    let final_at = rest.rfind("data-status=\"rolled_back\"").unwrap();
    assert!(final_at < rest.find("event: done").unwrap());
    assert!(
        tokio::time::timeout(std::time::Duration::from_secs(60), resp.chunk())
            .await
            .expect("the stream ends after `done`")
            .unwrap()
            .is_none()
    );
    app.settle(&id).await;

    // A browser that reconnects (Last-Event-ID) after the end still gets the final state.
    let mut again = client
        .get(olga.url(&format!("/runs/{id}/events?after=0")))
        .header(header::COOKIE, &cookie)
        .header("Last-Event-ID", "1")
        .send()
        .await
        .unwrap();
    let replay = read_sse_until(&mut again, "event: done").await;
    assert!(replay.contains("data-status=\"rolled_back\""), "{replay}");
    assert!(replay.contains("rolled back</span>"), "{replay}");
}

#[tokio::test]
async fn metrics_count_runs_by_state_from_the_database() {
    let app = TestApp::start().await;
    let mut olga = app.signed_in("olga", Role::Operator).await;
    seed_runs(&app, 3, "bob").await;
    start_run(&app, &mut olga).await;
    let metrics_url = format!("http://{}/metrics", app.app.metrics_addr.unwrap());
    let body = reqwest::get(&metrics_url)
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    // The three seeded runs (on other VPCs) and the one just started are all active.
    assert!(
        body.contains(r#"natpilot_runs{state="active"} 4"#),
        "{body}"
    );
}
