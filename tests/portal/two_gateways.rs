//! Issue 12, a second NAT gateway when one is not enough: 12 kept egress IPs over two route
//! tables (a gateway holds 10 EIPs, one of them its own). Through the forms: step 2 previews
//! and creates two gateways, step 3 routes each table to its own and moves each kept IP onto
//! the gateway of its instance's table, step 4 passes every instance against its own gateway;
//! the export names both; rollback restores the original world. And the blocker, in numbers,
//! when even three gateways are not enough.

use std::collections::BTreeMap;

use natpilot::sim::{World, scenario::many_kept};
use natpilot::store::{self, ReportKind, users::Role};
use reqwest::StatusCode;

use crate::harness::TestApp;
use crate::wizard::{start, step};

const VPC: &str = "vpc-tut0rial";

fn load(app: &TestApp, per_table: &[usize]) {
    app.sim.handle().with_world(|w| {
        let behaviour = w.behaviour.clone();
        *w = World::from_scenario(many_kept(per_table), 7).unwrap();
        w.behaviour = behaviour;
    });
}

/// Each instance's own public IP (ordinary or a bound EIP).
fn public_ips(app: &TestApp) -> BTreeMap<String, Option<String>> {
    app.sim.handle().with_world(|w| {
        w.instances()
            .iter()
            .map(|i| {
                let eip = w
                    .addresses
                    .values()
                    .find(|a| a.instance_id.as_deref() == Some(i.id.as_str()))
                    .map(|a| a.ip.clone());
                (i.id.clone(), i.public_ip.clone().or(eip))
            })
            .collect()
    })
}

/// The table of each instance: `ins-keep0…` the tutorial's, `ins-keep1…` `rtb-keep0001`.
fn kept_ids(t: usize) -> Vec<String> {
    (1..=6).map(|k| format!("ins-keep{t}{k:02}")).collect()
}

const NAT: [(&str, &str); 4] = [
    ("name", "egress-nat"),
    ("bandwidth_mbps", "100"),
    ("max_connections", "1000000"),
    ("new_eips", "1"),
];

#[tokio::test]
async fn twelve_kept_ips_over_two_route_tables_get_two_gateways_and_roll_back() {
    let app = TestApp::start().await;
    load(&app, &[6, 6]);
    let sim = app.sim.handle();
    let routes_before = sim.with_world(|w| w.route_tables.clone());
    let ips_before = public_ips(&app);
    let egress_before: BTreeMap<String, Option<String>> = ips_before
        .keys()
        .map(|id| (id.clone(), sim.egress_ip(id)))
        .collect();
    let mut olga = app.signed_in("olga", Role::Operator).await;
    let id = start(&app, &mut olga).await;
    step(&app, &mut olga, &id, 1, &[]).await;

    // Step 2 previews both gateways, the second for the second route table.
    let preview = step(&app, &mut olga, &id, 2, &NAT).await;
    let changes = preview.texts("#plan-changes .plan-change");
    assert_eq!(changes.len(), 2, "{changes:?}");
    assert!(changes[0].starts_with("Create NAT gateway “egress-nat”"));
    assert!(
        changes[1].starts_with("Create NAT gateway “egress-nat-2”")
            && changes[1].ends_with("for route table(s) rtb-keep0001"),
        "{changes:?}"
    );
    let warnings = preview.texts(".plan-warning").join("\n");
    assert!(
        warnings.contains("keeping 12 egress IPs needs more than one NAT gateway")
            && warnings.contains("this step makes 2 gateways"),
        "{warnings}"
    );
    let nats = sim.nat_gateways(VPC);
    assert_eq!(nats.len(), 2, "two gateways: {nats:?}");
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
    // Each table routes to its own gateway; each kept instance leaves through its old IP,
    // from the gateway of its own table.
    let gateway_of_table = |table: &str| -> String {
        sim.with_world(|w| {
            w.route_tables
                .values()
                .find(|t| t.id == table)
                .and_then(|t| {
                    t.routes
                        .iter()
                        .find(|r| r.destination == "0.0.0.0/0")
                        .map(|r| r.gateway_id.clone())
                })
                .expect("a default route")
        })
    };
    let first = gateway_of_table("rtb-default0");
    let second = gateway_of_table("rtb-keep0001");
    assert_ne!(first, second);
    let eips_on = |nat: &str| {
        sim.with_world(|w| {
            w.addresses
                .values()
                .filter(|a| a.instance_id.as_deref() == Some(nat))
                .map(|a| a.ip.clone())
                .collect::<Vec<_>>()
        })
    };
    assert_eq!(eips_on(&first).len(), 7, "1 own + 6 kept");
    assert_eq!(eips_on(&second).len(), 7, "1 own + 6 kept");
    for (t, nat) in [(0, &first), (1, &second)] {
        for k in kept_ids(t) {
            let old = ips_before[&k].clone().unwrap();
            assert_eq!(sim.egress_ip(&k).as_deref(), Some(old.as_str()), "{k}");
            assert!(eips_on(nat).contains(&old), "{k}'s IP is on {nat}");
        }
    }
    // Everyone else in the tutorial's table leaves through the first gateway's own EIP.
    let own_first: Vec<String> = eips_on(&first)
        .into_iter()
        .filter(|ip| !ip.starts_with("119.28.40."))
        .collect();
    assert_eq!(own_first.len(), 1);
    assert_eq!(
        sim.egress_ip("ins-backend1").as_deref(),
        Some(own_first[0].as_str())
    );

    // Step 4 passes every kept instance against its own gateway, and the run completes.
    step(&app, &mut olga, &id, 4, &[]).await;
    let page = olga.get(&format!("/runs/{id}")).await;
    assert_eq!(page.text("#run-status"), "completed", "{}", page.body);
    let run_id = id.parse().unwrap();
    let report = store::results::get_report(app.store().readers(), run_id, ReportKind::Final)
        .await
        .unwrap()
        .expect("final report");
    let kept = report["kept_egress"].as_array().expect("kept_egress");
    assert_eq!(kept.len(), 12, "{kept:?}");
    for k in kept {
        assert_eq!(k["egress_after"], k["ip"], "{k}");
    }
    for k in kept_ids(0).into_iter().chain(kept_ids(1)) {
        assert_eq!(public_ips(&app)[&k], None, "{k} has no public IP any more");
    }

    // The export has both gateways with their import ids.
    let tf = olga.get(&format!("/runs/{id}/terraform")).await;
    assert_eq!(tf.status, StatusCode::OK);
    for want in [
        format!("to = tencentcloud_nat_gateway.natpilot\n  id = \"{first}\""),
        format!("to = tencentcloud_nat_gateway.natpilot_2\n  id = \"{second}\""),
        "nat_gateway_id = tencentcloud_nat_gateway.natpilot_2.id".to_owned(),
    ] {
        assert!(tf.body.contains(&want), "{want} in:\n{}", tf.body);
    }

    // Rollback restores the world: no gateway, the old routes, every public IP and egress.
    let rolled = olga.post(&format!("/runs/{id}/rollback"), &[]).await;
    assert_eq!(rolled.status, StatusCode::SEE_OTHER, "{}", rolled.body);
    app.settle(&id).await;
    let page = olga.get(&format!("/runs/{id}")).await;
    assert_eq!(page.text("#run-status"), "rolled back", "{}", page.body);
    assert!(sim.nat_gateways(VPC).is_empty());
    assert_eq!(sim.with_world(|w| w.route_tables.clone()), routes_before);
    assert_eq!(public_ips(&app), ips_before);
    for (id, before) in &egress_before {
        assert_eq!(&sim.egress_ip(id), before, "{id}");
    }
}

#[tokio::test]
async fn when_three_gateways_are_not_enough_step_2_says_so_in_numbers() {
    let app = TestApp::start().await;
    // 28 kept IPs over four route tables: four gateways' worth (9 kept each, one own EIP).
    load(&app, &[9, 9, 9, 1]);
    let mut olga = app.signed_in("olga", Role::Operator).await;
    let id = start(&app, &mut olga).await;
    step(&app, &mut olga, &id, 1, &[]).await;
    olga.get(&format!("/runs/{id}/step/2")).await;
    let preview = olga.post(&format!("/runs/{id}/step/2/plan"), &NAT).await;
    assert_eq!(preview.status, StatusCode::OK, "{}", preview.body);
    let blockers = preview.texts(".plan-conflict").join("\n");
    assert!(
        blockers.contains("keeping 28 egress IPs")
            && blockers.contains("needs 4 NAT gateways")
            && blockers.contains("at most 10 EIPs")
            && blockers.contains(&format!("VPC {VPC} may have 3 NAT gateways"))
            && blockers.contains("this run can use 3"),
        "{blockers}\n{}",
        preview.body
    );
    assert!(preview.count("#plan-blocked") == 1, "{}", preview.body);
    assert!(app.sim.handle().nat_gateways(VPC).is_empty());
}
