//! What changed between two inventories of the same VPC, in words, for the topology page's
//! "before and now": every difference the two pictures show (NAT gateways, route tables,
//! subnets, instances and their public addresses, including a change of kind only), plus the
//! EIPs left unbound, which the pictures do not draw. Pure; the page template escapes.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::wizard::observed::{AddressKind, Inventory};

/// Instance changes listed one by one up to this many; past it, counted per kind of change
/// with the first few named (a 10,000-instance step 4 is one line, not 10,000).
const LISTED: usize = 40;
const NAMED: usize = 5;

/// Each instance's public address as the pictures badge it: (ip, "EIP" or "ordinary").
/// One pass over the addresses: no lookup per instance (O(n) at 50,000 instances).
fn badges(inv: &Inventory) -> HashMap<&str, (&str, &'static str)> {
    let mut out: HashMap<&str, (&str, &'static str)> = HashMap::new();
    for a in &inv.addresses {
        if a.kind == AddressKind::Eip
            && let Some(i) = a.instance_id.as_deref()
        {
            out.insert(i, (a.ip.as_str(), "EIP"));
        }
    }
    for i in &inv.instances {
        if let Some(ip) = i.public_ip.as_deref() {
            out.entry(i.id.as_str()).or_insert((ip, "ordinary"));
        }
    }
    out
}

fn default_route(inv: &Inventory, table: &str) -> String {
    inv.route_table(table)
        .and_then(|t| t.default_route())
        .map_or("no default route".into(), |r| {
            format!("0.0.0.0/0 → {} {}", r.gateway_type, r.gateway_id)
        })
}

/// One sentence per difference between the two pictures: NAT gateways, route tables,
/// subnets, then instances (added, gone, moved, and their public addresses, including an
/// address that only changed kind, such as an ordinary IP that came back as an EIP), then
/// EIPs left unbound on the account.
pub fn changes(before: &Inventory, now: &Inventory) -> Vec<String> {
    let mut out = Vec::new();
    nat_changes(before, now, &mut out);
    table_and_subnet_changes(before, now, &mut out);
    let mut per_kind: BTreeMap<&'static str, Vec<String>> = BTreeMap::new();
    instance_changes(before, now, &mut per_kind);
    let total: usize = per_kind.values().map(Vec::len).sum();
    for (kind, lines) in per_kind {
        if total <= LISTED {
            out.extend(lines);
        } else {
            let named: Vec<&str> = lines.iter().take(NAMED).map(String::as_str).collect();
            out.push(format!(
                "{} instance(s): {kind} — e.g. {}",
                lines.len(),
                named.join("; ")
            ));
        }
    }
    let unbound = |inv: &Inventory| -> BTreeSet<String> {
        inv.addresses
            .iter()
            .filter(|a| a.kind == AddressKind::Eip && a.instance_id.is_none())
            .map(|a| a.ip.clone())
            .collect()
    };
    let newly_unbound = unbound(now).difference(&unbound(before)).count();
    if newly_unbound > 0 {
        out.push(format!(
            "{newly_unbound} more EIP(s) sit unbound on the account than before (not drawn; \
             Tencent Cloud charges for idle EIPs)"
        ));
    }
    out
}

fn nat_changes(before: &Inventory, now: &Inventory, out: &mut Vec<String>) {
    for nat in &now.nat_gateways {
        let ips: Vec<&str> = nat.eip_ips().collect();
        match before.nat(&nat.id) {
            None => out.push(format!("NAT gateway {} added ({})", nat.id, ips.join(", "))),
            Some(old) => {
                if old.state != nat.state {
                    out.push(format!(
                        "NAT gateway {}: {} became {}",
                        nat.id, old.state, nat.state
                    ));
                }
                let was: Vec<&str> = old.eip_ips().collect();
                if was != ips {
                    out.push(format!(
                        "NAT gateway {}: EIPs {} became {}",
                        nat.id,
                        was.join(", "),
                        ips.join(", ")
                    ));
                }
            }
        }
    }
    for nat in &before.nat_gateways {
        if now.nat(&nat.id).is_none() {
            out.push(format!("NAT gateway {} is gone", nat.id));
        }
    }
}

fn table_and_subnet_changes(before: &Inventory, now: &Inventory, out: &mut Vec<String>) {
    for table in &now.route_tables {
        if before.route_table(&table.id).is_none() {
            out.push(format!("Route table {} added", table.id));
            continue;
        }
        let (was, is) = (
            default_route(before, &table.id),
            default_route(now, &table.id),
        );
        if was != is {
            out.push(format!("Route table {}: {was} became {is}", table.id));
        }
    }
    for table in &before.route_tables {
        if now.route_table(&table.id).is_none() {
            out.push(format!("Route table {} is gone", table.id));
        }
    }
    for subnet in &now.subnets {
        match before.subnet(&subnet.id) {
            None => out.push(format!("Subnet {} added", subnet.id)),
            Some(old) if old.route_table_id != subnet.route_table_id => out.push(format!(
                "Subnet {} moved from route table {} to {}",
                subnet.id, old.route_table_id, subnet.route_table_id
            )),
            Some(_) => {}
        }
    }
    for subnet in &before.subnets {
        if now.subnet(&subnet.id).is_none() {
            out.push(format!("Subnet {} is gone", subnet.id));
        }
    }
}

fn instance_changes(
    before: &Inventory,
    now: &Inventory,
    out: &mut BTreeMap<&'static str, Vec<String>>,
) {
    let (was_badges, now_badges) = (badges(before), badges(now));
    let old_by_id: HashMap<&str, _> = before
        .instances
        .iter()
        .map(|i| (i.id.as_str(), i))
        .collect();
    let now_ids: BTreeSet<&str> = now.instances.iter().map(|i| i.id.as_str()).collect();
    let mut push = |kind: &'static str, line: String| out.entry(kind).or_default().push(line);
    for i in &now.instances {
        let who = format!("{} ({})", i.id, i.name);
        let Some(old) = old_by_id.get(i.id.as_str()) else {
            push("added", format!("{who} added"));
            continue;
        };
        if old.subnet_id != i.subnet_id {
            push(
                "moved to another subnet",
                format!("{who} moved from {} to {}", old.subnet_id, i.subnet_id),
            );
        }
        match (was_badges.get(i.id.as_str()), now_badges.get(i.id.as_str())) {
            (Some((was, _)), None) => push(
                "no longer have a public IP",
                format!("{who} no longer has public IP {was}"),
            ),
            (None, Some((is, _))) => {
                push("gained a public IP", format!("{who} gained public IP {is}"))
            }
            (Some((was, _)), Some((is, _))) if was != is => push(
                "public IP changed",
                format!("{who} public IP {was} became {is}"),
            ),
            (Some((ip, was)), Some((_, is))) if was != is => push(
                "public IP changed kind",
                format!("{who}: public IP {ip} was {was}, is now {is}"),
            ),
            _ => {}
        }
    }
    for old in &before.instances {
        if !now_ids.contains(old.id.as_str()) {
            push("gone", format!("{} ({}) is gone", old.id, old.name));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wizard::observed::{Instance, InstanceState, NatGateway, Route, RouteTable, Subnet};

    fn inventory(public_ip: Option<&str>, nat: bool) -> Inventory {
        let route = |gateway_type: &str, gateway_id: &str| Route {
            route_id: 1,
            item_id: "rti-1".into(),
            destination: "0.0.0.0/0".into(),
            gateway_type: gateway_type.into(),
            gateway_id: gateway_id.into(),
            route_type: "USER".into(),
            enabled: true,
            description: String::new(),
        };
        Inventory {
            vpc_id: "vpc-1".into(),
            subnets: vec![Subnet {
                id: "subnet-a".into(),
                route_table_id: "rtb-1".into(),
                zone: "ap-guangzhou-3".into(),
                cidr: "10.0.1.0/24".into(),
            }],
            route_tables: vec![RouteTable {
                id: "rtb-1".into(),
                name: "default".into(),
                main: true,
                routes: if nat {
                    vec![route("NAT", "nat-1")]
                } else {
                    vec![]
                },
            }],
            instances: vec![Instance {
                id: "ins-1".into(),
                name: "api".into(),
                subnet_id: "subnet-a".into(),
                state: InstanceState::Running,
                private_ip: Some("10.0.1.5".into()),
                public_ip: public_ip.map(Into::into),
                tags: vec![],
                agent_online: true,
            }],
            nat_gateways: if nat {
                vec![NatGateway {
                    id: "nat-1".into(),
                    name: "egress".into(),
                    state: "AVAILABLE".into(),
                    eips: vec![("eip-n".into(), "43.0.0.1".into())],
                    tags: vec![],
                    zone: "ap-guangzhou-3".into(),
                }]
            } else {
                vec![]
            },
            ..Inventory::default()
        }
    }

    #[test]
    fn a_finished_rollout_reads_as_nat_added_route_changed_and_public_ip_removed() {
        let before = inventory(Some("119.0.0.1"), false);
        let now = inventory(None, true);
        assert_eq!(
            changes(&before, &now),
            [
                "NAT gateway nat-1 added (43.0.0.1)",
                "Route table rtb-1: no default route became 0.0.0.0/0 → NAT nat-1",
                "ins-1 (api) no longer has public IP 119.0.0.1",
            ]
        );
    }

    #[test]
    fn an_ordinary_ip_that_came_back_as_an_eip_is_a_change() {
        let before = inventory(Some("119.0.0.1"), false);
        let mut now = inventory(None, false);
        now.addresses.push(crate::wizard::observed::Address {
            id: "eip-x".into(),
            ip: "119.0.0.1".into(),
            kind: AddressKind::Eip,
            status: "BIND".into(),
            instance_id: Some("ins-1".into()),
        });
        assert_eq!(
            changes(&before, &now),
            ["ins-1 (api): public IP 119.0.0.1 was ordinary, is now EIP"]
        );
    }

    #[test]
    fn at_scale_instance_changes_are_counted_per_kind_and_unbound_eips_named() {
        let mut before = inventory(Some("119.0.0.1"), false);
        let template = before.instances[0].clone();
        for n in 0..100 {
            let mut i = template.clone();
            i.id = format!("ins-{n}x");
            i.public_ip = Some(format!("119.0.1.{n}"));
            before.instances.push(i);
        }
        let mut now = before.clone();
        for i in &mut now.instances {
            i.public_ip = None;
        }
        now.addresses.push(crate::wizard::observed::Address {
            id: "eip-kept".into(),
            ip: "119.0.1.7".into(),
            kind: AddressKind::Eip,
            status: "UNBIND".into(),
            instance_id: None,
        });
        let c = changes(&before, &now);
        assert_eq!(c.len(), 2, "{c:?}");
        assert!(
            c[0].starts_with("101 instance(s): no longer have a public IP — e.g. ins-1 (api)"),
            "{c:?}"
        );
        assert!(c[1].starts_with("1 more EIP(s) sit unbound"), "{c:?}");
    }

    #[test]
    fn an_unchanged_vpc_has_no_changes() {
        let inv = inventory(Some("119.0.0.1"), false);
        assert!(changes(&inv, &inv).is_empty());
    }
}
