//! What changed between two inventories of the same VPC, in words, for the topology page's
//! "before and now": NAT gateways added or gone, default routes changed, public IPs removed,
//! changed or added. Pure; the strings are escaped by the page template.

use crate::wizard::observed::{Instance, Inventory};

fn public_ip(inv: &Inventory, i: &Instance) -> Option<String> {
    inv.eip_of(i)
        .map(|a| a.ip.clone())
        .or_else(|| i.public_ip.clone())
}

fn default_route(inv: &Inventory, table: &str) -> String {
    inv.route_table(table)
        .and_then(|t| t.default_route())
        .map_or("no default route".into(), |r| {
            format!("0.0.0.0/0 → {} {}", r.gateway_type, r.gateway_id)
        })
}

/// One sentence per difference, NAT gateways first, then route tables, then instances.
pub fn changes(before: &Inventory, now: &Inventory) -> Vec<String> {
    let mut out = Vec::new();
    for nat in &now.nat_gateways {
        if before.nat(&nat.id).is_none() {
            let ips: Vec<&str> = nat.eip_ips().collect();
            out.push(format!("NAT gateway {} added ({})", nat.id, ips.join(", ")));
        }
    }
    for nat in &before.nat_gateways {
        if now.nat(&nat.id).is_none() {
            out.push(format!("NAT gateway {} is gone", nat.id));
        }
    }
    for table in &now.route_tables {
        let (was, is) = (
            default_route(before, &table.id),
            default_route(now, &table.id),
        );
        if was != is {
            out.push(format!("Route table {}: {was} became {is}", table.id));
        }
    }
    for i in &now.instances {
        let Some(old) = before.instance(&i.id) else {
            continue;
        };
        match (public_ip(before, old), public_ip(now, i)) {
            (Some(was), None) => out.push(format!(
                "{} ({}) no longer has public IP {was}",
                i.id, i.name
            )),
            (None, Some(is)) => out.push(format!("{} ({}) gained public IP {is}", i.id, i.name)),
            (Some(was), Some(is)) if was != is => {
                out.push(format!("{} ({}) public IP {was} became {is}", i.id, i.name))
            }
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wizard::observed::{InstanceState, NatGateway, Route, RouteTable, Subnet};

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
    fn an_unchanged_vpc_has_no_changes() {
        let inv = inventory(Some("119.0.0.1"), false);
        assert!(changes(&inv, &inv).is_empty());
    }
}
