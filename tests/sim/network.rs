//! Describing the network layout, and paging a large VPC.

use natpilot::sim::{ScenarioSource, SimConfig};
use natpilot::tencent::models::Filter;
use natpilot::tencent::models::cvm::*;
use natpilot::tencent::models::vpc::*;

use crate::harness::*;

#[tokio::test]
async fn the_tutorial_route_table_holds_the_container_route_and_both_subnets() {
    let env = tutorial().await;
    let tables = env
        .client
        .call::<DescribeRouteTables>(REGION, &DescribeRouteTablesRequest::default())
        .await
        .unwrap();
    let table = &tables.route_table_set[0];
    assert_eq!(
        (table.route_table_name.as_str(), table.main),
        ("default", true)
    );
    assert_eq!(table.association_set.len(), 2);
    let route = &table.route_set[0];
    assert_eq!(
        route.destination_cidr_block.as_deref(),
        Some("172.16.0.0/16")
    );
    assert!(route.route_item_id.as_deref().unwrap().starts_with("rti-"));
}

#[tokio::test]
async fn describe_instances_pages_through_a_large_vpc_filtered_by_vpc() {
    let config = SimConfig::for_tests().with_scenario(ScenarioSource::Large { instances: 1234 });
    let env = start(config).await;
    let request = DescribeInstancesRequest {
        filters: Some(vec![Filter::one("vpc-id", "vpc-large000")]),
        ..Default::default()
    };
    let all = env
        .client
        .fetch_all::<DescribeInstances>(REGION, &request)
        .await
        .unwrap();
    assert_eq!(all.len(), 1234);
    let mut ids: Vec<&str> = all.iter().map(|i| i.instance_id.as_str()).collect();
    ids.dedup();
    assert_eq!(ids.len(), 1234);
    let page = DescribeInstancesRequest {
        filters: Some(vec![
            Filter::one("vpc-id", "vpc-large000"),
            Filter::one("subnet-id", "subnet-large003"),
        ]),
        limit: Some(100),
        ..Default::default()
    };
    let answer = env
        .client
        .call::<DescribeInstances>(REGION, &page)
        .await
        .unwrap();
    assert_eq!(answer.total_count, 154);
    assert!(
        answer
            .instance_set
            .iter()
            .all(|i| i.virtual_private_cloud.subnet_id == "subnet-large003")
    );
}

#[tokio::test]
async fn instances_without_a_public_ip_report_null_public_addresses() {
    let env = tutorial().await;
    let request = DescribeInstancesRequest {
        instance_ids: Some(vec!["ins-worker03".into(), "ins-fr0ntend".into()]),
        ..Default::default()
    };
    let answer = env
        .client
        .call::<DescribeInstances>(REGION, &request)
        .await
        .unwrap();
    assert_eq!(answer.instance_set[0].public_ip_addresses, None);
    assert_eq!(
        answer.instance_set[1].public_ip_addresses,
        Some(vec!["139.199.10.10".to_string()])
    );
}

#[tokio::test]
async fn more_than_100_instance_ids_or_a_malformed_id_are_refused() {
    let env = tutorial().await;
    let many = DescribeInstancesRequest {
        instance_ids: Some((0..101).map(|n| format!("ins-{n:08}")).collect()),
        ..Default::default()
    };
    let error = env
        .client
        .call::<DescribeInstances>(REGION, &many)
        .await
        .unwrap_err();
    assert_eq!(code(&error), "InvalidParameterValue.LimitExceeded");
    let malformed = DescribeInstancesRequest {
        instance_ids: Some(vec!["i-NOPE".into()]),
        ..Default::default()
    };
    let error = env
        .client
        .call::<DescribeInstances>(REGION, &malformed)
        .await
        .unwrap_err();
    assert_eq!(code(&error), "InvalidParameterValue.InstanceIdMalformed");
}
