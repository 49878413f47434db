//! Step 4 on a large VPC after an input changed (issue 11): an exception saved moves its
//! stored row and the header's counts and plan in its own transaction, so the next view is a
//! stored read — of the same rows and header a rebuild makes; any other change has the rows
//! rebuilt outside the request, and no row is shown as current meanwhile; a refused confirm
//! (409) and a confirmed step 4 are served from the stored rows.

use natpilot::store::{EgressOutcome, EgressPhase, results};
use reqwest::StatusCode;

use crate::harness::{Page, TestApp};
use crate::verify_large::{at_verify_step, rows};
use crate::verify_step::cell;

/// The stored header: (generation, inputs version it is of, body).
async fn header(app: &TestApp, run: &str) -> (i64, i64, serde_json::Value) {
    let (generation, version, body): (i64, i64, String) = natpilot::store::sql::query_as(
        "SELECT gen, version, body FROM verify_views WHERE run_id = ?",
    )
    .bind(run)
    .fetch_one(app.store().readers())
    .await
    .unwrap();
    (generation, version, serde_json::from_str(&body).unwrap())
}

async fn inputs_version(app: &TestApp, run: &str) -> i64 {
    natpilot::store::sql::query_scalar("SELECT version FROM verify_inputs WHERE run_id = ?")
        .bind(run)
        .fetch_one(app.store().readers())
        .await
        .unwrap()
}

/// Every stored row of one generation, every column but the generation, in id order.
async fn stored_rows(app: &TestApp, run: &str, generation: i64) -> Vec<String> {
    natpilot::store::sql::query_scalar(
        "SELECT instance_id || '|' || name || '|' || public_ip || '|' || kind || '|' || \
         before_text || '|' || after_text || '|' || verdict || '|' || reason || '|' || \
         protected || '|' || actions || '|' || action || '|' || kept || '|' || exception || \
         '|' || choosable || '|' || key_public_ip || '|' || key_kind || '|' || key_verdict || \
         '|' || key_plan FROM verify_rows WHERE run_id = ? AND gen = ? ORDER BY instance_id",
    )
    .bind(run)
    .bind(generation)
    .fetch_all(app.store().readers())
    .await
    .unwrap()
}

fn digest(page: &Page) -> String {
    page.attr("#step-form input[name=plan_digest]", "value")
        .expect("a plan digest")
}

/// The number before `label` in the counts line ("1,190 EIPs to unbind (kept), …"), 0 when
/// the line leaves it out.
fn count_of(page: &Page, label: &str) -> usize {
    let counts = page.text("#verify-counts");
    counts
        .split(", ")
        .find_map(|item| {
            item.strip_suffix(label)
                .or_else(|| item.split_once(&format!(" {label}")).map(|(n, _)| n))
        })
        .map(|n| n.trim().replace(',', "").parse().expect("a count"))
        .unwrap_or(0)
}

fn exception_of(page: &Page, instance: &str) -> Option<String> {
    page.attr(
        &format!("#egress-table tr[data-instance-id={instance}]"),
        "data-exception",
    )
}

#[tokio::test]
async fn an_exception_saved_moves_its_row_and_counts_and_the_next_view_reads_them() {
    let app = TestApp::start_large(10_000).await;
    let (mut olga, id) = at_verify_step(&app).await;
    let base = format!("/runs/{id}/step/4");
    let first = app.step_4_table(&mut olga, &base).await;
    let (generation, _, _) = header(&app, &id).await;
    let set = first
        .attr("#egress-table button.keep-ip", "value")
        .expect("a row offers “Keep its IP”");
    let instance = set.split_once('=').unwrap().0.to_owned();
    let label = match cell(&first, &instance, "kind").as_str() {
        "EIP" => "EIPs to unbind (kept)",
        _ => "ordinary IPs to convert",
    };

    let done = olga
        .post(&format!("/runs/{id}/retire-exception"), &[("set", &set)])
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    // The same generation of rows, now of the inputs with the exception: nothing rebuilt.
    let (same, version, patched_body) = header(&app, &id).await;
    assert_eq!(same, generation, "the rows were rebuilt");
    assert_eq!(
        version,
        inputs_version(&app, &id).await,
        "the header is stale"
    );
    let kept = olga.get(&base).await;
    assert_eq!(kept.count("#verify-rebuilding"), 0, "{}", kept.body);
    assert_eq!(exception_of(&kept, &instance).as_deref(), Some("keep"));
    assert!(cell(&kept, &instance, "kept").contains("exception"));
    assert_eq!(count_of(&kept, "exception"), 1);
    assert_eq!(
        count_of(&kept, label) + 1,
        count_of(&first, label),
        "{label}"
    );
    assert_ne!(digest(&kept), digest(&first));
    assert_eq!(
        header(&app, &id).await.0,
        generation,
        "the view rebuilt them"
    );

    // Exactly what a rebuild stores: made stale by hand, rebuilt, compared row by row.
    let patched = stored_rows(&app, &id, generation).await;
    assert_eq!(patched.len(), 10_000);
    natpilot::store::sql::query("UPDATE verify_inputs SET version = version + 1 WHERE run_id = ?")
        .bind(&id)
        .execute(app.store().writer())
        .await
        .unwrap();
    let rebuilt_page = app.step_4_table(&mut olga, &base).await;
    let (rebuilt, _, rebuilt_body) = header(&app, &id).await;
    assert_ne!(rebuilt, generation);
    assert!(
        stored_rows(&app, &id, rebuilt).await == patched,
        "rows differ"
    );
    assert_eq!(rebuilt_body, patched_body);
    assert_eq!(digest(&rebuilt_page), digest(&kept));

    // The rule again: the first page's counts and plan, still without a rebuild.
    let set = format!("{instance}=rule");
    let done = olga
        .post(&format!("/runs/{id}/retire-exception"), &[("set", &set)])
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    let back = olga.get(&base).await;
    assert_eq!(header(&app, &id).await.0, rebuilt, "the rows were rebuilt");
    assert_eq!(exception_of(&back, &instance).as_deref(), Some(""));
    assert_eq!(back.text("#verify-counts"), first.text("#verify-counts"));
    assert_eq!(digest(&back), digest(&first));
}

/// A page after an input changed: the rebuild notice without any row, or (rebuilt in time)
/// the fresh table `fresh` accepts.
fn fresh_or_rebuilding(page: &Page, fresh: impl Fn(&Page) -> bool) {
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    if page.count("#verify-rebuilding") == 1 {
        assert!(page.text("#verify-rebuilding").contains("being rebuilt"));
        assert_eq!(page.count("#egress-table"), 0, "rows shown while rebuilt");
        // The notice asks again by itself and swaps in the table and the summary.
        assert_eq!(
            page.attr("#verify-table", "hx-trigger").as_deref(),
            Some("every 2s")
        );
        assert!(
            page.attr("#verify-table", "hx-get")
                .is_some_and(|get| get.contains("/step/4")),
            "{}",
            page.body
        );
        assert_eq!(
            page.attr("#verify-table", "hx-select-oob").as_deref(),
            Some("#verify-summary")
        );
    } else {
        assert!(fresh(page), "a stale table: {}", page.text("#egress-table"));
    }
}

#[tokio::test]
async fn after_another_input_changed_no_stale_row_is_shown_as_current() {
    let app = TestApp::start_large(10_000).await;
    let (mut olga, id) = at_verify_step(&app).await;
    let base = format!("/runs/{id}/step/4");
    let first = app.step_4_table(&mut olga, &base).await;
    let set = first
        .attr("#egress-table button.keep-ip", "value")
        .expect("a row that passed");
    let instance = set.split_once('=').unwrap().0.to_owned();
    let verdict = |p: &Page| {
        p.attr(
            &format!("#egress-table tr[data-instance-id={instance}] .verdict"),
            "data-verdict",
        )
    };
    assert_eq!(verdict(&first).as_deref(), Some("pass"));

    // A re-test written behind the page's back: it failed.
    let result = results::EgressResult {
        instance_id: instance.clone(),
        phase: EgressPhase::After,
        outcome: EgressOutcome::Ip,
        ip: Some("203.0.113.9".into()),
        detail: String::new(),
        at: chrono::Utc::now(),
    };
    let run = id.parse().unwrap();
    results::put_egress(app.store().writer(), run, &result)
        .await
        .unwrap();
    let next = olga.get(&base).await;
    fresh_or_rebuilding(&next, |p| verdict(p).as_deref() == Some("fail"));
    let retested = app.step_4_table(&mut olga, &base).await;
    assert_eq!(verdict(&retested).as_deref(), Some("fail"));
    assert_eq!(
        count_of(&retested, "failed"),
        count_of(&first, "failed") + 1
    );

    // Another rule: never the default rule's rows under it.
    let release = format!("{base}?eip=release");
    let unbinds = "#egress-table td.retire-plan[data-action=unbind]";
    let next = olga.get(&release).await;
    fresh_or_rebuilding(&next, |p| p.count(unbinds) == 0);
    let released = app.step_4_table(&mut olga, &release).await;
    assert_eq!(released.count(unbinds), 0);
    assert!(released.count("#egress-table td.retire-plan[data-action=release]") > 0);
    assert!(count_of(&released, "EIPs to release") > 0);
}

#[tokio::test]
async fn a_refused_confirm_shows_the_stored_rows_and_keeps_what_was_typed() {
    let app = TestApp::start_large(10_000).await;
    let (mut olga, id) = at_verify_step(&app).await;
    let base = format!("/runs/{id}/step/4");
    let first = app.step_4_table(&mut olga, &base).await;
    // A stored row made to say something only the stored rows say.
    let instance = rows(&first)[0].clone();
    natpilot::store::sql::query(
        "UPDATE verify_rows SET name = 'only-in-the-stored-row' WHERE instance_id = ?",
    )
    .bind(&instance)
    .execute(app.store().writer())
    .await
    .unwrap();
    // Converting every ordinary IP needs more EIP quota than the world has: refused.
    let fields = [
        ("eip_rule", "unbind"),
        ("ordinary_rule", "convert"),
        ("confirm_vpc", "vpc-typo"),
        ("plan_digest", &digest(&first)),
    ];
    let refused = olga.post(&format!("{base}/confirm"), &fields).await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.body);
    assert!(refused.text("#step-errors").contains("free EIPs of quota"));
    assert_eq!(refused.count("#plan-blocked"), 1);
    assert_eq!(rows(&refused), rows(&first));
    assert_eq!(
        cell(&refused, &instance, "instance-name"),
        "only-in-the-stored-row"
    );
    assert_eq!(refused.text("#verify-counts"), first.text("#verify-counts"));
    assert_eq!(
        refused.attr("#confirm-vpc", "value").as_deref(),
        Some("vpc-typo")
    );
    assert_eq!(refused.count("#ordinary-rule-convert[checked]"), 1);
}

#[tokio::test]
async fn the_confirmed_step_4_page_shows_the_rows_stored_for_the_plan_confirmed() {
    let app = TestApp::start_large(200).await;
    // Converting ordinary IPs to EIPs needs quota; give it room.
    app.sim.handle().with_world(|w| w.quotas.eip_total = 10_000);
    let (mut olga, id) = at_verify_step(&app).await;
    let base = format!("/runs/{id}/step/4");
    let first = app.step_4_table(&mut olga, &base).await;
    let instance = rows(&first)[0].clone();
    natpilot::store::sql::query(
        "UPDATE verify_rows SET name = 'only-in-the-stored-row' WHERE instance_id = ?",
    )
    .bind(&instance)
    .execute(app.store().writer())
    .await
    .unwrap();
    let done = olga
        .post(
            &format!("{base}/confirm"),
            &[("plan_digest", &digest(&first))],
        )
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    app.settle(&id).await;
    let confirmed = olga.get(&base).await;
    assert_eq!(confirmed.status, StatusCode::OK, "{}", confirmed.body);
    assert!(confirmed.text("#egress-check").contains("as confirmed"));
    assert_eq!(rows(&confirmed), rows(&first));
    assert_eq!(
        cell(&confirmed, &instance, "instance-name"),
        "only-in-the-stored-row"
    );
    assert_eq!(
        confirmed.text("#verify-counts"),
        first.text("#verify-counts")
    );
}
