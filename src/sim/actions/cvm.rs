//! CVM DescribeInstances (reference §4.24). With a `vpc-id` filter only that VPC's index is
//! scanned, and only the requested page is converted, so paging a 50,000-instance VPC stays
//! cheap.

use super::common::{Filters, check_id, exclusive, paging, unsigned};
use super::views;
use crate::sim::error::{SimError, SimResult};
use crate::sim::world::{Instance, World};
use crate::tencent::models::cvm::*;

const FILTERS: &[&str] = &[
    "zone",
    "project-id",
    "vpc-id",
    "subnet-id",
    "instance-id",
    "instance-name",
    "instance-state",
    "private-ip-address",
    "public-ip-address",
    "instance-charge-type",
    "tag-key",
    "tag-value",
    "tag:*",
];

pub fn describe_instances(
    w: &mut World,
    req: DescribeInstancesRequest,
) -> SimResult<DescribeInstancesResponse> {
    exclusive(
        req.instance_ids.as_ref(),
        req.filters.as_ref(),
        "InvalidParameter",
    )?;
    let f = Filters::new(req.filters.as_ref(), FILTERS, "InvalidFilter")?;
    if let Some(filters) = &req.filters
        && (filters.len() > 10 || filters.iter().any(|x| x.values.len() > 5))
    {
        return Err(SimError::new(
            "InvalidFilterValue.LimitExceeded",
            "At most 10 filters with 5 values each.",
        ));
    }
    if req.instance_ids.as_ref().is_some_and(|ids| ids.len() > 100) {
        return Err(SimError::new(
            "InvalidParameterValue.LimitExceeded",
            "`InstanceIds` takes at most 100 ids per request.",
        ));
    }
    for id in req
        .instance_ids
        .iter()
        .flatten()
        .chain(f.values("instance-id").into_iter().flatten())
    {
        check_id(id, "ins", "InvalidParameterValue.InstanceIdMalformed")?;
    }
    for id in f.values("vpc-id").into_iter().flatten() {
        check_id(id, "vpc", "InvalidParameterValue.VpcIdMalformed")?;
    }
    let (offset, limit) = paging(
        unsigned(req.offset, "Offset")?,
        unsigned(req.limit, "Limit")?,
        20,
        100,
    )?;
    if let Some(page) = vpc_only_page(w, &req, offset, limit) {
        return Ok(page);
    }
    let candidates: Box<dyn Iterator<Item = &Instance>> =
        match (req.instance_ids.as_ref(), f.values("vpc-id")) {
            (Some(ids), _) if !ids.is_empty() => {
                Box::new(ids.iter().filter_map(|id| w.instance(id)))
            }
            (_, Some(vpcs)) => Box::new(vpcs.iter().flat_map(|v| w.instances_in_vpc(v))),
            _ => Box::new(w.instances().iter()),
        };
    let mut total = 0usize;
    let mut selected = Vec::with_capacity(limit);
    for i in candidates.filter(|i| matches(w, &f, i)) {
        if total >= offset && selected.len() < limit {
            selected.push(i);
        }
        total += 1;
    }
    Ok(DescribeInstancesResponse {
        total_count: total as i64,
        instance_set: selected
            .into_iter()
            .map(|i| views::instance(w, i))
            .collect(),
    })
}

/// The benchmark's hot path: only a `vpc-id` filter, so the VPC index gives the total and
/// the page directly, without testing every instance.
fn vpc_only_page(
    w: &World,
    req: &DescribeInstancesRequest,
    offset: usize,
    limit: usize,
) -> Option<DescribeInstancesResponse> {
    let filters = req.filters.as_ref()?;
    if req.instance_ids.as_ref().is_some_and(|i| !i.is_empty())
        || filters.len() != 1
        || filters[0].name != "vpc-id"
    {
        return None;
    }
    let mut vpcs = filters[0].values.clone();
    vpcs.dedup();
    let total: usize = vpcs
        .iter()
        .map(|v| w.instance_positions_in_vpc(v).len())
        .sum();
    let instance_set = vpcs
        .iter()
        .flat_map(|v| w.instances_in_vpc(v))
        .skip(offset)
        .take(limit)
        .map(|i| views::instance(w, i))
        .collect();
    Some(DescribeInstancesResponse {
        total_count: total as i64,
        instance_set,
    })
}

fn matches(w: &World, f: &Filters<'_>, i: &Instance) -> bool {
    f.allows("vpc-id", &i.vpc_id)
        && f.allows("subnet-id", &i.subnet_id)
        && f.allows("zone", &i.zone)
        && f.allows("instance-id", &i.id)
        && f.allows_substring("instance-name", &i.name)
        && f.allows("instance-state", &i.state)
        && f.allows("private-ip-address", &i.private_ip)
        && f.allows("project-id", "0")
        && f.allows("instance-charge-type", "POSTPAID_BY_HOUR")
        && f.allows_tags(i.tags.iter().map(|t| (t.key.as_str(), t.value.as_str())))
        && f.values("tag-value")
            .is_none_or(|vs| i.tags.iter().any(|t| vs.contains(&t.value)))
        && f.values("public-ip-address")
            .is_none_or(|vs| w.public_ips(i).iter().any(|ip| vs.contains(ip)))
}
