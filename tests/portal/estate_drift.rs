//! Drift (issue 13 item 4) on the simulator: a run completes on the tutorial VPC, then a CVM
//! appears with a public IP (as a console user would make one) or a retired EIP is bound
//! again; a scan raises one finding, shown on the estate page, in `/metrics`, audited as
//! `drift.found` and sent through the webhook outbox; rescans update it without duplicating;
//! it closes when an operator accepts it with a reason, or by itself when it is gone.

use natpilot::store::{drift::FindingState, users::Role};
use reqwest::StatusCode;

use crate::common::until;
use crate::harness::{Browser, TestApp};
use crate::webhooks::{Receiver, settings, signature_is_valid};
use crate::wizard::{start, step};

const NEW_HOST: &str = "ins-n3wpub1c";
const NEW_IP: &str = "119.28.77.77";

/// Walks the tutorial run through all four steps; returns its id.
async fn completed_run(app: &TestApp, olga: &mut Browser) -> String {
    let id = start(app, olga).await;
    step(app, olga, &id, 1, &[]).await;
    let nat = [
        ("name", "egress-nat"),
        ("bandwidth_mbps", "100"),
        ("max_connections", "1000000"),
        ("new_eips", "1"),
    ];
    step(app, olga, &id, 2, &nat).await;
    step(app, olga, &id, 3, &[("replace_existing_default", "1")]).await;
    step(app, olga, &id, 4, &[]).await;
    let run = olga.get(&format!("/runs/{id}")).await;
    assert_eq!(run.text("#run-status"), "completed", "{}", run.body);
    id
}

/// A new CVM in the tutorial VPC with an ordinary public IP, made behind natpilot's back.
fn add_public_host(app: &TestApp) {
    app.sim.handle().with_world(|w| {
        let mut i = w.instance("ins-backend1").unwrap().clone();
        i.id = NEW_HOST.into();
        i.name = "made-in-the-console".into();
        i.private_ip = "10.0.2.99".into();
        i.public_ip = Some(NEW_IP.into());
        w.push_instance(i);
    });
}

/// Scans every account and waits until its drift check is done.
async fn scan_now(app: &TestApp) {
    natpilot::estate::scan::scan_all(app.store(), &app.app.state.accounts, "test")
        .await
        .unwrap();
}

async fn open_findings(app: &TestApp) -> Vec<natpilot::store::drift::Finding> {
    natpilot::store::drift::open(app.store().readers())
        .await
        .unwrap()
}

async fn newest_scan(app: &TestApp) -> i64 {
    natpilot::store::estate::latest_scans(app.store().readers())
        .await
        .unwrap()
        .iter()
        .map(|s| s.id)
        .max()
        .unwrap_or(0)
}

async fn metrics(app: &TestApp) -> String {
    let url = format!("http://{}/metrics", app.app.metrics_addr.unwrap());
    reqwest::get(&url).await.unwrap().text().await.unwrap()
}

#[tokio::test]
async fn a_new_public_ip_after_a_completed_run_is_one_open_finding_until_an_operator_accepts_it() {
    let (receiver, url) = Receiver::start(0).await;
    let app = TestApp::start_with(settings(&url, 3)).await;
    let mut olga = app.signed_in("olga", Role::Operator).await;
    let run = completed_run(&app, &mut olga).await;
    // Right after the run, what it kept (the protected front end and the hosts it could not
    // test) is no drift.
    scan_now(&app).await;
    assert!(open_findings(&app).await.is_empty());
    let page = olga.get("/estate").await;
    assert_eq!(
        page.count("#no-drift"),
        1,
        "{}",
        page.text("#drift-findings")
    );

    add_public_host(&app);
    let before = newest_scan(&app).await;
    let started = olga.post("/estate/scan", &[]).await;
    assert_eq!(started.status, StatusCode::SEE_OTHER);
    until("the scan's drift finding", || async {
        !open_findings(&app).await.is_empty()
    })
    .await;
    let page = olga.get("/estate").await;
    let row = "#drift-findings tr.drift-finding";
    assert_eq!(page.count(row), 1, "{}", page.text("#drift-findings"));
    assert_eq!(
        page.attr(row, "data-kind").as_deref(),
        Some("new_public_ip")
    );
    assert_eq!(page.text(&format!("{row} .drift-subject")), NEW_HOST);
    assert!(page.text(&format!("{row} .drift-what")).contains(NEW_IP));
    assert!(!page.text(&format!("{row} .drift-first-seen")).is_empty());
    assert_eq!(
        page.attr(&format!("{row} a.drift-run"), "href"),
        Some(format!("/runs/{run}"))
    );
    let found = app.audited("drift.found").await;
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].details["subject"], NEW_HOST);
    // The JSON API says the same, with a viewer's token: the finding, and the VPC's row.
    let mut dana = app.signed_in("dana", Role::Viewer).await;
    let api = crate::api::Api::new(
        &app,
        &crate::api::token(&mut dana, "dash", "viewer", false).await,
    );
    let (status, drift) = api.get("/api/v1/drift").await;
    assert_eq!(status, StatusCode::OK, "{drift}");
    let findings = drift["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 1, "{drift}");
    assert_eq!(findings[0]["kind"], "new_public_ip");
    assert_eq!(findings[0]["subject"], NEW_HOST);
    assert_eq!(findings[0]["run"], run.as_str());
    assert!(findings[0]["what"].as_str().unwrap().contains(NEW_IP));
    let (status, estate) = api.get("/api/v1/estate").await;
    assert_eq!(status, StatusCode::OK, "{estate}");
    let vpc = &estate["vpcs"][0];
    assert_eq!(vpc["vpc_id"], "vpc-tut0rial");
    assert_eq!(vpc["last_run"], run.as_str());
    assert_eq!(
        vpc["ordinary_hosts"].as_i64().unwrap().to_string(),
        page.text("tr.estate-vpc .vpc-ordinary")
    );
    assert_eq!(estate["scans"][0]["state"], "completed");
    // The gauges: open findings per kind, and the totals the page shows.
    let scraped = metrics(&app).await;
    assert!(
        scraped.contains("natpilot_drift_open_findings{kind=\"new_public_ip\"} 1"),
        "{scraped}"
    );
    assert!(scraped.contains("natpilot_drift_open_findings{kind=\"eip_bound_again\"} 0"));
    for (series, total) in [
        ("natpilot_estate_public_ips{kind=\"eip\"}", "#total-eip"),
        (
            "natpilot_estate_public_ips{kind=\"ordinary\"}",
            "#total-ordinary",
        ),
        (
            "natpilot_estate_vpcs{nat_routed=\"true\"}",
            "#total-nat-routed",
        ),
        ("natpilot_estate_instances", "#total-instances"),
        ("natpilot_estate_protected_hosts", "#total-protected"),
    ] {
        let line = format!("{series} {}\n", page.text(total));
        assert!(scraped.contains(&line), "{line} in {scraped}");
    }
    assert_eq!(page.text("#total-nat-routed"), "1");
    // The webhook gets it, signed like every event.
    let drift_event = || {
        receiver
            .got
            .lock()
            .unwrap()
            .iter()
            .filter(|(h, _)| h["x-natpilot-event"] == "drift.found")
            .cloned()
            .collect::<Vec<_>>()
    };
    until("the drift.found delivery", || async {
        !drift_event().is_empty()
    })
    .await;
    let (headers, body) = drift_event().remove(0);
    assert!(signature_is_valid(&headers, &body));
    let n: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(n["vpc_id"], "vpc-tut0rial");
    assert_eq!(n["run_id"], run.as_str());
    assert!(n["text"].as_str().unwrap().contains(NEW_HOST), "{n}");

    // Scanned again: the same finding, seen again, not a second one.
    let first = open_findings(&app).await.remove(0);
    assert!(newest_scan(&app).await > before);
    scan_now(&app).await;
    let again = open_findings(&app).await;
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].id, first.id);
    assert_eq!(again[0].last_scan, newest_scan(&app).await);
    assert!(again[0].last_scan > first.last_scan);
    assert_eq!(app.audited("drift.found").await.len(), 1);

    // A viewer sees the finding but no form, and may not accept it.
    let mut vera = app.signed_in("vera", Role::Viewer).await;
    let seen = vera.get("/estate").await;
    assert_eq!(seen.count(row), 1);
    assert_eq!(seen.count("form.drift-accept"), 0);
    let accept = format!("/estate/drift/{}/accept", first.id);
    let refused = vera.post(&accept, &[("reason", "looks fine")]).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);

    // No reason, or one too long: refused with a message, the form keeps what was typed.
    let blank = olga.post(&accept, &[("reason", "   ")]).await;
    assert_eq!(blank.status, StatusCode::UNPROCESSABLE_ENTITY);
    let form = format!("tr[data-finding='{}']", first.id);
    assert!(
        blank
            .text(&format!("{form} .drift-accept-error"))
            .contains("Say why"),
        "{}",
        blank.text("#drift-findings")
    );
    let long = "x".repeat(501);
    let too_long = olga.post(&accept, &[("reason", &long)]).await;
    assert_eq!(too_long.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        too_long.attr(&format!("{form} input[name=reason]"), "value"),
        Some(long)
    );
    assert!(app.audited("drift.accept").await.is_empty());

    let reason = "build agent, public on purpose (CHG-42)";
    let done = olga.post(&accept, &[("reason", reason)]).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    let page = olga.get("/estate?done=accept").await;
    assert_eq!(page.count(row), 0);
    let accepted = app.audited("drift.accept").await;
    assert_eq!(accepted.len(), 1);
    assert_eq!(accepted[0].actor, "olga");
    assert_eq!(accepted[0].details["reason"], reason);
    let stored = natpilot::store::drift::get(app.store().readers(), first.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.state, FindingState::Accepted);
    assert_eq!(stored.accepted_by.as_deref(), Some("olga"));
    assert!(stored.accepted_at.is_some());
    assert!(
        metrics(&app)
            .await
            .contains("natpilot_drift_open_findings{kind=\"new_public_ip\"} 0")
    );
    // Still there at the next scan: it stays accepted, not raised again.
    scan_now(&app).await;
    assert!(open_findings(&app).await.is_empty());
    assert_eq!(app.audited("drift.found").await.len(), 1);
    // A second accept finds nothing open.
    let twice = olga.post(&accept, &[("reason", reason)]).await;
    assert_eq!(twice.status, StatusCode::CONFLICT);
}

/// Binds (or unbinds) backend-2's EIP behind natpilot's back, as the console would.
fn bind_backend2_eip(w: &mut natpilot::sim::World, bound: bool) {
    use natpilot::sim::world::AddressStatus;
    w.set_binding("eip-backend2", bound.then_some("ins-backend2"));
    w.addresses.get_mut("eip-backend2").unwrap().status = match bound {
        true => AddressStatus::Bind,
        false => AddressStatus::Unbind,
    };
}

/// The run's NAT route of the tutorial VPC: (table, route index).
fn nat_route(w: &natpilot::sim::World) -> (String, usize) {
    w.route_tables
        .values()
        .filter(|t| t.vpc_id == "vpc-tut0rial")
        .find_map(|t| {
            let i = t
                .routes
                .iter()
                .position(|r| r.destination == "0.0.0.0/0" && r.gateway_type == "NAT")?;
            Some((t.id.clone(), i))
        })
        .expect("the run routed a table through its NAT gateway")
}

#[tokio::test]
async fn a_rebound_eip_and_a_default_route_moved_off_the_nat_close_by_themselves_once_gone() {
    let app = TestApp::start().await;
    let mut olga = app.signed_in("olga", Role::Operator).await;
    completed_run(&app, &mut olga).await;
    scan_now(&app).await;
    assert!(open_findings(&app).await.is_empty());

    // Someone binds backend-2's EIP back and points the default route at a CVM.
    let sim = app.sim.handle();
    let (table, at) = sim.with_world(|w| nat_route(w));
    let nat_id = sim.with_world(|w| {
        bind_backend2_eip(w, true);
        let r = &mut w.route_tables.get_mut(&table).unwrap().routes[at];
        r.gateway_type = "CVM".into();
        std::mem::replace(&mut r.gateway_id, "10.0.2.11".into())
    });
    scan_now(&app).await;
    let page = olga.get("/estate").await;
    let kinds = page.select_attrs("#drift-findings tr.drift-finding", "data-kind");
    assert_eq!(kinds.len(), 2, "{}", page.text("#drift-findings"));
    let row = |kind: &str| format!("#drift-findings tr.drift-finding[data-kind='{kind}']");
    assert_eq!(
        page.text(&format!("{} .drift-subject", row("eip_bound_again"))),
        "eip-backend2"
    );
    assert_eq!(
        page.text(&format!("{} .drift-kind", row("eip_bound_again"))),
        "EIP bound again"
    );
    assert_eq!(
        page.text(&format!("{} .drift-subject", row("default_route_changed"))),
        table
    );
    let what = page.text(&format!("{} .drift-what", row("default_route_changed")));
    assert!(
        what.contains("CVM 10.0.2.11") && what.contains(&nat_id),
        "{what}"
    );
    assert_eq!(app.audited("drift.found").await.len(), 2);
    let raised = open_findings(&app).await;

    // Put right by hand: the next scan no longer sees them, and they close.
    sim.with_world(|w| {
        bind_backend2_eip(w, false);
        let r = &mut w.route_tables.get_mut(&table).unwrap().routes[at];
        r.gateway_type = "NAT".into();
        r.gateway_id = nat_id.clone();
    });
    scan_now(&app).await;
    assert!(open_findings(&app).await.is_empty());
    for f in raised {
        let stored = natpilot::store::drift::get(app.store().readers(), f.id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(stored.state, FindingState::Closed, "{stored:?}");
    }
    assert_eq!(olga.get("/estate").await.count("#no-drift"), 1);

    // A stored finding that does not decode stops the page and the scan's drift check.
    sim.with_world(|w| bind_backend2_eip(w, true));
    scan_now(&app).await;
    let id = open_findings(&app).await[0].id;
    natpilot::store::sql::query(
        "UPDATE drift_findings SET finding = '{\"EipBoundAgain\":{\"eip\":1}}' WHERE id = ?",
    )
    .bind(id)
    .execute(app.store().writer())
    .await
    .unwrap();
    assert_eq!(
        olga.get("/estate").await.status,
        StatusCode::INTERNAL_SERVER_ERROR
    );
    let scanned =
        natpilot::estate::scan::scan_all(app.store(), &app.app.state.accounts, "test").await;
    let Err(e @ natpilot::estate::scan::ScanError::Drift(_)) = scanned else {
        panic!("the drift check went on past an undecodable finding: {scanned:?}");
    };
    assert!(e.to_string().contains("does not decode"), "{e}");
}

#[tokio::test]
async fn a_new_run_completing_on_the_vpc_closes_the_findings_of_the_run_before_it() {
    let app = TestApp::start().await;
    let mut olga = app.signed_in("olga", Role::Operator).await;
    let first = completed_run(&app, &mut olga).await;
    add_public_host(&app);
    scan_now(&app).await;
    let open = open_findings(&app).await;
    assert_eq!(open.len(), 1);
    assert_eq!(open[0].run.to_string(), first);
    // The fix: another run on the VPC, which retires the new host's public IP too.
    let second = completed_run(&app, &mut olga).await;
    assert_ne!(first, second);
    let stored = natpilot::store::drift::get(app.store().readers(), open[0].id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        stored.state,
        FindingState::Closed,
        "closed as the run completed"
    );
    scan_now(&app).await;
    assert!(open_findings(&app).await.is_empty());
}
