//! Rehearse on a twin (issue 13 item 7): a VPC of the estate is copied read-only into a
//! simulated twin of its own and the rollout runs there, marked as a rehearsal on every page
//! that shows it; the real VPC is never touched, never held, never counted; a twin lost at a
//! restart ends its run fail closed; refusals keep the form. The copy of the real VPC is a
//! background job: the request answers at once, the run page shows the copy and then the
//! assessment, a failed copy abandons the run with the code and RequestId, and the copy's
//! calls to the real account are in the run's ledger.

use std::time::Duration;

use natpilot::sim::{FaultConfig, FaultKind};
use natpilot::store::{RunStatus, users::Role};
use natpilot::web::settings::WebSettings;
use reqwest::StatusCode;
use serde_json::Value;

use crate::common::until;
use crate::harness::{Browser, TestApp};
use crate::wizard::step;

const VPC: &str = "vpc-tut0rial";
const REGION: &str = "ap-guangzhou";
const ROW: &str = "tr.estate-vpc[data-account='simulated'][data-vpc='vpc-tut0rial']";

fn settings() -> WebSettings {
    WebSettings {
        rehearsal_async_delay: Duration::from_millis(20),
        ..WebSettings::default()
    }
}

/// What a rehearsal must never change in the real world.
fn real_shape(app: &TestApp) -> (Value, Value, Value) {
    let s = app.sim.handle().state_json();
    let part = |k: &str| s["scenario"][k].clone();
    (
        part("addresses"),
        part("route_tables"),
        part("nat_gateways"),
    )
}

/// Posts the estate row's "Rehearse" form; returns the rehearsal's run id once it assessed.
async fn rehearse(app: &TestApp, b: &mut Browser) -> String {
    natpilot::estate::scan::scan_all(app.store(), &app.app.state.accounts, "test")
        .await
        .unwrap();
    let estate = b.get("/estate").await;
    let form = format!("{ROW} form.rehearse-form");
    assert_eq!(
        estate.attr(&form, "action").as_deref(),
        Some("/rehearse"),
        "{}",
        estate.body
    );
    let field = |name: &str| {
        estate
            .attr(&format!("{form} input[name={name}]"), "value")
            .unwrap()
    };
    let (account, region, vpc) = (field("account"), field("region"), field("vpc_id"));
    let done = b
        .post(
            "/rehearse",
            &[("account", &account), ("region", &region), ("vpc_id", &vpc)],
        )
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
async fn an_operator_rehearses_a_vpc_on_its_twin_and_the_real_vpc_is_untouched() {
    let app = TestApp::start_with(settings()).await;
    let before = real_shape(&app);
    let mut olga = app.signed_in("olga", Role::Operator).await;
    let id = rehearse(&app, &mut olga).await;

    // Marked on the run page and every step page, naming the real VPC it copies.
    let run = olga.get(&format!("/runs/{id}")).await;
    assert_eq!(
        run.text("#rehearsal-of"),
        format!("simulated / {REGION} / {VPC}"),
        "{}",
        run.body
    );
    assert!(
        run.text("#rehearsal-banner")
            .contains("nothing here touches the real VPC")
    );
    let step1 = olga.get(&format!("/runs/{id}/step/1")).await;
    assert_eq!(step1.count("#rehearsal-banner"), 1, "{}", step1.body);
    // The twin's assessment sees the real VPC's shape: the DNS-protected frontend too.
    assert_eq!(
        step1.text("#row-ins-fr0ntend .protected-state"),
        "protected",
        "{}",
        step1.body
    );

    // Steps 1 and 2 on the twin: a NAT gateway there, none in the real VPC.
    step(&app, &mut olga, &id, 1, &[]).await;
    let nat = [
        ("name", "rehearsed-nat"),
        ("bandwidth_mbps", "100"),
        ("max_connections", "1000000"),
        ("new_eips", "1"),
    ];
    let preview = step(&app, &mut olga, &id, 2, &nat).await;
    assert!(preview.text("#plan-changes").contains("rehearsed-nat"));
    assert_eq!(preview.count("#rehearsal-banner"), 1);
    let run = olga.get(&format!("/runs/{id}")).await;
    assert_eq!(run.text("#step-2 .step-state"), "applied", "{}", run.body);
    let r = app.app.state.engine.run(id.parse().unwrap()).await.unwrap();
    let twin = app.app.state.twins.get(&r.account).expect("the twin lives");
    let twin_nats = twin.handle().nat_gateways(VPC);
    assert_eq!(twin_nats.len(), 1);
    assert_eq!(twin_nats[0].name, "rehearsed-nat");
    assert!(app.sim.handle().nat_gateways(VPC).is_empty());
    // The real cloud got describe calls only (the snapshot), never a mutating one.
    assert_eq!(
        app.sim.handle().received_mutations().len(),
        0,
        "{:?}",
        app.sim.handle().received_mutations()
    );
    assert!(app.sim.handle().executed("DescribeInstances") > 0);
    assert_eq!(real_shape(&app), before, "the real world changed");
    // The run's ledger holds the twin's calls, CreateNatGateway among them.
    let calls = olga.get(&format!("/runs/{id}/calls")).await;
    assert!(calls.body.contains("CreateNatGateway"), "{}", calls.body);
    assert_eq!(calls.count("#rehearsal-banner"), 1);

    // The history list badges it; the estate lists it and does not count it.
    let history = olga.get("/runs").await;
    assert_eq!(
        history.count(&format!("tr[data-run-id='{id}'] .run-rehearsal")),
        1,
        "{}",
        history.body
    );
    let estate = olga.get("/estate").await;
    let row = format!("#rehearsals tr.rehearsal-row[data-run-id='{id}']");
    assert_eq!(estate.count(&row), 1, "{}", estate.body);
    assert_eq!(
        estate.text(&format!("{row} .rehearsal-run")),
        format!("simulated / {REGION} / {VPC}")
    );
    assert_eq!(
        estate.count(&format!("{ROW} .vpc-last-run")),
        0,
        "not the VPC's run"
    );
    assert_eq!(estate.text(&format!("{ROW} .vpc-kept")), "0");

    // The real VPC is free: a real run starts while the rehearsal is unfinished.
    assert!(r.status.holds_vpc());
    let real = crate::wizard::start(&app, &mut olga).await;
    let real = app
        .app
        .state
        .engine
        .run(real.parse().unwrap())
        .await
        .unwrap();
    assert_eq!(real.account, "simulated");
    assert!(real.rehearsal_of().is_none());

    // The JSON API says so too.
    let token = crate::api::token(&mut olga, "ci", "viewer", false).await;
    let api = crate::api::Api::new(&app, &token);
    let (status, shown) = api.get(&format!("/api/v1/runs/{id}")).await;
    assert_eq!(status, StatusCode::OK, "{shown}");
    assert_eq!(
        shown["rehearsal_of"],
        format!("simulated / {REGION} / {VPC}")
    );
    let (_, real_shown) = api.get(&format!("/api/v1/runs/{}", real.id)).await;
    assert_eq!(real_shown["rehearsal_of"], Value::Null);

    // The audit log names it a rehearsal, with what it copies.
    let started = app.audited("rehearsal.start").await;
    assert_eq!(started.len(), 1);
    assert_eq!(started[0].target, id);
    assert_eq!(started[0].details["rehearsal_of"]["vpc_id"], VPC);
    assert!(
        app.audited("run.start")
            .await
            .iter()
            .all(|e| e.target != id)
    );
    let mut ada = app.signed_in("ada", Role::Admin).await;
    let audit = ada.get("/admin/audit").await;
    let marked = audit.texts("tr[data-audit-id] .audit-rehearsal");
    assert!(marked.len() >= 3, "start and two confirms: {}", audit.body);
}

#[tokio::test]
async fn a_rehearsal_whose_twin_was_lost_at_restart_is_ended_with_the_reason_not_resumed() {
    let t = TestApp::start_with(settings()).await;
    let mut olga = t.signed_in("olga", Role::Operator).await;
    let id = rehearse(&t, &mut olga).await;
    let before = real_shape(&t);

    let (first, sim, database, dir) = t.into_parts();
    first.shutdown().await;
    let app = TestApp::process_on(&database, &sim, settings(), Default::default()).await;
    let run = app.state.engine.run(id.parse().unwrap()).await.unwrap();
    assert_eq!(run.status, RunStatus::Abandoned);
    assert_eq!(run.finished_by.as_deref(), Some("natpilot"));
    let lost = natpilot::store::audit::list(
        app.state.store.readers(),
        &natpilot::store::audit::AuditFilter {
            action: Some("rehearsal.lost".into()),
            ..Default::default()
        },
        10,
    )
    .await
    .unwrap();
    assert_eq!(lost.len(), 1);
    assert_eq!(lost[0].target, id);

    let mut b = Browser::new(app.url(""));
    b.login("olga", crate::harness::PASSWORD).await;
    let page = b.get(&format!("/runs/{id}")).await;
    assert!(
        page.text("#rehearsal-ended")
            .contains("the rehearsal's simulated twin was lost at restart; start a new rehearsal"),
        "{}",
        page.body
    );
    assert_eq!(page.count("#rehearsal-banner"), 1);
    // Nothing acts for it any more, and the real world is as it was.
    let refused = b.post(&format!("/runs/{id}/step/1/plan"), &[]).await;
    assert_ne!(refused.status, StatusCode::SEE_OTHER, "{}", refused.body);
    assert!(sim.handle().received_mutations().is_empty());
    assert_eq!(
        {
            let s = sim.handle().state_json();
            let part = |k: &str| s["scenario"][k].clone();
            (
                part("addresses"),
                part("route_tables"),
                part("nat_gateways"),
            )
        },
        before
    );
    app.shutdown().await;
    drop(dir);
}

#[tokio::test]
async fn rehearse_refuses_bad_input_keeping_the_form_and_viewers_cannot_rehearse() {
    let app = TestApp::start_with(settings()).await;
    let mut olga = app.signed_in("olga", Role::Operator).await;
    let new = olga.get("/runs/new").await;
    assert_eq!(
        new.attr("#rehearse-run", "formaction").as_deref(),
        Some("/rehearse"),
        "{}",
        new.body
    );
    let cases: [(&[(&str, &str)], &str); 4] = [
        (&[("region", "mars-1"), ("vpc_id", VPC)], "Region:"),
        (&[("region", REGION), ("vpc_id", "")], "choose the VPC"),
        (
            &[("account", "nope"), ("region", REGION), ("vpc_id", VPC)],
            "Account nope cannot be used",
        ),
        (
            &[
                ("account", "rehearsal:simulated:0123abcd"),
                ("region", REGION),
                ("vpc_id", VPC),
            ],
            "cannot be used",
        ),
    ];
    for (fields, says) in cases {
        let page = olga.post("/rehearse", fields).await;
        assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY, "{fields:?}");
        assert!(
            page.text("#new-run-error").contains(says),
            "{fields:?}: {}",
            page.text("#new-run-error")
        );
        let region = fields.iter().find(|(k, _)| *k == "region").unwrap().1;
        assert_eq!(
            page.attr("#region", "value").as_deref(),
            Some(region),
            "the form keeps what was typed"
        );
    }
    let mut vic = app.signed_in("vic", Role::Viewer).await;
    vic.get("/runs").await;
    let refused = vic
        .post("/rehearse", &[("region", REGION), ("vpc_id", VPC)])
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let runs = natpilot::store::rehearsals::recent(app.store().readers(), 10)
        .await
        .unwrap();
    assert!(runs.is_empty(), "{runs:?}");
    assert!(app.sim.handle().received_mutations().is_empty());
}

#[tokio::test]
async fn a_rehearsal_that_cannot_start_leaves_no_twin_behind() {
    let app = TestApp::start_with(settings()).await;
    let mut olga = app.signed_in("olga", Role::Operator).await;
    // The run's row cannot be written (as on a full disk): starting fails after the snapshot
    // made the twin.
    natpilot::store::test_store::refuse_inserts(app.store(), "runs", "test: no new runs")
        .await
        .unwrap();
    olga.get("/runs/new").await;
    let refused = olga
        .post("/rehearse", &[("region", REGION), ("vpc_id", VPC)])
        .await;
    assert_eq!(
        refused.status,
        StatusCode::INTERNAL_SERVER_ERROR,
        "{}",
        refused.body
    );
    assert!(
        app.app.state.twins.is_empty(),
        "{} twin(s) left in memory for a rehearsal that never started",
        app.app.state.twins.len()
    );
}

#[tokio::test]
async fn a_rehearsal_does_not_wait_for_approval_and_its_step_page_and_audit_say_why() {
    let engine = natpilot::wizard::engine::EngineOptions {
        approvals: natpilot::approvals::ApprovalPolicy::four_eyes(Duration::from_secs(3600)),
        ..Default::default()
    };
    let app = TestApp::start_with_engine(settings(), engine).await;
    let mut olga = app.signed_in("olga", Role::Operator).await;
    let id = rehearse(&app, &mut olga).await;
    step(&app, &mut olga, &id, 1, &[]).await;
    let page = olga.get(&format!("/runs/{id}/step/2")).await;
    assert_eq!(
        page.text("#rehearsal-no-approval"),
        "A rehearsal does not wait for approval: it changes only the simulated twin.",
        "{}",
        page.body
    );
    let nat = [
        ("name", "rehearsed-nat"),
        ("bandwidth_mbps", "100"),
        ("max_connections", "1000000"),
        ("new_eips", "1"),
    ];
    let preview = step(&app, &mut olga, &id, 2, &nat).await;
    assert_eq!(preview.text("#confirm-step"), "Confirm and apply");
    let run = olga.get(&format!("/runs/{id}")).await;
    assert_eq!(run.text("#step-2 .step-state"), "applied", "{}", run.body);
    let pending = natpilot::store::approvals::pending_for(
        app.store().readers(),
        id.parse().unwrap(),
        natpilot::store::Step::Provision,
    )
    .await
    .unwrap();
    assert!(pending.is_none(), "{pending:?}");
    let confirmed = app.audited("run.confirm").await;
    let two = confirmed
        .iter()
        .find(|e| e.target == id && e.details["step"] == 2)
        .expect("step 2's confirmation is audited");
    assert_eq!(
        two.details["approval"],
        natpilot::wizard::engine::REHEARSAL_NO_APPROVAL
    );

    // A real run under the same policy still asks for approval at step 2.
    let real = crate::wizard::start(&app, &mut olga).await;
    let page = olga.get(&format!("/runs/{real}/step/2")).await;
    assert_eq!(page.count("#rehearsal-no-approval"), 0);
}

#[tokio::test]
async fn a_twins_kept_eips_are_never_listed_or_counted_as_real() {
    let app = TestApp::start_with(settings()).await;
    let mut olga = app.signed_in("olga", Role::Operator).await;
    let id = rehearse(&app, &mut olga).await;
    step(&app, &mut olga, &id, 1, &[]).await;
    let nat = [
        ("name", "rehearsed-nat"),
        ("bandwidth_mbps", "100"),
        ("max_connections", "1000000"),
        ("new_eips", "1"),
    ];
    step(&app, &mut olga, &id, 2, &nat).await;
    // Rolled back keeping the gateway's new EIP: in the twin, an unbound EIP a run kept.
    let rolled = olga.post(&format!("/runs/{id}/rollback"), &[]).await;
    assert_eq!(rolled.status, StatusCode::SEE_OTHER, "{}", rolled.body);
    app.settle(&id).await;
    let run = olga.get(&format!("/runs/{id}")).await;
    assert_eq!(run.text("#run-status"), "rolled back", "{}", run.body);
    let r = app.app.state.engine.run(id.parse().unwrap()).await.unwrap();
    let twin = app.app.state.twins.get(&r.account).expect("the twin lives");
    let unbound = twin.handle().with_world(|w| {
        w.addresses
            .values()
            .filter(|a| a.instance_id.is_none())
            .count()
    });
    assert!(unbound > 0, "the twin kept the gateway's EIP");

    for url in ["/kept-eips", &format!("/kept-eips?run={id}")] {
        let page = olga.get(url).await;
        assert_eq!(page.status, StatusCode::OK, "{url}: {}", page.body);
        assert_eq!(
            page.count(&format!("#kept-eips tr.kept-eip[data-run=\"{id}\"]")),
            0,
            "{url}: {}",
            page.body
        );
    }
    let estate = olga.get("/estate").await;
    assert_eq!(estate.text("#total-kept"), "0", "{}", estate.body);
    assert!(
        estate.text("#total-kept-month").starts_with("0.00 "),
        "{}",
        estate.text("#total-kept-month")
    );
}

/// From now on the real simulator answers `action` late: held until [`release`] (or 25 s,
/// under the client's 30 s timeout, should a test never release it).
pub fn hold(app: &TestApp, action: &str) {
    let mut faults = FaultConfig {
        kinds: vec![FaultKind::Slow],
        slow_delay: Duration::from_secs(25),
        ..FaultConfig::default()
    };
    faults.per_action.insert(action.into(), 1.0);
    app.sim.handle().set_faults(faults);
}

pub fn release(app: &TestApp) {
    app.sim.handle().set_faults(FaultConfig::default());
}

/// A rehearsal of `VPC` started by `b`, its copy held at DescribeInstances (see [`hold`]).
async fn held_rehearsal(app: &TestApp, b: &mut Browser) -> String {
    hold(app, "DescribeInstances");
    let id = start_rehearsal(b, VPC).await;
    until("the copy to list the instances", || async {
        app.sim.handle().executed("DescribeInstances") >= 1
    })
    .await;
    id
}

/// Posts the new-run page's "Rehearse" for `vpc`; returns the run id it redirects to.
async fn start_rehearsal(b: &mut Browser, vpc: &str) -> String {
    b.get("/runs/new").await;
    let done = b
        .post("/rehearse", &[("region", REGION), ("vpc_id", vpc)])
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    done.location()
        .unwrap()
        .trim_start_matches("/runs/")
        .to_owned()
}

/// The rehearsal's calls to the real account: its ledger rows with no step.
async fn copy_calls(app: &TestApp, id: &str) -> Vec<natpilot::store::ledger::ApiCall> {
    natpilot::store::ledger::list(app.store().readers(), id.parse().unwrap(), 0, u32::MAX)
        .await
        .unwrap()
        .into_iter()
        .filter(|c| c.step.is_none())
        .collect()
}

#[tokio::test]
async fn a_rehearsal_abandoned_during_its_copy_stops_copying_and_registers_no_twin() {
    let app = TestApp::start_with(settings()).await;
    let mut olga = app.signed_in("olga", Role::Operator).await;
    let id = held_rehearsal(&app, &mut olga).await;

    // The run "applies" step 1 while it copies, yet it can be abandoned: it has changed
    // nothing anywhere.
    let page = olga.get(&format!("/runs/{id}")).await;
    assert_eq!(
        page.attr("#run-status", "data-status").as_deref(),
        Some("copying")
    );
    assert_eq!(
        page.text("#abandon"),
        "Abandon the rehearsal",
        "{}",
        page.body
    );
    let done = olga.post(&format!("/runs/{id}/abandon"), &[]).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    // The copy job ends without the held answer: its abandon is seen at once.
    app.settle(&id).await;
    let r = app.app.state.engine.run(id.parse().unwrap()).await.unwrap();
    assert_eq!(r.status, RunStatus::Abandoned);
    assert_eq!(r.finished_by.as_deref(), Some("olga"));
    assert!(app.app.state.twins.get(&r.account).is_none(), "no twin");
    let page = olga.get(&format!("/runs/{id}")).await;
    assert_eq!(page.count("#copy-progress") + page.count("#abandon"), 0);
    assert!(
        page.texts("#timeline-body tr")
            .iter()
            .any(|e| e.contains("olga abandoned the rehearsal during the copy of the real VPC")),
        "{}",
        page.body
    );

    // The held call's row says no answer was recorded; nothing else is sent afterwards.
    let before = copy_calls(&app, &id).await;
    let held = before
        .iter()
        .find(|c| c.action == "DescribeInstances")
        .expect("the held call is in the ledger");
    assert_eq!(held.state, natpilot::store::ledger::CallState::Sent);
    release(&app);
    // A second rehearsal of the same VPC copies to the end: the VPC was freed, and a copy
    // that would still run would have sent its next call by the time this one is done.
    let again = start_rehearsal(&mut olga, VPC).await;
    app.settle(&again).await;
    assert_eq!(copy_calls(&app, &id).await.len(), before.len());
    assert!(app.sim.handle().received_mutations().is_empty());
}

#[tokio::test]
async fn rehearse_answers_before_the_copy_ends_and_the_run_page_shows_the_copy_then_the_assessment()
{
    let app = TestApp::start_with(settings()).await;
    let mut olga = app.signed_in("olga", Role::Operator).await;
    hold(&app, "DescribeInstances");
    let id = start_rehearsal(&mut olga, VPC).await;

    // The copy is held at DescribeInstances; the request that started it has answered.
    until("the copy to list the instances", || async {
        app.sim.handle().executed("DescribeInstances") >= 1
    })
    .await;
    let run_id = id.parse().unwrap();
    until("the copy's progress to name DescribeInstances", || async {
        natpilot::store::rehearsals::get(app.store().readers(), run_id)
            .await
            .unwrap()
            .and_then(|h| h.copy)
            .is_some_and(|c| c.action == "DescribeInstances")
    })
    .await;
    let fragment = olga.get(&format!("/runs/{id}/progress")).await;
    assert_eq!(
        fragment.attr("#copy-listing", "data-action").as_deref(),
        Some("DescribeInstances"),
        "{}",
        fragment.body
    );
    let page = olga.get(&format!("/runs/{id}")).await;
    assert_eq!(page.text("#run-status"), "copying the VPC", "{}", page.body);
    assert_eq!(
        page.attr("#run-status", "data-status").as_deref(),
        Some("copying")
    );
    assert_eq!(
        page.text("#step-1 .step-state"),
        "waits for the copy of the real VPC"
    );
    assert!(
        page.text("#copy-listing")
            .starts_with("Listing instances (DescribeInstances): 0"),
        "{}",
        page.text("#copy-listing")
    );
    assert_eq!(page.count("#rehearsal-banner"), 1);
    // The estate page's list says the same, not "applying".
    let estate = olga.get("/estate").await;
    let row = format!("#rehearsals tr.rehearsal-row[data-run-id='{id}']");
    assert_eq!(
        estate
            .attr(&format!("{row} .run-status"), "data-status")
            .as_deref(),
        Some("copying"),
        "{}",
        estate.body
    );
    assert!(
        estate
            .text(&format!("{row} .rehearsal-phase"))
            .contains("copying the real VPC")
    );
    // The lists done so far are in the timeline, with their counts.
    assert!(
        page.texts("#timeline-body tr").iter().any(|e| e
            .contains("copy of the real VPC — subnets: ")
            && e.contains("DescribeSubnets")),
        "{}",
        page.body
    );
    let r = app.app.state.engine.run(id.parse().unwrap()).await.unwrap();
    assert_eq!(r.status, RunStatus::Applying);
    assert!(
        app.app.state.twins.get(&r.account).is_none(),
        "no twin before the copy ends"
    );
    // The real calls made so far are in the run's record already.
    let calls = olga.get(&format!("/runs/{id}/calls")).await;
    assert!(calls.count(".real-copy") >= 3, "{}", calls.body);

    release(&app);
    app.settle(&id).await;
    let page = olga.get(&format!("/runs/{id}")).await;
    assert_eq!(page.count("#copy-progress"), 0, "{}", page.body);
    assert_eq!(page.text("#run-status"), "active", "{}", page.body);
    assert_eq!(page.text("#next-action"), "Review step 1", "{}", page.body);
    let step1 = olga.get(&format!("/runs/{id}/step/1")).await;
    assert_eq!(
        step1.text("#row-ins-fr0ntend .protected-state"),
        "protected",
        "{}",
        step1.body
    );
    assert!(
        app.app.state.twins.get(&r.account).is_some(),
        "the twin is registered"
    );

    // Every call to the real account is a describe call, answered, with its RequestId; the
    // twin's assessment calls are step 1's.
    let real = copy_calls(&app, &id).await;
    let actions: Vec<&str> = real.iter().map(|c| c.action.as_str()).collect();
    for wanted in [
        "DescribeVpcs",
        "DescribeSubnets",
        "DescribeRouteTables",
        "DescribeInstances",
        "DescribeNatGateways",
        "DescribeAddresses",
    ] {
        assert!(actions.contains(&wanted), "{wanted} not in {actions:?}");
    }
    for c in &real {
        assert!(c.action.starts_with("Describe"), "{c:?}");
        assert_eq!(c.state, natpilot::store::ledger::CallState::Ok, "{c:?}");
        assert!(c.request_id.is_some(), "{c:?}");
        // DNSPod has no region.
        assert!(c.region == REGION || c.service == "dnspod", "{c:?}");
    }
    assert_eq!(
        real.iter()
            .filter(|c| c.action == "DescribeInstances")
            .count() as u64,
        app.sim.handle().executed("DescribeInstances"),
        "every DescribeInstances the real cloud answered is in the record"
    );
    assert!(app.sim.handle().received_mutations().is_empty());
}

#[tokio::test]
async fn a_failing_copy_abandons_the_rehearsal_with_the_code_and_request_id_and_leaves_no_twin() {
    let app = TestApp::start_with(settings()).await;
    let mut olga = app.signed_in("olga", Role::Operator).await;
    let before = real_shape(&app);

    // A VPC that does not exist: DescribeVpcs answers ResourceNotFound.
    let missing = start_rehearsal(&mut olga, "vpc-n0such").await;
    app.settle(&missing).await;
    let page = olga.get(&format!("/runs/{missing}")).await;
    assert_eq!(page.text("#run-status"), "abandoned", "{}", page.body);
    let error = page.text("#run-error");
    assert!(error.contains("ResourceNotFound"), "{error}");
    assert!(error.contains("`vpc-n0such` does not exist"), "{error}");
    let calls = copy_calls(&app, &missing).await;
    assert_eq!(calls.len(), 1, "{calls:?}");
    let rid = calls[0].request_id.clone().expect("DescribeVpcs answered");
    assert!(error.contains(&format!("RequestId {rid}")), "{error}");
    let ended = page.text("#rehearsal-ended");
    assert!(ended.contains("the copy of the real VPC failed"), "{ended}");
    assert!(ended.contains(&rid), "{ended}");
    assert!(ended.contains("Nothing real was changed"), "{ended}");

    // Throttled on DescribeInstances after the client's retries.
    let mut faults = FaultConfig {
        kinds: vec![FaultKind::RequestLimitExceeded],
        ..FaultConfig::default()
    };
    faults.per_action.insert("DescribeInstances".into(), 1.0);
    app.sim.handle().set_faults(faults);
    let throttled = start_rehearsal(&mut olga, VPC).await;
    app.settle(&throttled).await;
    let r = app
        .app
        .state
        .engine
        .run(throttled.parse().unwrap())
        .await
        .unwrap();
    assert_eq!(r.status, RunStatus::Abandoned);
    assert_eq!(r.finished_by.as_deref(), Some("natpilot"));
    let err = r.last_error.clone().expect("the copy's error");
    assert_eq!(err.code, "RequestLimitExceeded");
    assert_eq!(err.phase, natpilot::wizard::engine::COPY_PHASE);
    let calls = copy_calls(&app, &throttled).await;
    let tries: Vec<_> = calls
        .iter()
        .filter(|c| c.action == "DescribeInstances")
        .collect();
    assert!(tries.len() > 1, "retried: {tries:?}");
    assert!(
        tries
            .iter()
            .all(|c| c.error_code.as_deref() == Some("RequestLimitExceeded"))
    );
    assert_eq!(err.request_id, tries.last().unwrap().request_id);
    let page = olga.get(&format!("/runs/{throttled}")).await;
    let shown = page.text("#run-error");
    assert!(shown.contains("RequestLimitExceeded"), "{shown}");
    assert!(
        shown.contains(err.request_id.as_deref().unwrap()),
        "{shown}"
    );
    let problems = page.text("#run-problems");
    assert!(
        problems.contains("the copy of the real VPC failed"),
        "{problems}"
    );

    assert!(
        app.app.state.twins.is_empty(),
        "{} twin(s) left",
        app.app.state.twins.len()
    );
    assert!(app.sim.handle().received_mutations().is_empty());
    assert_eq!(real_shape(&app), before);
    let failed = app.audited("rehearsal.copy_failed").await;
    assert_eq!(failed.len(), 2, "{failed:?}");
    assert!(
        failed
            .iter()
            .any(|e| e.target == throttled && e.details["code"] == "RequestLimitExceeded")
    );
    // The real VPC is not held by either: a real run starts.
    app.sim.handle().set_faults(FaultConfig::default());
    crate::wizard::start(&app, &mut olga).await;
}

#[tokio::test]
async fn a_restart_during_the_copy_ends_the_rehearsal_as_lost() {
    let t = TestApp::start_with(settings()).await;
    let mut olga = t.signed_in("olga", Role::Operator).await;
    let id = held_rehearsal(&t, &mut olga).await;

    let (first, sim, database, dir) = t.into_parts();
    first.shutdown().await;
    sim.handle().set_faults(FaultConfig::default());
    let app = TestApp::process_on(&database, &sim, settings(), Default::default()).await;
    let run = app.state.engine.run(id.parse().unwrap()).await.unwrap();
    assert_eq!(run.status, RunStatus::Abandoned);
    assert_eq!(run.finished_by.as_deref(), Some("natpilot"));
    let h = natpilot::store::rehearsals::get(app.state.store.readers(), run.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        h.phase,
        natpilot::store::rehearsals::RehearsalPhase::Copying
    );
    assert_eq!(h.ended_reason.as_deref(), Some(natpilot::rehearsal::LOST));
    assert!(app.state.twins.is_empty());
    let mut b = Browser::new(app.url(""));
    b.login("olga", crate::harness::PASSWORD).await;
    let page = b.get(&format!("/runs/{id}")).await;
    assert_eq!(page.count("#copy-progress"), 0, "{}", page.body);
    assert!(
        page.text("#rehearsal-ended").contains("lost at restart"),
        "{}",
        page.body
    );
    assert!(sim.handle().received_mutations().is_empty());
    app.shutdown().await;
    drop(dir);
}
