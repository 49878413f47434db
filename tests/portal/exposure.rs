//! The Assess step's exposure table: server-side sort and filters (plain links and a GET
//! form), and protect/unprotect decisions that are saved at once and show their reason.

use natpilot::store::{self, users::Role};
use reqwest::StatusCode;

use crate::harness::{Page, TestApp};
use crate::wizard::{start, step};

/// Instance ids of the table's rows, top to bottom.
fn rows(page: &Page) -> Vec<String> {
    let sel = scraper::Selector::parse("#exposure-table tbody tr[data-instance-id]").unwrap();
    page.html()
        .select(&sel)
        .map(|e| e.value().attr("data-instance-id").unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn the_exposure_table_sorts_by_a_column_in_both_directions() {
    let app = TestApp::start().await;
    let mut olga = app.signed_in("olga", Role::Operator).await;
    let id = start(&app, &mut olga).await;
    let base = format!("/runs/{id}/step/1");

    let by_id = olga.get(&base).await;
    let mut sorted = rows(&by_id);
    sorted.sort();
    assert_eq!(rows(&by_id), sorted, "instance id order by default");
    assert_eq!(
        by_id.attr("th[data-sort=instance]", "aria-sort").as_deref(),
        Some("ascending")
    );

    // The private IP heading links to the ascending sort; numeric order puts the web subnet
    // (10.0.1.x) first and 10.0.2.30 after 10.0.2.23.
    let link = by_id.attr("th[data-sort=private_ip] a", "href").unwrap();
    let asc = olga.get(&link).await;
    assert_eq!(
        rows(&asc),
        [
            "ins-fr0ntend",
            "ins-backend1",
            "ins-backend2",
            "ins-worker01",
            "ins-worker02",
            "ins-worker03",
            "ins-legacy01"
        ]
    );
    assert_eq!(
        asc.attr("th[data-sort=private_ip]", "aria-sort").as_deref(),
        Some("ascending")
    );
    assert_eq!(
        asc.attr("th[data-sort=instance]", "aria-sort").as_deref(),
        Some("none")
    );

    // The same heading now flips the direction.
    let link = asc.attr("th[data-sort=private_ip] a", "href").unwrap();
    let desc = olga.get(&link).await;
    let mut reversed = rows(&asc);
    reversed.reverse();
    assert_eq!(rows(&desc), reversed);
    assert_eq!(
        desc.attr("th[data-sort=private_ip]", "aria-sort")
            .as_deref(),
        Some("descending")
    );

    // Public IPs in numeric order, the instance without one last.
    let public = olga.get(&format!("{base}?sort=public_ip&dir=asc")).await;
    let order = rows(&public);
    assert_eq!(order.first().map(String::as_str), Some("ins-backend1"));
    assert_eq!(order.get(5).map(String::as_str), Some("ins-fr0ntend"));
    assert_eq!(order.last().map(String::as_str), Some("ins-worker03"));
}

#[tokio::test]
async fn the_exposure_table_filters_by_text_ip_kind_protection_and_agent() {
    let app = TestApp::start().await;
    let mut olga = app.signed_in("olga", Role::Operator).await;
    let id = start(&app, &mut olga).await;
    let get = |q: &str| format!("/runs/{id}/step/1?{q}");

    let workers = olga.get(&get("q=WORKER")).await;
    assert_eq!(
        rows(&workers),
        ["ins-worker01", "ins-worker02", "ins-worker03"]
    );
    assert_eq!(
        workers.attr("#filter-q", "value").as_deref(),
        Some("WORKER")
    );
    assert!(workers.text("#exposure-count").contains("3 of 7"));

    let by_dns = olga.get(&get("q=natpilot-tutorial.com")).await;
    assert_eq!(rows(&by_dns), ["ins-fr0ntend"]);

    let eips = olga.get(&get("kind=eip")).await;
    assert_eq!(
        rows(&eips),
        ["ins-backend2", "ins-fr0ntend", "ins-worker02"]
    );
    assert_eq!(
        eips.attr("#filter-kind option[selected]", "value")
            .as_deref(),
        Some("eip")
    );
    let ordinary = olga.get(&get("kind=ordinary")).await;
    assert_eq!(
        rows(&ordinary),
        ["ins-backend1", "ins-legacy01", "ins-worker01"]
    );
    assert_eq!(rows(&olga.get(&get("kind=none")).await), ["ins-worker03"]);
    assert_eq!(rows(&olga.get(&get("kind=public")).await).len(), 6);

    assert_eq!(
        rows(&olga.get(&get("protected=yes")).await),
        ["ins-fr0ntend"]
    );
    assert_eq!(rows(&olga.get(&get("protected=no")).await).len(), 6);
    assert_eq!(
        rows(&olga.get(&get("agent=offline")).await),
        ["ins-legacy01"]
    );

    // Filters combine, and sort links keep them.
    let both = olga.get(&get("kind=ordinary&agent=online")).await;
    assert_eq!(rows(&both), ["ins-backend1", "ins-worker01"]);
    let link = both.attr("th[data-sort=public_ip] a", "href").unwrap();
    assert!(link.contains("kind=ordinary") && link.contains("agent=online"));
    // "Clear filters" keeps the sort as it is.
    let sorted = olga.get(&get("kind=eip&sort=private_ip&dir=desc")).await;
    let clear = sorted.attr("#clear-filter", "href").unwrap();
    assert_eq!(clear, format!("/runs/{id}/step/1?sort=private_ip&dir=desc"));
    let none = olga.get(&get("q=no-such-host")).await;
    assert!(rows(&none).is_empty());
    assert!(
        none.text("#exposure-table tbody")
            .contains("No instance matches")
    );
}

#[tokio::test]
async fn protecting_a_host_is_saved_at_once_shows_the_reason_and_keeps_the_view() {
    let app = TestApp::start().await;
    let mut olga = app.signed_in("olga", Role::Operator).await;
    let id = start(&app, &mut olga).await;
    let view = olga
        .get(&format!(
            "/runs/{id}/step/1?sort=private_ip&dir=desc&kind=ordinary"
        ))
        .await;
    assert_eq!(
        view.count("#row-ins-fr0ntend"),
        0,
        "the filter hides the frontend"
    );
    let done = olga
        .post(
            &format!("/runs/{id}/protection"),
            &[
                ("instance_id", "ins-backend1"),
                ("protect", "1"),
                ("back", "?sort=private_ip&dir=desc&kind=ordinary"),
            ],
        )
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert_eq!(
        done.location().as_deref(),
        Some(
            format!("/runs/{id}/step/1?sort=private_ip&dir=desc&kind=ordinary#row-ins-backend1")
                .as_str()
        )
    );
    let back = olga.get(&done.location().unwrap()).await;
    // A protection swaps the form, and with it the plan's count: the plan is in the form,
    // right above the confirm button.
    let oob = back
        .attr("#exposure-section", "hx-select-oob")
        .unwrap_or_default();
    assert_eq!(oob, "#step-form");
    assert_eq!(back.count("#step-form #plan #plan-protection"), 1);
    assert_eq!(
        back.count("#step-form #preview-plan"),
        0,
        "nothing to preview"
    );
    assert_eq!(back.count("#step-form #confirm-step:not([disabled])"), 1);
    assert_eq!(back.text("#row-ins-backend1 .protected-state"), "protected");
    assert_eq!(back.text("#row-ins-backend1 .reason"), "chosen by olga");
    assert_eq!(back.count("#row-ins-backend1 button.unprotect"), 1);

    // The DNS-suggested frontend shows why, and can be unprotected.
    let all = olga.get(&format!("/runs/{id}/step/1")).await;
    assert_eq!(
        all.text("#row-ins-fr0ntend .reason"),
        "DNS records point at its public IP"
    );
    olga.post(
        &format!("/runs/{id}/protection"),
        &[("instance_id", "ins-fr0ntend"), ("protect", "0")],
    )
    .await;
    let all = olga.get(&format!("/runs/{id}/step/1?protected=yes")).await;
    assert_eq!(rows(&all), ["ins-backend1"]);

    // Confirming the step records exactly these decisions.
    step(&app, &mut olga, &id, 1, &[]).await;
    let hosts = store::results::list_protected(app.store().readers(), id.parse().unwrap())
        .await
        .unwrap();
    let protected: Vec<&str> = hosts
        .iter()
        .filter(|h| h.protected)
        .map(|h| h.instance_id.as_str())
        .collect();
    assert_eq!(protected, ["ins-backend1"]);
    assert!(
        hosts
            .iter()
            .any(|h| h.instance_id == "ins-fr0ntend" && !h.protected)
    );
}

#[tokio::test]
async fn protecting_an_instance_outside_the_vpc_or_someone_elses_run_is_refused() {
    let app = TestApp::start().await;
    let mut olga = app.signed_in("olga", Role::Operator).await;
    let id = start(&app, &mut olga).await;
    olga.get(&format!("/runs/{id}/step/1")).await;
    let bad = olga
        .post(
            &format!("/runs/{id}/protection"),
            &[("instance_id", "ins-elsewhere"), ("protect", "1")],
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(
        bad.body.contains("ins-elsewhere is not an instance"),
        "{}",
        bad.body
    );

    let mut ivan = app.signed_in("ivan", Role::Operator).await;
    let page = ivan.get(&format!("/runs/{id}/step/1")).await;
    assert_eq!(page.count(".protect-form"), 0);
    let refused = ivan
        .post(
            &format!("/runs/{id}/protection"),
            &[("instance_id", "ins-backend1"), ("protect", "1")],
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn tags_show_next_to_the_instance_and_the_protection_tag_as_the_reason() {
    let app = TestApp::start().await;
    app.sim.handle().with_world(|w| {
        let worker = w.instance_mut("ins-worker01").unwrap();
        for (key, value) in [("natpilot:protected", "true"), ("owner", "team-batch")] {
            worker.tags.push(natpilot::sim::world::Tag {
                key: key.into(),
                value: value.into(),
            });
        }
    });
    let mut olga = app.signed_in("olga", Role::Operator).await;
    let id = start(&app, &mut olga).await;
    let page = olga.get(&format!("/runs/{id}/step/1")).await;
    assert_eq!(page.texts("#row-ins-worker01 .tag"), ["owner=team-batch"]);
    assert_eq!(page.text("#row-ins-worker01 .protected-state"), "protected");
    assert_eq!(
        page.text("#row-ins-worker01 .reason"),
        "tagged natpilot:protected=true"
    );
    let tagged = olga.get(&format!("/runs/{id}/step/1?q=team-batch")).await;
    assert_eq!(rows(&tagged), ["ins-worker01"]);
}
