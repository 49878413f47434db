//! SNAT rules of a NAT gateway (reference addendum 2, §2): which private sources leave
//! through which of the gateway's EIPs. Field names follow the official `api.json` of tccli
//! 3.1.189.1; the rule object is `SourceIpTranslationNatRule` (in `nat.rs`, where
//! DescribeNatGateways also returns it).

use serde::{Deserialize, Serialize};

use super::SourceIpTranslationNatRule;
use crate::tencent::models::common::{Filter, action, null_as_default, paged};

/// One rule as sent to Create/Modify. Separate from the output object so that no empty
/// output-only field (`NatGatewaySnatId: ""`, `VpcId: ""`) is ever sent.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct SnatRuleInput {
    /// `snat-…`; only when modifying.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nat_gateway_snat_id: Option<String>,
    /// `ins-…` for `NETWORKINTERFACE` (addendum 2 §2.1), `subnet-…` for `SUBNET`.
    pub resource_id: String,
    /// `SUBNET`, `NETWORKINTERFACE` or `USERDEFINED`.
    pub resource_type: String,
    /// The instance's primary private IP, or the subnet's CIDR.
    pub private_ip_address: String,
    /// EIP addresses bound to this NAT gateway.
    pub public_ip_addresses: Vec<String>,
    pub description: String,
}

action!(
    /// Creates SNAT rules. Answers only a RequestId: the new rule is found again with
    /// DescribeNatGatewaySourceIpTranslationNatRules by its (unique) description (§2.2).
    CreateNatGatewaySourceIpTranslationNatRule: CreateSnatRulesRequest => EmptyResponse, Vpc, Unsafe, 20
);

/// `CreateNatGatewaySourceIpTranslationNatRuleRequest` (request).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct CreateSnatRulesRequest {
    pub nat_gateway_id: String,
    pub source_ip_translation_nat_rules: Vec<SnatRuleInput>,
}

/// A response that carries nothing but the RequestId (which the envelope holds).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct EmptyResponse {}

action!(
    /// Lists one NAT gateway's SNAT rules (§2.3).
    DescribeNatGatewaySourceIpTranslationNatRules: DescribeSnatRulesRequest => DescribeSnatRulesResponse, Vpc, Safe, 20
);

paged!(
    DescribeNatGatewaySourceIpTranslationNatRules,
    item = SourceIpTranslationNatRule,
    items = source_ip_translation_nat_rule_set,
    total = total_count,
    max = 100
);

/// `DescribeNatGatewaySourceIpTranslationNatRulesRequest` (request).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct DescribeSnatRulesRequest {
    pub nat_gateway_id: String,
    /// `resource-id`, `public-ip-address`, `description`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub filters: Option<Vec<Filter>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offset: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<i64>,
}

/// `DescribeNatGatewaySourceIpTranslationNatRulesResponse` (response).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct DescribeSnatRulesResponse {
    #[serde(deserialize_with = "null_as_default")]
    pub source_ip_translation_nat_rule_set: Vec<SourceIpTranslationNatRule>,
    #[serde(deserialize_with = "null_as_default")]
    pub total_count: i64,
}

action!(
    /// Changes one rule's EIPs or description (§2.4); the rule object is one, not a list.
    ModifyNatGatewaySourceIpTranslationNatRule: ModifySnatRuleRequest => EmptyResponse, Vpc, Safe, 20
);

/// `ModifyNatGatewaySourceIpTranslationNatRuleRequest` (request).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct ModifySnatRuleRequest {
    pub nat_gateway_id: String,
    pub source_ip_translation_nat_rule: SnatRuleInput,
}

action!(
    /// Deletes SNAT rules by id (§2.5). Repeating it converges (the rule is gone either way,
    /// the second call answering NatGatewaySnatRuleNotExists).
    DeleteNatGatewaySourceIpTranslationNatRule: DeleteSnatRulesRequest => EmptyResponse, Vpc, Safe, 20
);

/// `DeleteNatGatewaySourceIpTranslationNatRuleRequest` (request).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct DeleteSnatRulesRequest {
    pub nat_gateway_id: String,
    pub nat_gateway_snat_ids: Vec<String>,
}
