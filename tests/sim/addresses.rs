//! EIP tasks, the mutex while they run, and ordinary public IPs.

use natpilot::tencent::models::vpc::*;
use natpilot::tencent::models::{Filter, U64Num};

use crate::harness::*;

async fn task_result(env: &Env, task: u64) -> String {
    let request = DescribeTaskResultRequest {
        task_id: Some(U64Num(task)),
        ..Default::default()
    };
    env.client
        .call::<DescribeTaskResult>(REGION, &request)
        .await
        .unwrap()
        .result
}

#[tokio::test]
async fn unbinding_an_eip_runs_as_a_task_that_blocks_other_changes_until_it_succeeds() {
    let env = tutorial().await;
    let unbind = DisassociateAddressRequest {
        address_id: "eip-worker02".into(),
        ..Default::default()
    };
    let task = env
        .client
        .call::<DisassociateAddress>(REGION, &unbind)
        .await
        .unwrap()
        .task_id
        .0;
    assert_eq!(task_result(&env, task).await, "RUNNING");
    let release = ReleaseAddressesRequest {
        address_ids: vec!["eip-worker02".into()],
    };
    let error = env
        .client
        .call::<ReleaseAddresses>(REGION, &release)
        .await
        .unwrap_err();
    assert_eq!(code(&error), "OperationDenied.MutexTaskRunning");
    env.step();
    assert_eq!(task_result(&env, task).await, "SUCCESS");
    assert_eq!(env.egress("ins-worker02").await, None);
    let task = env
        .client
        .call::<ReleaseAddresses>(REGION, &release)
        .await
        .unwrap()
        .task_id
        .0;
    env.step();
    assert_eq!(task_result(&env, task).await, "SUCCESS");
    assert!(
        env.sim
            .with_world(|w| !w.addresses.contains_key("eip-worker02"))
    );
}

#[tokio::test]
async fn an_ordinary_public_ip_is_visible_only_as_wan_ip_and_can_be_transformed_or_returned() {
    let env = tutorial().await;
    let wan = DescribeAddressesRequest {
        filters: Some(vec![
            Filter::one("address-type", "WanIP"),
            Filter::one("instance-id", "ins-backend1"),
        ]),
        ..Default::default()
    };
    let found = env
        .client
        .call::<DescribeAddresses>(REGION, &wan)
        .await
        .unwrap();
    assert_eq!(found.address_set[0].address_ip, "119.28.20.11");
    let eips = DescribeAddressesRequest {
        filters: Some(vec![Filter::one("instance-id", "ins-backend1")]),
        ..Default::default()
    };
    assert_eq!(
        env.client
            .call::<DescribeAddresses>(REGION, &eips)
            .await
            .unwrap()
            .total_count,
        0
    );

    let transform = TransformAddressRequest {
        instance_id: "ins-backend1".into(),
    };
    let made = env
        .client
        .call::<TransformAddress>(REGION, &transform)
        .await
        .unwrap();
    env.step();
    let now = env
        .client
        .call::<DescribeAddresses>(REGION, &eips)
        .await
        .unwrap();
    assert_eq!(
        (
            now.address_set[0].address_id.as_str(),
            now.address_set[0].address_status.as_str()
        ),
        (made.address_id.as_str(), "BIND")
    );
    assert_eq!(
        env.egress("ins-backend1").await.as_deref(),
        Some("119.28.20.11")
    );

    let give_back = ReturnNormalAddressesRequest {
        address_ips: vec!["119.28.20.21".into()],
    };
    env.client
        .call::<ReturnNormalAddresses>(REGION, &give_back)
        .await
        .unwrap();
    assert_eq!(env.egress("ins-worker01").await, None);
    let again = env
        .client
        .call::<ReturnNormalAddresses>(REGION, &give_back)
        .await
        .unwrap_err();
    assert_eq!(code(&again), "InvalidParameterValue.AddressIpsNotFound");
}

#[tokio::test]
async fn allocating_beyond_the_eip_quota_is_refused_and_the_quota_is_reported() {
    let env = tutorial().await;
    let quota = env
        .client
        .call::<DescribeAddressQuota>(REGION, &DescribeAddressQuotaRequest {})
        .await
        .unwrap();
    let total = quota
        .quota_set
        .iter()
        .find(|q| q.quota_id == "TOTAL_EIP_QUOTA")
        .unwrap();
    assert_eq!((total.quota_current, total.quota_limit), (4, 20));
    let request = AllocateAddressesRequest {
        address_count: Some(17),
        ..Default::default()
    };
    let error = env
        .client
        .call::<AllocateAddresses>(REGION, &request)
        .await
        .unwrap_err();
    assert_eq!(code(&error), "AddressQuotaLimitExceeded");
    let request = AllocateAddressesRequest {
        address_count: Some(16),
        ..Default::default()
    };
    let allocated = env
        .client
        .call::<AllocateAddresses>(REGION, &request)
        .await
        .unwrap();
    assert_eq!(allocated.address_set.len(), 16);
}
