//! Egress (reference §5.1) as TAT `curl ifconfig.co` sees it, before and after routes change.

use natpilot::sim::{ScenarioSource, SimConfig};
use natpilot::tencent::models::vpc::*;

use crate::harness::*;
use crate::nat::{create_nat, describe_nat};

/// Adds `0.0.0.0/0 → gateway_type gateway_id` to the tutorial's default table.
pub async fn route_default_to(
    env: &Env,
    gateway_type: &str,
    gateway_id: &str,
) -> CreateRoutesResponse {
    let request = CreateRoutesRequest {
        route_table_id: "rtb-default0".into(),
        routes: vec![Route {
            destination_cidr_block: Some("0.0.0.0/0".into()),
            gateway_type: Some(gateway_type.into()),
            gateway_id: Some(gateway_id.into()),
            route_description: Some("natpilot".into()),
            ..Default::default()
        }],
    };
    env.client
        .call::<CreateRoutes>(REGION, &request)
        .await
        .unwrap()
}

async fn available_nat(env: &Env) -> (String, String) {
    let id = create_nat(env, "egress").await;
    env.step();
    let ip = describe_nat(env, &id).await.unwrap().public_ip_address_set[0]
        .public_ip_address
        .clone();
    (id, ip)
}

#[tokio::test]
async fn before_any_nat_route_instances_leave_from_their_own_public_ip_or_not_at_all() {
    let env = tutorial().await;
    assert_eq!(
        env.egress("ins-fr0ntend").await.as_deref(),
        Some("139.199.10.10")
    );
    assert_eq!(
        env.egress("ins-backend1").await.as_deref(),
        Some("119.28.20.11")
    );
    assert_eq!(env.egress("ins-worker03").await, None);
}

#[tokio::test]
async fn a_default_route_to_an_available_nat_flips_every_instance_of_the_table_at_once() {
    let env = tutorial().await;
    let (nat, nat_ip) = available_nat(&env).await;
    assert_eq!(
        env.egress("ins-fr0ntend").await.as_deref(),
        Some("139.199.10.10")
    );
    let created = route_default_to(&env, "NAT", &nat).await;
    for instance in [
        "ins-fr0ntend",
        "ins-backend1",
        "ins-worker02",
        "ins-worker03",
    ] {
        assert_eq!(
            env.egress(instance).await.as_deref(),
            Some(nat_ip.as_str()),
            "{instance}"
        );
    }
    let route = created.route_table_set[0]
        .route_set
        .iter()
        .find(|r| r.gateway_id.as_deref() == Some(nat.as_str()))
        .unwrap();
    let disable = DisableRoutesRequest {
        route_table_id: "rtb-default0".into(),
        route_item_ids: Some(vec![route.route_item_id.clone().unwrap()]),
        ..Default::default()
    };
    env.client
        .call::<DisableRoutes>(REGION, &disable)
        .await
        .unwrap();
    assert_eq!(
        env.egress("ins-backend1").await.as_deref(),
        Some("119.28.20.11")
    );
    assert_eq!(env.egress("ins-worker03").await, None);
}

#[tokio::test]
async fn an_eip_route_keeps_public_ip_holders_on_their_own_ip_and_the_rest_on_the_nat() {
    let env = tutorial().await;
    let (nat, nat_ip) = available_nat(&env).await;
    route_default_to(&env, "NAT", &nat).await;
    route_default_to(&env, "EIP", "0").await;
    assert_eq!(
        env.egress("ins-fr0ntend").await.as_deref(),
        Some("139.199.10.10")
    );
    assert_eq!(
        env.egress("ins-worker03").await.as_deref(),
        Some(nat_ip.as_str())
    );
}

#[tokio::test]
async fn a_route_to_a_nat_that_is_not_yet_available_gives_no_way_out() {
    let env = tutorial().await;
    let nat = create_nat(&env, "pending").await;
    route_default_to(&env, "NAT", &nat).await;
    assert_eq!(env.sim.egress_ip("ins-backend1"), None);
}

#[tokio::test]
async fn tat_refuses_instances_whose_agent_is_offline() {
    let env = tutorial().await;
    let request = natpilot::tencent::models::tat::RunCommandRequest {
        content: "Y3VybCBpZmNvbmZpZy5jbw==".into(),
        instance_ids: vec!["ins-legacy01".into()],
        ..Default::default()
    };
    let error = env
        .client
        .call::<natpilot::tencent::models::tat::RunCommand>(REGION, &request)
        .await
        .unwrap_err();
    assert_eq!(code(&error), "ResourceUnavailable.AgentStatusNotOnline");
}

#[tokio::test]
async fn commands_other_than_an_ip_echo_fetch_fail_with_a_clear_message() {
    let env = tutorial().await;
    let (status, exit, output) = env.run("ins-backend1", "rm -rf /tmp/x").await;
    assert_eq!((status.as_str(), exit), ("FAILED", 127));
    assert!(
        output.contains("only runs a single `curl` or `wget`"),
        "{output}"
    );
    let (_, exit, output) = env
        .run("ins-backend1", "wget -qO- https://api.ipify.org")
        .await;
    assert_eq!((exit, output.as_str()), (0, "119.28.20.11\n"));
}

#[tokio::test]
async fn an_existing_default_route_refuses_a_nat_route_as_ecmp_until_it_is_replaced() {
    let env = start(SimConfig::for_tests().with_scenario(ScenarioSource::Conflict)).await;
    assert_eq!(
        env.egress("ins-worker03").await.as_deref(),
        Some("119.28.20.1")
    );
    let (nat, nat_ip) = available_nat(&env).await;
    let request = CreateRoutesRequest {
        route_table_id: "rtb-default0".into(),
        routes: vec![Route {
            destination_cidr_block: Some("0.0.0.0/0".into()),
            gateway_type: Some("NAT".into()),
            gateway_id: Some(nat.clone()),
            ..Default::default()
        }],
    };
    let error = env
        .client
        .call::<CreateRoutes>(REGION, &request)
        .await
        .unwrap_err();
    assert_eq!(code(&error), "UnsupportedOperation.EcmpWithUserRoute");
    let existing = env
        .sim
        .with_world(|w| w.route_tables["rtb-default0"].routes[1].item_id.clone());
    let replace = ReplaceRoutesRequest {
        route_table_id: "rtb-default0".into(),
        routes: vec![Route {
            route_item_id: Some(existing),
            destination_cidr_block: Some("0.0.0.0/0".into()),
            gateway_type: Some("NAT".into()),
            gateway_id: Some(nat),
            ..Default::default()
        }],
    };
    let replaced = env
        .client
        .call::<ReplaceRoutes>(REGION, &replace)
        .await
        .unwrap();
    assert_eq!(
        replaced.old_route_set[0].gateway_type.as_deref(),
        Some("NORMAL_CVM")
    );
    assert_eq!(
        env.egress("ins-worker03").await.as_deref(),
        Some(nat_ip.as_str())
    );
}
