use super::*;

fn demand(tables: &[&str], eips: usize, rules: usize) -> Demand {
    Demand {
        tables: tables.iter().map(|t| (*t).to_owned()).collect(),
        eips,
        rules,
    }
}

fn room(first_own_eips: usize, others: &[&str]) -> Room {
    Room {
        first_own_eips,
        first_rules_taken: 0,
        others: others.iter().map(|o| (*o).to_owned()).collect(),
        vpc_id: "vpc-1".into(),
    }
}

fn strs(v: &[&[&str]]) -> Vec<Vec<String>> {
    v.iter()
        .map(|t| t.iter().map(|s| (*s).to_owned()).collect())
        .collect()
}

#[test]
fn one_gateway_carries_everything_when_it_can() {
    let d = [
        demand(&["rtb-a"], 5, 6),
        demand(&["rtb-b"], 4, 5),
        demand(&["rtb-c"], 0, 1),
    ];
    // 9 kept + 1 own = 10: exactly one gateway's worth.
    assert_eq!(
        assign(&d, &room(1, &[])).unwrap(),
        strs(&[&["rtb-a", "rtb-b", "rtb-c"]])
    );
}

#[test]
fn twelve_kept_ips_in_two_tables_need_two_gateways() {
    let d = [
        demand(&["rtb-a"], 6, 7),
        demand(&["rtb-b"], 6, 7),
        demand(&["rtb-c"], 0, 1),
    ];
    let got = assign(&d, &room(1, &[])).unwrap();
    assert_eq!(got, strs(&[&["rtb-a", "rtb-c"], &["rtb-b"]]));
}

#[test]
fn the_first_gateways_own_eips_leave_less_room() {
    // The first gateway has 5 EIPs of its own: room for 5 kept; a further one has room for 9.
    let d = [demand(&["rtb-a"], 8, 8), demand(&["rtb-b"], 4, 4)];
    let got = assign(&d, &room(5, &[])).unwrap();
    assert_eq!(got, strs(&[&["rtb-b"], &["rtb-a"]]));
}

#[test]
fn snat_rules_alone_can_need_a_second_gateway() {
    let d = [demand(&["rtb-a"], 1, 150), demand(&["rtb-b"], 1, 150)];
    let got = assign(&d, &room(1, &[])).unwrap();
    assert_eq!(got.len(), 2);
    let mut r = room(1, &[]);
    r.first_rules_taken = 60;
    let got = assign(&[demand(&["rtb-a"], 1, 150)], &r).unwrap();
    assert_eq!(got, strs(&[&[], &["rtb-a"]]));
}

#[test]
fn tables_sharing_a_kept_ip_stay_together() {
    let d = [demand(&["rtb-a", "rtb-b"], 7, 9), demand(&["rtb-c"], 6, 6)];
    let got = assign(&d, &room(1, &[])).unwrap();
    assert_eq!(got, strs(&[&["rtb-a", "rtb-b"], &["rtb-c"]]));
}

#[test]
fn more_than_three_gateways_is_a_blocker_in_numbers() {
    let d = [
        demand(&["rtb-a"], 9, 9),
        demand(&["rtb-b"], 9, 9),
        demand(&["rtb-c"], 9, 9),
        demand(&["rtb-d"], 1, 1),
    ];
    let err = assign(&d, &room(1, &[])).unwrap_err();
    assert!(err.contains("keeping 28 egress IPs"), "{err}");
    assert!(err.contains("needs 4 NAT gateways"), "{err}");
    assert!(err.contains("at most 10 EIPs"), "{err}");
    assert!(err.contains("may have 3 NAT gateways"), "{err}");
    assert!(err.contains("this run can use 3"), "{err}");
}

#[test]
fn gateways_of_others_use_up_the_quota() {
    let d = [demand(&["rtb-a"], 6, 6), demand(&["rtb-b"], 6, 6)];
    let err = assign(&d, &room(1, &["nat-x", "nat-y"])).unwrap_err();
    assert!(
        err.contains("2 of them exist already (nat-x, nat-y)"),
        "{err}"
    );
    assert!(err.contains("this run can use 1"), "{err}");
    assert!(assign(&d, &room(1, &["nat-x"])).is_ok());
}

#[test]
fn one_table_too_big_for_any_gateway_says_so() {
    let err = assign(&[demand(&["rtb-a"], 12, 12)], &room(1, &[])).unwrap_err();
    assert!(err.contains("rtb-a keep 12 egress IPs"), "{err}");
    assert!(err.contains("must share one NAT gateway"), "{err}");
}

#[test]
fn run_gateways_are_told_by_their_tag() {
    assert_eq!(extra_tag("abc", 2), "abc-nat2");
    let n = |tag: &str| NatGateway {
        id: NatGatewayId::parse("nat-1").unwrap(),
        name: "n".into(),
        state: "AVAILABLE".into(),
        eips: vec![],
        tags: vec![(crate::wizard::observed::RUN_TAG_KEY.into(), tag.into())],
        zone: "z".into(),
    };
    assert!(is_runs(&n("abc"), "abc"));
    assert!(is_runs(&n("abc-nat2"), "abc"));
    assert!(!is_runs(&n("abc-natx"), "abc"));
    assert!(!is_runs(&n("abcd"), "abc"));
}

fn create(new_eips: u32) -> crate::wizard::input::ProvisionInput {
    crate::wizard::input::ProvisionInput::Create(crate::wizard::input::NewNat {
        name: "egress".into(),
        bandwidth_mbps: 100,
        max_connections: 1_000_000,
        eips: crate::wizard::input::EipChoice::New(new_eips),
        zone: None,
    })
}

fn none() -> BTreeMap<u32, u32> {
    BTreeMap::new()
}

fn vpc(free: u32) -> Inventory {
    Inventory {
        vpc_id: "vpc-1".into(),
        quota: crate::wizard::observed::EipQuota {
            limit: 10 + free,
            used: 10,
        },
        ..Inventory::default()
    }
}

#[test]
fn step_2_plans_a_create_per_further_gateway_with_its_tables_and_undo() {
    use crate::wizard::plan::{Change, Plan, Undo};
    use crate::wizard::steps::provision::{plan_gateways, planned_extras};
    let d = [demand(&["rtb-a"], 6, 7), demand(&["rtb-b"], 6, 7)];
    let mut plan = Plan::default();
    plan_gateways(&mut plan, &vpc(20), &create(1), "run-1", &d, &none());
    assert!(!plan.is_blocked(), "{:?}", plan.conflicts);
    let [
        (
            Change::CreateNatGateway {
                name,
                gateway,
                run_tag,
                route_tables,
                new_eips,
                ..
            },
            Undo::DeleteNatGateway {
                nat_id: None,
                run_tag: undo_tag,
                ..
            },
        ),
    ] = &plan.changes().zip(plan.undo_list()).collect::<Vec<_>>()[..]
    else {
        panic!("one further gateway: {:?}", plan.change_list());
    };
    assert_eq!(
        (name.as_str(), *gateway, run_tag.as_str(), *new_eips),
        ("egress-2", 2, "run-1-nat2", EXTRA_OWN_EIPS)
    );
    assert_eq!(route_tables, &["rtb-b".to_owned()]);
    assert_eq!(undo_tag, "run-1-nat2");
    assert_eq!(
        planned_extras(&plan),
        [("run-1-nat2".to_owned(), vec!["rtb-b".to_owned()])]
    );
    assert!(plan.warnings[0].contains("this step makes 2 gateways"));

    // One gateway enough: nothing added, nothing said.
    let mut one = Plan::default();
    plan_gateways(&mut one, &vpc(20), &create(1), "run-1", &d[..1], &none());
    assert!(one.changes().next().is_none() && one.warnings.is_empty());

    // The further gateway's EIP must fit the quota too.
    let mut tight = Plan::default();
    plan_gateways(&mut tight, &vpc(1), &create(1), "run-1", &d, &none());
    assert!(
        tight
            .conflicts
            .iter()
            .any(|c| c.message.contains("2 new EIPs are needed")),
        "{:?}",
        tight.conflicts
    );
}

#[test]
fn a_further_gateway_that_failed_is_deleted_and_created_again_as_a_new_attempt() {
    use crate::wizard::plan::{Change, Plan};
    use crate::wizard::steps::provision::plan_gateways;
    let d = [demand(&["rtb-a"], 6, 7), demand(&["rtb-b"], 6, 7)];
    let mut inv = vpc(20);
    inv.nat_gateways.push(NatGateway {
        id: NatGatewayId::parse("nat-failed2").unwrap(),
        name: "egress-2".into(),
        state: "PENDFAILURE".into(),
        eips: vec![],
        tags: vec![(
            crate::wizard::observed::RUN_TAG_KEY.into(),
            "run-1-nat2".into(),
        )],
        zone: "z".into(),
    });
    let mut plan = Plan::default();
    let creates: BTreeMap<u32, u32> = [(2, 1)].into();
    plan_gateways(&mut plan, &inv, &create(1), "run-1", &d, &creates);
    let changes = plan.change_list();
    assert!(
        matches!(&changes[0], Change::DeleteFailedNatGateway { nat_id } if nat_id.as_str() == "nat-failed2"),
        "{changes:?}"
    );
    assert!(
        matches!(
            &changes[1],
            Change::CreateNatGateway {
                gateway: 2,
                attempt: 2,
                ..
            }
        ),
        "{changes:?}"
    );
}
