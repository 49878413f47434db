//! DNSPod: domains and records, to find DNS records that point at an IP (reference §4.29–§4.31). DNSPod ignores the region.
//! Field names and types follow the official `api.json` of tccli 3.1.189.1.

use serde::{Deserialize, Serialize};

use crate::tencent::models::common::{action, null_as_default, paged};

action!(
    /// Lists the account's domains (reference §4.29).
    DescribeDomainList: DescribeDomainListRequest => DescribeDomainListResponse, Dnspod, Safe, 20
);

paged!(
    DescribeDomainList,
    item = DomainListItem,
    items = domain_list,
    total = domain_count_info.domain_total,
    max = 3000
);

/// `DescribeDomainListRequest` (request).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct DescribeDomainListRequest {
    #[serde(rename = "Type", skip_serializing_if = "Option::is_none")]
    pub type_: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offset: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group_id: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub keyword: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<TagItemFilter>>,
}

/// `DescribeDomainListResponse` (response).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct DescribeDomainListResponse {
    #[serde(deserialize_with = "null_as_default")]
    pub domain_count_info: DomainCountInfo,
    #[serde(deserialize_with = "null_as_default")]
    pub domain_list: Vec<DomainListItem>,
}

/// `TagItemFilter` (object).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TagItemFilter {
    pub tag_key: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tag_value: Option<Vec<String>>,
}

/// `DomainCountInfo` (object).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct DomainCountInfo {
    #[serde(deserialize_with = "null_as_default")]
    pub domain_total: u64,
    #[serde(deserialize_with = "null_as_default")]
    pub all_total: u64,
    #[serde(deserialize_with = "null_as_default")]
    pub mine_total: u64,
    #[serde(deserialize_with = "null_as_default")]
    pub share_total: u64,
    #[serde(deserialize_with = "null_as_default")]
    pub vip_total: u64,
    #[serde(deserialize_with = "null_as_default")]
    pub pause_total: u64,
    #[serde(deserialize_with = "null_as_default")]
    pub error_total: u64,
    #[serde(deserialize_with = "null_as_default")]
    pub lock_total: u64,
    #[serde(deserialize_with = "null_as_default")]
    pub spam_total: u64,
    #[serde(deserialize_with = "null_as_default")]
    pub vip_expire: u64,
    #[serde(deserialize_with = "null_as_default")]
    pub share_out_total: u64,
    #[serde(deserialize_with = "null_as_default")]
    pub group_total: u64,
}

/// `DomainListItem` (object).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct DomainListItem {
    #[serde(deserialize_with = "null_as_default")]
    pub domain_id: u64,
    #[serde(deserialize_with = "null_as_default")]
    pub name: String,
    #[serde(deserialize_with = "null_as_default")]
    pub status: String,
    #[serde(rename = "TTL", deserialize_with = "null_as_default")]
    pub ttl: u64,
    #[serde(rename = "CNAMESpeedup", deserialize_with = "null_as_default")]
    pub cname_speedup: String,
    #[serde(rename = "DNSStatus", deserialize_with = "null_as_default")]
    pub dns_status: String,
    #[serde(deserialize_with = "null_as_default")]
    pub grade: String,
    #[serde(deserialize_with = "null_as_default")]
    pub group_id: u64,
    #[serde(deserialize_with = "null_as_default")]
    pub search_engine_push: String,
    #[serde(deserialize_with = "null_as_default")]
    pub remark: String,
    #[serde(deserialize_with = "null_as_default")]
    pub punycode: String,
    #[serde(rename = "EffectiveDNS", deserialize_with = "null_as_default")]
    pub effective_dns: Vec<String>,
    #[serde(deserialize_with = "null_as_default")]
    pub grade_level: u64,
    #[serde(deserialize_with = "null_as_default")]
    pub grade_title: String,
    #[serde(deserialize_with = "null_as_default")]
    pub is_vip: String,
    #[serde(deserialize_with = "null_as_default")]
    pub vip_start_at: String,
    #[serde(deserialize_with = "null_as_default")]
    pub vip_end_at: String,
    #[serde(deserialize_with = "null_as_default")]
    pub vip_auto_renew: String,
    #[serde(deserialize_with = "null_as_default")]
    pub record_count: u64,
    #[serde(deserialize_with = "null_as_default")]
    pub created_on: String,
    #[serde(deserialize_with = "null_as_default")]
    pub updated_on: String,
    #[serde(deserialize_with = "null_as_default")]
    pub owner: String,
    pub tag_list: Option<Vec<TagItem>>,
}

/// `TagItem` (object).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct TagItem {
    #[serde(deserialize_with = "null_as_default")]
    pub tag_key: String,
    #[serde(deserialize_with = "null_as_default")]
    pub tag_value: String,
}

action!(
    /// Lists a domain's records; send `ErrorOnEmpty: "no"` or an empty domain is an error (reference §4.30).
    DescribeRecordList: DescribeRecordListRequest => DescribeRecordListResponse, Dnspod, Safe, 100
);

paged!(
    DescribeRecordList,
    item = RecordListItem,
    items = record_list,
    total = record_count_info.total_count,
    max = 3000
);

/// `DescribeRecordListRequest` (request).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct DescribeRecordListRequest {
    pub domain: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub domain_id: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subdomain: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub record_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub record_line: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub record_line_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group_id: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub keyword: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sort_field: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sort_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offset: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_on_empty: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sub_domain: Option<String>,
}

/// `DescribeRecordListResponse` (response).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct DescribeRecordListResponse {
    #[serde(deserialize_with = "null_as_default")]
    pub record_count_info: RecordCountInfo,
    #[serde(deserialize_with = "null_as_default")]
    pub record_list: Vec<RecordListItem>,
}

/// `RecordCountInfo` (object).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct RecordCountInfo {
    #[serde(deserialize_with = "null_as_default")]
    pub subdomain_count: u64,
    #[serde(deserialize_with = "null_as_default")]
    pub list_count: u64,
    #[serde(deserialize_with = "null_as_default")]
    pub total_count: u64,
}

/// `RecordListItem` (object).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct RecordListItem {
    #[serde(deserialize_with = "null_as_default")]
    pub record_id: u64,
    #[serde(deserialize_with = "null_as_default")]
    pub value: String,
    #[serde(deserialize_with = "null_as_default")]
    pub status: String,
    #[serde(deserialize_with = "null_as_default")]
    pub updated_on: String,
    #[serde(deserialize_with = "null_as_default")]
    pub name: String,
    #[serde(deserialize_with = "null_as_default")]
    pub line: String,
    #[serde(deserialize_with = "null_as_default")]
    pub line_id: String,
    #[serde(rename = "Type", deserialize_with = "null_as_default")]
    pub type_: String,
    pub weight: Option<u64>,
    #[serde(deserialize_with = "null_as_default")]
    pub monitor_status: String,
    #[serde(deserialize_with = "null_as_default")]
    pub remark: String,
    #[serde(rename = "TTL", deserialize_with = "null_as_default")]
    pub ttl: u64,
    #[serde(rename = "MX", deserialize_with = "null_as_default")]
    pub mx: u64,
    #[serde(rename = "DefaultNS", deserialize_with = "null_as_default")]
    pub default_ns: bool,
}

action!(
    /// Lists a domain's records filtered exactly, e.g. by `RecordValue` (reference §4.31).
    DescribeRecordFilterList: DescribeRecordFilterListRequest => DescribeRecordFilterListResponse, Dnspod, Safe, 20
);

paged!(
    DescribeRecordFilterList,
    item = RecordListItem,
    items = record_list,
    total = record_count_info.total_count,
    max = 3000
);

/// `DescribeRecordFilterListRequest` (request).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct DescribeRecordFilterListRequest {
    pub domain: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub domain_id: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sub_domain: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub record_type: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub record_line: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group_id: Option<Vec<u64>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub keyword: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sort_field: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sort_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offset: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub record_value: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub record_status: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub weight_begin: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub weight_end: Option<u64>,
    #[serde(rename = "MXBegin", skip_serializing_if = "Option::is_none")]
    pub mx_begin: Option<u64>,
    #[serde(rename = "MXEnd", skip_serializing_if = "Option::is_none")]
    pub mx_end: Option<u64>,
    #[serde(rename = "TTLBegin", skip_serializing_if = "Option::is_none")]
    pub ttl_begin: Option<u64>,
    #[serde(rename = "TTLEnd", skip_serializing_if = "Option::is_none")]
    pub ttl_end: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub updated_at_begin: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub updated_at_end: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remark: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_exact_sub_domain: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub project_id: Option<i64>,
}

/// `DescribeRecordFilterListResponse` (response).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct DescribeRecordFilterListResponse {
    #[serde(deserialize_with = "null_as_default")]
    pub record_count_info: RecordCountInfo,
    #[serde(deserialize_with = "null_as_default")]
    pub record_list: Vec<RecordListItem>,
}
