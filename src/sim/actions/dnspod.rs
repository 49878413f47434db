//! DNSPod: DescribeDomainList, DescribeRecordList, DescribeRecordFilterList (reference
//! §4.29–§4.31). DNSPod is global: the region header is ignored.

use super::common::{page, paging};
use crate::sim::error::{SimError, SimResult};
use crate::sim::world::{Domain, Record, World};
use crate::tencent::models::dnspod::*;

fn domain_item(d: &Domain) -> DomainListItem {
    DomainListItem {
        domain_id: d.id,
        name: d.name.clone(),
        status: "ENABLE".into(),
        ttl: 600,
        cname_speedup: "DISABLE".into(),
        dns_status: String::new(),
        grade: "DP_FREE".into(),
        search_engine_push: "NO".into(),
        punycode: d.name.clone(),
        effective_dns: vec!["f1g1ns1.dnspod.net".into(), "f1g1ns2.dnspod.net".into()],
        grade_level: 1,
        grade_title: "免费版".into(),
        is_vip: "NO".into(),
        vip_start_at: "0000-00-00 00:00:00".into(),
        vip_end_at: "0000-00-00 00:00:00".into(),
        vip_auto_renew: "DEFAULT".into(),
        record_count: d.records.len() as u64,
        created_on: d.created_on.clone(),
        updated_on: d.created_on.clone(),
        owner: "natpilot-sim@example.com".into(),
        ..Default::default()
    }
}

fn record_item(r: &Record) -> RecordListItem {
    RecordListItem {
        record_id: r.id,
        value: r.value.clone(),
        status: r.status.clone(),
        updated_on: "2024-01-01 00:00:00".into(),
        name: r.name.clone(),
        line: r.line.clone(),
        line_id: "0".into(),
        type_: r.record_type.clone(),
        weight: None,
        monitor_status: String::new(),
        remark: String::new(),
        ttl: r.ttl,
        mx: 0,
        default_ns: r.record_type == "NS" && r.name == "@",
    }
}

pub fn describe_domain_list(
    w: &mut World,
    req: DescribeDomainListRequest,
) -> SimResult<DescribeDomainListResponse> {
    let offset = req.offset.unwrap_or(0).max(0) as u64;
    let limit = req.limit.map(|l| l.max(0) as u64);
    let (offset, limit) = paging(Some(offset), limit, 3000, 3000)
        .map_err(|e| SimError::new("InvalidParameterValue.LimitInvalid", e.message))?;
    let all: Vec<DomainListItem> = w
        .domains
        .values()
        .filter(|d| {
            req.keyword
                .as_ref()
                .is_none_or(|k| d.name.contains(k.as_str()))
        })
        .map(domain_item)
        .collect();
    let total = all.len() as u64;
    Ok(DescribeDomainListResponse {
        domain_count_info: DomainCountInfo {
            domain_total: total,
            all_total: total,
            mine_total: total,
            ..Default::default()
        },
        domain_list: page(&all, offset, limit),
    })
}

fn domain<'a>(w: &'a World, name: &str, id: Option<u64>) -> SimResult<&'a Domain> {
    let found = match id {
        Some(id) => w.domains.get(&id),
        None => w
            .domains
            .values()
            .find(|d| d.name.eq_ignore_ascii_case(name)),
    };
    found.ok_or_else(|| {
        SimError::new(
            "InvalidParameterValue.DomainNotExists",
            format!("The domain `{name}` is not in this account."),
        )
    })
}

fn counted(
    records: Vec<RecordListItem>,
    offset: usize,
    limit: usize,
) -> (RecordCountInfo, Vec<RecordListItem>) {
    let total = records.len() as u64;
    let list = page(&records, offset, limit);
    let info = RecordCountInfo {
        subdomain_count: total,
        list_count: list.len() as u64,
        total_count: total,
    };
    (info, list)
}

pub fn describe_record_list(
    w: &mut World,
    req: DescribeRecordListRequest,
) -> SimResult<DescribeRecordListResponse> {
    let d = domain(w, &req.domain, req.domain_id)?;
    let (offset, limit) = paging(req.offset, req.limit, 100, 3000)
        .map_err(|e| SimError::new("InvalidParameterValue.LimitInvalid", e.message))?;
    let sub = req.sub_domain.as_ref().or(req.subdomain.as_ref());
    let records: Vec<RecordListItem> = d
        .records
        .iter()
        .filter(|r| sub.is_none_or(|s| &r.name == s))
        .filter(|r| {
            req.record_type
                .as_ref()
                .is_none_or(|t| t.eq_ignore_ascii_case(&r.record_type))
        })
        .filter(|r| req.record_line.as_ref().is_none_or(|l| l == &r.line))
        .filter(|r| {
            req.keyword
                .as_ref()
                .is_none_or(|k| r.name.contains(k.as_str()) || r.value.contains(k.as_str()))
        })
        .map(record_item)
        .collect();
    // `ErrorOnEmpty` defaults to "yes": an empty result is an error (§4.30).
    if records.is_empty() && req.error_on_empty.as_deref().unwrap_or("yes") != "no" {
        return Err(SimError::new(
            "ResourceNotFound.NoDataOfRecord",
            "No record matches; pass `ErrorOnEmpty: \"no\"` to get an empty list instead.",
        ));
    }
    let (record_count_info, record_list) = counted(records, offset, limit);
    Ok(DescribeRecordListResponse {
        record_count_info,
        record_list,
    })
}

pub fn describe_record_filter_list(
    w: &mut World,
    req: DescribeRecordFilterListRequest,
) -> SimResult<DescribeRecordFilterListResponse> {
    let d = domain(w, &req.domain, req.domain_id)?;
    let (offset, limit) = paging(req.offset, req.limit, 100, 3000)
        .map_err(|e| SimError::new("InvalidParameterValue.LimitInvalid", e.message))?;
    let exact = req.is_exact_sub_domain.unwrap_or(false);
    let records: Vec<RecordListItem> = d
        .records
        .iter()
        .filter(|r| req.record_value.as_ref().is_none_or(|v| v == &r.value))
        .filter(|r| {
            req.record_type
                .as_ref()
                .is_none_or(|ts| ts.iter().any(|t| t.eq_ignore_ascii_case(&r.record_type)))
        })
        .filter(|r| {
            req.record_status
                .as_ref()
                .is_none_or(|ss| ss.iter().any(|s| s.eq_ignore_ascii_case(&r.status)))
        })
        .filter(|r| {
            req.sub_domain.as_ref().is_none_or(|s| {
                if exact {
                    &r.name == s
                } else {
                    r.name.contains(s.as_str())
                }
            })
        })
        .filter(|r| {
            req.keyword
                .as_ref()
                .is_none_or(|k| r.name.contains(k.as_str()) || r.value.contains(k.as_str()))
        })
        .map(record_item)
        .collect();
    let (record_count_info, record_list) = counted(records, offset, limit);
    Ok(DescribeRecordFilterListResponse {
        record_count_info,
        record_list,
    })
}
