//! The Provision step page shows what it observed before asking: the EIP quota, NAT gateways
//! already in the VPC (each adoptable), unbound EIPs as choices, the 3-per-VPC limit, and a
//! proposed gateway name; the choices made there reach the plan.

use natpilot::sim::world::{Address, AddressStatus, NatGateway, NatState};
use natpilot::store::users::Role;
use reqwest::StatusCode;

use crate::harness::TestApp;
use crate::wizard::{start, step};

const SPARE_EIP: &str = "119.28.20.99";

/// A gateway somebody made by hand before natpilot, with one EIP.
fn legacy_gateway(app: &TestApp) {
    app.sim.handle().with_world(|w| {
        w.nat_gateways.insert(
            "nat-legacy01".into(),
            NatGateway {
                id: "nat-legacy01".into(),
                name: "hand-made".into(),
                vpc_id: "vpc-tut0rial".into(),
                state: NatState::Available,
                bandwidth: 100,
                max_concurrent_connection: 1_000_000,
                zone: "ap-guangzhou-3".into(),
                tags: vec![],
                created_time: "2024-01-01 00:00:00".into(),
                pending_new_eips: 0,
            },
        );
        w.insert_address(Address {
            id: "eip-legacy01".into(),
            ip: "119.28.20.77".into(),
            name: "legacy-nat-eip".into(),
            status: AddressStatus::Bind,
            instance_id: Some("nat-legacy01".into()),
            bandwidth: 10,
            charge_type: "TRAFFIC_POSTPAID_BY_HOUR".into(),
            isp: "BGP".into(),
            created_time: "2024-01-01T00:00:00Z".into(),
            busy_task: None,
        });
    });
}

#[tokio::test]
async fn step_2_shows_quota_gateways_to_adopt_unbound_eips_and_a_proposed_name() {
    let app = TestApp::start().await;
    legacy_gateway(&app);
    let mut olga = app.signed_in("olga", Role::Operator).await;
    let id = start(&app, &mut olga).await;
    step(&app, &mut olga, &id, 1, &[]).await;

    let page = olga.get(&format!("/runs/{id}/step/2")).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let quota = page.text("#eip-quota");
    assert!(quota.contains("free of 20"), "{quota}");
    assert_eq!(page.text("#nat-limit .nat-count"), "1");
    assert!(
        page.text("#nat-limit")
            .contains("of the 3 Tencent allows per VPC")
    );
    let legacy = "tr.existing-nat[data-nat-id=nat-legacy01]";
    assert!(
        page.text(legacy).contains("Adopt this one"),
        "{}",
        page.body
    );
    assert!(page.text(legacy).contains("119.28.20.77"));
    assert_eq!(page.count(&format!("{legacy} input.adopt-nat")), 1);
    assert_eq!(page.count("#create-nat[checked]"), 1);
    assert_eq!(
        page.count(&format!(
            "#reuse-eips input[type=checkbox][value=\"{SPARE_EIP}\"]"
        )),
        1
    );
    assert_eq!(
        page.attr("#nat-name", "value").as_deref(),
        Some("natpilot-vpc-tut0rial")
    );
    assert_eq!(page.count("#nat-name[required]"), 1);
    assert!(page.text("label[for=nat-name]").contains("required"));

    // Ticking the unbound EIP makes the plan use it, and the box stays ticked.
    let nat = [
        ("adopt_nat_id", ""),
        ("name", "natpilot-vpc-tut0rial"),
        ("bandwidth_mbps", "100"),
        ("max_connections", "1000000"),
        ("new_eips", "1"),
        ("existing_eips", SPARE_EIP),
    ];
    let reuse = olga.post(&format!("/runs/{id}/step/2/plan"), &nat).await;
    assert_eq!(reuse.status, StatusCode::OK, "{}", reuse.body);
    assert!(
        reuse
            .text("#plan-changes")
            .contains(&format!("existing EIPs {SPARE_EIP}")),
        "{}",
        reuse.text("#plan-changes")
    );
    assert_eq!(
        reuse.count(&format!(
            "#reuse-eips input[value=\"{SPARE_EIP}\"][checked]"
        )),
        1
    );

    // Choosing "Adopt this one" plans the adoption, and the choice stays chosen.
    let adopt = step(
        &app,
        &mut olga,
        &id,
        2,
        &[
            ("adopt_nat_id", "nat-legacy01"),
            ("name", "natpilot-vpc-tut0rial"),
        ],
    )
    .await;
    assert!(
        adopt
            .text("#plan-changes")
            .contains("Adopt the existing NAT gateway nat-legacy01")
    );
    assert_eq!(
        adopt.count(&format!("{legacy} input.adopt-nat[checked]")),
        1
    );
}
