//! The client against a local stub server (`tencent::stub`).

use std::sync::Mutex;

use serde::{Deserialize, Serialize};
use serde_json::json;

use super::*;
use crate::tencent::stub::{Answer, Stub};
use crate::tencent::{Replay, Service};

const ID: &str = "AKIDtest0000000000000000000000000000";
const KEY: &str = "test-secret-key-0000000000000000";

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListRequest {
    #[serde(skip_serializing_if = "Option::is_none")]
    offset: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    limit: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListResponse {
    total_count: u64,
    vpc_set: Vec<Vpc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Vpc {
    vpc_id: String,
}

/// Shaped like DescribeVpcs (string Offset/Limit, reference §4.1), with a tiny page size.
struct DescribeVpcs;
impl Action for DescribeVpcs {
    const SERVICE: Service = Service::Vpc;
    const NAME: &'static str = "DescribeVpcs";
    const REPLAY: Replay = Replay::Safe;
    const RATE_LIMIT_PER_SECOND: u32 = 100;
    type Request = ListRequest;
    type Response = ListResponse;
}
impl PagedAction for DescribeVpcs {
    type Item = Vpc;
    const MAX_LIMIT: u64 = 2;
    fn page_request(_: &ListRequest, offset: u64, limit: u64) -> ListRequest {
        ListRequest {
            offset: Some(offset.to_string()),
            limit: Some(limit.to_string()),
        }
    }
    fn into_page(response: ListResponse) -> (Vec<Vpc>, Option<u64>) {
        (response.vpc_set, Some(response.total_count))
    }
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct CreateNatRequest {
    vpc_id: String,
    nat_gateway_name: String,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct CreateNatResponse {
    nat_gateway_set: Vec<Value>,
}

struct CreateNatGateway;
impl Action for CreateNatGateway {
    const SERVICE: Service = Service::Vpc;
    const NAME: &'static str = "CreateNatGateway";
    const REPLAY: Replay = Replay::Unsafe;
    const RATE_LIMIT_PER_SECOND: u32 = 100;
    type Request = CreateNatRequest;
    type Response = CreateNatResponse;
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct SecretBearing {
    instance_id: String,
    login_settings: Value,
}

struct ResetPassword;
impl Action for ResetPassword {
    const SERVICE: Service = Service::Cvm;
    const NAME: &'static str = "ResetInstancesPassword";
    const REPLAY: Replay = Replay::Safe;
    const RATE_LIMIT_PER_SECOND: u32 = 10;
    type Request = SecretBearing;
    type Response = Value;
}

struct DescribeDomainList;
impl Action for DescribeDomainList {
    const SERVICE: Service = Service::Dnspod;
    const NAME: &'static str = "DescribeDomainList";
    const REPLAY: Replay = Replay::Safe;
    const RATE_LIMIT_PER_SECOND: u32 = 20;
    type Request = Value;
    type Response = Value;
}

fn fast_retry() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 4,
        base_delay: Duration::from_millis(1),
        max_delay: Duration::from_millis(5),
        max_elapsed: Duration::from_secs(10),
    }
}

fn client(stub: &Stub, token: Option<&str>) -> Client {
    let mut creds = Credentials::new(ID, KEY);
    if let Some(t) = token {
        creds = creds.with_token(t);
    }
    let provider = CredentialsProvider::fixed(creds, CredentialSource::Explicit);
    let mut settings = ClientSettings::new(Endpoint::override_url(&stub.url).unwrap(), provider);
    settings.retry = fast_retry();
    settings.request_timeout = Duration::from_millis(400);
    Client::new(settings).unwrap()
}

fn vpcs(ids: &[&str], total: u64) -> Answer {
    let set: Vec<Value> = ids.iter().map(|id| json!({"VpcId": id})).collect();
    Answer::Ok(json!({"TotalCount": total, "VpcSet": set}))
}

#[derive(Default)]
struct Recorder(Mutex<Vec<CallRecord>>);
impl CallObserver for Recorder {
    fn on_call(&self, record: &CallRecord) {
        self.0.lock().unwrap().push(record.clone());
    }
}

#[tokio::test]
async fn a_successful_call_is_signed_over_the_host_as_sent_and_carries_the_common_headers() {
    let stub = Stub::start(KEY, |_, _| vpcs(&["vpc-1"], 1)).await;
    let reply = client(&stub, Some("sts-token"))
        .call_with_request_id::<DescribeVpcs>("ap-guangzhou", &ListRequest::default())
        .await
        .unwrap();
    assert_eq!(
        reply.response.vpc_set,
        vec![Vpc {
            vpc_id: "vpc-1".into()
        }]
    );
    assert_eq!(reply.request_id, "stub-0");
    let seen = &stub.seen()[0];
    assert!(seen.signature_ok, "signature did not verify: {seen:?}");
    assert_eq!(seen.host, stub.url.trim_start_matches("http://"));
    assert_eq!(seen.action, "DescribeVpcs");
    assert_eq!(seen.secret_id.as_deref(), Some(ID));
    assert_eq!(seen.region.as_deref(), Some("ap-guangzhou"));
    assert_eq!(seen.token.as_deref(), Some("sts-token"));
    assert_eq!(seen.language.as_deref(), Some("en-US"));
    assert_eq!(seen.body, json!({}));
}

#[tokio::test]
async fn dnspod_calls_omit_the_region_header() {
    let stub = Stub::start(KEY, |_, _| Answer::Ok(json!({}))).await;
    client(&stub, None)
        .call::<DescribeDomainList>("ap-guangzhou", &json!({"Limit": 1}))
        .await
        .unwrap();
    let seen = &stub.seen()[0];
    assert_eq!(seen.region, None);
    assert!(seen.token.is_none());
    assert!(seen.signature_ok);
}

#[tokio::test]
async fn an_api_error_keeps_code_message_and_request_id_and_explains_itself() {
    let stub = Stub::start(KEY, |_, _| Answer::Error("UnauthorizedOperation")).await;
    let err = client(&stub, None)
        .call::<DescribeVpcs>("ap-guangzhou", &ListRequest::default())
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("UnauthorizedOperation"));
    assert_eq!(err.request_id(), Some("stub-0"));
    let text = err.to_string();
    assert!(text.contains("stub says UnauthorizedOperation"), "{text}");
    assert!(text.contains("CAM"), "{text}");
    assert_eq!(stub.seen().len(), 1, "a permission error is not retried");
}

#[tokio::test]
async fn request_limit_exceeded_is_retried_until_success_and_each_attempt_observed() {
    let stub = Stub::start(KEY, |_, i| match i {
        0 | 1 => Answer::Error("RequestLimitExceeded"),
        _ => vpcs(&["vpc-1"], 1),
    })
    .await;
    let recorder = Arc::new(Recorder::default());
    let c = client(&stub, None).with_observer(recorder.clone());
    let got = c
        .call::<DescribeVpcs>("ap-guangzhou", &ListRequest::default())
        .await
        .unwrap();
    assert_eq!(got.total_count, 1);
    assert_eq!(stub.seen().len(), 3);
    let records = recorder.0.lock().unwrap();
    let summary: Vec<(u32, CallOutcome)> = records
        .iter()
        .map(|r| (r.attempt, r.outcome.clone()))
        .collect();
    let limited = CallOutcome::Error {
        code: "RequestLimitExceeded".into(),
    };
    assert_eq!(
        summary,
        vec![(1, limited.clone()), (2, limited), (3, CallOutcome::Ok)]
    );
    assert_eq!(records[2].request_id.as_deref(), Some("stub-2"));
    assert_eq!(records[2].region, "ap-guangzhou");
}

#[tokio::test]
async fn invalid_parameter_is_not_retried() {
    let stub = Stub::start(KEY, |_, _| Answer::Error("InvalidParameter")).await;
    let err = client(&stub, None)
        .call::<DescribeVpcs>("ap-guangzhou", &ListRequest::default())
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("InvalidParameter"));
    assert_eq!(stub.seen().len(), 1);
}

#[tokio::test]
async fn create_nat_gateway_is_not_retried_after_a_timeout_and_says_it_may_have_been_applied() {
    let stub = Stub::start(KEY, |_, _| Answer::Hang).await;
    let request = CreateNatRequest {
        vpc_id: "vpc-1".into(),
        nat_gateway_name: "natpilot".into(),
    };
    let err = client(&stub, None)
        .call::<CreateNatGateway>("ap-guangzhou", &request)
        .await
        .unwrap_err();
    assert!(matches!(err, TencentError::MaybeApplied { .. }), "{err:?}");
    assert_eq!(stub.seen().len(), 1, "must not be sent twice");
    let text = err.to_string();
    assert!(text.contains("may or may not have been applied"), "{text}");
    assert!(text.contains("NOT retried"), "{text}");
}

#[tokio::test]
async fn a_read_that_times_out_is_retried_and_then_reported_as_a_timeout() {
    let stub = Stub::start(KEY, |_, _| Answer::Hang).await;
    let mut settings = ClientSettings::new(
        Endpoint::override_url(&stub.url).unwrap(),
        CredentialsProvider::fixed(Credentials::new(ID, KEY), CredentialSource::Explicit),
    );
    settings.retry = RetryPolicy {
        max_attempts: 2,
        ..fast_retry()
    };
    settings.request_timeout = Duration::from_millis(200);
    let err = Client::new(settings)
        .unwrap()
        .call::<DescribeVpcs>("ap-guangzhou", &ListRequest::default())
        .await
        .unwrap_err();
    assert!(
        matches!(err, TencentError::Network { timeout: true, .. }),
        "{err:?}"
    );
    assert!(err.is_retryable());
    assert_eq!(err.outcome_code(), "ClientTimeout");
    assert_eq!(stub.seen().len(), 2);
}

#[tokio::test]
async fn a_create_is_retried_when_the_connection_was_refused() {
    // Bind then drop a listener: the port refuses connections, so nothing was sent.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let mut settings = ClientSettings::new(
        Endpoint::override_url(&url).unwrap(),
        CredentialsProvider::fixed(Credentials::new(ID, KEY), CredentialSource::Explicit),
    );
    settings.retry = RetryPolicy {
        max_attempts: 2,
        ..fast_retry()
    };
    let recorder = Arc::new(Recorder::default());
    let request = CreateNatRequest {
        vpc_id: "v".into(),
        nat_gateway_name: "n".into(),
    };
    let err = Client::new(settings)
        .unwrap()
        .with_observer(recorder.clone())
        .call::<CreateNatGateway>("ap-guangzhou", &request)
        .await
        .unwrap_err();
    assert!(matches!(err, TencentError::Network { .. }), "{err:?}");
    assert_eq!(recorder.0.lock().unwrap().len(), 2);
}

#[tokio::test]
async fn fetch_all_walks_every_page_at_the_maximum_limit() {
    let stub = Stub::start(KEY, |seen, _| {
        let offset = seen.body["Offset"].as_str().unwrap_or("0");
        match offset {
            "0" => vpcs(&["vpc-1", "vpc-2"], 5),
            "2" => vpcs(&["vpc-3", "vpc-4"], 5),
            "4" => vpcs(&["vpc-5"], 5),
            _ => vpcs(&[], 5),
        }
    })
    .await;
    let all = client(&stub, None)
        .fetch_all::<DescribeVpcs>("ap-guangzhou", &ListRequest::default())
        .await
        .unwrap();
    let ids: Vec<&str> = all.iter().map(|v| v.vpc_id.as_str()).collect();
    assert_eq!(ids, ["vpc-1", "vpc-2", "vpc-3", "vpc-4", "vpc-5"]);
    let limits: Vec<Value> = stub
        .seen()
        .iter()
        .map(|s| s.body["Limit"].clone())
        .collect();
    assert_eq!(limits, vec![json!("2"); 3]);
}

#[tokio::test]
async fn fetch_all_stops_on_an_empty_page_even_if_the_total_promised_more() {
    let stub = Stub::start(KEY, |seen, _| match seen.body["Offset"].as_str() {
        Some("0") => vpcs(&["vpc-1", "vpc-2"], 9),
        _ => vpcs(&[], 9),
    })
    .await;
    let all = client(&stub, None)
        .fetch_all::<DescribeVpcs>("ap-guangzhou", &ListRequest::default())
        .await
        .unwrap();
    assert_eq!(all.len(), 2);
    assert_eq!(stub.seen().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fetch_all_ahead_asks_for_the_next_page_before_the_previous_one_has_answered() {
    // The page at offset 2 answers only once the page at offset 4 has been asked for (or
    // after 20 s): walked one page at a time, the third page would never come first.
    let third_asked = Arc::new((Mutex::new(false), std::sync::Condvar::new()));
    let flag = third_asked.clone();
    let stub = Stub::start(KEY, move |seen, _| {
        let (asked, changed) = &*flag;
        match seen.body["Offset"].as_str() {
            Some("0") => vpcs(&["vpc-1", "vpc-2"], 5),
            // Blocking in place hands this worker's other tasks (the client's next page
            // among them) to another thread while it waits.
            Some("2") => tokio::task::block_in_place(|| {
                let guard = asked.lock().unwrap();
                let (guard, _) = changed
                    .wait_timeout_while(guard, Duration::from_secs(20), |a| !*a)
                    .unwrap();
                match *guard {
                    true => vpcs(&["vpc-3", "vpc-4"], 5),
                    false => Answer::Error("InvalidParameter"),
                }
            }),
            _ => {
                *asked.lock().unwrap() = true;
                changed.notify_all();
                vpcs(&["vpc-5"], 5)
            }
        }
    })
    .await;
    let all = client(&stub, None)
        .fetch_all_ahead::<DescribeVpcs>("ap-guangzhou", &ListRequest::default(), 2)
        .await
        .expect("the third page was asked for while the second was still out");
    let ids: Vec<&str> = all.iter().map(|v| v.vpc_id.as_str()).collect();
    assert_eq!(ids, ["vpc-1", "vpc-2", "vpc-3", "vpc-4", "vpc-5"]);
    assert_eq!(stub.seen().len(), 3);
}

#[tokio::test]
async fn fetch_all_ahead_returns_the_error_of_a_page_after_the_pages_already_sent_answered() {
    let stub = Stub::start(KEY, |seen, _| match seen.body["Offset"].as_str() {
        Some("0") => vpcs(&["vpc-1", "vpc-2"], 7),
        Some("2") => Answer::Error("UnauthorizedOperation"),
        Some(_) => vpcs(&["vpc-x", "vpc-y"], 7),
        None => vpcs(&[], 7),
    })
    .await;
    let recorder = Arc::new(Recorder::default());
    let err = client(&stub, None)
        .with_observer(recorder.clone())
        .fetch_all_ahead::<DescribeVpcs>("ap-guangzhou", &ListRequest::default(), 3)
        .await
        .unwrap_err();
    assert_eq!(err.outcome_code(), "UnauthorizedOperation");
    // Pages 2..4 were all out at once; each of them was answered and reported.
    assert_eq!(stub.seen().len(), 4);
    assert_eq!(recorder.0.lock().unwrap().len(), 4);
}

#[tokio::test]
async fn an_unparsable_body_keeps_the_request_id_and_an_excerpt() {
    let stub = Stub::start(KEY, |_, _| {
        Answer::Raw(
            200,
            r#"{"Response":{"RequestId":"abc-123","TotalCount":"#.into(),
        )
    })
    .await;
    let err = client(&stub, None)
        .call::<DescribeVpcs>("ap-guangzhou", &ListRequest::default())
        .await
        .unwrap_err();
    assert!(matches!(err, TencentError::Unparsable { .. }), "{err:?}");
    assert_eq!(err.request_id(), Some("abc-123"));
    assert!(err.to_string().contains("TotalCount"), "{err}");
}

#[tokio::test]
async fn an_http_error_status_is_reported_with_its_status_and_body() {
    let stub = Stub::start(KEY, |_, _| Answer::Raw(403, "forbidden by proxy".into())).await;
    let err = client(&stub, None)
        .call::<DescribeVpcs>("ap-guangzhou", &ListRequest::default())
        .await
        .unwrap_err();
    assert!(
        matches!(err, TencentError::HttpStatus { status: 403, .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("forbidden by proxy"));
    assert_eq!(stub.seen().len(), 1);
}

#[tokio::test]
async fn observed_parameters_redact_secrets_but_the_wire_carries_them() {
    let stub = Stub::start(KEY, |_, _| Answer::Ok(json!({}))).await;
    let recorder = Arc::new(Recorder::default());
    let request = SecretBearing {
        instance_id: "ins-1".into(),
        login_settings: json!({"Password": "hunter2-secret"}),
    };
    client(&stub, None)
        .with_observer(recorder.clone())
        .call::<ResetPassword>("ap-guangzhou", &request)
        .await
        .unwrap();
    let records = recorder.0.lock().unwrap();
    let shown = format!("{:?} {}", records[0], records[0].parameters);
    assert!(!shown.contains("hunter2"), "{shown}");
    assert!(shown.contains("ins-1"));
    assert_eq!(
        stub.seen()[0].body["LoginSettings"]["Password"],
        "hunter2-secret"
    );
}

#[tokio::test]
async fn with_observer_adds_observers_only_to_the_new_handle() {
    let stub = Stub::start(KEY, |_, _| vpcs(&[], 0)).await;
    let base = client(&stub, None);
    let recorder = Arc::new(Recorder::default());
    let observed = base.with_observer(recorder.clone());
    base.call::<DescribeVpcs>("ap-guangzhou", &ListRequest::default())
        .await
        .unwrap();
    observed
        .call::<DescribeVpcs>("ap-guangzhou", &ListRequest::default())
        .await
        .unwrap();
    assert_eq!(recorder.0.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn for_endpoint_builds_a_working_client_in_one_line() {
    let stub = Stub::start(KEY, |_, _| vpcs(&[], 0)).await;
    let c = Client::for_endpoint(&stub.url, ID, KEY).unwrap();
    c.call::<DescribeVpcs>("ap-guangzhou", &ListRequest::default())
        .await
        .unwrap();
    assert!(stub.seen()[0].signature_ok);
    assert!(!format!("{c:?}").contains(KEY));
}

mod journal;
