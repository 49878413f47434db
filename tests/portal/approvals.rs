//! Issue 14, item 2: four-eyes approvals through the pages and the JSON API, on the simulator
//! with the policy turned on (as `[approvals] simulator = true` does). Confirming a held step
//! files a request and applies nothing; the run says "waiting for approval"; the nav counts
//! what waits for me; the request page shows the exact plan; the requester cannot approve;
//! another operator approves it and exactly that plan is applied; a rejection leaves the step
//! to be previewed again; webhooks hear `approval.requested` and `approval.decided`.

use std::time::Duration;

use natpilot::approvals::ApprovalPolicy;
use natpilot::store::users::Role;
use natpilot::web::settings::WebSettings;
use natpilot::wizard::engine::EngineOptions;
use reqwest::StatusCode;
use serde_json::json;

use crate::api::{Api, token};
use crate::common::until;
use crate::harness::{Browser, Page, TestApp};
use crate::webhooks::{Receiver, settings as hook_settings, signature_is_valid};
use crate::wizard::start as start_run;

fn with_approvals() -> EngineOptions {
    EngineOptions {
        approvals: ApprovalPolicy::four_eyes(Duration::from_secs(3600)),
        ..EngineOptions::default()
    }
}

async fn app_with_approvals(settings: WebSettings) -> TestApp {
    TestApp::start_with_engine(settings, with_approvals()).await
}

const NAT: [(&str, &str); 4] = [
    ("name", "egress-nat"),
    ("bandwidth_mbps", "100"),
    ("max_connections", "1000000"),
    ("new_eips", "1"),
];

/// Previews step `n` with `fields` and confirms it; returns the preview (with the digest it
/// showed) and the confirm's answer.
async fn preview_and_confirm(
    b: &mut Browser,
    id: &str,
    n: u8,
    fields: &[(&str, &str)],
) -> (Page, String, Page) {
    b.get(&format!("/runs/{id}/step/{n}")).await;
    let preview = b.post(&format!("/runs/{id}/step/{n}/plan"), fields).await;
    assert_eq!(preview.status, StatusCode::OK, "{}", preview.body);
    let digest = preview
        .attr("#step-form input[name=plan_digest]", "value")
        .unwrap();
    let mut confirmed = fields.to_vec();
    confirmed.push(("plan_digest", &digest));
    let done = b
        .post(&format!("/runs/{id}/step/{n}/confirm"), &confirmed)
        .await;
    (preview, digest, done)
}

/// Olga's run at step 2 with step 2 confirmed: the path of the approval request it filed.
async fn requested_step_2(app: &TestApp, olga: &mut Browser) -> (String, String, String) {
    let id = start_run(app, olga).await;
    crate::wizard::step(app, olga, &id, 1, &[]).await;
    let (preview, digest, done) = preview_and_confirm(olga, &id, 2, &NAT).await;
    assert_eq!(
        preview.text("#confirm-step"),
        "Confirm and ask for approval",
        "the button says what confirming does"
    );
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    let path = done.location().unwrap();
    assert!(path.starts_with("/approvals/"), "{path}");
    (id, path, digest)
}

#[tokio::test]
async fn a_held_step_waits_for_another_operator_who_approves_the_exact_plan_on_its_page() {
    let app = app_with_approvals(WebSettings::default()).await;
    let mut olga = app.signed_in("olga", Role::Operator).await;
    let mut peter = app.signed_in("peter", Role::Operator).await;
    let (id, path, digest) = requested_step_2(&app, &mut olga).await;
    // Nothing was applied: no gateway; the run and the step say they wait for approval.
    assert!(app.sim.handle().nat_gateways("vpc-tut0rial").is_empty());
    let run = olga.get(&format!("/runs/{id}")).await;
    assert_eq!(
        run.text("#run-status"),
        "waiting for approval",
        "{}",
        run.body
    );
    assert_eq!(
        run.attr("#next-action", "href").as_deref(),
        Some(path.as_str())
    );
    let step = olga.get(&format!("/runs/{id}/step/2")).await;
    assert!(
        step.text("#step-waiting-approval")
            .contains("waiting for approval")
    );
    assert_eq!(
        step.count("#confirm-step"),
        0,
        "nobody confirms it meanwhile"
    );
    // The nav counts what waits for me: nothing for olga (her own), one for peter.
    assert_eq!(olga.get("/").await.count("#nav-approvals-count"), 0);
    let home = peter.get("/").await;
    assert_eq!(home.text("#nav-approvals-count"), "1");
    let list = peter.get("/approvals").await;
    assert_eq!(
        list.select_attrs("#approvals-for-me a.approval-link", "href"),
        vec![path.clone()]
    );
    let mine = olga.get("/approvals").await;
    assert_eq!(mine.count("#approvals-for-me a.approval-link"), 0);
    assert_eq!(mine.count("#approvals-mine a.approval-link"), 1);
    // The request page: the exact plan that was previewed, who asked, the digest.
    let page = peter.get(&path).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert_eq!(page.text("#approval-digest"), digest);
    assert_eq!(page.text("#approval-requester"), "olga");
    assert_eq!(page.text("#approval-state"), "waiting for approval");
    assert!(page.text("#plan-changes").contains("egress-nat"));
    // Olga sees no form, and posting anyway is refused (and audited).
    let own = olga.get(&path).await;
    assert_eq!(own.count("#approval-form"), 0);
    assert!(own.text("#approval-why-not").contains("another person"));
    let refused = olga
        .post(&format!("{path}/approve"), &[("comment", "")])
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    assert!(refused.text("#approval-errors").contains("another person"));
    assert_eq!(app.audited("approval.approve_refused").await.len(), 1);
    // A viewer cannot decide at all.
    let mut vera = app.signed_in("vera", Role::Viewer).await;
    vera.get(&path).await;
    let viewer = vera.post(&format!("{path}/approve"), &[]).await;
    assert_eq!(viewer.status, StatusCode::FORBIDDEN);
    // Peter approves: the unchanged plan is applied.
    let done = peter
        .post(&format!("{path}/approve"), &[("comment", "looks right")])
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert_eq!(done.location().unwrap(), format!("{path}?done=approved"));
    app.settle(&id).await;
    assert_eq!(app.sim.handle().nat_gateways("vpc-tut0rial").len(), 1);
    let page = peter.get(&path).await;
    assert_eq!(page.text("#approval-state"), "approved and applied");
    assert_eq!(
        page.text("#approval-decider").split(' ').next(),
        Some("peter")
    );
    let run = olga.get(&format!("/runs/{id}")).await;
    assert_eq!(run.text("#step-2 .step-state"), "applied", "{}", run.body);
    let timeline = olga.get(&format!("/runs/{id}/timeline")).await;
    assert!(
        timeline.body.contains("asked for approval of"),
        "{}",
        timeline.body
    );
    assert!(timeline.body.contains("peter approved olga"));
    let approved = app.audited("approval.approve").await;
    assert_eq!(approved.len(), 1);
    assert_eq!(approved[0].actor, "peter");
    assert_eq!(app.audited("approval.request").await[0].actor, "olga");
    assert_eq!(peter.get("/").await.count("#nav-approvals-count"), 0);
}

#[tokio::test]
async fn a_rejected_request_says_why_and_leaves_the_step_to_be_previewed_again() {
    let app = app_with_approvals(WebSettings::default()).await;
    let mut olga = app.signed_in("olga", Role::Operator).await;
    let mut peter = app.signed_in("peter", Role::Operator).await;
    let (id, path, _) = requested_step_2(&app, &mut olga).await;
    peter.get(&path).await;
    let bare = peter
        .post(&format!("{path}/reject"), &[("comment", " ")])
        .await;
    assert_eq!(bare.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        bare.text("#approval-errors")
            .contains("comment is required")
    );
    let done = peter
        .post(
            &format!("{path}/reject"),
            &[("comment", "two EIPs, please")],
        )
        .await;
    assert_eq!(done.location().unwrap(), format!("{path}?done=rejected"));
    let page = olga.get(&path).await;
    assert_eq!(page.text("#approval-state"), "rejected");
    assert_eq!(page.text("#approval-comment"), "two EIPs, please");
    assert!(app.sim.handle().nat_gateways("vpc-tut0rial").is_empty());
    // The step is open again: olga previews and confirms anew (a new request).
    let step = olga.get(&format!("/runs/{id}/step/2")).await;
    assert_eq!(step.count("#step-waiting-approval"), 0);
    let (_, _, again) = preview_and_confirm(&mut olga, &id, 2, &NAT).await;
    let second = again.location().unwrap();
    assert!(
        second.starts_with("/approvals/") && second != path,
        "{second}"
    );
    assert_eq!(app.audited("approval.reject").await.len(), 1);
}

#[tokio::test]
async fn a_pipeline_asks_for_approval_through_the_api_and_another_persons_token_approves() {
    let app = app_with_approvals(WebSettings::default()).await;
    let mut olga = app.signed_in("olga", Role::Operator).await;
    let mut peter = app.signed_in("peter", Role::Operator).await;
    let mut vera = app.signed_in("vera", Role::Viewer).await;
    let olga_api = Api::new(&app, &token(&mut olga, "pipeline", "operator", false).await);
    let peter_api = Api::new(&app, &token(&mut peter, "review", "operator", false).await);
    let vera_api = Api::new(&app, &token(&mut vera, "read", "viewer", false).await);
    let (_, run) = olga_api
        .post(
            "/api/v1/runs",
            json!({"region": "ap-guangzhou", "vpc_id": "vpc-tut0rial"}),
        )
        .await;
    let id = run["id"].as_str().unwrap().to_owned();
    olga_api.status_once_settled(&id).await;
    let mut approval = None;
    for n in 1..=2 {
        let (_, step) = olga_api.get(&format!("/api/v1/runs/{id}/steps/{n}")).await;
        let input = step["default_input"].clone();
        let (_, plan) = olga_api
            .post(
                &format!("/api/v1/runs/{id}/steps/{n}/plan"),
                json!({"input": input}),
            )
            .await;
        let body = json!({"input": input, "plan_digest": plan["digest"]});
        let (status, done) = olga_api
            .post(
                &format!("/api/v1/runs/{id}/steps/{n}/confirm"),
                body.clone(),
            )
            .await;
        assert_eq!(status, StatusCode::ACCEPTED, "{done}");
        if n == 1 {
            assert_eq!(done["outcome"], "applying", "{done}");
            olga_api.status_once_settled(&id).await;
            continue;
        }
        assert_eq!(done["outcome"], "approval_requested", "{done}");
        assert!(
            done["message"]
                .as_str()
                .unwrap()
                .contains("approval requested")
        );
        let a = done["approval_id"].as_i64().unwrap();
        assert_eq!(done["run"]["waiting_for_approval"], a);
        // A second confirm fails closed while the request waits.
        let (status, err) = olga_api
            .post(&format!("/api/v1/runs/{id}/steps/{n}/confirm"), body)
            .await;
        assert_eq!(
            (status, err["code"].as_str()),
            (StatusCode::CONFLICT, Some("approval_pending")),
            "{err}"
        );
        approval = Some((a, plan["digest"].clone()));
    }
    let (a, digest) = approval.unwrap();
    let (status, own) = olga_api
        .post(&format!("/api/v1/approvals/{a}/approve"), json!({}))
        .await;
    assert_eq!(
        (status, own["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("own_request")),
        "{own}"
    );
    let (status, err) = vera_api
        .post(&format!("/api/v1/approvals/{a}/approve"), json!({}))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{err}");
    let (_, listed) = peter_api.get("/api/v1/approvals").await;
    let listed = listed.as_array().unwrap();
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(listed[0]["id"], a);
    assert_eq!(listed[0]["plan_digest"], digest);
    assert_eq!(listed[0]["state"], "pending");
    let (status, done) = peter_api
        .post(
            &format!("/api/v1/approvals/{a}/approve"),
            json!({"comment": "ok"}),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{done}");
    assert_eq!(done["state"], "approved");
    let now = olga_api.status_once_settled(&id).await;
    assert_eq!(
        (now["status"].as_str(), now["current_step"].as_i64()),
        (Some("active"), Some(3)),
        "{now}"
    );
    assert!(now["waiting_for_approval"].is_null());
    let (_, doc) = Api::new(&app, "").get("/api/v1/openapi.json").await;
    for p in [
        "/api/v1/approvals",
        "/api/v1/approvals/{id}/approve",
        "/api/v1/approvals/{id}/reject",
    ] {
        assert!(
            doc["paths"][p].is_object(),
            "{p} missing from the OpenAPI document"
        );
    }
}

#[tokio::test]
async fn webhooks_hear_when_an_approval_is_requested_and_when_it_is_decided() {
    let (receiver, url) = Receiver::start(0).await;
    let app = app_with_approvals(hook_settings(&url, 3)).await;
    let mut olga = app.signed_in("olga", Role::Operator).await;
    let mut peter = app.signed_in("peter", Role::Operator).await;
    let (_, path, _) = requested_step_2(&app, &mut olga).await;
    peter.get(&path).await;
    peter
        .post(&format!("{path}/reject"), &[("comment", "not today")])
        .await;
    until("two deliveries", || async { receiver.count() >= 2 }).await;
    let mut got = receiver.got.lock().unwrap().clone();
    // Deliveries need not arrive in order: sort them by event name (decided < requested).
    let event = |h: &reqwest::header::HeaderMap| h["x-natpilot-event"].to_str().unwrap().to_owned();
    got.sort_by_key(|(h, _)| event(h));
    let events: Vec<_> = got.iter().map(|(h, _)| event(h)).collect();
    assert_eq!(events, ["approval.decided", "approval.requested"]);
    for (headers, body) in &got {
        assert!(signature_is_valid(headers, body));
        let n: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(n["path"], path.as_str());
        assert_eq!(n["step"], 2);
    }
    let decided: serde_json::Value = serde_json::from_str(&got[0].1).unwrap();
    assert!(
        decided["text"].as_str().unwrap().contains("not today"),
        "{decided}"
    );
    assert!(decided["title"].as_str().unwrap().contains("rejected"));
}

#[tokio::test]
async fn the_requester_withdraws_a_request_and_lists_say_which_runs_wait_for_approval() {
    let app = app_with_approvals(WebSettings::default()).await;
    let mut olga = app.signed_in("olga", Role::Operator).await;
    let mut peter = app.signed_in("peter", Role::Operator).await;
    let (id, path, _) = requested_step_2(&app, &mut olga).await;
    // History and the dashboard say the run waits for approval, not merely "active"; the
    // machine value stays in `data-status`.
    let row = format!("tr[data-run-id='{id}'] .run-status");
    for page in ["/runs", "/"] {
        let p = peter.get(page).await;
        assert_eq!(p.text(&row), "waiting for approval", "{page}: {}", p.body);
        assert_eq!(p.attr(&row, "data-status").as_deref(), Some("active"));
    }
    // Only the requester may withdraw: peter sees no button, and posting anyway is refused.
    assert_eq!(peter.get(&path).await.count("#withdraw"), 0);
    let refused = peter.post(&format!("{path}/withdraw"), &[]).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    assert!(
        refused.text("#approval-errors").contains("only olga"),
        "{}",
        refused.body
    );
    assert_eq!(app.audited("approval.withdraw_refused").await.len(), 1);
    // Olga withdraws: nothing applied, the request says so, the step can be confirmed again.
    assert_eq!(olga.get(&path).await.count("#withdraw"), 1);
    let done = olga.post(&format!("{path}/withdraw"), &[]).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert_eq!(done.location().unwrap(), format!("{path}?done=withdrawn"));
    let page = olga.get(&format!("{path}?done=withdrawn")).await;
    assert_eq!(
        page.attr("#approval-state", "data-state").as_deref(),
        Some("void")
    );
    assert_eq!(page.text("#approval-outcome"), "withdrawn by olga");
    assert!(page.text("#notice").contains("Withdrawn"));
    assert_eq!(
        page.count("#withdraw"),
        0,
        "a closed request cannot be withdrawn twice"
    );
    let withdrawn = app.audited("approval.withdraw").await;
    assert_eq!(withdrawn.len(), 1);
    assert_eq!(withdrawn[0].actor, "olga");
    assert!(app.sim.handle().nat_gateways("vpc-tut0rial").is_empty());
    assert_eq!(peter.get("/").await.count("#nav-approvals-count"), 0);
    let history = peter.get("/runs").await;
    assert_eq!(history.text(&row), "active");
    let step = olga.get(&format!("/runs/{id}/step/2")).await;
    assert_eq!(step.count("#step-waiting-approval"), 0, "{}", step.body);
    // Asking again works: the withdrawn request no longer blocks the step.
    let (_, _, again) = preview_and_confirm(&mut olga, &id, 2, &NAT).await;
    assert_eq!(again.status, StatusCode::SEE_OTHER, "{}", again.body);
    assert_ne!(again.location().unwrap(), path);
}

#[tokio::test]
async fn a_rollback_releasing_the_gateways_eips_waits_for_another_admin_on_its_page() {
    let app = app_with_approvals(WebSettings::default()).await;
    let mut olga = app.signed_in("olga", Role::Operator).await;
    let mut peter = app.signed_in("peter", Role::Operator).await;
    let mut root = app.signed_in("root", Role::Admin).await;
    let (id, path, _) = requested_step_2(&app, &mut olga).await;
    peter.get(&path).await;
    peter
        .post(&format!("{path}/approve"), &[("comment", "")])
        .await;
    app.settle(&id).await;
    let nat = app.sim.handle().nat_gateways("vpc-tut0rial")[0].id.clone();
    let eip_on_nat = || {
        app.sim.handle().with_world(|w| {
            w.addresses
                .values()
                .filter(|a| a.instance_id.as_deref() == Some(nat.as_str()))
                .map(|a| a.id.clone())
                .collect::<Vec<_>>()
        })
    };
    let eips = eip_on_nat();
    assert_eq!(eips.len(), 1);
    // Olga asks to roll back releasing the EIPs: she is sent to the request; nothing undone.
    olga.get(&format!("/runs/{id}")).await;
    let asked = olga
        .post(
            &format!("/runs/{id}/rollback"),
            &[("release_nat_eips", "on")],
        )
        .await;
    assert_eq!(asked.status, StatusCode::SEE_OTHER, "{}", asked.body);
    let request = asked.location().unwrap();
    assert!(request.starts_with("/approvals/"), "{request}");
    assert_eq!(app.sim.handle().nat_gateways("vpc-tut0rial").len(), 1);
    let run = olga.get(&format!("/runs/{id}")).await;
    assert_eq!(run.text("#run-status"), "waiting for approval");
    // The request names exactly the EIP it would release; an operator may not decide it.
    let page = peter.get(&request).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert_eq!(
        page.attr("#approval-step", "data-kind").as_deref(),
        Some("rollback")
    );
    assert!(
        page.text("#rollback-release").contains(&eips[0]),
        "{}",
        page.body
    );
    assert_eq!(page.count("#approval-form"), 0);
    assert!(page.text("#approval-why-not").contains("an admin"));
    let listed = root.get("/approvals").await;
    assert!(
        listed
            .text("#approvals-for-me")
            .contains("Roll back, releasing the NAT gateway's EIPs"),
        "{}",
        listed.body
    );
    // Root approves: the rollback runs and releases it.
    root.get(&request).await;
    let done = root
        .post(&format!("{request}/approve"), &[("comment", "agreed")])
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert_eq!(done.location().unwrap(), format!("{request}?done=approved"));
    app.settle(&id).await;
    let run = olga.get(&format!("/runs/{id}")).await;
    assert_eq!(
        run.attr("#run-status", "data-status").as_deref(),
        Some("rolled_back")
    );
    assert!(app.sim.handle().nat_gateways("vpc-tut0rial").is_empty());
    let released = app
        .sim
        .handle()
        .with_world(|w| !w.addresses.contains_key(&eips[0]));
    assert!(
        released,
        "the gateway's EIP was released once an admin approved"
    );
    let approvals = app.audited("approval.approve").await;
    assert!(approvals.iter().any(|e| e.actor == "root"));
}
