//! EIPs a NAT gateway refuses (issue 12; addendum 2 §3.1): a single-line (non-BGP) EIP and one
//! billed by bandwidth. DescribeAddresses shows what the refusal is decided on, and
//! AssociateNatGatewayAddress answers the documented codes when asked anyway.

use natpilot::tencent::models::vpc::*;

use crate::harness::*;
use crate::nat::create_nat;

const SPARE: &str = "eip-spare001";
const SPARE_IP: &str = "119.28.20.99";

fn set_spare(env: &Env, isp: &str, charge_type: &str) {
    env.sim.handle().with_world(|w| {
        let a = w
            .addresses
            .get_mut(SPARE)
            .expect("the tutorial's spare EIP");
        a.isp = isp.into();
        a.charge_type = charge_type.into();
    });
}

async fn bind_spare(env: &Env, nat: &str) -> Result<(), String> {
    let req = AssociateNatGatewayAddressRequest {
        nat_gateway_id: nat.into(),
        public_ip_addresses: Some(vec![SPARE_IP.into()]),
        ..Default::default()
    };
    env.client
        .call::<AssociateNatGatewayAddress>(REGION, &req)
        .await
        .map(drop)
        .map_err(|e| code(&e))
}

async fn spare_as_described(env: &Env) -> Address {
    let req = DescribeAddressesRequest {
        address_ids: Some(vec![SPARE.into()]),
        ..Default::default()
    };
    let mut set = env
        .client
        .call::<DescribeAddresses>(REGION, &req)
        .await
        .unwrap()
        .address_set;
    assert_eq!(set.len(), 1);
    set.remove(0)
}

#[tokio::test]
async fn a_nat_gateway_refuses_single_line_and_bandwidth_billed_eips_with_the_documented_codes() {
    let env = tutorial().await;
    let nat = create_nat(&env, "unmovable").await;
    env.step();

    set_spare(&env, "CMCC", "TRAFFIC_POSTPAID_BY_HOUR");
    assert_eq!(
        spare_as_described(&env).await.internet_service_provider,
        "CMCC"
    );
    assert_eq!(
        bind_spare(&env, &nat).await,
        Err("UnsupportedOperation.PublicIpAddressIsNotBGPIp".into())
    );

    set_spare(&env, "BGP", "BANDWIDTH_POSTPAID_BY_HOUR");
    assert_eq!(
        spare_as_described(&env)
            .await
            .internet_charge_type
            .as_deref(),
        Some("BANDWIDTH_POSTPAID_BY_HOUR")
    );
    assert_eq!(
        bind_spare(&env, &nat).await,
        Err("UnsupportedOperation.PublicIpAddressNotBilledByTraffic".into())
    );

    // Refused EIPs stay where they were; a BGP, traffic-billed one is taken.
    let unbound = env
        .sim
        .handle()
        .with_world(|w| w.addresses[SPARE].instance_id.is_none());
    assert!(unbound);
    set_spare(&env, "BGP", "TRAFFIC_POSTPAID_BY_HOUR");
    assert_eq!(bind_spare(&env, &nat).await, Ok(()));
    let bound = env
        .sim
        .handle()
        .with_world(|w| w.addresses[SPARE].instance_id.clone());
    assert_eq!(bound.as_deref(), Some(nat.as_str()));
}
