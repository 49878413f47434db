//! SNAT rules and ENIs (issue 12, item 5): a rule pins an instance (or a subnet) to EIPs of
//! the gateway, egress follows it, and the documented refusals hold.

use natpilot::tencent::models::Filter;
use natpilot::tencent::models::vpc::*;

use crate::egress::route_default_to;
use crate::harness::*;
use crate::nat::{create_nat, describe_nat};

/// An AVAILABLE gateway with two EIPs (ids in order), routed as the tutorial's default.
async fn routed_nat_with_two_eips(env: &Env) -> (String, Vec<String>) {
    let nat = create_nat(env, "snat").await;
    env.step();
    env.client
        .call::<AssociateNatGatewayAddress>(
            REGION,
            &AssociateNatGatewayAddressRequest {
                nat_gateway_id: nat.clone(),
                address_count: Some(1),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    route_default_to(env, "NAT", &nat).await;
    let ips = describe_nat(env, &nat)
        .await
        .unwrap()
        .public_ip_address_set
        .into_iter()
        .map(|a| a.public_ip_address)
        .collect();
    (nat, ips)
}

fn instance_rule(instance: &str, private_ip: &str, eip: &str, description: &str) -> SnatRuleInput {
    SnatRuleInput {
        resource_id: instance.into(),
        resource_type: "NETWORKINTERFACE".into(),
        private_ip_address: private_ip.into(),
        public_ip_addresses: vec![eip.into()],
        description: description.into(),
        ..Default::default()
    }
}

async fn create(env: &Env, nat: &str, rules: Vec<SnatRuleInput>) -> Result<(), String> {
    env.client
        .call::<CreateNatGatewaySourceIpTranslationNatRule>(
            REGION,
            &CreateSnatRulesRequest {
                nat_gateway_id: nat.into(),
                source_ip_translation_nat_rules: rules,
            },
        )
        .await
        .map(|_| ())
        .map_err(|e| code(&e))
}

async fn rules(env: &Env, nat: &str, filters: Vec<Filter>) -> Vec<SourceIpTranslationNatRule> {
    env.client
        .call::<DescribeNatGatewaySourceIpTranslationNatRules>(
            REGION,
            &DescribeSnatRulesRequest {
                nat_gateway_id: nat.into(),
                filters: (!filters.is_empty()).then_some(filters),
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .source_ip_translation_nat_rule_set
}

#[tokio::test]
async fn an_instance_rule_pins_its_egress_to_one_eip_and_is_found_by_its_description() {
    let env = tutorial().await;
    let (nat, ips) = routed_nat_with_two_eips(&env).await;
    assert_eq!(ips.len(), 2);
    // Without a rule, each instance leaves through one of the two (by affinity).
    let before = env.egress("ins-worker01").await.unwrap();
    let pinned = ips.iter().find(|ip| **ip != before).unwrap().clone();
    create(
        &env,
        &nat,
        vec![instance_rule(
            "ins-worker01",
            "10.0.2.21",
            &pinned,
            "natpilot run r1: worker-1",
        )],
    )
    .await
    .unwrap();
    assert_eq!(
        env.egress("ins-worker01").await.as_deref(),
        Some(pinned.as_str())
    );
    // Creating answers no id: the rule is found again by its description.
    let found = rules(
        &env,
        &nat,
        vec![Filter::new("description", ["natpilot run r1: worker-1"])],
    )
    .await;
    assert_eq!(found.len(), 1);
    assert!(found[0].nat_gateway_snat_id.starts_with("snat-"));
    assert_eq!(found[0].public_ip_addresses, vec![pinned.clone()]);
    // DescribeNatGateways carries the rules too.
    let gateway = describe_nat(&env, &nat).await.unwrap();
    assert_eq!(gateway.source_ip_translation_nat_rule_set, found);
    // Modify moves it to the other EIP; delete returns it to the whole pool.
    let id = found[0].nat_gateway_snat_id.clone();
    let mut moved = instance_rule("ins-worker01", "10.0.2.21", &before, "moved");
    moved.nat_gateway_snat_id = Some(id.clone());
    env.client
        .call::<ModifyNatGatewaySourceIpTranslationNatRule>(
            REGION,
            &ModifySnatRuleRequest {
                nat_gateway_id: nat.clone(),
                source_ip_translation_nat_rule: moved,
            },
        )
        .await
        .unwrap();
    assert_eq!(
        env.egress("ins-worker01").await.as_deref(),
        Some(before.as_str())
    );
    let delete = DeleteSnatRulesRequest {
        nat_gateway_id: nat.clone(),
        nat_gateway_snat_ids: vec![id.clone()],
    };
    env.client
        .call::<DeleteNatGatewaySourceIpTranslationNatRule>(REGION, &delete)
        .await
        .unwrap();
    assert!(rules(&env, &nat, vec![]).await.is_empty());
    let again = env
        .client
        .call::<DeleteNatGatewaySourceIpTranslationNatRule>(REGION, &delete)
        .await
        .unwrap_err();
    assert_eq!(
        code(&again),
        "InvalidParameterValue.NatGatewaySnatRuleNotExists"
    );
}

#[tokio::test]
async fn a_subnet_rule_covers_its_instances_and_an_instance_rule_is_more_specific() {
    let env = tutorial().await;
    let (nat, ips) = routed_nat_with_two_eips(&env).await;
    let subnet_rule = SnatRuleInput {
        resource_id: "subnet-app00001".into(),
        resource_type: "SUBNET".into(),
        private_ip_address: "10.0.2.0/24".into(),
        public_ip_addresses: vec![ips[0].clone()],
        description: "app subnet".into(),
        ..Default::default()
    };
    let own = instance_rule("ins-worker02", "10.0.2.22", &ips[1], "worker-2");
    create(&env, &nat, vec![subnet_rule, own]).await.unwrap();
    for instance in ["ins-backend1", "ins-worker01", "ins-worker03"] {
        assert_eq!(
            env.egress(instance).await.as_deref(),
            Some(ips[0].as_str()),
            "{instance}"
        );
    }
    assert_eq!(
        env.egress("ins-worker02").await.as_deref(),
        Some(ips[1].as_str())
    );
}

#[tokio::test]
async fn rules_are_refused_with_the_documented_codes() {
    let env = tutorial().await;
    let (nat, ips) = routed_nat_with_two_eips(&env).await;
    // An address that is not one of the gateway's EIPs (the frontend's EIP).
    assert_eq!(
        create(
            &env,
            &nat,
            vec![instance_rule(
                "ins-worker01",
                "10.0.2.21",
                "139.199.10.10",
                "x"
            )]
        )
        .await,
        Err("UnsupportedOperation.NatGatewayEipNotExists".into())
    );
    // A private IP that is not the instance's.
    assert_eq!(
        create(
            &env,
            &nat,
            vec![instance_rule("ins-worker01", "10.0.2.99", &ips[0], "x")]
        )
        .await,
        Err("UnsupportedOperation.NatGatewaySnatPipNeedVm".into())
    );
    // The same source twice.
    create(
        &env,
        &nat,
        vec![instance_rule("ins-worker01", "10.0.2.21", &ips[0], "a")],
    )
    .await
    .unwrap();
    assert_eq!(
        create(
            &env,
            &nat,
            vec![instance_rule("ins-worker01", "10.0.2.21", &ips[1], "b")]
        )
        .await,
        Err("UnsupportedOperation.NatGatewayRulePipExists".into())
    );
    assert_eq!(
        create(
            &env,
            &nat,
            vec![instance_rule("ins-worker01", "10.0.2.21", &ips[0], "a")]
        )
        .await,
        Err("InvalidParameterValue.NatSnatRuleExists".into())
    );
    // More rules than a gateway holds (200), in one request.
    let many: Vec<SnatRuleInput> = (0..200)
        .map(|n| instance_rule("ins-worker02", "10.0.2.22", &ips[0], &format!("r{n}")))
        .collect();
    assert_eq!(create(&env, &nat, many).await, Err("LimitExceeded".into()));
}

#[tokio::test]
async fn unbinding_an_eip_from_the_gateway_deletes_the_rules_whose_only_eip_it_was() {
    let env = tutorial().await;
    let (nat, ips) = routed_nat_with_two_eips(&env).await;
    let both = SnatRuleInput {
        public_ip_addresses: ips.clone(),
        ..instance_rule("ins-worker02", "10.0.2.22", &ips[0], "both")
    };
    create(
        &env,
        &nat,
        vec![
            instance_rule("ins-worker01", "10.0.2.21", &ips[1], "only"),
            both,
        ],
    )
    .await
    .unwrap();
    env.client
        .call::<DisassociateNatGatewayAddress>(
            REGION,
            &DisassociateNatGatewayAddressRequest {
                nat_gateway_id: nat.clone(),
                public_ip_addresses: vec![ips[1].clone()],
            },
        )
        .await
        .unwrap();
    let left = rules(&env, &nat, vec![]).await;
    assert_eq!(left.len(), 1, "{left:?}");
    assert_eq!(
        (
            left[0].description.as_str(),
            left[0].public_ip_addresses.clone()
        ),
        ("both", vec![ips[0].clone()])
    );
    assert_eq!(
        env.egress("ins-worker01").await.as_deref(),
        Some(ips[0].as_str())
    );
}

#[tokio::test]
async fn an_instances_primary_eni_carries_its_private_and_public_ip() {
    let env = tutorial().await;
    let request = DescribeNetworkInterfacesRequest {
        filters: Some(vec![Filter::new(
            "attachment.instance-id",
            ["ins-fr0ntend"],
        )]),
        ..Default::default()
    };
    let answer = env
        .client
        .call::<DescribeNetworkInterfaces>(REGION, &request)
        .await
        .unwrap();
    assert_eq!(answer.total_count, 1);
    let eni = &answer.network_interface_set[0];
    assert!(eni.primary);
    assert_eq!(eni.attachment.as_ref().unwrap().instance_id, "ins-fr0ntend");
    let ip = &eni.private_ip_address_set[0];
    assert_eq!(
        (
            ip.private_ip_address.as_str(),
            ip.public_ip_address.as_deref()
        ),
        ("10.0.1.10", Some("139.199.10.10"))
    );
    assert!(
        ip.address_id
            .as_deref()
            .is_some_and(|a| a.starts_with("eip-"))
    );
    // By its id, and ids and filters together are refused.
    let by_id = DescribeNetworkInterfacesRequest {
        network_interface_ids: Some(vec![eni.network_interface_id.clone()]),
        ..Default::default()
    };
    let again = env
        .client
        .call::<DescribeNetworkInterfaces>(REGION, &by_id)
        .await
        .unwrap();
    assert_eq!(again.network_interface_set, answer.network_interface_set);
    let both = DescribeNetworkInterfacesRequest {
        filters: request.filters.clone(),
        ..by_id
    };
    let err = env
        .client
        .call::<DescribeNetworkInterfaces>(REGION, &both)
        .await
        .unwrap_err();
    assert_eq!(code(&err), "InvalidParameter.Coexist");
}
