//! Rate limits and seeded fault injection.

use natpilot::sim::{FaultConfig, FaultKind, SimConfig};
use natpilot::tencent::models::vpc::*;

use crate::harness::*;

#[tokio::test]
async fn the_documented_rate_limit_answers_request_limit_exceeded_per_secret_id() {
    let env = tutorial().await;
    env.sim.set_rate_limit(true);
    let request = DescribeAddressQuotaRequest {};
    for _ in 0..10 {
        env.client
            .call::<DescribeAddressQuota>(REGION, &request)
            .await
            .unwrap();
    }
    let error = env
        .client
        .call::<DescribeAddressQuota>(REGION, &request)
        .await
        .unwrap_err();
    assert_eq!(code(&error), "RequestLimitExceeded");
    env.sim.advance(std::time::Duration::from_secs(1));
    env.client
        .call::<DescribeAddressQuota>(REGION, &request)
        .await
        .unwrap();
    env.sim.set_rate_limit(false);
    for _ in 0..30 {
        env.client
            .call::<DescribeAddressQuota>(REGION, &request)
            .await
            .unwrap();
    }
}

fn faults(rate: f64, seed: u64, kinds: Vec<FaultKind>) -> FaultConfig {
    FaultConfig {
        rate,
        seed,
        kinds,
        ..FaultConfig::default()
    }
}

async fn outcomes(seed: u64) -> Vec<String> {
    let env = tutorial().await;
    env.sim.set_faults(faults(
        0.5,
        seed,
        vec![FaultKind::InternalError, FaultKind::RequestLimitExceeded],
    ));
    let mut seen = Vec::new();
    for _ in 0..20 {
        let result = env
            .client
            .call::<DescribeVpcs>(REGION, &DescribeVpcsRequest::default())
            .await;
        seen.push(
            result
                .map(|_| "ok".to_string())
                .unwrap_or_else(|e| code(&e)),
        );
    }
    seen
}

#[tokio::test]
async fn injected_faults_are_deterministic_for_a_seed() {
    let first = outcomes(7).await;
    assert_eq!(first, outcomes(7).await);
    assert!(first.iter().any(|o| o == "ok"));
    assert!(first.iter().any(|o| o == "InternalError"));
    assert!(first.iter().any(|o| o == "RequestLimitExceeded"));
}

#[tokio::test]
async fn a_per_action_fault_hits_only_that_action_and_a_drop_still_applies_the_change() {
    let env = start(SimConfig::for_tests()).await;
    let mut config = faults(0.0, 1, vec![FaultKind::Drop]);
    config.per_action.insert("CreateNatGateway".into(), 1.0);
    env.sim.set_faults(config);
    env.client
        .call::<DescribeVpcs>(REGION, &DescribeVpcsRequest::default())
        .await
        .unwrap();
    let request = CreateNatGatewayRequest {
        nat_gateway_name: "ambiguous".into(),
        vpc_id: "vpc-tut0rial".into(),
        address_count: Some(1),
        ..Default::default()
    };
    let error = env
        .client
        .call::<CreateNatGateway>(REGION, &request)
        .await
        .unwrap_err();
    assert!(
        error.is_ambiguous()
            || matches!(error, natpilot::tencent::TencentError::MaybeApplied { .. }),
        "{error}"
    );
    assert_eq!(env.sim.nat_gateways("vpc-tut0rial").len(), 1);
}
