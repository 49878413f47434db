//! Exact wire shapes of the requests natpilot sends and of the quirks reference §4 documents:
//! string-typed paging, string vs integer `TaskId`, `HideOutput: false`, nullable fields written
//! as `null`, unknown request parameters refused, and the action constants.

use serde_json::{Value, json};

use super::{Filter, Tag, U64Num, U64Str, cvm, dnspod, tat, vpc};
use crate::tencent::{Action, PagedAction, Replay, Service};

fn wire<T: serde::Serialize>(value: &T) -> Value {
    serde_json::to_value(value).expect("model serializes")
}

#[test]
fn describe_vpcs_sends_offset_and_limit_as_strings() {
    let request = vpc::DescribeVpcs::page_request(
        &vpc::DescribeVpcsRequest {
            filters: Some(vec![Filter::one("vpc-id", "vpc-azd4dt1c")]),
            ..Default::default()
        },
        0,
        vpc::DescribeVpcs::MAX_LIMIT,
    );
    assert_eq!(
        wire(&request),
        json!({"Filters": [{"Name": "vpc-id", "Values": ["vpc-azd4dt1c"]}], "Offset": "0", "Limit": "100"})
    );
}

#[test]
fn string_paging_accepts_numbers_from_lenient_callers() {
    let request: vpc::DescribeSubnetsRequest =
        serde_json::from_value(json!({"Offset": 20, "Limit": "50"})).unwrap();
    assert_eq!(request.offset, Some(U64Str(20)));
    assert_eq!(request.limit, Some(U64Str(50)));
    assert!(serde_json::from_value::<vpc::DescribeSubnetsRequest>(json!({"Limit": "x"})).is_err());
    assert!(serde_json::from_value::<vpc::DescribeSubnetsRequest>(json!({"Limit": -1})).is_err());
}

#[test]
fn describe_instances_pages_with_integer_offset_and_limit() {
    let request = cvm::DescribeInstances::page_request(
        &cvm::DescribeInstancesRequest {
            filters: Some(vec![Filter::one("vpc-id", "vpc-1")]),
            ..Default::default()
        },
        200,
        100,
    );
    assert_eq!(
        wire(&request),
        json!({"Filters": [{"Name": "vpc-id", "Values": ["vpc-1"]}], "Offset": 200, "Limit": 100})
    );
}

#[test]
fn request_types_refuse_unknown_parameters() {
    let err = serde_json::from_value::<vpc::DescribeVpcsRequest>(json!({"VpcIdz": ["vpc-1"]}))
        .unwrap_err();
    assert!(err.to_string().contains("unknown field `VpcIdz`"), "{err}");
}

#[test]
fn response_types_ignore_fields_tencent_adds_later() {
    let response: vpc::DescribeTaskResultResponse =
        serde_json::from_value(json!({"TaskId": 7, "Result": "SUCCESS", "Brand": "new"})).unwrap();
    assert_eq!(response.task_id, U64Num(7));
    assert_eq!(response.result, "SUCCESS");
}

#[test]
fn create_routes_serializes_to_the_documented_body() {
    let request = vpc::CreateRoutesRequest {
        route_table_id: "rtb-n0yejvje".into(),
        routes: vec![vpc::Route {
            destination_cidr_block: Some("0.0.0.0/0".into()),
            gateway_type: Some("NAT".into()),
            gateway_id: Some("nat-xxxxxxxx".into()),
            route_description: Some("wizard".into()),
            ..Default::default()
        }],
    };
    assert_eq!(
        wire(&request),
        json!({"RouteTableId": "rtb-n0yejvje", "Routes": [{"DestinationCidrBlock": "0.0.0.0/0",
            "GatewayType": "NAT", "GatewayId": "nat-xxxxxxxx", "RouteDescription": "wizard"}]})
    );
}

#[test]
fn delete_routes_may_name_a_route_by_its_item_id_alone() {
    let request: vpc::DeleteRoutesRequest = serde_json::from_value(
        json!({"RouteTableId": "rtb-1", "Routes": [{"RouteItemId": "rti-9bjer08h"}]}),
    )
    .unwrap();
    assert_eq!(
        request.routes.as_ref().unwrap()[0].route_item_id.as_deref(),
        Some("rti-9bjer08h")
    );
}

#[test]
fn eip_task_ids_keep_their_documented_json_types() {
    let allocated = vpc::AllocateAddressesResponse {
        address_set: vec!["eip-1".into()],
        task_id: U64Str(61531428),
    };
    assert_eq!(wire(&allocated)["TaskId"], json!("61531428"));
    let transformed = vpc::TransformAddressResponse {
        task_id: U64Num(345732),
        address_id: "eip-2".into(),
    };
    assert_eq!(wire(&transformed)["TaskId"], json!(345732));
    // A string TaskId from AssociateAddress fed straight into DescribeTaskResult.
    let query: vpc::DescribeTaskResultRequest =
        serde_json::from_value(json!({"TaskId": "61531428"})).unwrap();
    assert_eq!(wire(&query), json!({"TaskId": 61531428}));
}

#[test]
fn nullable_response_fields_are_written_as_null() {
    let address = wire(&vpc::Address::default());
    for field in [
        "InstanceType",
        "DeadlineDate",
        "Bandwidth",
        "NetworkInterfaceId",
    ] {
        assert_eq!(address[field], Value::Null, "{field}");
    }
    let instance = wire(&cvm::Instance::default());
    assert_eq!(instance["PublicIpAddresses"], Value::Null);
}

#[test]
fn odd_casings_are_spelled_as_tencent_spells_them() {
    let block = wire(&vpc::ISPIPv6CidrBlock::default());
    assert!(block.get("IPv6CidrBlock").is_some() && block.get("ISPType").is_some());
    let instance = wire(&cvm::Instance::default());
    assert!(instance.get("CPU").is_some() && instance.get("IPv6Addresses").is_some());
    let record = wire(&dnspod::RecordListItem::default());
    assert!(
        record.get("TTL").is_some() && record.get("MX").is_some() && record.get("Type").is_some()
    );
}

#[test]
fn run_command_and_output_query_use_the_documented_fields() {
    let run = tat::RunCommandRequest {
        content: "Y3VybCAtcyBpZmNvbmZpZy5jbw==".into(),
        instance_ids: vec!["ins-1".into()],
        command_type: Some("SHELL".into()),
        timeout: Some(60),
        ..Default::default()
    };
    assert_eq!(
        wire(&run),
        json!({"Content": "Y3VybCAtcyBpZmNvbmZpZy5jbw==", "InstanceIds": ["ins-1"],
            "CommandType": "SHELL", "Timeout": 60})
    );
    let tasks = tat::DescribeInvocationTasksRequest {
        filters: Some(vec![Filter::one("invocation-id", "inv-1")]),
        hide_output: Some(false),
        ..Default::default()
    };
    assert_eq!(wire(&tasks)["HideOutput"], json!(false));
}

#[test]
fn dnspod_pages_report_the_totals_of_their_count_info() {
    let response: dnspod::DescribeRecordListResponse = serde_json::from_value(json!({
        "RecordCountInfo": {"SubdomainCount": 2, "ListCount": 1, "TotalCount": 7},
        "RecordList": [{"RecordId": 1, "Value": "1.1.1.1", "Name": "www", "Type": "A"}]
    }))
    .unwrap();
    let (items, total) = dnspod::DescribeRecordList::into_page(response);
    assert_eq!((items.len(), total), (1, Some(7)));
    assert_eq!(dnspod::DescribeRecordList::MAX_LIMIT, 3000);
}

#[test]
fn action_constants_follow_reference_sections_2_and_3_5() {
    assert_eq!(vpc::DescribeVpcs::NAME, "DescribeVpcs");
    assert_eq!(vpc::ReturnNormalAddresses::RATE_LIMIT_PER_SECOND, 2);
    assert_eq!(cvm::DescribeInstances::SERVICE, Service::Cvm);
    assert_eq!(cvm::DescribeInstances::RATE_LIMIT_PER_SECOND, 40);
    assert_eq!(dnspod::DescribeDomainList::SERVICE, Service::Dnspod);
    for unsafe_replay in [
        vpc::CreateNatGateway::REPLAY,
        vpc::CreateRoutes::REPLAY,
        vpc::AllocateAddresses::REPLAY,
        tat::RunCommand::REPLAY,
    ] {
        assert_eq!(unsafe_replay, Replay::Unsafe);
    }
    assert_eq!(vpc::DeleteRoutes::REPLAY, Replay::Safe);
    assert_eq!(
        Tag::new("natpilot-run", "r1"),
        Tag {
            key: "natpilot-run".into(),
            value: "r1".into()
        }
    );
}

#[test]
fn null_in_a_field_api_json_calls_non_nullable_reads_as_its_default() {
    let instance: cvm::Instance = serde_json::from_value(json!({
        "InstanceId": "ins-1", "Placement": null, "Tags": null, "InstanceName": null,
        "PrivateIpAddresses": ["10.0.0.2"]
    }))
    .unwrap();
    assert_eq!(instance.instance_id, "ins-1");
    assert_eq!(instance.placement, cvm::Placement::default());
    assert!(instance.tags.is_empty() && instance.instance_name.is_empty());
}
