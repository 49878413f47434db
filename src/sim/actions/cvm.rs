//! CVM DescribeInstances (reference §4.24). With a `vpc-id` filter only that VPC's index is
//! scanned, and only the requested page is converted, so paging a 50,000-instance VPC stays
//! cheap.

use super::common::{Filters, check_id, exclusive, paging, unsigned};
use super::views;
use crate::sim::error::{SimError, SimResult};
use crate::sim::world::view_cache::InstanceFacts;
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

/// DescribeInstances, written straight into the answer: each instance's entry is its cached
/// serialised view (`world::view_cache`), so a page costs copies, not encoding. The bytes are
/// those of serialising `DescribeInstancesResponse` (`describe_instances_typed` in the tests).
pub fn describe_instances(
    w: &mut World,
    req: DescribeInstancesRequest,
    out: &mut Vec<u8>,
) -> SimResult<()> {
    let (total, page) = select(w, &req)?;
    out.extend_from_slice(b"{\"TotalCount\":");
    out.extend_from_slice(total.to_string().as_bytes());
    out.extend_from_slice(b",\"InstanceSet\":[");
    for (n, &pos) in page.iter().enumerate() {
        if n > 0 {
            out.push(b',');
        }
        w.write_view(pos, out, render)?;
    }
    out.extend_from_slice(b"]}");
    Ok(())
}

fn render(facts: &InstanceFacts<'_>, out: &mut Vec<u8>) -> SimResult<()> {
    serde_json::to_writer(out, &views::instance(facts))
        .map_err(|e| SimError::internal(format!("cannot encode an instance: {e}")))
}

/// The request's instances: how many match, and the positions (into `World::instances`)
/// of the requested page.
fn select(w: &World, req: &DescribeInstancesRequest) -> SimResult<(usize, Vec<usize>)> {
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
    if let Some(page) = vpc_only_page(w, req, offset, limit) {
        return Ok(page);
    }
    let candidates: Box<dyn Iterator<Item = usize>> =
        match (req.instance_ids.as_ref(), f.values("vpc-id")) {
            (Some(ids), _) if !ids.is_empty() => {
                Box::new(ids.iter().filter_map(|id| w.instance_position(id)))
            }
            (_, Some(vpcs)) => Box::new(
                vpcs.iter()
                    .flat_map(|v| w.instance_positions_in_vpc(v).iter().copied()),
            ),
            _ => Box::new(0..w.instances().len()),
        };
    let mut total = 0usize;
    let mut selected = Vec::with_capacity(limit);
    for pos in candidates.filter(|&pos| matches(w, &f, &w.instances()[pos])) {
        if total >= offset && selected.len() < limit {
            selected.push(pos);
        }
        total += 1;
    }
    Ok((total, selected))
}

/// The benchmarks' hot paths: only a `vpc-id` filter (sim_pages), or none (estate_scan), so
/// the VPC index or the list gives the total and the page directly, without testing every
/// instance.
fn vpc_only_page(
    w: &World,
    req: &DescribeInstancesRequest,
    offset: usize,
    limit: usize,
) -> Option<(usize, Vec<usize>)> {
    if req.instance_ids.as_ref().is_some_and(|i| !i.is_empty()) {
        return None;
    }
    // No filter at all (an estate scan's listing): every instance, in load order.
    let Some(filters) = req.filters.as_ref().filter(|f| !f.is_empty()) else {
        let all = w.instances().len();
        let end = offset.saturating_add(limit).min(all);
        return Some((all, (offset.min(all)..end).collect()));
    };
    if filters.len() != 1 || filters[0].name != "vpc-id" {
        return None;
    }
    let mut vpcs = filters[0].values.clone();
    vpcs.dedup();
    let total: usize = vpcs
        .iter()
        .map(|v| w.instance_positions_in_vpc(v).len())
        .sum();
    let page = vpcs
        .iter()
        .flat_map(|v| w.instance_positions_in_vpc(v).iter().copied())
        .skip(offset)
        .take(limit)
        .collect();
    Some((total, page))
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

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicUsize;

    use super::*;
    use crate::sim::ScenarioSource;
    use crate::sim::dispatch;
    use crate::sim::world::{AddressStatus, Tag};
    use crate::tencent::models::Filter;

    fn world(source: ScenarioSource) -> World {
        World::from_scenario(source.load().unwrap(), 1).unwrap()
    }

    /// The answer as the simulator sends it (cached fragments).
    fn answer(w: &mut World, req: &DescribeInstancesRequest) -> String {
        let bytes = dispatch::encode_with("rid", &AtomicUsize::new(0), |out| {
            describe_instances(w, req.clone(), out)
        })
        .unwrap();
        String::from_utf8(bytes).unwrap()
    }

    /// The reference: the typed response built afresh and serialised like every other
    /// action's answer.
    fn reference(w: &World, req: &DescribeInstancesRequest) -> String {
        let (total, page) = select(w, req).unwrap();
        let typed = DescribeInstancesResponse {
            total_count: total as i64,
            instance_set: page
                .iter()
                .map(|&pos| views::instance(&w.instance_facts(pos).unwrap()))
                .collect(),
        };
        let bytes = dispatch::encode(&typed, "rid", &AtomicUsize::new(0)).unwrap();
        String::from_utf8(bytes).unwrap()
    }

    fn by_vpc(vpc: &str, offset: i64, limit: i64) -> DescribeInstancesRequest {
        DescribeInstancesRequest {
            filters: Some(vec![Filter::one("vpc-id", vpc)]),
            offset: Some(offset),
            limit: Some(limit),
            ..Default::default()
        }
    }

    #[test]
    fn pages_are_byte_for_byte_the_typed_response_first_and_cached() {
        let mut w = world(ScenarioSource::Large { instances: 250 });
        let mut requests = vec![
            DescribeInstancesRequest::default(),
            DescribeInstancesRequest {
                offset: Some(240),
                limit: Some(100),
                ..Default::default()
            },
            DescribeInstancesRequest {
                filters: Some(vec![]),
                offset: Some(300),
                ..Default::default()
            },
            DescribeInstancesRequest {
                instance_ids: Some(vec![w.instances()[7].id.clone(), "ins-nothere0".into()]),
                ..Default::default()
            },
            DescribeInstancesRequest {
                filters: Some(vec![
                    Filter::one("vpc-id", "vpc-large000"),
                    Filter::one("subnet-id", "subnet-large001"),
                ]),
                limit: Some(100),
                ..Default::default()
            },
        ];
        for offset in [0, 100, 200, 249, 250, 1000] {
            requests.push(by_vpc("vpc-large000", offset, 100));
        }
        requests.push(by_vpc("vpc-nothere0", 0, 100));
        for req in &requests {
            let expected = reference(&w, req);
            assert_eq!(answer(&mut w, req), expected, "first view: {req:?}");
            assert_eq!(answer(&mut w, req), expected, "second view: {req:?}");
            assert_eq!(answer(&mut w, req), expected, "cached: {req:?}");
        }
        let mut tutorial = world(ScenarioSource::Tutorial);
        let all = DescribeInstancesRequest {
            limit: Some(100),
            ..Default::default()
        };
        let expected = reference(&tutorial, &all);
        assert!(expected.contains("139.199.10.10"), "{expected}");
        for _ in 0..3 {
            assert_eq!(answer(&mut tutorial, &all), expected);
        }
    }

    /// Every kind of change the view shows, made after the page was cached, is in the next
    /// page — and the next page is still exactly the typed response.
    #[test]
    fn a_change_to_an_instance_or_its_addresses_shows_in_the_next_page() {
        let mut w = world(ScenarioSource::Tutorial);
        let all = DescribeInstancesRequest {
            limit: Some(100),
            ..Default::default()
        };
        let frontend = "ins-fr0ntend";
        let page = |w: &mut World| {
            let text = answer(w, &all);
            assert_eq!(text, reference(w, &all));
            let value: serde_json::Value = serde_json::from_str(&text).unwrap();
            value["Response"]["InstanceSet"]
                .as_array()
                .unwrap()
                .iter()
                .find(|i| i["InstanceId"] == frontend)
                .cloned()
                .unwrap()
        };
        // Seen, then kept: each change below meets a cached entry.
        page(&mut w);
        let before = page(&mut w);
        assert_eq!(before["InstanceName"], "frontend-1");
        w.instance_mut(frontend).unwrap().name = "renamed".into();
        assert_eq!(page(&mut w)["InstanceName"], "renamed");
        w.instance_mut(frontend).unwrap().state = "STOPPED".into();
        assert_eq!(page(&mut w)["InstanceState"], "STOPPED");
        w.instance_mut(frontend).unwrap().tags.push(Tag {
            key: "team".into(),
            value: "web".into(),
        });
        assert_eq!(page(&mut w)["Tags"][0]["Value"], "web");

        // Its EIP unbinding (still shown), unbound, bound again, its IP changed, released.
        let eip = "eip-fr0ntend";
        let ip = "139.199.10.10";
        assert_eq!(before["PublicIpAddresses"][0], ip);
        w.addresses.get_mut(eip).unwrap().status = AddressStatus::Unbinding;
        assert_eq!(page(&mut w)["PublicIpAddresses"][0], ip);
        w.addresses.get_mut(eip).unwrap().status = AddressStatus::Unbind;
        assert_eq!(page(&mut w)["PublicIpAddresses"], serde_json::Value::Null);
        w.addresses.get_mut(eip).unwrap().status = AddressStatus::Bind;
        assert_eq!(page(&mut w)["PublicIpAddresses"][0], ip);
        w.addresses.get_mut(eip).unwrap().ip = "139.199.10.11".into();
        assert_eq!(page(&mut w)["PublicIpAddresses"][0], "139.199.10.11");
        w.remove_address(eip);
        assert_eq!(page(&mut w)["PublicIpAddresses"], serde_json::Value::Null);

        // A spare EIP bound to it, then an ordinary public IP besides.
        w.set_binding("eip-spare001", Some(frontend));
        w.addresses.get_mut("eip-spare001").unwrap().status = AddressStatus::Bind;
        assert_eq!(page(&mut w)["PublicIpAddresses"][0], "119.28.20.99");
        w.instance_mut(frontend).unwrap().public_ip = Some("119.28.20.50".into());
        let after = page(&mut w);
        assert_eq!(after["PublicIpAddresses"][0], "119.28.20.50");
        assert_eq!(after["PublicIpAddresses"][1], "119.28.20.99");
        assert_eq!(after["InternetAccessible"]["PublicIpAssigned"], true);
    }
}
