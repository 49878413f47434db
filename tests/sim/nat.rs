//! NAT gateways: asynchronous creation and deletion, quotas, tags, side effects.

use natpilot::tencent::models::vpc::*;
use natpilot::tencent::models::{Filter, Tag};

use crate::harness::*;

const VPC: &str = "vpc-tut0rial";

pub async fn create_nat(env: &Env, name: &str) -> String {
    let request = CreateNatGatewayRequest {
        nat_gateway_name: name.into(),
        vpc_id: VPC.into(),
        address_count: Some(1),
        tags: Some(vec![Tag::new("natpilot-run", name)]),
        ..Default::default()
    };
    let created = env
        .client
        .call::<CreateNatGateway>(REGION, &request)
        .await
        .unwrap();
    created.nat_gateway_set[0].nat_gateway_id.clone()
}

pub async fn describe_nat(env: &Env, id: &str) -> Option<NatGateway> {
    let request = DescribeNatGatewaysRequest {
        nat_gateway_ids: Some(vec![id.into()]),
        ..Default::default()
    };
    let answer = env
        .client
        .call::<DescribeNatGateways>(REGION, &request)
        .await
        .unwrap();
    answer.nat_gateway_set.into_iter().next()
}

#[tokio::test]
async fn a_new_nat_gateway_is_pending_until_the_async_delay_passes_then_available_with_its_eip() {
    let env = tutorial().await;
    let id = create_nat(&env, "wizard-nat").await;
    let pending = describe_nat(&env, &id).await.unwrap();
    assert_eq!(
        (pending.state.as_str(), pending.public_ip_address_set.len()),
        ("PENDING", 0)
    );
    env.step();
    let ready = describe_nat(&env, &id).await.unwrap();
    assert_eq!(
        (ready.state.as_str(), ready.public_ip_address_set.len()),
        ("AVAILABLE", 1)
    );
}

#[tokio::test]
async fn a_creation_configured_to_fail_ends_in_pendfailure_without_eips() {
    let env = tutorial().await;
    env.sim.set_nat_creation_fails(true);
    let id = create_nat(&env, "doomed").await;
    env.step();
    let failed = describe_nat(&env, &id).await.unwrap();
    assert_eq!(
        (failed.state.as_str(), failed.public_ip_address_set.len()),
        ("PENDFAILURE", 0)
    );
}

#[tokio::test]
async fn a_fourth_nat_gateway_in_one_vpc_is_refused() {
    let env = tutorial().await;
    for n in 0..3 {
        create_nat(&env, &format!("nat-{n}")).await;
    }
    let request = CreateNatGatewayRequest {
        nat_gateway_name: "one-too-many".into(),
        vpc_id: VPC.into(),
        address_count: Some(1),
        ..Default::default()
    };
    let error = env
        .client
        .call::<CreateNatGateway>(REGION, &request)
        .await
        .unwrap_err();
    assert_eq!(code(&error), "LimitExceeded.NatGatewayPerVpcLimitExceeded");
}

#[tokio::test]
async fn more_than_ten_eips_per_gateway_and_more_than_the_eip_quota_are_refused() {
    let env = tutorial().await;
    let mut request = CreateNatGatewayRequest {
        nat_gateway_name: "big".into(),
        vpc_id: VPC.into(),
        address_count: Some(11),
        ..Default::default()
    };
    let error = env
        .client
        .call::<CreateNatGateway>(REGION, &request)
        .await
        .unwrap_err();
    assert_eq!(
        code(&error),
        "LimitExceeded.PublicIpAddressPerNatGatewayLimitExceeded"
    );
    env.sim.with_world(|w| w.quotas.eip_total = 5);
    request.address_count = Some(2);
    let error = env
        .client
        .call::<CreateNatGateway>(REGION, &request)
        .await
        .unwrap_err();
    assert_eq!(code(&error), "LimitExceeded.AddressQuotaLimitExceeded");
}

#[tokio::test]
async fn gateways_can_be_found_by_their_tag() {
    let env = tutorial().await;
    let mine = create_nat(&env, "run-42").await;
    create_nat(&env, "run-43").await;
    let request = DescribeNatGatewaysRequest {
        filters: Some(vec![Filter::one("tag:natpilot-run", "run-42")]),
        ..Default::default()
    };
    let found = env
        .client
        .call::<DescribeNatGateways>(REGION, &request)
        .await
        .unwrap();
    assert_eq!(found.total_count, 1);
    assert_eq!(found.nat_gateway_set[0].nat_gateway_id, mine);
}

#[tokio::test]
async fn deleting_a_gateway_removes_its_routes_and_unbinds_but_keeps_its_eips() {
    let env = tutorial().await;
    let id = create_nat(&env, "short-lived").await;
    env.step();
    let eip = describe_nat(&env, &id).await.unwrap().public_ip_address_set[0]
        .address_id
        .clone();
    crate::egress::route_default_to(&env, "NAT", &id).await;
    env.client
        .call::<DeleteNatGateway>(
            REGION,
            &DeleteNatGatewayRequest {
                nat_gateway_id: id.clone(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(describe_nat(&env, &id).await.unwrap().state, "DELETING");
    env.step();
    assert!(describe_nat(&env, &id).await.is_none());
    let table = env
        .sim
        .with_world(|w| w.route_tables["rtb-default0"].routes.clone());
    assert!(table.iter().all(|r| r.gateway_id != id));
    let request = DescribeAddressesRequest {
        address_ids: Some(vec![eip]),
        ..Default::default()
    };
    let address = env
        .client
        .call::<DescribeAddresses>(REGION, &request)
        .await
        .unwrap();
    assert_eq!(address.address_set[0].address_status, "UNBIND");
    assert_eq!(address.address_set[0].instance_id, "");
}
