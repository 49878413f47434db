//! STS and several accounts in the simulator (issue 13 item 1), through the real client and
//! its AssumeRole credentials provider: temporary keys act in the role owner's account, are
//! renewed before they expire, and each account sees only its own world and regions.

use natpilot::sim::{PRIMARY_UIN, ScenarioSource, SimAccountConfig, SimConfig, SimRole};
use natpilot::tencent::models::regions::{DescribeRegions, DescribeRegionsRequest};
use natpilot::tencent::models::sts::{GetCallerIdentity, GetCallerIdentityRequest};
use natpilot::tencent::models::vpc::{DescribeVpcs, DescribeVpcsRequest};
use natpilot::tencent::{Client, ClientSettings, CredentialsProvider, Endpoint, RoleSpec};

use crate::harness::{REGION, code, start};

const UIN_B: &str = "100000000002";

fn config() -> SimConfig {
    SimConfig {
        extra_regions: vec![("ap-shanghai".into(), ScenarioSource::Conflict)],
        accounts: vec![SimAccountConfig {
            uin: UIN_B.into(),
            secret_id: "AKIDaccountB000000000000000000000000".into(),
            secret_key: "accountBsecretKey000000000000000".to_owned().into(),
            regions: vec![("ap-singapore".into(), ScenarioSource::Tutorial)],
            roles: vec![SimRole {
                name: "natpilot".into(),
                trusted: vec![PRIMARY_UIN.into()],
                external_id: None,
            }],
            denied: vec![],
        }],
        ..SimConfig::for_tests()
    }
}

fn role_client(base: &Client, endpoint: &str, duration_secs: u64) -> Client {
    let spec = RoleSpec {
        role_arn: format!("qcs::cam::uin/{UIN_B}:roleName/natpilot"),
        session_name: "natpilot-test".into(),
        external_id: None,
        duration_secs,
    };
    let provider = CredentialsProvider::assume_role(base.clone(), spec);
    let mut settings = ClientSettings::new(Endpoint::override_url(endpoint).unwrap(), provider);
    settings.rate_limit = false;
    Client::new(settings).unwrap()
}

#[tokio::test]
async fn assumed_role_keys_act_in_the_other_account_and_are_reused_until_close_to_expiry() {
    let env = start(config()).await;
    let b = role_client(&env.client, &env.sim.endpoint(), 7200);
    let who = b
        .call::<GetCallerIdentity>(REGION, &GetCallerIdentityRequest {})
        .await
        .unwrap();
    assert_eq!(who.account_id, UIN_B);
    assert_eq!(who.principal_id, PRIMARY_UIN);
    assert_eq!(who.kind, "CAMRole");
    // B's only region is ap-singapore, with the tutorial world.
    let regions = b
        .call::<DescribeRegions>(
            REGION,
            &DescribeRegionsRequest {
                product: "vpc".into(),
                scene: None,
            },
        )
        .await
        .unwrap();
    let names: Vec<&str> = regions
        .region_set
        .iter()
        .map(|r| r.region.as_str())
        .collect();
    assert_eq!(names, ["ap-singapore"]);
    let vpcs = b
        .call::<DescribeVpcs>("ap-singapore", &DescribeVpcsRequest::default())
        .await
        .unwrap();
    assert_eq!(vpcs.vpc_set[0].vpc_id, "vpc-tut0rial");
    let elsewhere = b
        .call::<DescribeVpcs>(REGION, &DescribeVpcsRequest::default())
        .await
        .unwrap_err();
    assert_eq!(code(&elsewhere), "UnsupportedRegion");
    // Four calls, one AssumeRole: keys with two hours left are reused.
    assert_eq!(env.sim.executed("AssumeRole"), 1);

    // Keys that live less than the five-minute renewal margin are assumed again every time.
    let short = role_client(&env.client, &env.sim.endpoint(), 200);
    for _ in 0..2 {
        short
            .call::<GetCallerIdentity>(REGION, &GetCallerIdentityRequest {})
            .await
            .unwrap();
    }
    assert_eq!(env.sim.executed("AssumeRole"), 3);
}

#[tokio::test]
async fn the_primary_account_lists_its_regions_and_a_denied_action_is_unauthorized() {
    let env = start(config()).await;
    let regions = env
        .client
        .call::<DescribeRegions>(
            REGION,
            &DescribeRegionsRequest {
                product: "vpc".into(),
                scene: None,
            },
        )
        .await
        .unwrap();
    let names: Vec<&str> = regions
        .region_set
        .iter()
        .map(|r| r.region.as_str())
        .collect();
    assert_eq!(names, ["ap-guangzhou", "ap-shanghai"]);
    assert!(
        regions
            .region_set
            .iter()
            .all(|r| r.region_state == "AVAILABLE")
    );
    let who = env
        .client
        .call::<GetCallerIdentity>(REGION, &GetCallerIdentityRequest {})
        .await
        .unwrap();
    assert_eq!(who.account_id, PRIMARY_UIN);
    env.sim.deny(PRIMARY_UIN, "ap-shanghai", "DescribeVpcs");
    let refused = env
        .client
        .call::<DescribeVpcs>("ap-shanghai", &DescribeVpcsRequest::default())
        .await
        .unwrap_err();
    assert_eq!(code(&refused), "UnauthorizedOperation");
    assert!(refused.request_id().is_some());
    // Other regions are not affected.
    env.client
        .call::<DescribeVpcs>(REGION, &DescribeVpcsRequest::default())
        .await
        .unwrap();
}
