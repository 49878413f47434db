//! Step 4 at scale, on the simulator's `large` world: the table pages, filters and counts
//! over 10,000 instances; the confirm form stays a few fields; a blocked plan cannot be
//! confirmed (button off, server refusal shown as the page with the reason in words); and a
//! rule with two exceptions is applied exactly as planned.

use std::collections::BTreeSet;

use natpilot::store::users::Role;
use reqwest::StatusCode;

use crate::harness::{Browser, Page, TestApp};
use crate::wizard::step;

const LARGE_VPC: &str = "vpc-large000";

/// A run on the large VPC through steps 1–3, waiting at step 4.
pub(crate) async fn at_verify_step(app: &TestApp) -> (Browser, String) {
    let mut olga = app.signed_in("olga", Role::Operator).await;
    let page = olga.get("/runs/new").await;
    let region = page
        .attr("#new-run-form input[name=region]", "value")
        .unwrap();
    let done = olga
        .post("/runs", &[("region", &region), ("vpc_id", LARGE_VPC)])
        .await;
    let id = done
        .location()
        .expect("starting a run redirects to it")
        .trim_start_matches("/runs/")
        .to_owned();
    app.settle(&id).await;
    step(app, &mut olga, &id, 1, &[]).await;
    let nat = [
        ("name", "egress-nat"),
        ("bandwidth_mbps", "100"),
        ("max_connections", "1000000"),
        ("new_eips", "1"),
    ];
    step(app, &mut olga, &id, 2, &nat).await;
    step(app, &mut olga, &id, 3, &[]).await;
    (olga, id)
}

/// What the world says the step 4 counts must be: (EIPs of online instances, ordinary IPs of
/// online instances, instances whose agent is not online).
fn world_counts(app: &TestApp) -> (usize, usize, usize) {
    app.sim.handle().with_world(|w| {
        let with_eip: BTreeSet<String> = w
            .addresses
            .values()
            .filter_map(|a| a.instance_id.clone())
            .collect();
        let (mut eips, mut ordinary, mut offline) = (0, 0, 0);
        for i in w.instances().iter().filter(|i| i.vpc_id == LARGE_VPC) {
            if format!("{:?}", i.agent) != "Online" {
                offline += 1;
            } else if with_eip.contains(&i.id) {
                eips += 1;
            } else if i.public_ip.is_some() {
                ordinary += 1;
            }
        }
        (eips, ordinary, offline)
    })
}

fn thousands(n: usize) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

pub(crate) fn rows(page: &Page) -> Vec<String> {
    page.select_attrs("#egress-table tbody tr", "data-instance-id")
}

/// The fields a browser would send with the step form's confirm button: every named input
/// (checked ones only for radios and checkboxes), as `application/x-www-form-urlencoded`.
fn confirm_body(page: &Page) -> String {
    let html = page.html();
    let inputs =
        scraper::Selector::parse("#step-form input[name], #step-form select[name]").unwrap();
    let mut pairs: Vec<(String, String)> = Vec::new();
    for el in html.select(&inputs) {
        let v = el.value();
        let name = v.attr("name").unwrap().to_owned();
        let checkable = matches!(v.attr("type"), Some("radio" | "checkbox"));
        if checkable && v.attr("checked").is_none() {
            continue;
        }
        pairs.push((name, v.attr("value").unwrap_or_default().to_owned()));
    }
    serde_urlencoded::to_string(pairs).unwrap()
}

#[tokio::test]
async fn step_4_on_10000_instances_pages_filters_counts_and_refuses_a_blocked_plan() {
    let app = TestApp::start_large(10_000).await;
    let (mut olga, id) = at_verify_step(&app).await;
    let (eips, ordinary, offline) = world_counts(&app);
    let base = format!("/runs/{id}/step/4");

    // The first page is small and opens with the counts over the whole VPC.
    let first = app.step_4_table(&mut olga, &base).await;
    assert_eq!(first.status, StatusCode::OK);
    assert!(
        first.body.len() < 150_000,
        "first page is {} bytes",
        first.body.len()
    );
    let counts = first.text("#verify-counts");
    for expected in [
        format!("{} EIPs to unbind (kept)", thousands(eips)),
        format!("{} ordinary IPs to convert", thousands(ordinary)),
        format!("{} untestable", thousands(offline)),
    ] {
        assert!(counts.contains(&expected), "{expected} in {counts}");
    }
    assert_eq!(rows(&first).len(), 50);

    // Pages follow each other: the next page has other rows.
    let next = first.attr("#next-page", "href").expect("a next page");
    let second = olga.get(&next).await;
    let (a, b): (BTreeSet<String>, BTreeSet<String>) = (
        rows(&first).into_iter().collect(),
        rows(&second).into_iter().collect(),
    );
    assert_eq!(b.len(), 50);
    assert!(a.is_disjoint(&b), "page 2 repeats rows of page 1");
    assert_eq!(second.count("#first-page"), 1);

    // Filters select what the world says; the last page ends.
    let untestable = olga
        .get(&format!(
            "{base}?verdict=untestable&sort=public_ip&dir=desc"
        ))
        .await;
    assert!(
        untestable
            .text("#verify-range")
            .contains(&format!("of {} matching", offline)),
        "{}",
        untestable.text("#verify-range")
    );
    let mut seen: Vec<String> = rows(&untestable);
    let mut page = untestable;
    while let Some(next) = page.attr("#next-page", "href") {
        page = olga.get(&next).await;
        seen.extend(rows(&page));
    }
    assert_eq!(seen.len(), offline, "every untestable instance, once");
    assert_eq!(seen.iter().collect::<BTreeSet<_>>().len(), offline);
    assert_eq!(
        page.count("#egress-table td.verdict[data-verdict=untestable]"),
        rows(&page).len()
    );
    let eip_rows = olga.get(&format!("{base}?kind=eip&verdict=pass")).await;
    assert!(
        eip_rows
            .text("#verify-range")
            .contains(&format!("of {eips} matching"))
    );
    let text = olga.get(&format!("{base}?q=node-4242")).await;
    assert!(
        rows(&text).contains(&"ins-00001092".to_owned()),
        "{:?}",
        rows(&text)
    );

    // Converting every ordinary IP needs more EIP quota than the world has: blocked, with
    // what to do, at the top and before the table; the confirm button is off.
    let blockers = first.text("#summary-blockers");
    assert!(
        blockers.contains(&format!(
            "keeping {} ordinary public IPs as EIPs",
            thousands(ordinary)
        )),
        "{blockers}"
    );
    assert!(blockers.contains("return them instead"), "{blockers}");
    assert!(!blockers.contains("eip_quota"), "{blockers}");
    let plan_at = first.body.find("id=\"plan-blocked\"").unwrap();
    assert!(plan_at < first.body.find("id=\"egress-table\"").unwrap());
    assert_eq!(first.count("#confirm-step[disabled]"), 1);

    // The confirm form is a few fields whatever the VPC size.
    let body = confirm_body(&first);
    // Figures for the report (no timed assertion).
    eprintln!(
        "step 4 at 10,000 instances: first page {} bytes, confirm body {} bytes",
        first.body.len(),
        body.len()
    );
    assert!(
        body.len() < 8 * 1024,
        "confirm body is {} bytes",
        body.len()
    );

    // Forcing the confirm anyway: refused, the page again with its plan, table and choices,
    // and the reason in words; nothing changed in the cloud.
    let digest = first
        .attr("#step-form input[name=plan_digest]", "value")
        .unwrap();
    let forced = olga
        .post(
            &format!("{base}/confirm"),
            &[
                ("eip_rule", "unbind"),
                ("ordinary_rule", "convert"),
                ("plan_digest", &digest),
            ],
        )
        .await;
    assert_eq!(forced.status, StatusCode::CONFLICT, "{}", forced.body);
    let errors = forced.text("#step-errors");
    assert!(errors.contains("free EIPs of quota"), "{errors}");
    assert!(!errors.contains("eip_quota"), "{errors}");
    assert_eq!(forced.count("#plan-blocked"), 1);
    assert_eq!(rows(&forced).len(), 50);
    assert_eq!(forced.count("#ordinary-rule-convert[checked]"), 1);
    assert_eq!(world_counts(&app), (eips, ordinary, offline));
}

#[tokio::test]
async fn a_rule_with_two_exceptions_is_applied_exactly_as_planned() {
    let app = TestApp::start_large(200).await;
    // Converting ordinary IPs to EIPs needs quota; give it room.
    app.sim.handle().with_world(|w| w.quotas.eip_total = 10_000);
    let (mut olga, id) = at_verify_step(&app).await;
    let base = format!("/runs/{id}/step/4");
    // ins-00000005 holds an EIP, ins-00000003 an ordinary IP, ins-00000000 an ordinary IP.
    let (eip_kept, returned, converted) = ("ins-00000005", "ins-00000003", "ins-00000000");
    olga.get(&base).await;

    // Rule: release EIPs (irreversible); exceptions: one EIP kept as it is, one ordinary IP
    // returned. Each exception is recorded at once and the view keeps the rule.
    for set in [
        format!("{eip_kept}=keep"),
        format!("{returned}=irreversible"),
    ] {
        let done = olga
            .post(
                &format!("/runs/{id}/retire-exception"),
                &[("set", &set), ("back", "?eip=release")],
            )
            .await;
        assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
        assert!(done.location().unwrap().contains("eip=release"));
    }
    let page = app
        .step_4_table(&mut olga, &format!("{base}?eip=release&exception=yes"))
        .await;
    assert_eq!(
        rows(&page).into_iter().collect::<BTreeSet<_>>(),
        [eip_kept.to_owned(), returned.to_owned()].into()
    );
    assert_eq!(page.count("#eip-rule-release[checked]"), 1);
    let row = |p: &Page, i: &str, class: &str| {
        p.text(&format!("#egress-table tr[data-instance-id={i}] .{class}"))
    };
    assert!(row(&page, eip_kept, "kept").contains("exception"));
    assert!(row(&page, returned, "retire-plan").contains("Return the public IP"));
    let audited = app.audited("run.retire_exception").await;
    assert_eq!(audited.len(), 2);

    // Irreversible choices need the VPC id typed; then the plan is confirmed as shown.
    let fields = [("eip_rule", "release"), ("ordinary_rule", "convert")];
    let preview = olga.post(&format!("{base}/plan"), &fields).await;
    assert_eq!(preview.count("#confirm-step[disabled]"), 0);
    let summary = preview.text("#plan-summary");
    assert!(summary.contains("EIPs to release"), "{summary}");
    assert!(summary.contains("1 ordinary IP to return"), "{summary}");
    let digest = preview
        .attr("#step-form input[name=plan_digest]", "value")
        .unwrap();
    let mut confirm = fields.to_vec();
    confirm.push(("plan_digest", &digest));
    let refused = olga.post(&format!("{base}/confirm"), &confirm).await;
    assert_eq!(refused.status, StatusCode::CONFLICT);
    assert!(refused.text("#step-errors").contains("type the VPC id"));
    confirm.push(("confirm_vpc", LARGE_VPC));
    let done = olga.post(&format!("{base}/confirm"), &confirm).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    app.settle(&id).await;

    let (kept_ip, returned_ip, converted_now) = app.sim.handle().with_world(|w| {
        let bound = |i: &str| {
            w.addresses
                .values()
                .any(|a| a.instance_id.as_deref() == Some(i))
        };
        (
            bound(eip_kept),
            w.instances()
                .iter()
                .find(|i| i.id == returned)
                .unwrap()
                .public_ip
                .clone(),
            w.addresses
                .values()
                .any(|a| a.instance_id.is_none() && a.ip.starts_with("101.")),
        )
    });
    assert!(kept_ip, "{eip_kept}: kept its EIP (exception)");
    assert_eq!(
        returned_ip, None,
        "{returned}: ordinary IP returned (exception)"
    );
    assert!(
        converted_now,
        "ordinary IPs converted and kept unbound (rule)"
    );
    let other_eips_released = app.sim.handle().with_world(|w| {
        // Instances 15 and 25 (ids in hex) held EIPs too.
        !w.addresses.contains_key("eip-0000000f") && !w.addresses.contains_key("eip-00000019")
    });
    assert!(other_eips_released, "the rule released the other EIPs");
    let converted_ip = app.sim.handle().with_world(|w| {
        w.instances()
            .iter()
            .find(|i| i.id == converted)
            .unwrap()
            .public_ip
            .clone()
    });
    assert_eq!(
        converted_ip, None,
        "{converted}: its IP was converted and unbound"
    );
}
