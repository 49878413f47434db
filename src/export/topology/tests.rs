use std::collections::BTreeSet;

use super::*;
use crate::wizard::observed::{Address, InstanceState, NatGateway, Route, RouteTable, Subnet};

fn instance(id: &str, name: &str, subnet: &str, public_ip: Option<&str>) -> Instance {
    Instance {
        id: id.into(),
        name: name.into(),
        subnet_id: subnet.into(),
        state: InstanceState::Running,
        private_ip: Some("10.0.0.5".into()),
        public_ip: public_ip.map(Into::into),
        tags: vec![],
        agent_online: true,
    }
}

fn inventory() -> Inventory {
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
            routes: vec![],
        }],
        instances: vec![
            instance("ins-front", "frontend", "subnet-a", Some("203.0.113.5")),
            instance("ins-back", "backend", "subnet-a", Some("198.51.100.7")),
            instance("ins-none", "worker", "subnet-a", None),
        ],
        addresses: vec![Address {
            id: "eip-1".into(),
            ip: "203.0.113.5".into(),
            kind: AddressKind::Eip,
            status: "BIND".into(),
            instance_id: Some("ins-front".into()),
        }],
        ..Default::default()
    }
}

fn with_nat_route(mut inv: Inventory) -> Inventory {
    inv.nat_gateways.push(NatGateway {
        id: "nat-1".into(),
        name: "n".into(),
        state: "AVAILABLE".into(),
        eips: vec![("eip-9".into(), "192.0.2.9".into())],
        tags: vec![],
        zone: "ap-guangzhou-3".into(),
    });
    inv.route_tables[0].routes.push(Route {
        route_id: 1,
        item_id: "rti-1".into(),
        destination: "0.0.0.0/0".into(),
        gateway_type: "NAT".into(),
        gateway_id: "nat-1".into(),
        route_type: "USER".into(),
        enabled: true,
        description: String::new(),
    });
    inv
}

#[test]
fn instances_carry_badges_for_their_kind_of_public_ip() {
    let svg = render(&inventory(), &BTreeSet::new(), "before");
    assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
    assert!(svg.contains("EIP 203.0.113.5"), "{svg}");
    assert!(svg.contains("IP 198.51.100.7"), "{svg}");
    assert_eq!(svg.matches("class=\"topo-instance").count(), 3);
    assert_eq!(svg.matches(r#"class="topo-badge-eip""#).count(), 1);
    assert_eq!(svg.matches(r#"class="topo-badge-ip""#).count(), 1);
}

#[test]
fn protected_hosts_are_marked() {
    let protected = BTreeSet::from(["ins-front".to_string()]);
    let svg = render(&inventory(), &protected, "before");
    assert!(svg.contains(r#"class="topo-instance topo-protected" data-instance="ins-front""#));
    assert_eq!(svg.matches("topo-protected").count(), 1);
}

#[test]
fn a_default_route_to_the_nat_draws_an_arrow_to_it() {
    let before = render(&inventory(), &BTreeSet::new(), "before");
    assert!(!before.contains("topo-route"));
    assert!(before.contains("no default route"));
    let after = render(&with_nat_route(inventory()), &BTreeSet::new(), "after");
    assert!(after.contains("class=\"topo-route\""));
    assert!(after.contains("data-nat=\"nat-1\""));
    assert!(after.contains("192.0.2.9"));
    assert!(after.contains("0.0.0.0/0 → NAT nat-1"));
}

#[test]
fn hostile_names_are_escaped() {
    let mut inv = inventory();
    inv.instances[0].name = "<script>alert(1)</script>".into();
    inv.subnets[0].cidr = "\"><img src=x onerror=alert(1)>".into();
    let svg = render(&inv, &BTreeSet::new(), "t<itle");
    assert!(!svg.contains("<script>"));
    assert!(!svg.contains("<img"));
    assert!(svg.contains("&lt;script&gt;"));
    assert!(svg.contains("t&lt;itle"));
}

#[test]
fn a_crowded_subnet_is_summarised() {
    let mut inv = inventory();
    for n in 0..20 {
        inv.instances
            .push(instance(&format!("ins-x{n}"), "x", "subnet-a", None));
    }
    let svg = render(&inv, &BTreeSet::new(), "big");
    assert_eq!(
        svg.matches("class=\"topo-instance").count(),
        SHOWN_PER_SUBNET
    );
    assert!(svg.contains(&format!("+{} more", 23 - SHOWN_PER_SUBNET)));
}

#[test]
fn a_crowded_subnet_counts_its_instances_by_kind_and_names_its_protected_hosts() {
    let mut inv = inventory();
    for n in 0..20 {
        inv.instances
            .push(instance(&format!("ins-x{n}"), "x", "subnet-a", None));
    }
    let protected = BTreeSet::from(["ins-back".to_string()]);
    let svg = render(&inv, &protected, "big");
    assert!(svg.contains("23 instances: 1 EIP, 1 IP, 21 none"), "{svg}");
    assert!(
        svg.contains(r#"class="topo-protected-names">* backend"#),
        "{svg}"
    );
}

#[test]
fn many_route_tables_wrap_instead_of_shrinking_the_text() {
    let mut inv = inventory();
    for n in 0..10 {
        let table = format!("rtb-{n}x");
        inv.route_tables.push(RouteTable {
            id: table.clone(),
            name: table.clone(),
            main: false,
            routes: vec![],
        });
        inv.subnets.push(Subnet {
            id: format!("subnet-{n}x"),
            route_table_id: table,
            zone: "ap-guangzhou-3".into(),
            cidr: format!("10.0.{n}.0/24"),
        });
    }
    let svg = render(&inv, &BTreeSet::new(), "wide");
    let width = GAP + COLUMNS_PER_ROW as u32 * (COLUMN_WIDTH + GAP);
    assert!(svg.contains(&format!("width=\"{width}\"")), "{svg}");
    assert_eq!(svg.matches("class=\"topo-rtb\"").count(), 11);
}
