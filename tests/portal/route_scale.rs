//! The Route step at scale and in words: on a 10,000-instance VPC the page counts per route
//! table and links to a paginated list instead of inlining the instances, and the plan stays
//! per route table; on the `conflict` scenario the refusal without consent says once which box
//! to tick, in the checkbox's own words, and the old next hop is named as its instance.

use natpilot::sim::{ScenarioSource, World};
use natpilot::store::users::Role;
use natpilot::wizard::input::{
    AssessInput, EipChoice, NewNat, ProvisionInput, RouteInput, StepInput,
};
use reqwest::StatusCode;

use crate::harness::{Browser, TestApp};
use crate::wizard::step;

/// Counts as the pages print them.
fn grouped(n: usize) -> String {
    natpilot::web::pages::numbers::grouped(n)
}

const LARGE_VPC: &str = "vpc-large000";
const INSTANCES: usize = 10_000;

/// Replaces the simulator's world with a scenario (keeping its timing behaviour).
fn load(app: &TestApp, scenario: ScenarioSource) {
    let scenario = scenario.load().unwrap();
    app.sim.handle().with_world(|w| {
        let behaviour = w.behaviour.clone();
        *w = World::from_scenario(scenario, 7).unwrap();
        w.behaviour = behaviour;
    });
}

async fn start_on(app: &TestApp, b: &mut Browser, vpc: &str) -> String {
    let page = b.get("/runs/new").await;
    let region = page
        .attr("#new-run-form input[name=region]", "value")
        .unwrap();
    let done = b
        .post("/runs", &[("region", &region), ("vpc_id", vpc)])
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

/// Steps 1 and 2 through the engine (their pages are other tests' business), as olga.
async fn through_step_2(app: &TestApp, id: &str) {
    let engine = &app.app.state.engine;
    let run = id.parse().unwrap();
    let nat = ProvisionInput::Create(NewNat {
        name: "natpilot-large".into(),
        bandwidth_mbps: 100,
        max_connections: 1_000_000,
        eips: EipChoice::New(1),
        zone: None,
    });
    for input in [
        StepInput::Assess(AssessInput::default()),
        StepInput::Provision(nat),
    ] {
        let (plan, _) = engine.preview_step(run, &input).await.unwrap();
        engine
            .confirm_previewed(run, input, &plan.digest(), "olga")
            .await
            .unwrap();
        app.settle(id).await;
    }
}

/// Instances of the large scenario behind route table `t` (subnet k % 8, table subnet % 4)
/// and, of those, the ones with their own public IP (ordinary every third, EIP every tenth).
fn expected(t: usize) -> (usize, usize) {
    let members: Vec<usize> = (0..INSTANCES).filter(|k| k % 8 % 4 == t).collect();
    let public = members
        .iter()
        .filter(|k| *k % 3 == 0 || *k % 10 == 5)
        .count();
    (members.len(), public)
}

#[tokio::test]
async fn step_3_on_10000_instances_counts_per_route_table_and_pages_whose_egress_flips() {
    let app = TestApp::start().await;
    load(
        &app,
        ScenarioSource::Large {
            instances: INSTANCES,
        },
    );
    let mut olga = app.signed_in("olga", Role::Operator).await;
    let id = start_on(&app, &mut olga, LARGE_VPC).await;
    through_step_2(&app, &id).await;

    // The plan is per route table: small whatever the VPC's size.
    let run = id.parse().unwrap();
    let route = StepInput::Route(RouteInput::default());
    let (plan, _) = app
        .app
        .state
        .engine
        .preview_step(run, &route)
        .await
        .unwrap();
    let stored = serde_json::to_vec(&plan).unwrap();
    assert!(stored.len() < 4096, "step 3 plan is {} bytes", stored.len());
    assert_eq!(plan.flip_tables.len(), 4);

    let page = olga.get(&format!("/runs/{id}/step/3")).await;
    assert_eq!(page.status, StatusCode::OK, "{}", &page.body[..2000]);
    println!(
        "step 3 page at {INSTANCES} instances: {} bytes",
        page.body.len()
    );
    assert!(page.body.len() < 150_000, "{} bytes", page.body.len());
    assert_eq!(page.text("#sum-flips"), "10,000");
    for t in 0..4 {
        let table = format!("section.route-table[data-route-table=rtb-large{t:03}]");
        let (members, _) = expected(t);
        assert_eq!(page.text(&format!("{table} .count-subnets")), "2");
        assert_eq!(
            page.text(&format!("{table} .count-instances")),
            grouped(members)
        );
        assert_eq!(
            page.text(&format!("{table} .count-flips")),
            grouped(members)
        );
        assert_eq!(page.text(&format!("{table} .count-protected")), "0");
        assert_eq!(
            page.count(&format!("{table} tr.flip")),
            10,
            "a sample, not all"
        );
        assert_eq!(
            page.attr(&format!("{table} a.flips-link"), "href"),
            Some(format!("/runs/{id}/flips?table=rtb-large{t:03}"))
        );
    }

    // The whole list, page by page (keyset on the instance id), with counts on top.
    let (members, public) = expected(1);
    let first = olga
        .get(&format!("/runs/{id}/flips?table=rtb-large001"))
        .await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    assert!(first.body.len() < 150_000);
    assert_eq!(first.text("#flips-total"), grouped(members));
    assert_eq!(first.text("#flips-public"), grouped(public));
    let ids = first.select_attrs("#flips-table tr.flip", "data-instance-id");
    assert_eq!(ids.len(), 50);
    assert!(ids.windows(2).all(|w| w[0] < w[1]));
    let next = first.attr("#flips-next", "href").expect("a next page");
    assert!(next.ends_with(&format!("after={}", ids[49])), "{next}");
    let second = olga.get(&next).await;
    let more = second.select_attrs("#flips-table tr.flip", "data-instance-id");
    assert_eq!(more.len(), 50);
    assert!(
        more[0] > ids[49],
        "no row twice: {} after {}",
        more[0],
        ids[49]
    );
    assert_eq!(second.count("#flips-first"), 1);

    // Filtered to those with their own public IP: every row has one, and it pages too.
    let filtered = olga
        .get(&format!("/runs/{id}/flips?table=rtb-large001&show=public"))
        .await;
    let ips = filtered.texts("#flips-table tr.flip td:nth-child(5)");
    assert_eq!(ips.len(), 50);
    assert!(ips.iter().all(|ip| !ip.is_empty()), "{ips:?}");
    assert!(
        filtered
            .attr("#flips-next", "href")
            .is_some_and(|h| h.contains("show=public"))
    );
    let bad = olga.get(&format!("/runs/{id}/flips?table=rtb-nope")).await;
    assert_eq!(bad.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_conflict_plan_says_once_which_box_to_tick_and_names_the_old_next_hop() {
    let app = TestApp::start().await;
    load(&app, ScenarioSource::Conflict);
    let mut olga = app.signed_in("olga", Role::Operator).await;
    let id = start_on(&app, &mut olga, "vpc-tut0rial").await;
    step(&app, &mut olga, &id, 1, &[]).await;
    let nat = [
        ("name", "egress-nat"),
        ("bandwidth_mbps", "100"),
        ("max_connections", "1000000"),
        ("new_eips", "1"),
    ];
    step(&app, &mut olga, &id, 2, &nat).await;

    let table = "section.route-table[data-route-table=rtb-default0]";
    let gateway = "ins-gateway1 egress-gateway (squid)";
    let page = olga.get(&format!("/runs/{id}/step/3")).await;
    assert!(
        page.text(&format!("{table} tr.default-route .next-hop"))
            .contains(gateway),
        "{}",
        page.text(&format!("{table} table.routes"))
    );
    let label = page.text(".consent-label");
    let ask = format!("Tick “{label}” to replace the route to CVM 10.0.0.5");
    assert_eq!(page.body.matches(&ask).count(), 1, "{}", page.text("#plan"));

    // Confirming without consent: refused, saying so once, in the label's words.
    let digest = page
        .attr("#step-form input[name=plan_digest]", "value")
        .unwrap();
    let refused = olga
        .post(
            &format!("/runs/{id}/step/3/confirm"),
            &[("plan_digest", &digest)],
        )
        .await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.body);
    assert_eq!(refused.text(".consent-label"), label);
    assert_eq!(refused.body.matches(&ask).count(), 1, "{}", refused.body);
    assert!(refused.text("#step-errors").contains(&ask));

    // With consent the old route is shown as the instance it led to.
    let preview = olga
        .post(
            &format!("/runs/{id}/step/3/plan"),
            &[("replace_existing_default", "1")],
        )
        .await;
    let old = preview.text(&format!("{table} .old-route"));
    assert!(
        old.contains("CVM 10.0.0.5") && old.contains(gateway),
        "{old}"
    );
}
