//! The whole wizard through the forms, against the simulator.

use natpilot::store::users::Role;
use reqwest::StatusCode;

use crate::harness::{Browser, TestApp};

const VPC: &str = "vpc-tut0rial";

pub async fn start(app: &TestApp, b: &mut Browser) -> String {
    let id = begin(b).await;
    app.settle(&id).await;
    id
}

/// Starts a run on the tutorial VPC from the new-run page; its assessment goes on.
pub async fn begin(b: &mut Browser) -> String {
    let page = b.get("/runs/new").await;
    let region = page
        .attr("#new-run-form input[name=region]", "value")
        .unwrap();
    let done = b
        .post("/runs", &[("region", &region), ("vpc_id", VPC)])
        .await;
    done.location()
        .unwrap()
        .trim_start_matches("/runs/")
        .to_owned()
}

/// Previews and confirms a step with these fields; returns the preview page.
pub async fn step(
    app: &TestApp,
    b: &mut Browser,
    id: &str,
    n: u8,
    fields: &[(&str, &str)],
) -> crate::harness::Page {
    b.get(&format!("/runs/{id}/step/{n}")).await;
    let preview = b.post(&format!("/runs/{id}/step/{n}/plan"), fields).await;
    assert_eq!(
        preview.status,
        StatusCode::OK,
        "step {n} preview: {}",
        preview.body
    );
    let digest = preview
        .attr("#step-form input[name=plan_digest]", "value")
        .expect("a preview carries the digest of the plan it shows");
    let mut confirmed = fields.to_vec();
    confirmed.push(("plan_digest", &digest));
    let done = b
        .post(&format!("/runs/{id}/step/{n}/confirm"), &confirmed)
        .await;
    assert_eq!(
        done.status,
        StatusCode::SEE_OTHER,
        "step {n} confirm: {}",
        done.body
    );
    app.settle(id).await;
    preview
}

#[tokio::test]
async fn an_operator_walks_the_whole_wizard_through_the_forms() {
    let app = TestApp::start().await;
    let mut olga = app.signed_in("olga", Role::Operator).await;
    let id = start(&app, &mut olga).await;
    let assess = olga.get(&format!("/runs/{id}/step/1")).await;
    assert!(
        assess.count("#exposure-table tbody tr[data-instance-id]") > 0,
        "{}",
        assess.body
    );
    // Keep the suggested protections as they are.
    assert_eq!(
        assess.text("#row-ins-fr0ntend .protected-state"),
        "protected",
        "{}",
        assess.body
    );
    step(&app, &mut olga, &id, 1, &[]).await;
    let nat = [
        ("name", "egress-nat"),
        ("bandwidth_mbps", "100"),
        ("max_connections", "1000000"),
        ("new_eips", "1"),
    ];
    let preview = step(&app, &mut olga, &id, 2, &nat).await;
    assert!(preview.text("#plan-changes").contains("egress-nat"));
    let run = olga.get(&format!("/runs/{id}")).await;
    assert_eq!(run.text("#step-2 .step-state"), "applied", "{}", run.body);
    step(
        &app,
        &mut olga,
        &id,
        3,
        &[("replace_existing_default", "1")],
    )
    .await;
    step(&app, &mut olga, &id, 4, &[]).await;
    let run = olga.get(&format!("/runs/{id}")).await;
    assert_eq!(run.text("#run-status"), "completed", "{}", run.body);
    let sim = app.sim.handle();
    assert_ne!(
        sim.egress_ip("ins-backend1").as_deref(),
        Some("119.28.20.11")
    );
    // The inputs used, in words; each confirm is audited with the digest of the plan shown.
    assert!(
        run.text("#input-2 .input-words")
            .starts_with("Create NAT gateway “egress-nat”: 100 Mbps"),
        "{}",
        run.text("#input-2")
    );
    assert_eq!(
        run.text("#input-3 .input-words"),
        "Replace existing 0.0.0.0/0 routes: yes"
    );
    let confirms = natpilot::store::audit::list(
        app.store().readers(),
        &natpilot::store::audit::AuditFilter {
            action: Some("run.confirm".into()),
            ..Default::default()
        },
        10,
    )
    .await
    .unwrap();
    assert_eq!(confirms.len(), 4);
    assert!(confirms.iter().all(|c| {
        c.actor == "olga"
            && c.target == id
            && c.details["plan_digest"]
                .as_str()
                .is_some_and(|d| d.len() == 64)
    }));
    // The undo records say in words what a rollback would do, newest last.
    let undo = run.texts("#undo .undo-what");
    assert!(
        undo[0].starts_with("Delete the NAT gateway nat-"),
        "{undo:?}"
    );
    assert!(
        undo.iter()
            .any(|u| u == "Bind 119.28.20.11 to ins-backend1 again")
    );
    // Next to the rollback button: the same, newest first, as the rollback would go.
    let preview = run.texts("#rollback-preview li");
    assert_eq!(preview.len(), undo.len(), "{preview:?}");
    assert_eq!(preview.last(), undo.first());
    assert_eq!(preview.first(), undo.last());

    // After a whole run, the cloud SecretKey, the password and the session token are nowhere
    // in the raw database bytes or the logs.
    let session = olga.cookie.clone().unwrap();
    let db = app.db_contents().await;
    let logs = crate::harness::captured_logs();
    for secret in [sim.secret_key(), crate::harness::PASSWORD, session.as_str()] {
        for (what, bytes) in [("database", &db), ("logs", &logs)] {
            assert!(
                !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
                "found a secret in the {what}"
            );
        }
    }
    assert!(
        db.windows(12).any(|w| w == b"CreateRoutes"),
        "the scan must have seen the run's ledger"
    );

    // The topology shows the run's NAT gateway; the Terraform export names it with import ids.
    let nat = sim.nat_gateways("vpc-tut0rial");
    let nat_id = nat[0].id.clone();
    let topology = olga.get(&format!("/runs/{id}/topology")).await;
    assert_eq!(topology.status, StatusCode::OK, "{}", topology.body);
    assert_eq!(
        topology.count(&format!("#topology svg g[data-nat={nat_id}]")),
        1,
        "{}",
        topology.body
    );
    assert!(
        topology.count("#topology .topo-route") >= 1,
        "{}",
        topology.body
    );
    // Before the run, backend-2 had its EIP; now it does not, and the page says so.
    assert!(
        topology
            .text("#topology-before svg")
            .contains("119.28.20.12")
    );
    assert!(!topology.text("#topology-now svg").contains("119.28.20.12"));
    assert!(
        topology
            .texts(".topology-change")
            .iter()
            .any(|c| c == "ins-backend2 (backend-2) no longer has public IP 119.28.20.12"),
        "{}",
        topology.body
    );
    let tf = olga.get(&format!("/runs/{id}/terraform")).await;
    assert_eq!(tf.status, StatusCode::OK);
    assert!(
        tf.body.contains(&format!(
            "to = tencentcloud_nat_gateway.natpilot\n  id = \"{nat_id}\""
        )),
        "{}",
        tf.body
    );
    assert!(
        tf.body
            .contains("resource \"tencentcloud_route_table_entry\""),
        "{}",
        tf.body
    );

    // A completed run can still be undone from its page.
    assert_eq!(run.count("#rollback"), 1, "{}", run.body);
    let rolled = olga.post(&format!("/runs/{id}/rollback"), &[]).await;
    assert_eq!(rolled.status, StatusCode::SEE_OTHER, "{}", rolled.body);
    app.settle(&id).await;
    let run = olga.get(&format!("/runs/{id}")).await;
    assert_eq!(run.text("#run-status"), "rolled back", "{}", run.body);
    assert_eq!(
        sim.egress_ip("ins-backend1").as_deref(),
        Some("119.28.20.11")
    );
}

#[tokio::test]
async fn a_bad_provision_form_keeps_the_input_and_names_the_fields() {
    let app = TestApp::start().await;
    let mut olga = app.signed_in("olga", Role::Operator).await;
    let id = start(&app, &mut olga).await;
    step(&app, &mut olga, &id, 1, &[]).await;
    olga.get(&format!("/runs/{id}/step/2")).await;
    let bad = olga
        .post(
            &format!("/runs/{id}/step/2/plan"),
            &[
                ("name", "<b>nat</b>"),
                ("bandwidth_mbps", "100"),
                ("max_connections", "1000000"),
                ("new_eips", "99"),
            ],
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.text("#step-errors").contains("new_eips"));
    assert_eq!(
        bad.attr("#nat-name", "value").as_deref(),
        Some("<b>nat</b>")
    );
    assert_eq!(bad.attr("#nat-new-eips", "value").as_deref(), Some("99"));
    assert_eq!(
        bad.attr("#nat-bandwidth option[selected]", "value")
            .as_deref(),
        Some("100")
    );
}

#[tokio::test]
async fn only_the_previewed_plan_can_be_confirmed() {
    let app = TestApp::start().await;
    let mut olga = app.signed_in("olga", Role::Operator).await;
    let id = start(&app, &mut olga).await;
    // Step 1's plan is shown as soon as the step opens (it is made from the assessment).
    let assess = olga.get(&format!("/runs/{id}/step/1")).await;
    assert!(
        assess
            .attr("#step-form input[name=plan_digest]", "value")
            .is_some()
    );
    assert_eq!(assess.count("#confirm-step:not([disabled])"), 1);

    step(&app, &mut olga, &id, 1, &[]).await;
    let nat = |name: &'static str| {
        [
            ("name", name),
            ("bandwidth_mbps", "100"),
            ("max_connections", "1000000"),
            ("new_eips", "1"),
        ]
    };
    let gateways = || app.sim.handle().with_world(|w| w.nat_gateways.len());
    let confirm = format!("/runs/{id}/step/2/confirm");

    // Step 2 needs the operator's input: before any preview the confirm button is off, and a
    // confirm without one is refused.
    let page = olga.get(&format!("/runs/{id}/step/2")).await;
    assert_eq!(page.count("#confirm-step[disabled]"), 1, "{}", page.body);
    assert_eq!(page.count("input[name=plan_digest]"), 0);
    let refused = olga.post(&confirm, &nat("nat-a")).await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.body);
    assert!(
        refused
            .text("#step-errors")
            .contains("Preview the plan first")
    );
    assert_eq!(refused.attr("#nat-name", "value").as_deref(), Some("nat-a"));

    // Previewed as `nat-a`, then the name edited to `nat-b` and confirmed: the plan for
    // `nat-b` is shown for review, not applied.
    let preview = olga
        .post(&format!("/runs/{id}/step/2/plan"), &nat("nat-a"))
        .await;
    assert_eq!(preview.count("#confirm-step[disabled]"), 0);
    let seen = preview
        .attr("#step-form input[name=plan_digest]", "value")
        .unwrap();
    let mut edited = nat("nat-b").to_vec();
    edited.push(("plan_digest", &seen));
    let changed = olga.post(&confirm, &edited).await;
    assert_eq!(changed.status, StatusCode::CONFLICT, "{}", changed.body);
    assert!(
        changed
            .text("#step-errors")
            .contains("not the one previewed")
    );
    assert!(changed.text("#plan-changes").contains("nat-b"));
    assert_eq!(gateways(), 0, "nothing was created");
    let refusals = natpilot::store::audit::list(
        app.store().readers(),
        &natpilot::store::audit::AuditFilter {
            action: Some("run.confirm_refused".into()),
            ..Default::default()
        },
        10,
    )
    .await
    .unwrap();
    assert_eq!(refusals.len(), 1, "the refused confirm is audited");
    assert_eq!(refusals[0].actor, "olga");
    assert!(
        refusals[0].details["refused"]
            .as_str()
            .is_some_and(|r| r.contains("not the one previewed"))
    );

    let now = changed
        .attr("#step-form input[name=plan_digest]", "value")
        .unwrap();
    assert_ne!(now, seen);
    let mut reviewed = nat("nat-b").to_vec();
    reviewed.push(("plan_digest", &now));
    let done = olga.post(&confirm, &reviewed).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    app.settle(&id).await;
    let names: Vec<String> = app
        .sim
        .handle()
        .with_world(|w| w.nat_gateways.values().map(|n| n.name.clone()).collect());
    assert_eq!(names, ["nat-b"]);
}

#[tokio::test]
async fn another_operator_cannot_preview_or_confirm_someone_elses_run() {
    let app = TestApp::start().await;
    let mut olga = app.signed_in("olga", Role::Operator).await;
    let id = start(&app, &mut olga).await;
    let mut ivan = app.signed_in("ivan", Role::Operator).await;
    let page = ivan.get(&format!("/runs/{id}/step/1")).await;
    assert_eq!(page.count("#confirm-step"), 0);
    let refused = ivan.post(&format!("/runs/{id}/step/1/confirm"), &[]).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
}

const XSS: &str = "<script>alert('x')</script>";

/// The payload after `prefix` is on the page, escaped (askama writes `&#60;`, the SVG `&lt;`).
fn shows_escaped(body: &str, prefix: &str) -> bool {
    body.contains(&format!("{prefix}&#60;script&#62;"))
        || body.contains(&format!("{prefix}&lt;script&gt;"))
}

/// Instance names, tags, DNS names, route descriptions (cloud-controlled) and the NAT gateway
/// name (typed by an operator) carry markup; every page that shows them must escape it.
#[tokio::test]
async fn hostile_cloud_and_operator_strings_render_escaped_on_every_page() {
    let app = TestApp::start().await;
    app.sim.handle().with_world(|w| {
        let backend = w.instance_mut("ins-backend1").unwrap();
        backend.name = format!("backend{XSS}");
        backend.tags.push(natpilot::sim::world::Tag {
            key: "owner".into(),
            value: XSS.into(),
        });
        for table in w.route_tables.values_mut() {
            for route in &mut table.routes {
                route.description = format!("route{XSS}");
            }
        }
        for domain in w.domains.values_mut() {
            for record in &mut domain.records {
                if record.name == "www" {
                    record.name = format!("www{XSS}");
                }
            }
        }
    });
    let mut olga = app.signed_in("olga", Role::Operator).await;
    let id = start(&app, &mut olga).await;
    let assess = olga.get(&format!("/runs/{id}/step/1")).await;
    assert!(
        shows_escaped(&assess.body, "backend")
            && shows_escaped(&assess.body, "www")
            && shows_escaped(&assess.body, "owner="),
        "{}",
        assess.body
    );
    step(&app, &mut olga, &id, 1, &[]).await;
    let nat_name = format!("nat{XSS}");
    let nat = [
        ("name", nat_name.as_str()),
        ("bandwidth_mbps", "100"),
        ("max_connections", "1000000"),
        ("new_eips", "1"),
    ];
    let preview = step(&app, &mut olga, &id, 2, &nat).await;
    assert!(shows_escaped(&preview.body, "nat"), "{}", preview.body);
    let mut pages = vec![assess, preview];
    for path in [
        "/".to_string(),
        "/runs".to_string(),
        format!("/runs/{id}"),
        format!("/runs/{id}/step/1"),
        format!("/runs/{id}/step/2"),
        format!("/runs/{id}/step/3"),
        format!("/runs/{id}/topology"),
    ] {
        pages.push(olga.get(&path).await);
    }
    pages.push(
        olga.post(
            &format!("/runs/{id}/step/3/plan"),
            &[("replace_existing_default", "1")],
        )
        .await,
    );
    for page in &pages {
        assert!(
            !page.body.contains("<script>alert"),
            "unescaped markup in a page:\n{}",
            page.body
        );
    }
    // The route step shows each table's routes, hostile descriptions included.
    let route_step = &pages[pages.len() - 3];
    assert!(
        shows_escaped(&route_step.body, "route"),
        "{}",
        route_step.body
    );
    let topology = &pages[pages.len() - 2];
    assert!(
        shows_escaped(&topology.body, "backend"),
        "{}",
        topology.body
    );
}
