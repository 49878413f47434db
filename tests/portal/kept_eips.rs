//! Kept EIPs, to the end (issue 13 item 6): every EIP a run kept is listed with its age and
//! idle charge, and released after the soak period or re-bound — typed confirmation, a look at
//! the simulator right before the call, audited, in the run's ledger.

use std::time::Duration;

use natpilot::kept_eips::KeptSettings;
use natpilot::store::users::Role;
use natpilot::web::settings::WebSettings;
use reqwest::StatusCode;

use crate::harness::{Browser, Page, TestApp};
use crate::verify_step::at_verify_step;
use crate::wizard::step;

/// The tutorial's EIP that step 4 unbinds from ins-backend2 and keeps.
const KEPT_ID: &str = "eip-backend2";
const KEPT_IP: &str = "119.28.20.12";

fn soak(d: Duration) -> WebSettings {
    WebSettings {
        kept_eips: KeptSettings {
            soak: d,
            ..Default::default()
        },
        ..Default::default()
    }
}

/// A run through all four steps with the default (reversible) retire plan.
async fn completed_run(app: &TestApp) -> (Browser, String) {
    let (mut olga, id) = at_verify_step(app).await;
    step(app, &mut olga, &id, 4, &[]).await;
    let run = olga.get(&format!("/runs/{id}")).await;
    assert_eq!(run.text("#run-status"), "completed", "{}", run.body);
    (olga, id)
}

fn row(id: &str, address: &str) -> String {
    format!("#kept-eips tr.kept-eip[data-run=\"{id}\"][data-address=\"{address}\"]")
}

fn cell(page: &Page, id: &str, address: &str, class: &str) -> String {
    page.text(&format!("{} .{class}", row(id, address)))
}

async fn release(b: &mut Browser, id: &str, address: &str, confirm: &str) -> Page {
    b.post(
        &format!("/kept-eips/{id}/{address}/release"),
        &[("confirm", confirm)],
    )
    .await
}

fn sim_eip(app: &TestApp, id: &str) -> Option<(String, Option<String>)> {
    app.sim.handle().with_world(|w| {
        w.addresses
            .get(id)
            .map(|a| (a.ip.clone(), a.instance_id.clone()))
    })
}

#[tokio::test]
async fn a_run_that_keeps_eips_lists_them_with_age_and_idle_charge() {
    let app = TestApp::start().await;
    let (mut olga, id) = completed_run(&app).await;
    let page = olga.get("/kept-eips").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    // Step 4 unbound two EIPs and converted-then-unbound two ordinary IPs: four kept.
    assert_eq!(page.count("#kept-eips tr.kept-eip"), 4, "{}", page.body);
    assert_eq!(cell(&page, &id, KEPT_ID, "kept-ip"), KEPT_IP);
    assert!(cell(&page, &id, KEPT_ID, "kept-how").contains("unbound from ins-backend2"));
    assert_eq!(cell(&page, &id, KEPT_ID, "kept-age"), "under a minute");
    // ap-guangzhou: 0.20 CNY/hour (tencent-api-2 §7.3), 730 hours a month.
    assert_eq!(cell(&page, &id, KEPT_ID, "kept-charge"), "0.20 CNY/hour");
    assert_eq!(cell(&page, &id, KEPT_ID, "kept-month"), "146.00 CNY");
    let converted = page.texts("#kept-eips tr.kept-eip .kept-how");
    assert!(
        converted
            .iter()
            .any(|h| h.contains("ordinary public IP of ins-backend1, converted")),
        "{converted:?}"
    );
    assert_eq!(page.text("#kept-count"), "4");
    assert_eq!(page.text("#kept-per-month"), "584.00 CNY");
    // Linked from the run page (filtered to the run) and the estate page, whose totals show
    // what kept EIPs cost per month.
    let run = olga.get(&format!("/runs/{id}")).await;
    let link = run.attr("#view-kept-eips", "href").unwrap();
    assert_eq!(link, format!("/kept-eips?run={id}"));
    let filtered = olga.get(&link).await;
    assert_eq!(filtered.count("#kept-eips tr.kept-eip"), 4);
    let estate = olga.get("/estate").await;
    assert_eq!(
        estate.attr("#estate-kept-eips", "href").as_deref(),
        Some("/kept-eips")
    );
    assert_eq!(estate.text("#total-kept"), "4");
    assert_eq!(estate.text("#total-kept-month"), "584.00 CNY");
    // Once scanned, the VPC's own row counts them too.
    natpilot::estate::scan::scan_all(app.store(), &app.app.state.accounts, "test")
        .await
        .unwrap();
    let scanned = olga.get("/estate").await;
    assert_eq!(
        scanned.text("tr.estate-vpc[data-vpc='vpc-tut0rial'] .vpc-kept"),
        "4",
        "{}",
        scanned.body
    );
    // Viewers see the list, without forms; their POST is refused.
    let mut vera = app.signed_in("vera", Role::Viewer).await;
    let seen = vera.get("/kept-eips").await;
    assert_eq!(seen.count("#kept-eips tr.kept-eip"), 4);
    assert_eq!(
        seen.count("form.kept-release-form, form.kept-rebind-form"),
        0
    );
    let refused = release(&mut vera, &id, KEPT_ID, KEPT_IP).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    assert!(sim_eip(&app, KEPT_ID).is_some());
}

#[tokio::test]
async fn a_region_without_a_configured_price_says_so_instead_of_guessing() {
    let mut settings = WebSettings::default();
    settings.kept_eips.prices.clear();
    let app = TestApp::start_with(settings).await;
    let (mut olga, id) = completed_run(&app).await;
    let page = olga.get("/kept-eips").await;
    assert_eq!(
        cell(&page, &id, KEPT_ID, "kept-charge"),
        "price not configured"
    );
    assert_eq!(
        cell(&page, &id, KEPT_ID, "kept-month"),
        "price not configured"
    );
    assert!(
        page.text("#kept-per-month")
            .contains("4 with no price configured")
    );
}

#[tokio::test]
async fn release_before_the_soak_is_refused_on_the_page_and_by_the_server() {
    let app = TestApp::start().await;
    let (mut olga, id) = completed_run(&app).await;
    let page = olga.get("/kept-eips").await;
    // The default soak is 7 days: no release form, and the page says from when.
    assert_eq!(
        page.count(&format!("{} form.kept-release-form", row(&id, KEPT_ID))),
        0
    );
    assert!(cell(&page, &id, KEPT_ID, "kept-soaking").contains("soak"));
    let from = cell(&page, &id, KEPT_ID, "kept-release-from");
    assert!(from.starts_with("from "), "{from}");
    let refused = release(&mut olga, &id, KEPT_ID, KEPT_IP).await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.body
    );
    let msg = refused.text("#kept-refused");
    assert!(
        msg.contains("soak period") && msg.contains("may be released from"),
        "{msg}"
    );
    assert_eq!(
        sim_eip(&app, KEPT_ID).map(|e| e.0).as_deref(),
        Some(KEPT_IP)
    );
    assert!(app.audited("kept_eip.release").await.is_empty());
}

#[tokio::test]
async fn after_the_soak_release_takes_exactly_that_address_audited_and_in_the_ledger() {
    let app = TestApp::start_with(soak(Duration::ZERO)).await;
    let (mut olga, id) = completed_run(&app).await;
    let before: Vec<String> = app
        .sim
        .handle()
        .with_world(|w| w.addresses.keys().cloned().collect());
    // A wrong confirmation is refused and keeps the form open with what was typed.
    let wrong = release(&mut olga, &id, KEPT_ID, "119.28.20.13").await;
    assert_eq!(
        wrong.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        wrong.body
    );
    let form = format!("{} details.kept-release[open]", row(&id, KEPT_ID));
    assert_eq!(wrong.count(&form), 1, "{}", wrong.body);
    assert!(wrong.text(&format!("{form} .kept-error")).contains(KEPT_IP));
    assert_eq!(
        wrong
            .attr(&format!("{form} input[name=confirm]"), "value")
            .as_deref(),
        Some("119.28.20.13")
    );
    assert!(sim_eip(&app, KEPT_ID).is_some());

    let done = release(&mut olga, &id, KEPT_ID, KEPT_IP).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    let page = olga.get(&done.location().unwrap()).await;
    assert!(page.text("#notice").contains(KEPT_IP));
    // Exactly that address is gone from the simulator; every other one is still there.
    let after: Vec<String> = app
        .sim
        .handle()
        .with_world(|w| w.addresses.keys().cloned().collect());
    let gone: Vec<&String> = before.iter().filter(|a| !after.contains(a)).collect();
    assert_eq!(gone, [KEPT_ID]);
    assert_eq!(page.count(&row(&id, KEPT_ID)), 0);
    assert_eq!(page.count("#kept-eips tr.kept-eip"), 3);
    assert_eq!(page.text("#kept-actions .kept-outcome .badge"), "done");
    // Audited with who and what; the call is in the run's ledger.
    let audit = app.audited("kept_eip.release").await;
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0].actor, "olga");
    assert_eq!(audit[0].target, KEPT_ID);
    assert_eq!(audit[0].details["ip"], KEPT_IP);
    let run_id = id.parse().unwrap();
    let calls = natpilot::store::ledger::list(app.store().readers(), run_id, 0, 10_000)
        .await
        .unwrap();
    let release_calls: Vec<_> = calls
        .iter()
        .filter(|c| c.action == "ReleaseAddresses")
        .collect();
    assert_eq!(release_calls.len(), 1, "{release_calls:?}");
    assert!(release_calls[0].params.to_string().contains(KEPT_ID));
    assert!(release_calls[0].request_id.is_some());
    // The run's undo record says so: a rollback would name it, not try to bind it back.
    let undo = natpilot::store::undo::list(app.store().readers(), run_id)
        .await
        .unwrap();
    assert!(undo.iter().any(|u| {
        u.state == natpilot::store::UndoState::Irreversible
            && u.action
                .to_string()
                .contains("released by olga from the Kept EIPs page")
    }));
    // A second release of the same address finds no kept EIP.
    let again = release(&mut olga, &id, KEPT_ID, KEPT_IP).await;
    assert_eq!(again.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(again.text("#kept-refused").contains("keeps no EIP"));

    // Rolling the run back binds the other kept EIPs back and names the released one.
    let rolled = olga.post(&format!("/runs/{id}/rollback"), &[]).await;
    assert_eq!(rolled.status, StatusCode::SEE_OTHER, "{}", rolled.body);
    app.settle(&id).await;
    let run = olga.get(&format!("/runs/{id}")).await;
    assert_eq!(run.text("#run-status"), "rolled back", "{}", run.body);
    assert!(
        run.texts("#rollback-differs li")
            .iter()
            .any(|d| d.contains(&format!("EIP {KEPT_IP} ({KEPT_ID}) was released by olga"))),
        "{}",
        run.body
    );
    assert_eq!(
        sim_eip(&app, "eip-worker02").unwrap().1.as_deref(),
        Some("ins-worker02")
    );
    // What is left: the two converted ordinary IPs, bound back and staying EIPs (no idle
    // charge, no action), and the EIP allocated for the gateway, which this rollback kept.
    let page = olga.get(&format!("/kept-eips?run={id}")).await;
    let hows = page.texts("#kept-eips tr.kept-eip .kept-how");
    assert_eq!(hows.len(), 3, "{hows:?}");
    assert_eq!(
        hows.iter()
            .filter(|h| h.contains("the rollback bound it back"))
            .count(),
        2
    );
    assert_eq!(
        hows.iter()
            .filter(|h| h.contains("allocated for NAT gateway"))
            .count(),
        1
    );
    let charges = page.texts("#kept-eips tr.kept-eip .kept-charge");
    assert_eq!(
        charges.iter().filter(|c| *c == "none while bound").count(),
        2
    );
    assert_eq!(page.count("form.kept-release-form"), 1);
    assert_eq!(page.text("#kept-per-month"), "146.00 CNY");
}

#[tokio::test]
async fn an_eip_bound_elsewhere_since_it_was_kept_is_refused_with_the_reason() {
    let app = TestApp::start_with(soak(Duration::ZERO)).await;
    let (mut olga, id) = completed_run(&app).await;
    app.sim.handle().with_world(|w| {
        w.set_binding(KEPT_ID, Some("ins-worker03"));
        w.addresses.get_mut(KEPT_ID).unwrap().status = natpilot::sim::world::AddressStatus::Bind;
    });
    let refused = release(&mut olga, &id, KEPT_ID, KEPT_ID).await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.body
    );
    let msg = refused.text("#kept-refused");
    assert!(msg.contains("is bound to ins-worker03"), "{msg}");
    assert_eq!(
        sim_eip(&app, KEPT_ID),
        Some((KEPT_IP.to_owned(), Some("ins-worker03".to_owned())))
    );
    assert_eq!(app.audited("kept_eip.release_failed").await.len(), 1);
    assert!(app.audited("kept_eip.release").await.is_empty());
    // Still listed (its record still says kept), and the refusal is in the history.
    assert_eq!(refused.count(&row(&id, KEPT_ID)), 1);
    assert!(
        refused
            .text("#kept-actions .kept-outcome")
            .contains("refused or failed")
    );
}

#[tokio::test]
async fn rebind_works_and_is_refused_for_an_instance_of_another_vpc() {
    let app = TestApp::start().await;
    let (mut olga, id) = completed_run(&app).await;
    app.sim.handle().with_world(|w| {
        let mut other = w.instance("ins-worker03").unwrap().clone();
        other.id = "ins-0thervpc".into();
        other.vpc_id = "vpc-0ther001".into();
        w.push_instance(other);
    });
    let rebind = |instance: &'static str, confirm: &'static str| {
        let path = format!("/kept-eips/{id}/{KEPT_ID}/rebind");
        (path, [("instance_id", instance), ("confirm", confirm)])
    };
    let (path, fields) = rebind("ins-0thervpc", KEPT_IP);
    let refused = olga.post(&path, &fields).await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.body
    );
    let form = format!("{} details.kept-rebind[open]", row(&id, KEPT_ID));
    assert!(
        refused
            .text(&format!("{form} .kept-error"))
            .contains("is not in the run's VPC")
    );
    assert_eq!(
        refused
            .attr(&format!("{form} input[name=instance_id]"), "value")
            .as_deref(),
        Some("ins-0thervpc")
    );
    // A server that has a public IP already is refused too (the frontend keeps its EIP).
    let (path, fields) = rebind("ins-fr0ntend", KEPT_IP);
    let refused = olga.post(&path, &fields).await;
    assert!(
        refused
            .text("#kept-refused")
            .contains("already has the public IP")
    );
    assert_eq!(sim_eip(&app, KEPT_ID).unwrap().1, None);
    // Not an instance id at all: refused before anything is asked of the cloud.
    let (path, fields) = rebind("backend-2", KEPT_IP);
    let refused = olga.post(&path, &fields).await;
    assert!(refused.text("#kept-refused").contains("not an instance id"));

    // The soak does not apply: binding is reversible.
    let (path, fields) = rebind("ins-backend2", KEPT_ID);
    let done = olga.post(&path, &fields).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert_eq!(
        sim_eip(&app, KEPT_ID),
        Some((KEPT_IP.to_owned(), Some("ins-backend2".to_owned())))
    );
    let audit = app.audited("kept_eip.rebind").await;
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0].details["instance_id"], "ins-backend2");
    let calls =
        natpilot::store::ledger::list(app.store().readers(), id.parse().unwrap(), 0, 10_000)
            .await
            .unwrap();
    assert!(
        calls
            .iter()
            .any(|c| c.action == "AssociateAddress" && c.params.to_string().contains(KEPT_ID))
    );
    let page = olga.get("/kept-eips").await;
    assert_eq!(page.count(&row(&id, KEPT_ID)), 0);
    assert_eq!(page.count("#kept-eips tr.kept-eip"), 3);
}

#[tokio::test]
async fn a_rollback_that_kept_the_gateways_eips_lists_them() {
    let app = TestApp::start().await;
    let mut olga = app.signed_in("olga", Role::Operator).await;
    let id = crate::wizard::start(&app, &mut olga).await;
    step(&app, &mut olga, &id, 1, &[]).await;
    let nat = [
        ("name", "egress-nat"),
        ("bandwidth_mbps", "100"),
        ("max_connections", "1000000"),
        ("new_eips", "1"),
    ];
    step(&app, &mut olga, &id, 2, &nat).await;
    let sim = app.sim.handle();
    let nat_id = sim.nat_gateways("vpc-tut0rial")[0].id.clone();
    let nat_eip: Vec<(String, String)> = sim.with_world(|w| {
        w.addresses_of(&nat_id)
            .map(|a| (a.id.clone(), a.ip.clone()))
            .collect()
    });
    assert_eq!(nat_eip.len(), 1);
    let rolled = olga.post(&format!("/runs/{id}/rollback"), &[]).await;
    assert_eq!(rolled.status, StatusCode::SEE_OTHER, "{}", rolled.body);
    app.settle(&id).await;
    let run = olga.get(&format!("/runs/{id}")).await;
    assert_eq!(run.text("#run-status"), "rolled back", "{}", run.body);
    let page = olga.get(&format!("/kept-eips?run={id}")).await;
    let (address, ip) = &nat_eip[0];
    assert_eq!(cell(&page, &id, address, "kept-ip"), *ip);
    assert!(
        cell(&page, &id, address, "kept-how")
            .contains("the rollback deleted the gateway and kept it")
    );
    assert_eq!(cell(&page, &id, address, "kept-charge"), "0.20 CNY/hour");
}

#[tokio::test]
async fn a_release_the_cloud_refuses_shows_and_records_the_code_and_request_id() {
    let app = TestApp::start_with(soak(Duration::ZERO)).await;
    let (mut olga, id) = completed_run(&app).await;
    let sim = app.sim.handle();
    sim.deny(&sim.uin(), &sim.region(), "ReleaseAddresses");
    let refused = release(&mut olga, &id, KEPT_ID, KEPT_IP).await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.body
    );
    assert_eq!(
        refused.text("#kept-refused .refused-code"),
        "UnauthorizedOperation"
    );
    let request_id = refused.text("#kept-refused .refused-request");
    assert!(!request_id.is_empty());
    assert!(sim_eip(&app, KEPT_ID).is_some());
    // The failed attempt: in the history, the audit log and the run's ledger, same RequestId.
    assert!(
        refused
            .text("#kept-actions .kept-outcome")
            .contains(&request_id)
    );
    let audit = app.audited("kept_eip.release_failed").await;
    assert_eq!(audit[0].details["code"], "UnauthorizedOperation");
    assert_eq!(audit[0].details["request_id"], request_id.as_str());
    let calls =
        natpilot::store::ledger::list(app.store().readers(), id.parse().unwrap(), 0, 10_000)
            .await
            .unwrap();
    let call = calls
        .iter()
        .find(|c| c.action == "ReleaseAddresses")
        .expect("the refused call is in the ledger");
    assert_eq!(call.error_code.as_deref(), Some("UnauthorizedOperation"));
    assert_eq!(call.request_id.as_deref(), Some(request_id.as_str()));
    // Still kept: it can be tried again.
    let page = olga.get("/kept-eips").await;
    assert_eq!(page.count(&row(&id, KEPT_ID)), 1);
}

#[tokio::test]
async fn two_operators_releasing_the_same_eip_at_once_release_it_once() {
    let app = TestApp::start_with(soak(Duration::ZERO)).await;
    let (mut olga, id) = completed_run(&app).await;
    let mut otto = app.signed_in("otto", Role::Operator).await;
    otto.get("/kept-eips").await;
    let (a, b) = tokio::join!(
        release(&mut olga, &id, KEPT_ID, KEPT_IP),
        release(&mut otto, &id, KEPT_ID, KEPT_ID)
    );
    let mut statuses = [a.status, b.status];
    statuses.sort();
    assert_eq!(
        statuses,
        [StatusCode::SEE_OTHER, StatusCode::UNPROCESSABLE_ENTITY],
        "{}\n{}",
        a.body,
        b.body
    );
    // The second decided from the records as they were once the first was done.
    let refused = if a.status == StatusCode::SEE_OTHER {
        &b
    } else {
        &a
    };
    assert!(
        refused.text("#kept-refused").contains("keeps no EIP"),
        "{}",
        refused.body
    );
    assert_eq!(app.sim.handle().executed("ReleaseAddresses"), 1);
    assert_eq!(app.audited("kept_eip.release").await.len(), 1);
    assert!(app.audited("kept_eip.release_failed").await.is_empty());
}

/// `extra` more EIPs that step 4 of `id` unbound and kept, and `failed` release attempts that
/// left them kept: a run that kept many, without driving the simulator through them all.
async fn kept_many(app: &TestApp, id: &str, extra: usize, failed: usize) {
    use natpilot::store::{Step, UndoState, kept_eips::ActionKind, kept_eips::NewAction};
    use natpilot::wizard::engine::UndoEntry;
    use natpilot::wizard::plan::Undo;
    let run: natpilot::store::RunId = id.parse().unwrap();
    let mut tx = app.store().begin_write().await.unwrap();
    for n in 0..extra {
        let entry = UndoEntry {
            key: format!("disassociate:ins-many{n:04}"),
            undo: Undo::ReassociateEip {
                instance_id: format!("ins-many{n:04}"),
                address_id: Some(format!("eip-many{n:04}")),
                ip: format!("203.0.{}.{}", n / 250, n % 250 + 1),
            },
        };
        let action = serde_json::to_value(&entry).unwrap();
        let record = natpilot::store::undo::insert_pending(&mut *tx, run, Step::Verify, &action)
            .await
            .unwrap();
        natpilot::store::undo::set_state(&mut *tx, record, UndoState::Done, None, None)
            .await
            .unwrap();
    }
    for n in 0..failed {
        let address = format!("eip-many{:04}", n % extra.max(1));
        natpilot::store::kept_eips::insert(
            &mut *tx,
            &NewAction {
                run,
                address_id: &address,
                ip: "203.0.0.1",
                kind: ActionKind::Release,
                instance_id: None,
                done: false,
                actor: "olga",
                detail: "refused by the cloud",
                code: Some("ResourceInUse"),
                request_id: Some("req-test"),
            },
        )
        .await
        .unwrap();
    }
    tx.commit().await.unwrap();
}

#[tokio::test]
async fn a_run_that_kept_many_eips_is_listed_page_by_page_with_totals_of_every_row() {
    let app = TestApp::start().await;
    let (mut olga, id) = completed_run(&app).await;
    // The tutorial's four kept EIPs and 120 more: three pages of 50.
    let before = olga.get("/kept-eips").await;
    assert_eq!(
        before.attr("#kept-count", "data-count").as_deref(),
        Some("4")
    );
    assert_eq!(before.count("#kept-pages"), 0, "one page needs no pager");
    kept_many(&app, &id, 120, 60).await;
    let first = olga.get("/kept-eips").await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    assert_eq!(first.count("#kept-eips tr.kept-eip"), 50);
    // The totals count every row, not the page's.
    assert_eq!(
        first.attr("#kept-count", "data-count").as_deref(),
        Some("124")
    );
    assert_eq!(first.text("#kept-range"), "rows 1–50 of 124");
    assert_eq!(first.count("#kept-page-prev"), 0);
    let next = first.attr("#kept-page-next", "href").unwrap();
    assert_eq!(next, "/kept-eips?page=2");
    let last = olga
        .get(&first.attr("#kept-page-last", "href").unwrap())
        .await;
    assert_eq!(last.count("#kept-eips tr.kept-eip"), 24);
    assert_eq!(last.text("#kept-range"), "rows 101–124 of 124");
    assert_eq!(last.count("#kept-page-next"), 0);
    assert_eq!(last.count(&row(&id, "eip-many0119")), 1);
    assert_eq!(first.count(&row(&id, "eip-many0119")), 0);
    // A page past the end shows the last one, not an empty table.
    let past = olga.get("/kept-eips?page=99").await;
    assert_eq!(past.text("#kept-range"), "rows 101–124 of 124");
    // One run's list pages with its filter kept.
    let mine = olga.get(&format!("/kept-eips?run={id}")).await;
    assert_eq!(
        mine.attr("#kept-page-next", "href").as_deref(),
        Some(format!("/kept-eips?run={id}&page=2").as_str())
    );
    // The history shows the newest 50 attempts and says how many there are.
    assert_eq!(first.count("#kept-actions tr.kept-action"), 50);
    assert!(
        first.text("#kept-history-more").contains("50 of 60"),
        "{}",
        first.text("#kept-history-more")
    );
    // A refused release is shown on the page that holds its row: here, the last.
    let refused = release(&mut olga, &id, "eip-many0110", "203.0.0.111").await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.body
    );
    assert!(
        refused.text("#kept-refused").contains("soak"),
        "{}",
        refused.body
    );
    assert_eq!(refused.count(&row(&id, "eip-many0110")), 1);
    assert_eq!(refused.text("#kept-range"), "rows 101–124 of 124");
}
