use std::collections::{BTreeMap, BTreeSet};

use super::*;
use crate::wizard::ids::NatState;
use crate::wizard::input::RouteInput;
use crate::wizard::observed::*;

fn inst(id: &str, subnet: &str, private: &str, public_ip: Option<&str>) -> Instance {
    Instance {
        id: id.into(),
        name: format!("{id}-name"),
        subnet_id: subnet.into(),
        state: InstanceState::Running,
        private_ip: Some(private.into()),
        public_ip: public_ip.map(Into::into),
        tags: vec![],
        agent_online: true,
    }
}

fn eip(id: &str, ip: &str, holder: Option<&str>) -> Address {
    Address {
        id: id.into(),
        ip: ip.into(),
        kind: AddressKind::Eip,
        status: if holder.is_some() { "BIND" } else { "UNBIND" }.into(),
        instance_id: holder.map(Into::into),
    }
}

/// Two subnets on one route table (no default route yet); `a1` has an ordinary IP, `a2` an
/// EIP, `b1` nothing; the gateway `nat-1` has `own` EIPs.
fn world(own: usize) -> Inventory {
    Inventory {
        vpc_id: "vpc-1".into(),
        subnets: vec![
            Subnet {
                id: "subnet-a".into(),
                route_table_id: "rtb-1".into(),
                zone: "z".into(),
                cidr: "10.0.1.0/24".into(),
            },
            Subnet {
                id: "subnet-b".into(),
                route_table_id: "rtb-1".into(),
                zone: "z".into(),
                cidr: "10.0.2.0/24".into(),
            },
        ],
        route_tables: vec![RouteTable {
            id: "rtb-1".into(),
            name: "main".into(),
            main: true,
            routes: vec![],
        }],
        instances: vec![
            inst("ins-a1", "subnet-a", "10.0.1.1", Some("43.0.0.1")),
            inst("ins-a2", "subnet-a", "10.0.1.2", Some("43.0.0.2")),
            inst("ins-b1", "subnet-b", "10.0.2.1", None),
        ],
        addresses: vec![eip("eip-a2", "43.0.0.2", Some("ins-a2"))],
        nat_gateways: vec![NatGateway {
            id: "nat-1".into(),
            name: "egress".into(),
            state: NatState::Available,
            eips: (0..own)
                .map(|n| (format!("eip-n{n}"), format!("43.9.0.{n}")))
                .collect(),
            tags: vec![],
            zone: "z".into(),
        }],
        quota: EipQuota { limit: 20, used: 3 },
        ..Inventory::default()
    }
}

fn baseline(inv: &Inventory) -> BTreeMap<String, Egress> {
    inv.instances
        .iter()
        .filter_map(|i| {
            let ip = inv
                .eip_of(i)
                .map(|a| a.ip.clone())
                .or_else(|| i.public_ip.clone())?;
            Some((i.id.clone(), Egress::Ip { ip }))
        })
        .collect()
}

fn marks(ids: &[&str]) -> KeepMarks {
    KeepMarks {
        instances: ids.iter().map(|s| (*s).to_owned()).collect(),
        ..KeepMarks::default()
    }
}

fn planned(inv: &Inventory, m: &KeepMarks, protected: &BTreeSet<String>) -> Plan {
    let mut plan = Plan::default();
    let nat: Gateways = "nat-1".into();
    let routed = routed_after(inv, &nat, &RouteInput::default());
    plan_into(&mut plan, inv, &nat, m, protected, &routed);
    plan
}

fn plan_into(
    plan: &mut Plan,
    inv: &Inventory,
    nat: &Gateways,
    m: &KeepMarks,
    protected: &BTreeSet<String>,
    routed: &BTreeSet<String>,
) {
    super::plan(
        plan,
        inv,
        nat,
        "run-1",
        &baseline(inv),
        m,
        protected,
        routed,
    );
}

#[test]
fn an_ordinary_ip_is_converted_then_moved_and_others_are_pinned_to_the_gateway_eips() {
    let inv = world(1);
    let plan = planned(&inv, &marks(&["ins-a1", "ins-a2"]), &BTreeSet::new());
    assert!(!plan.is_blocked(), "{:?}", plan.conflicts);
    let kinds: Vec<String> = plan
        .changes()
        .map(|c| match c {
            Change::TransformAddress { instance_id, .. } => format!("transform {instance_id}"),
            Change::DisassociateEip { instance_id, .. } => format!("unbind {instance_id}"),
            Change::AssociateNatEip { ip, .. } => format!("bind {ip}"),
            Change::CreateSnatRule {
                resource_id,
                public_ips,
                ..
            } => format!("rule {resource_id} {}", public_ips.join(",")),
            other => format!("{other:?}"),
        })
        .collect();
    assert_eq!(
        kinds,
        [
            // subnet-a keeps all its instances; subnet-b none, so it is pinned to the
            // gateway's own EIP before any kept EIP reaches the gateway.
            "rule subnet-b 43.9.0.0",
            "transform ins-a1",
            "unbind ins-a1",
            "bind 43.0.0.1",
            "rule ins-a1 43.0.0.1",
            "unbind ins-a2",
            "bind 43.0.0.2",
            "rule ins-a2 43.0.0.2",
        ]
    );
    // Each rule's undo deletes it; each bind's undo unbinds it; the conversion cannot be undone.
    assert!(plan.items.iter().all(|p| match (&p.change, &p.undo) {
        (
            Change::CreateSnatRule { description, .. },
            Undo::DeleteSnatRule { description: d, .. },
        ) => d == description && description.len() <= 60,
        (Change::AssociateNatEip { ip, .. }, Undo::DisassociateNatEip { ip: i, .. }) => i == ip,
        (Change::TransformAddress { .. }, Undo::CannotUndo { .. }) => true,
        (Change::DisassociateEip { .. }, Undo::ReassociateEip { .. }) => true,
        _ => false,
    }));
    assert!(
        plan.warnings
            .iter()
            .any(|w| w.contains("No instance is without egress"))
    );
}

#[test]
fn a_plan_needing_more_eips_than_a_gateway_holds_is_blocked() {
    let inv = world(9);
    let plan = planned(&inv, &marks(&["ins-a1", "ins-a2"]), &BTreeSet::new());
    let c = plan
        .conflicts
        .iter()
        .find(|c| c.subject == "nat_eips")
        .expect("blocked by the EIP limit");
    assert!(
        c.message.contains("needs 11 EIPs") && c.message.contains("at most 10"),
        "{}",
        c.message
    );
    // One kept IP fits.
    let plan = planned(&inv, &marks(&["ins-a2"]), &BTreeSet::new());
    assert!(!plan.is_blocked(), "{:?}", plan.conflicts);
}

#[test]
fn a_plan_needing_more_snat_rules_than_a_gateway_holds_is_blocked() {
    let mut inv = world(1);
    inv.snat_rules = (0..199)
        .map(|n| SnatRule {
            nat_id: "nat-1".into(),
            id: format!("snat-{n}"),
            resource_type: "SUBNET".into(),
            resource_id: format!("subnet-x{n}"),
            private_ip: "10.9.0.0/24".into(),
            public_ips: vec!["43.9.0.0".into()],
            description: "someone else's".into(),
        })
        .collect();
    let plan = planned(&inv, &marks(&["ins-a2"]), &BTreeSet::new());
    assert!(
        plan.conflicts.iter().any(|c| c.subject == "snat_rules"),
        "{:?}",
        plan.conflicts
    );
}

#[test]
fn what_cannot_be_kept_is_refused_with_the_reason() {
    let mut inv = world(1);
    inv.unmovable_eips.push(UnmovableEip {
        ip: "43.0.0.2".into(),
        reason: "it is billed BANDWIDTH_PREPAID_BY_MONTH".into(),
    });
    let protected: BTreeSet<String> = ["ins-a1".to_owned()].into();
    let plan = planned(&inv, &marks(&["ins-a1", "ins-a2", "ins-b1"]), &protected);
    let about = |s: &str| {
        plan.conflicts
            .iter()
            .find(|c| c.subject == s)
            .map(|c| c.message.clone())
            .unwrap_or_default()
    };
    assert!(
        about("ins-a1").contains("also protected"),
        "{:?}",
        plan.conflicts
    );
    assert!(about("ins-b1").contains("no public IP of its own"));
    assert!(about("43.0.0.2").contains("BANDWIDTH_PREPAID_BY_MONTH"));
    // A table the step does not route (a system default route) cannot keep anyone.
    let mut inv = world(1);
    inv.route_tables[0].routes.push(Route {
        route_id: 1,
        item_id: String::new(),
        destination: "0.0.0.0/0".into(),
        gateway_type: crate::wizard::ids::GatewayType::from_wire("CCN"),
        gateway_id: "ccn-1".into(),
        route_type: "CCN".into(),
        enabled: true,
        description: String::new(),
    });
    let plan = planned(&inv, &marks(&["ins-a2"]), &BTreeSet::new());
    assert!(
        plan.conflicts
            .iter()
            .any(|c| c.subject == "ins-a2" && c.message.contains("route table")),
        "{:?}",
        plan.conflicts
    );
}

#[test]
fn a_shared_egress_ip_is_found_and_kept_with_subnet_rules() {
    let inv = world(1);
    // Everyone leaves through a2's EIP today (a2 is the egress proxy).
    let mut base = BTreeMap::new();
    for i in &inv.instances {
        base.insert(
            i.id.clone(),
            Egress::Ip {
                ip: "43.0.0.2".into(),
            },
        );
    }
    let shared = shared_egress(&inv, &base);
    assert_eq!(shared.len(), 1);
    assert_eq!(shared[0].ip, "43.0.0.2");
    assert_eq!(shared[0].instances.len(), 3);
    assert_eq!(shared[0].holder.as_deref(), Some("ins-a2"));

    // Not kept: the plan warns that it will be retired.
    let nat: Gateways = "nat-1".into();
    let routed = routed_after(&inv, &nat, &RouteInput::default());
    let mut plan = Plan::default();
    super::plan(
        &mut plan,
        &inv,
        &nat,
        "run-1",
        &base,
        &KeepMarks::default(),
        &BTreeSet::new(),
        &routed,
    );
    assert!(plan.changes().next().is_none());
    assert!(
        plan.warnings
            .iter()
            .any(|w| w.contains("3 instances leave through 43.0.0.2 today")),
        "{:?}",
        plan.warnings
    );

    // Kept: moved onto the gateway, one SUBNET rule per subnet that leaves through it.
    let m = KeepMarks {
        shared_ips: ["43.0.0.2".to_owned()].into(),
        ..KeepMarks::default()
    };
    let mut plan = Plan::default();
    super::plan(
        &mut plan,
        &inv,
        &nat,
        "run-1",
        &base,
        &m,
        &BTreeSet::new(),
        &routed,
    );
    assert!(!plan.is_blocked(), "{:?}", plan.conflicts);
    let rules: Vec<(String, String)> = plan
        .changes()
        .filter_map(|c| match c {
            Change::CreateSnatRule {
                resource_type,
                resource_id,
                public_ips,
                ..
            } => {
                assert_eq!(public_ips, &["43.0.0.2".to_owned()]);
                Some((resource_type.clone(), resource_id.clone()))
            }
            _ => None,
        })
        .collect();
    assert_eq!(
        rules,
        [
            ("SUBNET".to_owned(), "subnet-a".to_owned()),
            ("SUBNET".to_owned(), "subnet-b".to_owned())
        ]
    );
    let check = EgressCheck::from_step3(&inv, &plan);
    let nat_ips: BTreeSet<String> = ["43.9.0.0".to_owned(), "43.0.0.2".to_owned()].into();
    let through = |ip: &str| Egress::Ip { ip: ip.into() };
    assert!(check.passes("ins-b1", Some(&through("43.0.0.2")), &nat_ips));
    assert!(!check.passes("ins-b1", Some(&through("43.9.0.0")), &nat_ips));
}

#[test]
fn the_egress_check_demands_the_kept_ip_and_refuses_it_to_others() {
    let inv = world(1);
    let plan = planned(&inv, &marks(&["ins-a2"]), &BTreeSet::new());
    let check = EgressCheck::from_step3(&inv, &plan);
    let nat_ips: BTreeSet<String> = ["43.9.0.0".to_owned(), "43.0.0.2".to_owned()].into();
    let through = |ip: &str| Egress::Ip { ip: ip.into() };
    assert!(check.passes("ins-a2", Some(&through("43.0.0.2")), &nat_ips));
    assert!(!check.passes("ins-a2", Some(&through("43.9.0.0")), &nat_ips));
    assert!(check.passes("ins-b1", Some(&through("43.9.0.0")), &nat_ips));
    assert!(
        !check.passes("ins-b1", Some(&through("43.0.0.2")), &nat_ips),
        "a kept IP is not anyone else's"
    );
    assert!(!check.passes("ins-b1", None, &nat_ips));
}

#[test]
fn marks_decode_strictly_and_the_tag_keeps() {
    use crate::store::keep_egress::{Mark, MarkKind};
    let bad = [Mark {
        kind: MarkKind::Rule,
        value: r#"{"by":"colour"}"#.into(),
        marked_by: "alice".into(),
    }];
    assert!(KeepMarks::from_marks(&bad).is_err());
    let mut i = inst("ins-x", "subnet-a", "10.0.1.9", None);
    assert_eq!(KeepMarks::default().reason(&i), None);
    i.tags.push((KEEP_TAG.0.into(), "TRUE".into()));
    assert!(
        KeepMarks::default()
            .reason(&i)
            .unwrap()
            .contains(KEEP_TAG.0)
    );
}
