//! The Verify & retire step page: egress before/after per instance with pass/fail against
//! the NAT's EIPs, the retire plan by rule with per-instance exceptions, and the typed VPC id
//! that irreversible choices need.

use natpilot::store::users::Role;
use reqwest::StatusCode;

use crate::harness::{Browser, Page, TestApp};
use crate::wizard::{start, step};

const VPC: &str = "vpc-tut0rial";

/// A run through steps 1–3 (the after-route egress check done), waiting at step 4.
pub(crate) async fn at_verify_step(app: &TestApp) -> (Browser, String) {
    let mut olga = app.signed_in("olga", Role::Operator).await;
    let id = start(app, &mut olga).await;
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

pub(crate) fn cell(page: &Page, instance: &str, class: &str) -> String {
    page.text(&format!(
        "#egress-table tr[data-instance-id={instance}] .{class}"
    ))
}

#[tokio::test]
async fn the_verify_step_shows_egress_before_and_after_with_pass_fail_and_why_untested() {
    let app = TestApp::start().await;
    let (mut olga, id) = at_verify_step(&app).await;
    let page = olga.get(&format!("/runs/{id}/step/4")).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let nat_ip = page.text("#nat-ips .mono");
    assert!(nat_ip.parse::<std::net::Ipv4Addr>().is_ok(), "{nat_ip}");

    assert_eq!(cell(&page, "ins-backend1", "egress-before"), "119.28.20.11");
    assert_eq!(cell(&page, "ins-backend1", "egress-after"), nat_ip);
    assert_eq!(
        page.attr(
            "#egress-table tr[data-instance-id=ins-backend1] .verdict",
            "data-verdict"
        )
        .as_deref(),
        Some("pass")
    );
    // The offline agent cannot be tested; the page says why, and the IP stays.
    assert_eq!(
        page.attr(
            "#egress-table tr[data-instance-id=ins-legacy01] .verdict",
            "data-verdict"
        )
        .as_deref(),
        Some("untestable")
    );
    assert!(!cell(&page, "ins-legacy01", "verdict .reason").is_empty());
    assert!(cell(&page, "ins-legacy01", "kept").contains("could not be tested"));
    // The protected frontend passes too (the route beats its EIP) but keeps its address.
    assert!(cell(&page, "ins-fr0ntend", "kept").contains("protected"));
    // The default plan is the reversible one.
    assert!(
        cell(&page, "ins-backend1", "retire-action").contains("Convert the public IP 119.28.20.11")
    );
    assert!(cell(&page, "ins-backend2", "retire-action").contains("Unbind EIP 119.28.20.12"));
    assert_eq!(page.count("#egress-table .retire-action .badge.danger"), 0);
    // Each instance that may lose its IP offers an exception; no per-row form fields.
    assert_eq!(page.count("#egress-table button.keep-ip"), 4);
    assert_eq!(
        page.count("#egress-table select, #egress-table input[type=radio]"),
        0
    );
    // Words: a conversion is one change, and kept EIPs are named as kept and idle-charged.
    assert_eq!(
        page.texts("#egress-table tr[data-instance-id=ins-backend1] .retire-action")
            .len(),
        1
    );
    assert!(cell(&page, "ins-backend1", "retire-action").contains("to an EIP (kept, unbound)"));
    assert!(cell(&page, "ins-backend2", "retire-action").contains("(kept, unbound)"));
    assert!(page.text("#plan").contains("charges for idle EIPs"));
    assert!(!page.body.contains("retire (reversible)"));
}

#[tokio::test]
async fn per_instance_exceptions_shape_the_plan_and_irreversible_ones_need_the_vpc_id_typed() {
    let app = TestApp::start().await;
    let (mut olga, id) = at_verify_step(&app).await;
    olga.get(&format!("/runs/{id}/step/4")).await;
    for set in ["ins-backend2=irreversible", "ins-worker01=keep"] {
        let done = olga
            .post(&format!("/runs/{id}/retire-exception"), &[("set", set)])
            .await;
        assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    }
    let preview = olga.post(&format!("/runs/{id}/step/4/plan"), &[]).await;
    assert_eq!(preview.status, StatusCode::OK, "{}", preview.body);
    assert!(cell(&preview, "ins-backend2", "retire-plan").contains("Release EIP 119.28.20.12"));
    assert_eq!(
        preview
            .count("#egress-table tr[data-instance-id=ins-backend2] .retire-action .badge.danger"),
        1
    );
    assert!(cell(&preview, "ins-worker01", "kept").contains("exception"));
    assert_eq!(
        preview
            .attr(
                "#egress-table tr[data-instance-id=ins-worker01]",
                "data-exception"
            )
            .as_deref(),
        Some("keep")
    );
    assert_eq!(preview.count("#plan-blocked"), 1, "{}", preview.body);
    // Blocked only until the VPC id is typed: confirm stays on.
    assert_eq!(preview.count("#confirm-step[disabled]"), 0);
    let choices: [(&str, &str); 0] = [];

    // Irreversible without the VPC id typed, or with a wrong one: refused, nothing changes.
    let confirm = format!("/runs/{id}/step/4/confirm");
    let digest = preview
        .attr("#step-form input[name=plan_digest]", "value")
        .unwrap();
    let mut choices = choices.to_vec();
    choices.push(("plan_digest", &digest));
    let refused = olga.post(&confirm, &choices).await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.body);
    assert!(refused.text("#step-errors").contains("cannot be undone"));
    assert!(!refused.text("#step-errors").contains("irreversible:"));
    assert_eq!(
        refused.count("#plan"),
        1,
        "the refusal shows the plan again"
    );
    let mut wrong = choices.to_vec();
    wrong.push(("confirm_vpc", "vpc-someother"));
    assert_eq!(
        olga.post(&confirm, &wrong).await.status,
        StatusCode::CONFLICT
    );
    assert!(
        app.sim
            .handle()
            .with_world(|w| w.addresses.contains_key("eip-backend2"))
    );

    let mut typed = choices.to_vec();
    typed.push(("confirm_vpc", VPC));
    let done = olga.post(&confirm, &typed).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    app.settle(&id).await;
    let (released, worker_ip) = app.sim.handle().with_world(|w| {
        (
            !w.addresses.contains_key("eip-backend2"),
            w.instance_mut("ins-worker01").unwrap().public_ip.clone(),
        )
    });
    assert!(released, "the chosen EIP was released");
    assert_eq!(worker_ip.as_deref(), Some("119.28.20.21"), "kept for now");
    let after = olga.get(&format!("/runs/{id}/step/4")).await;
    assert!(after.text("#egress-check").contains("as confirmed"));
    // The run page's undo table does not offer "undo ready" for the unbind of the EIP that
    // was released: binding it back cannot run.
    let run = olga.get(&format!("/runs/{id}")).await;
    let rows = run.texts("#undo tbody tr");
    let unbind = rows
        .iter()
        .find(|r| r.contains("Bind 119.28.20.12 to ins-backend2 again"))
        .unwrap_or_else(|| panic!("{rows:#?}"));
    assert!(
        unbind.contains("cannot be undone: the EIP was released") && !unbind.contains("undo ready"),
        "{unbind}"
    );
    // Nor for the conversion of an ordinary IP, whose undo says it cannot be undone.
    let converted = rows
        .iter()
        .find(|r| r.contains("119.28.20.11 of ins-backend1 stays an EIP"))
        .unwrap_or_else(|| panic!("{rows:#?}"));
    assert!(
        converted.ends_with("change made — cannot be undone"),
        "{converted}"
    );
    // The route's undo still is ready.
    assert!(
        rows.iter()
            .any(|r| r.contains("Delete the route") && r.ends_with("change made — undo ready")),
        "{rows:#?}"
    );
}

#[tokio::test]
async fn an_exception_edited_before_previewing_keeps_the_rule_chosen_in_the_form() {
    let app = TestApp::start().await;
    let (mut olga, id) = at_verify_step(&app).await;
    let page = olga.get(&format!("/runs/{id}/step/4")).await;
    // The row buttons submit the step form, so the rules chosen there travel with them.
    let buttons = page.count("#egress-table button.keep-ip");
    assert!(buttons > 0);
    assert_eq!(
        page.select_attrs("#egress-table button.keep-ip", "form"),
        vec!["step-form".to_owned(); buttons]
    );
    assert_eq!(page.count("input[name=back][form=step-form]"), 1);
    // The operator picks "release" for EIPs but has not previewed (the page's view has no
    // rule), then makes an exception: the rule must come back with the page.
    let done = olga
        .post(
            &format!("/runs/{id}/retire-exception"),
            &[
                ("set", "ins-worker01=keep"),
                ("back", ""),
                ("eip_rule", "release"),
                ("ordinary_rule", "convert"),
                ("confirm_vpc", ""),
            ],
        )
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    let to = done.location().unwrap();
    assert!(to.contains("eip=release"), "{to}");
    let back = olga.get(&to).await;
    assert_eq!(back.count("#eip-rule-release[checked]"), 1);
    assert!(cell(&back, "ins-worker01", "kept").contains("exception"));
    // A rule that is not one of the choices is dropped, not carried into the link.
    let odd = olga
        .post(
            &format!("/runs/{id}/retire-exception"),
            &[("set", "ins-worker01=rule"), ("eip_rule", "<script>")],
        )
        .await;
    assert!(!odd.location().unwrap().contains("script"));
}

#[tokio::test]
async fn an_exception_edit_keeps_the_typed_vpc_id_and_never_carries_a_wrong_one() {
    let app = TestApp::start().await;
    let (mut olga, id) = at_verify_step(&app).await;
    olga.get(&format!("/runs/{id}/step/4")).await;
    // Found walking the wizard: "release" chosen and the VPC id typed, then a click on a
    // row's exception came back with the typed id gone, and the plan refused the release.
    let edit = |typed: &'static str| {
        [
            ("set", "ins-worker01=keep"),
            ("back", ""),
            ("eip_rule", "release"),
            ("ordinary_rule", "convert"),
            ("confirm_vpc", typed),
        ]
    };
    let done = olga
        .post(&format!("/runs/{id}/retire-exception"), &edit(VPC))
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    let back = olga.get(&done.location().unwrap()).await;
    assert_eq!(back.attr("#confirm-vpc", "value").as_deref(), Some(VPC));
    assert_eq!(back.count("#eip-rule-release[checked]"), 1);
    // The plan shown is the irreversible one the operator asked for, not refused for want
    // of the typed id; paging and sorting keep the typed id too.
    assert!(
        cell(&back, "ins-backend2", "retire-plan").contains("Release"),
        "{}",
        back.text("#egress-table")
    );
    let sort = back
        .attr("#egress-table th a.sort", "href")
        .unwrap_or_default();
    assert!(sort.contains(&format!("vpc={VPC}")), "{sort}");
    assert!(
        back.attr("input[name=back][form=step-form]", "value")
            .is_some_and(|v| v.contains(&format!("vpc={VPC}")))
    );

    // A wrong id is not carried back: the redirect is built from known values only.
    let done = olga
        .post(
            &format!("/runs/{id}/retire-exception"),
            &edit("vpc-someother"),
        )
        .await;
    let to = done.location().unwrap();
    assert!(!to.contains("someother") && !to.contains("vpc="), "{to}");
    // Nor one put in a link by hand.
    let forged = olga
        .get(&format!("/runs/{id}/step/4?eip=release&vpc=vpc-someother"))
        .await;
    assert_eq!(forged.attr("#confirm-vpc", "value").as_deref(), Some(""));
}
