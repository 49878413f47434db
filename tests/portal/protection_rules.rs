//! Step 1's protection rules on a `large` VPC: by tag, subnet and name pattern, each shown with
//! how many instances it matches; an exception unprotects one host of a rule; bad rules are
//! refused with the reason and what was typed; and the protected set is what step 4 keeps.

use natpilot::sim::world::Tag;
use natpilot::store::users::Role;
use natpilot::wizard::input::{StepInput, VerifyInput};
use reqwest::StatusCode;

use crate::exposure_scale::{count, large_world, rows, start_large};
use crate::harness::{Browser, Page};
use crate::wizard::step;

/// The rule list's (text, matches) pairs.
fn rules(page: &Page) -> Vec<(String, i64)> {
    let texts = page.texts("#rule-list .rule-text");
    let matches = page.select_attrs("#rule-list .rule-matches", "data-matches");
    texts
        .into_iter()
        .zip(matches.iter().map(|m| m.parse().unwrap()))
        .collect()
}

async fn add(b: &mut Browser, id: &str, kind: &str, value: &str) -> Page {
    b.get(&format!("/runs/{id}/step/1")).await;
    b.post(
        &format!("/runs/{id}/protection/rules"),
        &[("rule_kind", kind), ("rule_value", value)],
    )
    .await
}

#[tokio::test]
async fn rules_protect_what_they_match_exceptions_win_and_step_4_keeps_them() {
    let app = crate::harness::TestApp::start().await;
    // 400 instances over 8 subnets; every 50th is tagged team=payments.
    large_world(&app, 400, |s| {
        for (k, i) in s.instances.iter_mut().enumerate() {
            if k % 50 == 0 {
                i.tags.push(Tag {
                    key: "team".into(),
                    value: "payments".into(),
                });
            }
        }
    });
    let mut olga = app.signed_in("olga", Role::Operator).await;
    let id = start_large(&app, &mut olga).await;
    let base = format!("/runs/{id}/step/1");
    let fresh = olga.get(&base).await;
    // The default rules (today's suggestions) match nothing in this VPC.
    assert_eq!(
        rules(&fresh),
        [
            (
                "By DNS: instances whose public IP backs a DNS record".to_owned(),
                0
            ),
            ("By tag: natpilot:protected=true".to_owned(), 0)
        ]
    );
    assert_eq!(count(&fresh, "protected"), 0);

    for (kind, value) in [
        ("tag", "team=payments"),
        ("subnet", "subnet-large003"),
        ("name", "node-1?"),
    ] {
        let done = add(&mut olga, &id, kind, value).await;
        assert_eq!(done.status, StatusCode::SEE_OTHER, "{kind}: {}", done.body);
    }
    let page = olga.get(&base).await;
    assert_eq!(
        rules(&page)[2..],
        [
            ("By tag: team=payments".to_owned(), 8),
            ("By subnet: subnet-large003".to_owned(), 50),
            ("By name pattern: node-1?".to_owned(), 10),
        ]
    );
    // Each rule is in the timeline as a sentence.
    let timeline = olga.get(&format!("/runs/{id}/timeline")).await.body;
    for said in [
        "olga protected every instance tagged team=payments",
        "olga protected every instance in subnet subnet-large003",
        "olga protected every instance whose name matches node-1?",
    ] {
        assert!(timeline.contains(said), "{said} not in the timeline");
    }
    assert!(!timeline.contains("that is name"), "{timeline}");
    // node-11 and node-19 are in subnet 3 too: 8 + 50 + 10 - 2.
    assert_eq!(count(&page, "protected"), 66);
    let protected = olga.get(&format!("{base}?protected=yes&q=node-1")).await;
    assert!(rows(&protected).contains(&"ins-0000000a".to_owned()));
    let tagged = olga.get(&format!("{base}?q=ins-00000096")).await;
    assert_eq!(
        tagged.text("#row-ins-00000096 .reason"),
        "tagged team=payments"
    );

    // An exception: one host of the tag rule is not protected.
    let done = olga
        .post(
            &format!("/runs/{id}/protection"),
            &[("instance_id", "ins-00000000"), ("protect", "0")],
        )
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER);
    let page = olga.get(&format!("{base}?q=ins-00000000")).await;
    assert_eq!(count(&page, "protected"), 65);
    assert_eq!(count(&page, "exceptions"), 1);
    assert_eq!(
        page.text("#row-ins-00000000 .reason"),
        "not protected, decided by olga"
    );

    // Removing the name rule unprotects the 8 it alone protected.
    let remove = page
        .select_attrs(".remove-rule-form", "action")
        .into_iter()
        .nth(4)
        .unwrap();
    let done = olga.post(&remove, &[]).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    let page = olga.get(&base).await;
    assert_eq!(count(&page, "protected"), 57);
    assert_eq!(rules(&page).len(), 4);
    assert_eq!(app.audited("run.protection_rule_add").await.len(), 3);
    assert_eq!(app.audited("run.protection_rule_remove").await.len(), 1);

    // Confirming leads where the page says: step 2. The protected set reaches step 4.
    step(&app, &mut olga, &id, 1, &[]).await;
    let nat = [
        ("name", "egress-nat"),
        ("bandwidth_mbps", "100"),
        ("max_connections", "1000000"),
        ("new_eips", "1"),
    ];
    step(&app, &mut olga, &id, 2, &nat).await;
    step(&app, &mut olga, &id, 3, &[]).await;
    let input = StepInput::Verify(VerifyInput::default());
    let (plan, _) = app
        .app
        .state
        .engine
        .preview_step(id.parse().unwrap(), &input)
        .await
        .unwrap();
    let kept: Vec<&str> = plan.kept.iter().map(|k| k.instance_id.as_str()).collect();
    // ins-00000096 (node-150, tagged, ordinary IP) and ins-0000000b (node-11, subnet 3, EIP... or
    // not): every protected exposed host is kept; the exception is retired like any other.
    assert!(kept.contains(&"ins-00000096"), "{kept:?}");
    assert!(
        !kept.contains(&"ins-00000000"),
        "the exception is retired: {kept:?}"
    );
    let retired = serde_json::to_string(&plan.items).unwrap();
    assert!(retired.contains("ins-00000000"));
    assert!(!retired.contains("ins-00000096"));
}

#[tokio::test]
async fn a_bad_rule_is_refused_with_the_reason_and_keeps_what_was_typed() {
    let app = crate::harness::TestApp::start().await;
    large_world(&app, 40, |_| {});
    let mut olga = app.signed_in("olga", Role::Operator).await;
    let id = start_large(&app, &mut olga).await;

    let empty = add(&mut olga, &id, "name", "  ").await;
    assert_eq!(empty.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        empty.text("#step-errors").contains("type a name pattern"),
        "{}",
        empty.text("#step-errors")
    );
    assert_eq!(
        empty
            .attr("#rule-kind option[selected]", "value")
            .as_deref(),
        Some("name")
    );

    let bad = add(&mut olga, &id, "subnet", "subnet_large!").await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        bad.text("#step-errors")
            .contains("looks like subnet-1a2b3c4d")
    );
    assert_eq!(
        bad.attr("#rule-value", "value").as_deref(),
        Some("subnet_large!")
    );
    assert_eq!(
        bad.attr("#rule-kind option[selected]", "value").as_deref(),
        Some("subnet")
    );

    let elsewhere = add(&mut olga, &id, "subnet", "subnet-nothere1").await;
    assert_eq!(elsewhere.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        elsewhere
            .text("#step-errors")
            .contains("no instance of this VPC is in subnet-nothere1")
    );
    let tag = add(&mut olga, &id, "tag", "team").await;
    assert!(tag.text("#step-errors").contains("key=value"));
    // Nothing was added.
    let page = olga.get(&format!("/runs/{id}/step/1")).await;
    assert_eq!(rules(&page).len(), 2);
}

#[tokio::test]
async fn a_run_assessed_before_stored_rows_gets_them_from_its_report_with_its_protections() {
    let app = crate::harness::TestApp::start().await;
    let mut olga = app.signed_in("olga", Role::Operator).await;
    let id = crate::wizard::start(&app, &mut olga).await;
    // What a database written by the previous version holds: the report, no rows; the
    // migration gave the run the two rules the suggestions were.
    natpilot::store::sql::query("DELETE FROM exposure_rows WHERE run_id = ?")
        .bind(&id)
        .execute(app.store().writer())
        .await
        .unwrap();
    let page = olga.get(&format!("/runs/{id}/step/1")).await;
    assert_eq!(count(&page, "instances"), 7, "{}", page.body);
    assert_eq!(page.text("#row-ins-fr0ntend .protected-state"), "protected");
    assert_eq!(
        page.text("#row-ins-fr0ntend .reason"),
        "DNS records point at its public IP"
    );
}
