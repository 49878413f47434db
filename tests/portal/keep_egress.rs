//! Issue 12 on step 1's page: instances keep their egress IP from the table, by rule and by
//! tag; the conflict scenario's shared proxy IP is found and named with its count, and kept
//! with one click; every mark is audited; bad input is refused with the reason.

use natpilot::sim::{ScenarioSource, world::World};
use natpilot::store::users::Role;
use reqwest::StatusCode;

use crate::harness::{Browser, TestApp};
use crate::wizard::start;

/// Saves one keep-egress mark (or its removal) and expects the redirect back to step 1.
async fn mark(olga: &mut Browser, id: &str, form: &[(&str, &str)]) {
    let done = olga.post(&format!("/runs/{id}/keep-egress"), form).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
}

fn load_conflict(app: &TestApp) {
    let scenario = ScenarioSource::Conflict.load().unwrap();
    app.sim.handle().with_world(|w| {
        let behaviour = w.behaviour.clone();
        *w = World::from_scenario(scenario, 7).unwrap();
        w.behaviour = behaviour;
    });
}

#[tokio::test]
async fn instances_keep_their_egress_ip_from_the_table_and_by_rule_and_it_is_audited() {
    let app = TestApp::start().await;
    let mut olga = app.signed_in("olga", Role::Operator).await;
    let id = start(&app, &mut olga).await;
    let base = format!("/runs/{id}/step/1");
    let fresh = olga.get(&base).await;
    assert_eq!(fresh.count("#keep-list .keep-mark"), 0);
    assert_eq!(fresh.count("#row-ins-worker01 .keeps-egress"), 0);
    // Offered where there is an egress IP to keep, or one the test could not see (agent
    // offline); not for a host whose baseline test found no way out at all.
    assert_eq!(fresh.count("#row-ins-worker01 button.keep"), 1);
    assert_eq!(fresh.count("#row-ins-legacy01 button.keep"), 1);
    assert_eq!(fresh.count("#row-ins-worker03 button.keep"), 0);

    mark(
        &mut olga,
        &id,
        &[
            ("kind", "instance"),
            ("value", "ins-worker01"),
            ("keep", "1"),
        ],
    )
    .await;
    mark(
        &mut olga,
        &id,
        &[
            ("kind", "rule"),
            ("keep_rule_kind", "name"),
            ("keep_rule_value", "worker-2*"),
            ("keep", "1"),
        ],
    )
    .await;
    let page = olga.get(&base).await;
    assert_eq!(
        page.texts("#keep-list .keep-mark")
            .iter()
            .map(|t| t.split("Stop keeping").next().unwrap().trim().to_owned())
            .collect::<Vec<_>>(),
        [
            "Instance ins-worker01",
            "Every instance that is name matches worker-2*"
        ]
    );
    assert!(
        page.text("#row-ins-worker01 .keeps-egress")
            .contains("marked by the operator")
    );
    assert!(
        page.text("#row-ins-worker02 .keeps-egress")
            .contains("worker-2*")
    );
    assert_eq!(page.count("#row-ins-backend1 .keeps-egress"), 0);

    assert_eq!(app.audited("run.keep_egress").await.len(), 2);

    // A rule that cannot be parsed is refused with the reason and what was typed.
    let bad = olga
        .post(
            &format!("/runs/{id}/keep-egress"),
            &[
                ("kind", "rule"),
                ("keep_rule_kind", "subnet"),
                ("keep_rule_value", "vpc-123"),
                ("keep", "1"),
            ],
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        bad.text("#step-errors").contains("subnet-1a2b3c4d"),
        "{}",
        bad.text("#step-errors")
    );
    assert_eq!(
        bad.attr("#keep-rule-value", "value").as_deref(),
        Some("vpc-123")
    );

    // Stopping removes the mark.
    mark(
        &mut olga,
        &id,
        &[
            ("kind", "instance"),
            ("value", "ins-worker01"),
            ("keep", "0"),
        ],
    )
    .await;
    let page = olga.get(&base).await;
    assert_eq!(page.count("#row-ins-worker01 .keeps-egress"), 0);
}

#[tokio::test]
async fn step_1_names_the_shared_proxy_ip_with_its_count_and_keeps_it_on_request() {
    let app = TestApp::start().await;
    load_conflict(&app);
    let mut olga = app.signed_in("olga", Role::Operator).await;
    let id = start(&app, &mut olga).await;
    let base = format!("/runs/{id}/step/1");
    let page = olga.get(&base).await;
    let shared = page.text("#shared-egress li[data-ip='119.28.20.1']");
    let n = page
        .attr("#shared-egress li[data-ip='119.28.20.1']", "data-instances")
        .unwrap();
    assert!(
        shared.contains(&format!("{n} instances leave through 119.28.20.1 today")),
        "{shared}"
    );
    assert!(n.parse::<usize>().unwrap() >= 2);
    assert!(shared.contains("ins-gateway1"), "{shared}");
    mark(
        &mut olga,
        &id,
        &[
            ("kind", "shared_ip"),
            ("value", "119.28.20.1"),
            ("keep", "1"),
        ],
    )
    .await;
    let page = olga.get(&base).await;
    assert!(
        page.text("#shared-egress li[data-ip='119.28.20.1']")
            .contains("kept as the NAT gateway's egress")
    );
}

/// The table's rows on a page, in order.
fn row_ids(page: &crate::harness::Page) -> Vec<String> {
    let sel = scraper::Selector::parse("#exposure-table tbody tr[data-instance-id]").unwrap();
    page.html()
        .select(&sel)
        .map(|e| e.value().attr("data-instance-id").unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn the_table_filters_and_counts_what_keeps_its_egress_ip_from_the_first_view_on() {
    let app = TestApp::start().await;
    // Tagged before the assessment: kept from the first view, nobody having edited a mark.
    app.sim.handle().with_world(|w| {
        let w2 = w.instance_mut("ins-worker02").unwrap();
        w2.tags.push(natpilot::sim::world::Tag {
            key: "natpilot:keep-egress-ip".into(),
            value: "true".into(),
        });
    });
    let mut olga = app.signed_in("olga", Role::Operator).await;
    let id = start(&app, &mut olga).await;
    let base = format!("/runs/{id}/step/1");
    let all = olga.get(&base).await;
    let total = all.attr("#exposure-count", "data-matching").unwrap();
    assert_eq!(all.attr("#keep-count", "data-keeps").as_deref(), Some("1"));
    let kept = olga.get(&format!("{base}?keeps=yes")).await;
    assert_eq!(row_ids(&kept), ["ins-worker02"]);
    assert!(
        kept.text("#row-ins-worker02 .keeps-egress")
            .contains("tagged natpilot:keep-egress-ip=true")
    );
    assert!(
        kept.text("#exposure-count")
            .contains(&format!("1 of {total} instances match")),
        "{}",
        kept.text("#exposure-count")
    );
    assert_eq!(
        kept.attr("#filter-keeps option[selected]", "value")
            .as_deref(),
        Some("yes")
    );

    // A mark moves rows into the filter at once, and out again.
    mark(
        &mut olga,
        &id,
        &[
            ("kind", "rule"),
            ("keep_rule_kind", "name"),
            ("keep_rule_value", "worker-*"),
            ("keep", "1"),
        ],
    )
    .await;
    let kept = olga.get(&format!("{base}?keeps=yes")).await;
    let workers: Vec<String> = row_ids(&all)
        .into_iter()
        .filter(|id| id.starts_with("ins-worker"))
        .collect();
    assert!(workers.len() >= 2, "{workers:?}");
    assert_eq!(row_ids(&kept), workers);
    let others = olga.get(&format!("{base}?keeps=no")).await;
    assert!(
        row_ids(&others)
            .iter()
            .all(|id| !id.starts_with("ins-worker"))
    );
    assert_eq!(
        row_ids(&others).len() + workers.len(),
        total.parse::<usize>().unwrap()
    );
    let rule = r#"{"by":"name","pattern":"worker-*"}"#;
    mark(
        &mut olga,
        &id,
        &[("kind", "rule"), ("value", rule), ("keep", "0")],
    )
    .await;
    let kept = olga.get(&format!("{base}?keeps=yes")).await;
    assert_eq!(row_ids(&kept), ["ins-worker02"]);
}

#[tokio::test]
async fn keeping_a_shared_egress_ip_keeps_every_instance_that_leaves_through_it() {
    let app = TestApp::start().await;
    load_conflict(&app);
    let mut olga = app.signed_in("olga", Role::Operator).await;
    let id = start(&app, &mut olga).await;
    let base = format!("/runs/{id}/step/1");
    let page = olga.get(&base).await;
    let n: usize = page
        .attr("#shared-egress li[data-ip='119.28.20.1']", "data-instances")
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(page.attr("#keep-count", "data-keeps").as_deref(), Some("0"));
    mark(
        &mut olga,
        &id,
        &[
            ("kind", "shared_ip"),
            ("value", "119.28.20.1"),
            ("keep", "1"),
        ],
    )
    .await;
    let page = olga.get(&base).await;
    assert_eq!(page.attr("#keep-count", "data-keeps"), Some(n.to_string()));
    let kept = olga.get(&format!("{base}?keeps=yes")).await;
    assert_eq!(row_ids(&kept).len(), n);
    for id in row_ids(&kept) {
        let why = kept.text(&format!("#row-{id} .keeps-egress"));
        assert!(
            why.contains("119.28.20.1") || why.contains("marked") || why.contains("tagged"),
            "{id}: {why}"
        );
    }
}
