//! Rehearse on a twin (issue 13 item 7): a VPC of the estate is copied read-only into a
//! simulated twin of its own and the rollout runs there, marked as a rehearsal on every page
//! that shows it; the real VPC is never touched, never held, never counted; a twin lost at a
//! restart ends its run fail closed; refusals keep the form.

use std::time::Duration;

use natpilot::app::{self, AppConfig};
use natpilot::store::{RunStatus, Store, users::Role};
use natpilot::tencent::Client;
use natpilot::web::settings::WebSettings;
use reqwest::StatusCode;
use serde_json::Value;

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
    let h = sim.handle();
    let app = app::spawn(AppConfig {
        client: Client::for_endpoint(&sim.endpoint(), h.secret_id(), h.secret_key()).unwrap(),
        listener: tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap(),
        metrics_listener: None,
        store: Store::connect(&database).await.unwrap(),
        settings: settings(),
        tls: None,
        engine: Default::default(),
    })
    .await
    .unwrap();
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
    let cases: [(&[(&str, &str)], &str); 5] = [
        (
            &[("region", REGION), ("vpc_id", "vpc-n0such")],
            "`vpc-n0such` does not exist",
        ),
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
