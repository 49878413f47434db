use serde_json::json;

use super::*;
use crate::config::{Config, Overrides};
use crate::tencent::stub::{Answer, Stub};

const ID: &str = "AKIDdoctor00000000000000000000000000";
const KEY: &str = "doctor-secret-key-000000000000000";

fn config(endpoint: &str, region: Option<&str>) -> Config {
    let mut overrides = Overrides::default();
    overrides
        .set("tencent.endpoint", Some(endpoint))
        .set("tencent.region", region)
        .set("tencent.request_timeout_secs", Some(5));
    Config::load_from(None, [], &overrides).unwrap()
}

fn chain_with_keys() -> CredentialChain {
    CredentialChain {
        explicit_secret_id: Some(ID.into()),
        explicit_secret_key: Some(KEY.into()),
        ..CredentialChain::default()
    }
}

#[tokio::test]
async fn doctor_passes_against_a_server_that_verifies_signatures_and_never_prints_the_secret() {
    let stub = Stub::start(KEY, |seen, _| match seen.signature_ok {
        true => Answer::Ok(json!({})),
        false => Answer::Error("AuthFailure.SignatureFailure"),
    })
    .await;
    let report = run_with_chain(&config(&stub.url, Some("ap-guangzhou")), chain_with_keys()).await;
    let text = report.to_string();
    assert!(report.ok(), "{text}");
    assert!(text.contains("configuration (tencent.secret_id"), "{text}");
    assert!(!text.contains(KEY), "{text}");
    assert_eq!(text.matches("  OK ").count(), 5, "{text}");
    let actions: Vec<String> = stub.seen().iter().map(|s| s.action.clone()).collect();
    assert_eq!(
        actions,
        [
            "DescribeVpcs",
            "DescribeInstances",
            "DescribeAddressQuota",
            "DescribeAutomationAgentStatus",
            "DescribeDomainList"
        ]
    );
    assert_eq!(stub.seen()[1].body, json!({"Limit": 1}));
}

#[tokio::test]
async fn doctor_reports_a_failing_call_with_code_request_id_and_hint() {
    let stub = Stub::start(KEY, |seen, _| match seen.action.as_str() {
        "DescribeInstances" => Answer::Error("UnauthorizedOperation"),
        _ => Answer::Ok(json!({})),
    })
    .await;
    let report = run_with_chain(&config(&stub.url, Some("ap-guangzhou")), chain_with_keys()).await;
    let text = report.to_string();
    assert!(!report.ok());
    assert!(text.contains("FAILED  cvm DescribeInstances"), "{text}");
    assert!(text.contains("UnauthorizedOperation"), "{text}");
    assert!(text.contains("RequestId stub-1"), "{text}");
    assert!(text.contains("hint:") && text.contains("CAM"), "{text}");
    assert!(text.contains("1 of 5 checks failed"), "{text}");
}

#[tokio::test]
async fn doctor_without_credentials_lists_the_sources_it_tried() {
    let home = tempfile::tempdir().unwrap();
    let chain = CredentialChain {
        home: Some(home.path().to_owned()),
        ..CredentialChain::default()
    };
    let report = run_with_chain(&config("http://127.0.0.1:9", Some("ap-guangzhou")), chain).await;
    let text = report.to_string();
    assert!(matches!(report, Report::NoCredentials(_)));
    assert!(!report.ok());
    assert!(text.contains("TENCENTCLOUD_SECRET_ID"), "{text}");
    assert!(text.contains("tccli configure set"), "{text}");
}

#[tokio::test]
async fn doctor_without_a_region_says_how_to_set_one() {
    let report = run_with_chain(&config("http://127.0.0.1:9", None), chain_with_keys()).await;
    assert!(!report.ok());
    assert!(report.to_string().contains("--region"));
}

#[tokio::test]
async fn doctor_calls_a_broken_source_unusable_not_missing() {
    let home = tempfile::tempdir().unwrap();
    let chain = CredentialChain {
        home: Some(home.path().to_owned()),
        env: [("TENCENTCLOUD_SECRET_ID".to_owned(), "AKIDhalf".to_owned())].into(),
        ..CredentialChain::default()
    };
    let report = run_with_chain(&config("http://127.0.0.1:9", Some("ap-guangzhou")), chain).await;
    let text = report.to_string();
    assert!(text.starts_with("credentials: UNUSABLE"), "{text}");
    assert!(text.contains("TENCENTCLOUD_SECRET_KEY is not"), "{text}");
}
