//! Step 1 on a 10,000-instance `large` VPC: the first page stays small, the counts at the top
//! match the world, and pages (next, previous, last) and filters walk the whole table.

use std::time::Instant;

use natpilot::sim::{scenario::ScenarioSource, world::World};
use natpilot::store::users::Role;

use crate::harness::{Browser, Page, TestApp};

pub const LARGE_VPC: &str = "vpc-large000";

/// Replaces the simulated world with the `large` scenario of `n` instances, changed by `edit`.
pub fn large_world(
    app: &TestApp,
    n: usize,
    edit: impl FnOnce(&mut natpilot::sim::scenario::Scenario),
) {
    let mut scenario = ScenarioSource::Large { instances: n }.load().unwrap();
    edit(&mut scenario);
    app.sim.handle().with_world(|w| {
        let mut world = World::from_scenario(scenario, 7).unwrap();
        world.behaviour = w.behaviour.clone();
        *w = world;
    });
}

/// Starts a run on the large VPC and waits for its assessment.
pub async fn start_large(app: &TestApp, b: &mut Browser) -> String {
    let page = b.get("/runs/new").await;
    let region = page
        .attr("#new-run-form input[name=region]", "value")
        .unwrap();
    let done = b
        .post("/runs", &[("region", &region), ("vpc_id", LARGE_VPC)])
        .await;
    let id = done
        .location()
        .unwrap_or_else(|| panic!("no run started: {}", done.body))
        .trim_start_matches("/runs/")
        .to_owned();
    app.settle(&id).await;
    id
}

pub fn rows(page: &Page) -> Vec<String> {
    page.select_attrs(
        "#exposure-table tbody tr[data-instance-id]",
        "data-instance-id",
    )
}

/// A count from the summary at the top (`data-count`), without separators.
pub fn count(page: &Page, what: &str) -> i64 {
    let text = page.text(&format!("#exposure-counts [data-count={what}]"));
    let digits: String = text
        .split_whitespace()
        .next()
        .unwrap_or("")
        .chars()
        .filter(char::is_ascii_digit)
        .collect();
    digits
        .parse()
        .unwrap_or_else(|_| panic!("count {what}: {text:?}"))
}

fn matching(page: &Page) -> i64 {
    page.attr("#exposure-count", "data-matching")
        .unwrap()
        .parse()
        .unwrap()
}

#[tokio::test]
async fn ten_thousand_instances_page_filter_and_count_like_the_world() {
    let app = TestApp::start().await;
    large_world(&app, 10_000, |_| {});
    let world = app.sim.handle().with_world(|w| w.to_scenario());
    let eips = world
        .addresses
        .iter()
        .filter(|a| a.instance_id.is_some())
        .count() as i64;
    let ordinary = world
        .instances
        .iter()
        .filter(|i| i.public_ip.is_some())
        .count() as i64;
    let offline = world
        .instances
        .iter()
        .filter(|i| i.agent == natpilot::sim::world::AgentState::Offline)
        .count() as i64;
    let mut olga = app.signed_in("olga", Role::Operator).await;
    let id = start_large(&app, &mut olga).await;
    let base = format!("/runs/{id}/step/1");

    let started = Instant::now();
    let first = olga.get(&base).await;
    let took = started.elapsed();
    println!(
        "step 1 first page at 10,000 instances: {} bytes, {} ms (after the assessment is stored)",
        first.body.len(),
        took.as_millis()
    );
    assert!(first.body.len() < 150_000, "{} bytes", first.body.len());
    // The page opens with the summary and the one next action.
    assert_eq!(first.text("#confirm-step"), "Confirm and go to step 2");
    assert!(first.text("#step1-next").contains("opens step 2"));
    assert_eq!(count(&first, "instances"), 10_000);
    assert_eq!(count(&first, "eip"), eips);
    assert_eq!(count(&first, "ordinary"), ordinary);
    assert_eq!(count(&first, "none"), 10_000 - eips - ordinary);
    assert_eq!(count(&first, "agent_offline"), offline);
    assert_eq!(count(&first, "untestable"), offline);
    assert_eq!(
        count(&first, "egress_own"),
        eips + ordinary - offline_exposed(&world)
    );

    // Next, previous and last pages by keyset cursor, in instance id order.
    let page1 = rows(&first);
    assert_eq!(page1.len(), 50);
    assert_eq!(page1[0], "ins-00000000");
    let next = olga.get(&first.attr("#page-next", "href").unwrap()).await;
    let page2 = rows(&next);
    assert_eq!(page2.len(), 50);
    assert_eq!(page2[0], "ins-00000032", "page 2 starts right after page 1");
    assert_eq!(first.text("#exposure-range"), "rows 1–50 of 10,000");
    assert_eq!(next.text("#exposure-range"), "rows 51–100 of 10,000");
    let back = olga.get(&next.attr("#page-prev", "href").unwrap()).await;
    assert_eq!(rows(&back), page1);
    let last = olga.get(&first.attr("#page-last", "href").unwrap()).await;
    let tail = rows(&last);
    assert_eq!(tail.len(), 50);
    assert_eq!(tail.last().map(String::as_str), Some("ins-0000270f"));
    assert_eq!(last.count("#page-next"), 0);
    assert_eq!(last.count("#page-first"), 1);
    assert_eq!(last.text("#exposure-range"), "rows 9,951–10,000 of 10,000");

    // Sorted by private IP descending, pages continue the order.
    let desc = olga.get(&format!("{base}?sort=private_ip&dir=desc")).await;
    let ips = desc.texts("#exposure-table tbody .private-ip");
    let more = olga.get(&desc.attr("#page-next", "href").unwrap()).await;
    let more_ips = more.texts("#exposure-table tbody .private-ip");
    assert_eq!(more.text("#exposure-range"), "rows 51–100 of 10,000");
    let key = |s: &String| u32::from(s.parse::<std::net::Ipv4Addr>().unwrap());
    let all: Vec<u32> = ips.iter().chain(&more_ips).map(key).collect();
    assert!(
        all.windows(2).all(|w| w[0] >= w[1]),
        "descending over two pages"
    );

    // Filters count over every page; the rows shown all match.
    let only_eip = olga.get(&format!("{base}?kind=eip")).await;
    assert_eq!(matching(&only_eip), eips);
    let eip_next = olga
        .get(&only_eip.attr("#page-next", "href").unwrap())
        .await;
    assert_eq!(
        eip_next.text("#exposure-range"),
        format!(
            "rows 51–100 of {}",
            natpilot::web::pages::numbers::grouped(eips as usize)
        )
    );
    assert!(
        only_eip
            .texts("#exposure-table tbody .kind")
            .iter()
            .all(|k| k == "EIP")
    );
    let offline_page = olga.get(&format!("{base}?agent=offline")).await;
    assert_eq!(matching(&offline_page), offline);
    assert!(
        offline_page
            .texts("#exposure-table tbody .egress")
            .iter()
            .all(|e| e == "not tested: its TAT agent is offline")
    );
    let one = olga.get(&format!("{base}?q=node-9999")).await;
    assert_eq!(rows(&one), ["ins-0000270f"]);
    assert_eq!(
        one.count("#exposure-pages"),
        0,
        "one page needs no page links"
    );
}

/// Exposed instances whose agent is offline (their egress was not tested).
fn offline_exposed(world: &natpilot::sim::scenario::Scenario) -> i64 {
    world
        .instances
        .iter()
        .filter(|i| i.agent == natpilot::sim::world::AgentState::Offline)
        .filter(|i| {
            i.public_ip.is_some()
                || world
                    .addresses
                    .iter()
                    .any(|a| a.instance_id.as_deref() == Some(i.id.as_str()))
        })
        .count() as i64
}
