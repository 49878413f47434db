//! The wire protocol: envelope, content type, TC3 verification and parameter errors.

use crate::harness::*;

#[tokio::test]
async fn a_signed_request_gets_the_envelope_with_a_request_id_and_exact_json_content_type() {
    let env = tutorial().await;
    let (status, content_type, body) = Raw::new(&env.sim, "DescribeVpcs", "{}")
        .send(&env.sim)
        .await;
    assert_eq!((status, content_type.as_str()), (200, "application/json"));
    assert_eq!(body["Response"]["TotalCount"], 1, "{body}");
    assert_eq!(body["Response"]["RequestId"].as_str().unwrap().len(), 36);
}

#[tokio::test]
async fn a_tccli_style_host_header_with_scheme_is_verified_verbatim() {
    let env = tutorial().await;
    let mut raw = Raw::new(&env.sim, "DescribeVpcs", r#"{"Limit": "100"}"#);
    raw.host = Some(env.sim.endpoint());
    let (_, _, body) = raw.send(&env.sim).await;
    assert_eq!(error_code(&body), "");
    assert_eq!(body["Response"]["VpcSet"][0]["CidrBlock"], "10.0.0.0/16");
}

#[tokio::test]
async fn auth_failures_come_back_as_http_200_with_the_documented_codes() {
    let env = tutorial().await;
    let mut bad_key = Raw::new(&env.sim, "DescribeVpcs", "{}");
    bad_key.secret_key = "WRONGKEY".into();
    let mut stale = Raw::new(&env.sim, "DescribeVpcs", "{}");
    stale.timestamp -= 301;
    let mut unknown_id = Raw::new(&env.sim, "DescribeVpcs", "{}");
    unknown_id.secret_id = "AKIDunknown".into();
    let mut malformed = Raw::new(&env.sim, "DescribeVpcs", "{}");
    malformed.authorization = Some("TC3-HMAC-SHA256 Credential=garbage".into());
    for (raw, expected) in [
        (bad_key, "AuthFailure.SignatureFailure"),
        (stale, "AuthFailure.SignatureExpire"),
        (unknown_id, "AuthFailure.SecretIdNotFound"),
        (malformed, "AuthFailure.InvalidAuthorization"),
    ] {
        let (status, content_type, body) = raw.send(&env.sim).await;
        assert_eq!((status, content_type.as_str()), (200, "application/json"));
        assert_eq!(error_code(&body), expected);
        assert!(body["Response"]["RequestId"].is_string());
    }
}

#[tokio::test]
async fn a_body_changed_after_signing_fails_the_signature() {
    let env = tutorial().await;
    let mut raw = Raw::new(&env.sim, "DescribeVpcs", "{}");
    let signed = natpilot::tencent::sign::sign(&natpilot::tencent::sign::SigningInput {
        secret_id: &raw.secret_id,
        secret_key: &raw.secret_key,
        service: "vpc",
        headers: &[
            ("content-type", "application/json"),
            ("host", &env.sim.addr().to_string()),
        ],
        method: "POST",
        canonical_query: "",
        body: br#"{"Limit":"1"}"#,
        timestamp: raw.timestamp,
        unsigned_payload: false,
    });
    raw.authorization = Some(signed.authorization);
    let (_, _, body) = raw.send(&env.sim).await;
    assert_eq!(error_code(&body), "AuthFailure.SignatureFailure");
}

#[tokio::test]
async fn bad_requests_get_parameter_errors_and_never_crash_the_server() {
    let env = tutorial().await;
    let cases = [
        ("DescribeVpcz", "{}", "InvalidAction"),
        ("DescribeVpcs", "{not json", "InvalidParameter"),
        ("DescribeVpcs", r#"{"Bogus": 1}"#, "UnknownParameter"),
        ("DeleteNatGateway", "{}", "MissingParameter"),
        (
            "DescribeVpcs",
            r#"{"Limit": "abc"}"#,
            "InvalidParameterValue",
        ),
        (
            "DescribeVpcs",
            r#"{"Limit": 500}"#,
            "InvalidParameterValue.LimitExceeded",
        ),
        (
            "DescribeVpcs",
            r#"{"VpcIds": ["vpc-nothere1"]}"#,
            "ResourceNotFound",
        ),
    ];
    for (action, body, expected) in cases {
        let (status, _, answer) = Raw::new(&env.sim, action, body).send(&env.sim).await;
        assert_eq!(status, 200);
        assert_eq!(error_code(&answer), expected, "{action} {body}");
    }
    let (_, _, ok) = Raw::new(&env.sim, "DescribeVpcs", "{}")
        .send(&env.sim)
        .await;
    assert_eq!(ok["Response"]["TotalCount"], 1);
}

#[tokio::test]
async fn limit_and_offset_may_be_strings_or_numbers() {
    let env = tutorial().await;
    for body in [
        r#"{"Limit": "1", "Offset": "0"}"#,
        r#"{"Limit": 1, "Offset": 0}"#,
    ] {
        let (_, _, answer) = Raw::new(&env.sim, "DescribeSubnets", body)
            .send(&env.sim)
            .await;
        assert_eq!(answer["Response"]["TotalCount"], 2, "{body}");
        assert_eq!(answer["Response"]["SubnetSet"].as_array().unwrap().len(), 1);
    }
}

#[tokio::test]
async fn another_region_or_api_version_is_refused_with_a_clear_code() {
    let env = tutorial().await;
    let mut other_region = Raw::new(&env.sim, "DescribeVpcs", "{}");
    other_region.region = Some("ap-singapore");
    let (_, _, body) = other_region.send(&env.sim).await;
    assert_eq!(error_code(&body), "UnsupportedRegion");
    let mut old_version = Raw::new(&env.sim, "DescribeVpcs", "{}");
    old_version.version = "2016-01-01";
    let (_, _, body) = old_version.send(&env.sim).await;
    assert_eq!(error_code(&body), "NoSuchVersion");
    let mut dns = Raw::new(&env.sim, "DescribeDomainList", "{}");
    (dns.service, dns.version, dns.region) = ("dnspod", "2021-03-23", None);
    let (_, _, body) = dns.send(&env.sim).await;
    assert_eq!(
        body["Response"]["DomainList"][0]["Name"],
        "natpilot-tutorial.com"
    );
}

#[tokio::test]
async fn the_state_endpoint_serves_the_world_as_json() {
    let env = tutorial().await;
    let state: serde_json::Value = reqwest::get(format!("{}/_sim/state", env.sim.endpoint()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(state["scenario"]["vpcs"][0]["id"], "vpc-tut0rial");
    assert_eq!(state, env.sim.state_json());
}

#[tokio::test]
async fn many_concurrent_requests_over_kept_alive_connections_are_all_answered() {
    let env = tutorial().await;
    let calls = (0..64).map(|_| {
        let client = env.client.clone();
        tokio::spawn(async move {
            client
                .call::<natpilot::tencent::models::cvm::DescribeInstances>(
                    REGION,
                    &Default::default(),
                )
                .await
        })
    });
    for call in calls.collect::<Vec<_>>() {
        assert_eq!(call.await.unwrap().unwrap().total_count, 7);
    }
}
