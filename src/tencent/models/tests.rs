//! Round-trip tests against the official examples (`examples.json` of tccli 3.1.189.1, copied
//! to `fixtures/`): every documented request body must parse into our request type and
//! serialize back to the same JSON, and every documented response must parse and serialize
//! back without losing or changing a field.

use serde_json::Value;

use super::{cvm, dnspod, tat, vpc};
use crate::tencent::Action;

#[derive(serde::Deserialize)]
struct Example {
    action: String,
    title: String,
    /// `null` for the old query-string examples, which carry no JSON types.
    request: Value,
    response: Value,
}

fn examples(service: &str) -> Vec<Example> {
    let text = match service {
        "vpc" => include_str!("fixtures/vpc_examples.json"),
        "cvm" => include_str!("fixtures/cvm_examples.json"),
        "tat" => include_str!("fixtures/tat_examples.json"),
        "dnspod" => include_str!("fixtures/dnspod_examples.json"),
        other => panic!("no fixtures for {other}"),
    };
    serde_json::from_str(text).expect("fixture file is valid JSON")
}

/// `expected` must be contained in `actual`: same scalars, same array lengths, and every key of
/// an expected object present (our types may add defaulted fields the example leaves out).
fn contained(expected: &Value, actual: &Value, path: &str) -> Result<(), String> {
    match (expected, actual) {
        (Value::Object(e), Value::Object(a)) => e.iter().try_for_each(|(k, v)| {
            let at = format!("{path}.{k}");
            a.get(k)
                .map_or(Err(format!("{at} missing")), |w| contained(v, w, &at))
        }),
        (Value::Array(e), Value::Array(a)) if e.len() == a.len() => e
            .iter()
            .zip(a)
            .enumerate()
            .try_for_each(|(i, (v, w))| contained(v, w, &format!("{path}[{i}]"))),
        (Value::Number(e), Value::Number(a)) if e.as_f64() == a.as_f64() => Ok(()),
        _ if expected == actual => Ok(()),
        _ => Err(format!("{path}: expected {expected}, got {actual}")),
    }
}

fn round_trip<A: Action>(example: &Example) -> Result<(), String> {
    if !example.request.is_null() {
        let request: A::Request = serde_json::from_value(example.request.clone())
            .map_err(|e| format!("request does not parse: {e}"))?;
        let back = serde_json::to_value(&request).map_err(|e| e.to_string())?;
        if back != example.request {
            return Err(format!("request changed: {back}"));
        }
    }
    let response: A::Response = serde_json::from_value(example.response.clone())
        .map_err(|e| format!("response does not parse: {e}"))?;
    let back = serde_json::to_value(&response).map_err(|e| e.to_string())?;
    contained(&example.response, &back, "Response")?;
    let again: A::Response = serde_json::from_value(back).map_err(|e| e.to_string())?;
    (format!("{again:?}") == format!("{response:?}"))
        .then_some(())
        .ok_or_else(|| "response changed on a second round trip".to_string())
}

macro_rules! dispatch {
    ($example:expr, $($module:ident :: $action:ident),+ $(,)?) => {
        match $example.action.as_str() {
            $(stringify!($action) => round_trip::<$module::$action>($example),)+
            other => Err(format!("no model for action {other}")),
        }
    };
}

fn check_service(service: &str) {
    let failures: Vec<String> = examples(service)
        .iter()
        .filter_map(|ex| {
            let result = dispatch!(
                ex,
                vpc::DescribeVpcs,
                vpc::DescribeSubnets,
                vpc::DescribeRouteTables,
                vpc::CreateRoutes,
                vpc::DeleteRoutes,
                vpc::ReplaceRoutes,
                vpc::EnableRoutes,
                vpc::DisableRoutes,
                vpc::CreateNatGateway,
                vpc::DescribeNatGateways,
                vpc::DeleteNatGateway,
                vpc::AssociateNatGatewayAddress,
                vpc::DisassociateNatGatewayAddress,
                vpc::CreateNatGatewaySourceIpTranslationNatRule,
                vpc::DescribeNatGatewaySourceIpTranslationNatRules,
                vpc::ModifyNatGatewaySourceIpTranslationNatRule,
                vpc::DeleteNatGatewaySourceIpTranslationNatRule,
                vpc::DescribeNetworkInterfaces,
                vpc::AllocateAddresses,
                vpc::DescribeAddresses,
                vpc::AssociateAddress,
                vpc::DisassociateAddress,
                vpc::ReleaseAddresses,
                vpc::TransformAddress,
                vpc::ReturnNormalAddresses,
                vpc::DescribeTaskResult,
                vpc::DescribeVpcTaskResult,
                vpc::DescribeAddressQuota,
                cvm::DescribeInstances,
                tat::DescribeAutomationAgentStatus,
                tat::RunCommand,
                tat::DescribeInvocations,
                tat::DescribeInvocationTasks,
                dnspod::DescribeDomainList,
                dnspod::DescribeRecordList,
                dnspod::DescribeRecordFilterList,
            );
            result
                .err()
                .map(|e| format!("{} ({}): {e}", ex.action, ex.title))
        })
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn official_vpc_examples_round_trip() {
    check_service("vpc");
}

#[test]
fn official_cvm_examples_round_trip() {
    check_service("cvm");
}

#[test]
fn official_tat_examples_round_trip() {
    check_service("tat");
}

#[test]
fn official_dnspod_examples_round_trip() {
    check_service("dnspod");
}
