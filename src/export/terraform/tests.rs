use super::*;

fn sample() -> RunResources {
    RunResources {
        run_id: "run-1".into(),
        nat: Some(NatResource {
            id: "nat-abc123".into(),
            name: "natpilot-egress".into(),
            vpc_id: "vpc-xyz".into(),
            zone: Some("ap-guangzhou-3".into()),
            bandwidth: Some(100),
            max_concurrent: Some(1_000_000),
            eips: vec![
                EipResource {
                    id: "eip-1".into(),
                    ip: "203.0.113.10".into(),
                    name: None,
                },
                EipResource {
                    id: "eip-2".into(),
                    ip: "203.0.113.11".into(),
                    name: Some("b".into()),
                },
            ],
        }),
        routes: vec![RouteEntryResource {
            route_table_id: "rtb-default".into(),
            route_id: 4242,
            destination: "0.0.0.0/0".into(),
            next_type: "NAT".into(),
            next_hub: "nat-abc123".into(),
            description: "natpilot run-1".into(),
        }],
        snat_rules: vec![],
        further: vec![],
    }
}

#[test]
fn snat_rules_are_exported_with_the_providers_import_ids() {
    let mut res = sample();
    res.snat_rules = vec![
        SnatResource {
            id: "snat-1".into(),
            resource_type: "NETWORKINTERFACE".into(),
            resource_id: "ins-worker01".into(),
            private_ip: "10.0.2.21".into(),
            public_ips: vec!["203.0.113.11".into()],
            description: "np run-1 ins-worker01".into(),
        },
        SnatResource {
            id: "snat-2".into(),
            resource_type: "SUBNET".into(),
            resource_id: "subnet-app".into(),
            private_ip: "10.0.2.0/24".into(),
            public_ips: vec!["203.0.113.10".into()],
            description: "np run-1 subnet-app".into(),
        },
    ];
    let tf = render(&res);
    assert!(
        tf.contains("resource \"tencentcloud_nat_gateway_snat\" \"natpilot_ins-worker01\""),
        "{tf}"
    );
    assert!(
        tf.contains("instance_private_ip_addr = \"10.0.2.21\""),
        "{tf}"
    );
    assert!(
        tf.contains("public_ip_addr = [tencentcloud_eip.nat_eip_2.public_ip]"),
        "{tf}"
    );
    assert!(tf.contains("subnet_cidr_block  = \"10.0.2.0/24\""), "{tf}");
    assert!(tf.contains("id = \"nat-abc123#ins-worker01\""), "{tf}");
    assert!(tf.contains("id = \"nat-abc123#subnet-app\""), "{tf}");
    assert!(tf.contains("terraform import tencentcloud_nat_gateway_snat.natpilot_subnet-app nat-abc123#subnet-app"), "{tf}");
}

#[test]
fn export_names_every_resource_with_its_import_id() {
    let tf = render(&sample());
    assert!(
        tf.contains("import {\n  to = tencentcloud_nat_gateway.natpilot\n  id = \"nat-abc123\"\n}"),
        "{tf}"
    );
    assert!(
        tf.contains("to = tencentcloud_eip.nat_eip_1\n  id = \"eip-1\""),
        "{tf}"
    );
    assert!(
        tf.contains("to = tencentcloud_eip.nat_eip_2\n  id = \"eip-2\""),
        "{tf}"
    );
    assert!(
        tf.contains(
            "to = tencentcloud_route_table_entry.natpilot_rtb-default\n  id = \"4242.rtb-default\""
        ),
        "{tf}"
    );
    assert!(tf.contains(
        "#   terraform import tencentcloud_route_table_entry.natpilot_rtb-default 4242.rtb-default"
    ));
}

#[test]
fn export_describes_the_gateway_and_points_the_route_at_it() {
    let tf = render(&sample());
    assert!(tf.contains("resource \"tencentcloud_nat_gateway\" \"natpilot\" {"));
    assert!(tf.contains("  vpc_id           = \"vpc-xyz\""));
    assert!(tf.contains("  bandwidth        = 100"));
    assert!(tf.contains("  max_concurrent   = 1000000"));
    assert!(tf.contains(
        "  assigned_eip_set = [tencentcloud_eip.nat_eip_1.public_ip, tencentcloud_eip.nat_eip_2.public_ip]"
    ));
    assert!(tf.contains("  next_hub               = tencentcloud_nat_gateway.natpilot.id"));
    assert!(tf.contains("  destination_cidr_block = \"0.0.0.0/0\""));
}

#[test]
fn hostile_names_cannot_inject_configuration() {
    let mut res = sample();
    let nat = res.nat.as_mut().unwrap();
    nat.name = "x\"\n  evil = \"${file(\"/etc/passwd\")}%{ if true }".into();
    res.routes[0].description = "a\\b\nc".into();
    let tf = render(&res);
    assert!(
        tf.contains(
            r#"  name             = "x\"\n  evil = \"$${file(\"/etc/passwd\")}%%{ if true }""#
        ),
        "{tf}"
    );
    assert!(
        tf.contains(r#"  description            = "a\\b\nc""#),
        "{tf}"
    );
    assert!(
        !tf.contains("\n  evil"),
        "a newline escaped the string: {tf}"
    );
}

#[test]
fn a_run_without_resources_exports_only_a_header() {
    let tf = render(&RunResources {
        run_id: "r".into(),
        ..Default::default()
    });
    assert!(!tf.contains("resource "));
    assert!(!tf.contains("import {"));
}

#[test]
fn a_route_to_something_other_than_our_nat_keeps_the_literal_next_hop() {
    let mut res = sample();
    res.routes[0].next_hub = "nat-other".into();
    let tf = render(&res);
    assert!(tf.contains("  next_hub               = \"nat-other\""));
}

#[test]
fn resources_come_from_the_gateway_tagged_with_the_run_and_its_routes() {
    use crate::wizard::observed::{Inventory, NatGateway, Route, RouteTable, SnatRule};
    let route = |id: i64, gateway: &str| Route {
        route_id: id,
        item_id: format!("rti-{id}"),
        destination: "0.0.0.0/0".into(),
        gateway_type: "NAT".into(),
        gateway_id: gateway.into(),
        route_type: "USER".into(),
        enabled: true,
        description: String::new(),
    };
    let nat = |id: &str, tag: &str| NatGateway {
        id: id.into(),
        name: format!("{id}-name"),
        state: "AVAILABLE".into(),
        eips: vec![(format!("eip-{id}"), "192.0.2.1".into())],
        tags: vec![("natpilot:run".into(), tag.into())],
        zone: "ap-guangzhou-3".into(),
    };
    let inventory = Inventory {
        vpc_id: "vpc-1".into(),
        route_tables: vec![
            RouteTable {
                id: "rtb-a".into(),
                name: "a".into(),
                main: true,
                routes: vec![route(7, "nat-ours")],
            },
            RouteTable {
                id: "rtb-b".into(),
                name: "b".into(),
                main: false,
                routes: vec![route(8, "nat-other")],
            },
        ],
        nat_gateways: vec![nat("nat-other", "another-run"), nat("nat-ours", "run-42")],
        snat_rules: vec![
            SnatRule {
                nat_id: "nat-ours".into(),
                id: "snat-ours".into(),
                resource_type: "NETWORKINTERFACE".into(),
                resource_id: "ins-1".into(),
                private_ip: "10.0.0.1".into(),
                public_ips: vec!["192.0.2.1".into()],
                description: "np run-42 ins-1".into(),
            },
            SnatRule {
                nat_id: "nat-ours".into(),
                id: "snat-theirs".into(),
                resource_type: "SUBNET".into(),
                resource_id: "subnet-9".into(),
                private_ip: "10.9.0.0/24".into(),
                public_ips: vec!["192.0.2.1".into()],
                description: "made by hand".into(),
            },
        ],
        ..Default::default()
    };
    let res = from_inventory("run-42", &inventory);
    let n = res.nat.as_ref().expect("the run's gateway");
    assert_eq!(n.id, "nat-ours");
    assert_eq!(n.vpc_id, "vpc-1");
    assert_eq!(n.eips[0].id, "eip-nat-ours");
    assert_eq!(res.routes.len(), 1);
    assert_eq!(res.routes[0].route_table_id, "rtb-a");
    assert_eq!(res.routes[0].route_id, 7);
    assert!(render(&res).contains("id = \"7.rtb-a\""));
    // Only the run's own SNAT rules (by the run id in their description).
    assert_eq!(res.snat_rules.len(), 1);
    assert_eq!(res.snat_rules[0].id, "snat-ours");

    let none = from_inventory("run-without-gateway", &inventory);
    assert!(none.nat.is_none() && none.routes.is_empty());
}

#[test]
fn a_further_gateway_is_exported_with_labels_of_its_own() {
    use crate::wizard::observed::{Inventory, NatGateway, Route, RouteTable, SnatRule};
    let route = |id: i64, gateway: &str| Route {
        route_id: id,
        item_id: format!("rti-{id}"),
        destination: "0.0.0.0/0".into(),
        gateway_type: "NAT".into(),
        gateway_id: gateway.into(),
        route_type: "USER".into(),
        enabled: true,
        description: String::new(),
    };
    let nat = |id: &str, tag: &str, ip: &str| NatGateway {
        id: id.into(),
        name: format!("{id}-name"),
        state: "AVAILABLE".into(),
        eips: vec![(format!("eip-{id}"), ip.into())],
        tags: vec![("natpilot:run".into(), tag.into())],
        zone: "ap-guangzhou-3".into(),
    };
    let table = |id: &str, gateway: &str, route_id: i64| RouteTable {
        id: id.into(),
        name: id.into(),
        main: false,
        routes: vec![route(route_id, gateway)],
    };
    let inventory = Inventory {
        vpc_id: "vpc-1".into(),
        route_tables: vec![table("rtb-a", "nat-one", 7), table("rtb-b", "nat-two", 8)],
        nat_gateways: vec![
            nat("nat-one", "run-42", "192.0.2.1"),
            nat("nat-two", "run-42-nat2", "192.0.2.2"),
        ],
        snat_rules: vec![SnatRule {
            nat_id: "nat-two".into(),
            id: "snat-two".into(),
            resource_type: "NETWORKINTERFACE".into(),
            resource_id: "ins-2".into(),
            private_ip: "10.0.1.2".into(),
            public_ips: vec!["192.0.2.2".into()],
            description: "np run-42 ins-2".into(),
        }],
        ..Default::default()
    };
    let res = from_inventory("run-42", &inventory);
    assert_eq!(res.nat.as_ref().unwrap().id, "nat-one");
    assert_eq!(res.routes.len(), 1);
    assert_eq!(res.further.len(), 1);
    assert_eq!(res.further[0].nat.id, "nat-two");
    assert_eq!(res.further[0].routes[0].route_table_id, "rtb-b");
    assert_eq!(res.further[0].snat_rules[0].id, "snat-two");
    let tf = render(&res);
    for want in [
        "resource \"tencentcloud_nat_gateway\" \"natpilot\" {",
        "resource \"tencentcloud_nat_gateway\" \"natpilot_2\" {",
        "resource \"tencentcloud_eip\" \"nat2_eip_1\" {",
        "next_hub               = tencentcloud_nat_gateway.natpilot_2.id",
        "nat_gateway_id = tencentcloud_nat_gateway.natpilot_2.id",
        "public_ip_addr = [tencentcloud_eip.nat2_eip_1.public_ip]",
        "to = tencentcloud_nat_gateway.natpilot_2\n  id = \"nat-two\"",
        "id = \"8.rtb-b\"",
        "id = \"nat-two#ins-2\"",
    ] {
        assert!(tf.contains(want), "{want} missing from:\n{tf}");
    }
}
