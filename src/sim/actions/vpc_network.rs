//! VPC reads of the layout: DescribeVpcs, DescribeSubnets, DescribeRouteTables
//! (reference §4.1–§4.3). Unknown ids in the id lists are `ResourceNotFound`.

use super::common::{Filters, check_id, exclusive, page, paging};
use super::views;
use crate::sim::error::{SimError, SimResult};
use crate::sim::world::World;
use crate::tencent::models::vpc::*;

const BAD_FILTER: &str = "InvalidParameter.FilterInvalidKey";
const COEXIST: &str = "InvalidParameter.Coexist";

fn known_ids<'a>(
    ids: Option<&'a Vec<String>>,
    prefix: &str,
    exists: impl Fn(&str) -> bool,
    what: &str,
) -> SimResult<Option<&'a Vec<String>>> {
    let Some(ids) = ids.filter(|i| !i.is_empty()) else {
        return Ok(None);
    };
    for id in ids {
        check_id(id, prefix, "InvalidParameterValue.Malformed")?;
        if !exists(id) {
            return Err(SimError::not_found(what, id));
        }
    }
    Ok(Some(ids))
}

pub fn describe_vpcs(w: &mut World, req: DescribeVpcsRequest) -> SimResult<DescribeVpcsResponse> {
    exclusive(req.vpc_ids.as_ref(), req.filters.as_ref(), COEXIST)?;
    let ids = known_ids(
        req.vpc_ids.as_ref(),
        "vpc",
        |id| w.vpcs.contains_key(id),
        "VPC",
    )?;
    let f = Filters::new(
        req.filters.as_ref(),
        &[
            "vpc-id",
            "vpc-name",
            "is-default",
            "cidr-block",
            "tag-key",
            "tag:*",
        ],
        BAD_FILTER,
    )?;
    let (offset, limit) = paging(req.offset.map(|o| o.0), req.limit.map(|l| l.0), 20, 100)?;
    let all: Vec<Vpc> = w
        .vpcs
        .values()
        .filter(|v| ids.is_none_or(|ids| ids.contains(&v.id)))
        .filter(|v| f.allows("vpc-id", &v.id) && f.allows_substring("vpc-name", &v.name))
        .filter(|v| f.allows("cidr-block", &v.cidr))
        .filter(|v| f.allows_ci("is-default", if v.is_default { "true" } else { "false" }))
        .filter(|v| f.allows_tags(v.tags.iter().map(|t| (t.key.as_str(), t.value.as_str()))))
        .map(views::vpc)
        .collect();
    Ok(DescribeVpcsResponse {
        total_count: all.len() as u64,
        vpc_set: page(&all, offset, limit),
    })
}

pub fn describe_subnets(
    w: &mut World,
    req: DescribeSubnetsRequest,
) -> SimResult<DescribeSubnetsResponse> {
    exclusive(req.subnet_ids.as_ref(), req.filters.as_ref(), COEXIST)?;
    let ids = known_ids(
        req.subnet_ids.as_ref(),
        "subnet",
        |id| w.subnets.contains_key(id),
        "subnet",
    )?;
    let f = Filters::new(
        req.filters.as_ref(),
        &[
            "subnet-id",
            "vpc-id",
            "cidr-block",
            "is-default",
            "subnet-name",
            "zone",
            "tag-key",
            "tag:*",
        ],
        BAD_FILTER,
    )?;
    let limit = req.limit.map(|l| l.0).or(req.max_results);
    let (offset, limit) = paging(req.offset.map(|o| o.0), limit, 20, 100)?;
    let all: Vec<Subnet> = w
        .subnets
        .values()
        .filter(|s| ids.is_none_or(|ids| ids.contains(&s.id)))
        .filter(|s| f.allows("subnet-id", &s.id) && f.allows("vpc-id", &s.vpc_id))
        .filter(|s| f.allows_substring("subnet-name", &s.name) && f.allows("zone", &s.zone))
        .filter(|s| {
            f.allows("cidr-block", s.cidr.split('/').next().unwrap_or(""))
                || f.allows("cidr-block", &s.cidr)
        })
        .filter(|_| f.allows_ci("is-default", "false") && f.allows_tags(std::iter::empty()))
        .map(|s| {
            let used = w
                .instances_in_vpc(&s.vpc_id)
                .filter(|i| i.subnet_id == s.id)
                .count();
            views::subnet(s, used as u64)
        })
        .collect();
    Ok(DescribeSubnetsResponse {
        total_count: all.len() as u64,
        subnet_set: page(&all, offset, limit),
        next_token: String::new(),
    })
}

pub fn describe_route_tables(
    w: &mut World,
    req: DescribeRouteTablesRequest,
) -> SimResult<DescribeRouteTablesResponse> {
    exclusive(req.route_table_ids.as_ref(), req.filters.as_ref(), COEXIST)?;
    let ids = known_ids(
        req.route_table_ids.as_ref(),
        "rtb",
        |id| w.route_tables.contains_key(id),
        "route table",
    )?;
    let f = Filters::new(
        req.filters.as_ref(),
        &[
            "route-table-id",
            "route-table-name",
            "vpc-id",
            "association.main",
            "tag-key",
            "tag:*",
            "next-hop-type",
        ],
        BAD_FILTER,
    )?;
    if f.values("next-hop-type").is_some()
        && (f.values("route-table-id").is_none() || f.values("vpc-id").is_none())
    {
        return Err(SimError::new(
            "InvalidParameter.FilterMissParameter",
            "The `next-hop-type` filter needs the `route-table-id` and `vpc-id` filters too.",
        ));
    }
    let (offset, limit) = paging(req.offset.map(|o| o.0), req.limit.map(|l| l.0), 20, 100)?;
    let all: Vec<RouteTable> = w
        .route_tables
        .values()
        .filter(|t| ids.is_none_or(|ids| ids.contains(&t.id)))
        .filter(|t| f.allows("route-table-id", &t.id) && f.allows("vpc-id", &t.vpc_id))
        .filter(|t| f.allows_substring("route-table-name", &t.name))
        .filter(|t| f.allows_ci("association.main", if t.main { "true" } else { "false" }))
        .filter(|_| f.allows_tags(std::iter::empty()))
        .filter(|t| {
            f.values("next-hop-type")
                .is_none_or(|types| t.routes.iter().any(|r| types.contains(&r.gateway_type)))
        })
        .map(|t| views::route_table(w, t))
        .collect();
    Ok(DescribeRouteTablesResponse {
        total_count: all.len() as u64,
        route_table_set: page(&all, offset, limit),
    })
}
