//! Step 3 at scale (issue 11): a repeat view of the open Route step shows the preview stored
//! by the view before (no re-planning of the whole VPC), and a change of what the plan is made
//! from — a protection, a keep-egress mark — makes the next view plan afresh and show the
//! current plan. A stored preview that does not decode is planned afresh, and the page says so.

use natpilot::store::users::Role;
use reqwest::StatusCode;

use crate::harness::{Browser, Page, TestApp};
use crate::wizard::{start, step};

const NAT: [(&str, &str); 4] = [
    ("name", "egress-nat"),
    ("bandwidth_mbps", "100"),
    ("max_connections", "1000000"),
    ("new_eips", "1"),
];

const TABLE: &str = "section.route-table[data-route-table=rtb-default0]";

/// A run through steps 1 and 2, waiting at step 3.
async fn at_route_step(app: &TestApp) -> (Browser, String) {
    let mut olga = app.signed_in("olga", Role::Operator).await;
    let id = start(app, &mut olga).await;
    step(app, &mut olga, &id, 1, &[]).await;
    step(app, &mut olga, &id, 2, &NAT).await;
    (olga, id)
}

async fn view(olga: &mut Browser, id: &str) -> Page {
    let page = olga.get(&format!("/runs/{id}/step/3")).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    page
}

/// Rewrites the stored view's body.
async fn rewrite_stored(app: &TestApp, id: &str, body: impl FnOnce(String) -> String) {
    let stored: String =
        natpilot::store::sql::query_scalar("SELECT body FROM route_views WHERE run_id = ?")
            .bind(id)
            .fetch_one(app.store().readers())
            .await
            .expect("the view before stored the preview");
    natpilot::store::sql::query("UPDATE route_views SET body = ? WHERE run_id = ?")
        .bind(body(stored))
        .bind(id)
        .execute(app.store().writer())
        .await
        .unwrap();
}

/// Marks the stored view as ours: a subnet renamed in it, which no fresh plan shows.
async fn mark_stored(app: &TestApp, id: &str) {
    rewrite_stored(app, id, |b| {
        assert!(b.contains("\"subnet-app00001\""), "{b}");
        b.replace("\"subnet-app00001\"", "\"subnet-st0red01\"")
    })
    .await;
}

fn digest(page: &Page) -> String {
    page.attr("#step-form input[name=plan_digest]", "value")
        .expect("the page shows a plan")
}

fn subnets(page: &Page) -> Vec<String> {
    let mut subnets = page.texts(&format!("{TABLE} table.subnets tbody td:first-child"));
    subnets.sort();
    subnets
}

#[tokio::test]
async fn the_route_step_shows_its_stored_preview_until_a_protection_or_keep_mark_changes() {
    let app = TestApp::start().await;
    let (mut olga, id) = at_route_step(&app).await;
    let first = view(&mut olga, &id).await;
    assert_eq!(subnets(&first), ["subnet-app00001", "subnet-web00001"]);
    assert_eq!(first.count(&format!("{TABLE} tr.protected-flip")), 1);
    let planned = digest(&first);

    // The next view shows what the first stored, not a plan of its own.
    mark_stored(&app, &id).await;
    let stored = view(&mut olga, &id).await;
    assert_eq!(subnets(&stored), ["subnet-st0red01", "subnet-web00001"]);
    assert_eq!(digest(&stored), planned);
    assert_eq!(stored.count("#step-notice"), 0);

    // A protection changes what the plan and its breakdown are made from: planned afresh.
    let unprotected = stored
        .html()
        .select(
            &scraper::Selector::parse(&format!("{TABLE} tr.flip:not(.protected-flip)")).unwrap(),
        )
        .next()
        .and_then(|e| e.value().attr("data-instance-id"))
        .expect("an unprotected instance whose egress flips")
        .to_owned();
    let run = id.parse().unwrap();
    app.app
        .state
        .engine
        .set_protected(run, &unprotected, true, "olga")
        .await
        .unwrap();
    let protected = view(&mut olga, &id).await;
    assert_eq!(subnets(&protected), ["subnet-app00001", "subnet-web00001"]);
    assert_eq!(protected.count(&format!("{TABLE} tr.protected-flip")), 2);
    assert_eq!(
        protected.count(&format!(
            "{TABLE} tr.protected-flip[data-instance-id={unprotected}]"
        )),
        1
    );

    // So does a keep-egress mark, whoever writes it (step 1 confirmed none: step 3 now refuses
    // to keep an egress IP nobody confirmed).
    mark_stored(&app, &id).await;
    assert_eq!(subnets(&view(&mut olga, &id).await)[0], "subnet-st0red01");
    natpilot::store::sql::query(
        "INSERT INTO keep_egress_marks (run_id, kind, value, marked_by, at) \
         VALUES (?, 'instance', 'ins-worker01', 'olga', 0)",
    )
    .bind(&id)
    .execute(app.store().writer())
    .await
    .unwrap();
    let marked = view(&mut olga, &id).await;
    assert_eq!(subnets(&marked), ["subnet-app00001", "subnet-web00001"]);
    assert!(
        marked.text("#plan").contains("ins-worker01"),
        "the plan names the unconfirmed mark: {}",
        marked.text("#plan")
    );
    assert_ne!(digest(&marked), planned);
}

#[tokio::test]
async fn a_stored_route_preview_that_does_not_decode_is_planned_afresh_and_said() {
    let app = TestApp::start().await;
    let (mut olga, id) = at_route_step(&app).await;
    let first = view(&mut olga, &id).await;
    rewrite_stored(&app, &id, |_| "{\"damaged\": true}".to_owned()).await;
    let page = view(&mut olga, &id).await;
    assert!(
        page.text("#step-notice").contains("could not be read"),
        "{}",
        page.body
    );
    assert_eq!(subnets(&page), ["subnet-app00001", "subnet-web00001"]);
    assert_eq!(digest(&page), digest(&first));
    // Planned afresh and stored again: the next view reads it without a notice.
    let again = view(&mut olga, &id).await;
    assert_eq!(again.count("#step-notice"), 0);
    assert_eq!(digest(&again), digest(&first));
}
