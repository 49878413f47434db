//! Plan tests on hand-built inventories: no I/O.

use std::collections::{BTreeMap, BTreeSet};

use super::assess::{Egress, PublicIpKind, exposure};
use super::{provision, route, verify};
use crate::wizard::ids::NatState;
use crate::wizard::input::*;
use crate::wizard::observed::*;
use crate::wizard::plan::{Change, Undo};

fn inst(id: &str, subnet: &str, public_ip: Option<&str>) -> Instance {
    Instance {
        id: id.into(),
        name: format!("{id}-name"),
        subnet_id: subnet.into(),
        state: InstanceState::Running,
        private_ip: Some("10.0.0.5".into()),
        public_ip: public_ip.map(Into::into),
        tags: vec![],
        agent_online: true,
    }
}

fn route(id: i64, gw_type: &str, gw: &str, route_type: &str) -> Route {
    Route {
        route_id: id,
        item_id: format!("rti-{id}"),
        destination: "0.0.0.0/0".into(),
        gateway_type: gw_type.into(),
        gateway_id: gw.into(),
        route_type: route_type.into(),
        enabled: true,
        description: String::new(),
    }
}

/// frontend (EIP + DNS), api (ordinary IP), worker (no public IP), batch (EIP, tagged protected,
/// agent offline) in two subnets sharing one route table, plus a subnet of its own.
fn world() -> Inventory {
    let mut batch = inst("ins-batch", "subnet-b", Some("43.0.0.4"));
    batch
        .tags
        .push(("natpilot:protected".into(), "true".into()));
    batch.agent_online = false;
    let table = |id: &str| RouteTable {
        id: id.into(),
        name: id.into(),
        main: false,
        routes: vec![],
    };
    Inventory {
        vpc_id: "vpc-1".into(),
        subnets: vec![
            Subnet {
                id: "subnet-a".into(),
                route_table_id: "rtb-a".into(),
                zone: "ap-guangzhou-3".into(),
                cidr: "10.0.1.0/24".into(),
            },
            Subnet {
                id: "subnet-b".into(),
                route_table_id: "rtb-b".into(),
                zone: "ap-guangzhou-3".into(),
                cidr: "10.0.2.0/24".into(),
            },
        ],
        route_tables: vec![table("rtb-a"), table("rtb-b")],
        instances: vec![
            inst("ins-front", "subnet-a", Some("43.0.0.1")),
            inst("ins-api", "subnet-a", Some("43.0.0.2")),
            inst("ins-worker", "subnet-b", None),
            batch,
        ],
        addresses: vec![
            Address {
                id: "eip-front".into(),
                ip: "43.0.0.1".into(),
                kind: AddressKind::Eip,
                status: "BIND".into(),
                instance_id: Some("ins-front".into()),
            },
            Address {
                id: "eip-batch".into(),
                ip: "43.0.0.4".into(),
                kind: AddressKind::Eip,
                status: "BIND".into(),
                instance_id: Some("ins-batch".into()),
            },
            Address {
                id: "eip-free".into(),
                ip: "43.0.0.9".into(),
                kind: AddressKind::Eip,
                status: "UNBIND".into(),
                instance_id: None,
            },
        ],
        nat_gateways: vec![],
        dns: vec![
            DnsRecord {
                domain: "example.com".into(),
                name: "www".into(),
                record_type: "A".into(),
                value: "43.0.0.1".into(),
            },
            DnsRecord {
                domain: "example.com".into(),
                name: "shop".into(),
                record_type: "CNAME".into(),
                value: "www.example.com.".into(),
            },
            DnsRecord {
                domain: "example.org".into(),
                name: "@".into(),
                record_type: "CNAME".into(),
                value: "shop.example.com.".into(),
            },
        ],
        quota: EipQuota { limit: 20, used: 3 },
        ..Inventory::default()
    }
}

fn nat(id: &str, tag: Option<&str>) -> NatGateway {
    NatGateway {
        id: id.into(),
        name: "n".into(),
        state: "AVAILABLE".into(),
        eips: vec![("eip-nat".into(), "43.0.0.100".into())],
        tags: tag
            .map(|t| vec![(RUN_TAG_KEY.to_owned(), t.to_owned())])
            .unwrap_or_default(),
        zone: "ap-guangzhou-3".into(),
    }
}

fn create_input(new_eips: u32) -> ProvisionInput {
    ProvisionInput::Create(NewNat {
        name: "egress".into(),
        bandwidth_mbps: 100,
        max_connections: 1_000_000,
        eips: EipChoice::New(new_eips),
        zone: None,
    })
}

#[test]
fn exposure_classifies_public_ips_and_follows_cname_chains_to_the_a_record() {
    let r = exposure(&world(), &BTreeMap::new(), &AssessInput::default());
    let row = |id: &str| r.rows.iter().find(|x| x.instance_id == id).unwrap();
    assert_eq!(row("ins-front").kind, PublicIpKind::Eip);
    assert_eq!(row("ins-api").kind, PublicIpKind::Ordinary);
    assert_eq!(row("ins-worker").kind, PublicIpKind::None);
    assert_eq!(
        row("ins-front").dns_names,
        ["example.org", "shop.example.com", "www.example.com"]
    );
    assert!(row("ins-front").protected);
    assert_eq!(row("ins-batch").reason, "tag");
    assert!(!row("ins-api").protected);
    assert_eq!((r.exposed, r.protected), (3, 2));
}

#[test]
fn the_operator_can_protect_and_unprotect_over_the_suggestions() {
    let input = AssessInput {
        protect: vec!["ins-api".into()],
        unprotect: vec!["ins-batch".into()],
        ..AssessInput::default()
    };
    let r = exposure(&world(), &BTreeMap::new(), &input);
    let row = |id: &str| r.rows.iter().find(|x| x.instance_id == id).unwrap();
    assert_eq!(
        (row("ins-api").protected, row("ins-api").reason.as_str()),
        (true, "operator")
    );
    assert!(!row("ins-batch").protected);
}

#[test]
fn provisioning_plans_a_tagged_create_with_a_delete_undo() {
    let p = provision::plan(&world(), &create_input(2), "run-1", 0);
    assert!(!p.is_blocked());
    assert!(
        matches!(&p.change_list()[0], Change::CreateNatGateway { new_eips: 2, run_tag, .. } if run_tag == "run-1")
    );
    assert!(matches!(
        &p.undo_list()[0],
        Undo::DeleteNatGateway { nat_id: None, .. }
    ));
}

#[test]
fn provisioning_reuses_the_gateway_this_run_already_created() {
    let mut w = world();
    w.nat_gateways.push(nat("nat-mine", Some("run-1")));
    // The create of the earlier attempt is planned again (same key, so its undo record is
    // found and the gateway is not created twice), and the page says it is reused.
    let p = provision::plan(&w, &create_input(1), "run-1", 1);
    assert!(matches!(
        &p.change_list()[..],
        [Change::CreateNatGateway { attempt: 1, .. }]
    ));
    assert!(p.warnings[0].contains("nat-mine") && p.warnings[0].contains("reused"));
    // Adopting something else while this run has its own gateway is refused.
    let adopt = ProvisionInput::Adopt {
        nat_id: "nat-other".into(),
    };
    let p = provision::plan(&w, &adopt, "run-1", 1);
    assert!(p.is_blocked() && p.conflicts[0].message.contains("nat-mine"));
}

#[test]
fn provisioning_after_a_failed_gateway_deletes_it_and_creates_another_attempt() {
    let mut w = world();
    let mut failed = nat("nat-failed", Some("run-1"));
    failed.state = NatState::PendFailure;
    w.nat_gateways.push(failed);
    let p = provision::plan(&w, &create_input(1), "run-1", 1);
    let changes = p.change_list();
    assert_eq!(
        changes[0],
        Change::DeleteFailedNatGateway {
            nat_id: "nat-failed".into()
        }
    );
    // A new attempt: its undo record is one of its own, not the failed gateway's.
    assert!(matches!(
        changes[1],
        Change::CreateNatGateway { attempt: 2, .. }
    ));
    assert_eq!(changes.len(), 2);
    assert!(matches!(p.undo_list()[0], Undo::NothingToUndo { .. }));
    assert!(p.warnings.iter().any(|w| w.contains("PENDFAILURE")));
}

#[test]
fn provisioning_is_blocked_by_the_three_gateway_limit_and_by_eip_quota() {
    let mut w = world();
    w.nat_gateways = vec![nat("nat-1", None), nat("nat-2", None), nat("nat-3", None)];
    w.quota.used = 19;
    let p = provision::plan(&w, &create_input(2), "run-1", 0);
    let subjects: Vec<&str> = p.conflicts.iter().map(|c| c.subject.as_str()).collect();
    assert_eq!(subjects, ["nat", "quota"]);
}

#[test]
fn provisioning_offers_adoption_and_refuses_eips_that_are_not_free() {
    let mut w = world();
    w.nat_gateways.push(nat("nat-other", None));
    let input = ProvisionInput::Create(NewNat {
        eips: EipChoice::Existing(vec!["43.0.0.9".into(), "43.0.0.1".into()]),
        ..match create_input(1) {
            ProvisionInput::Create(n) => n,
            _ => unreachable!(),
        }
    });
    let p = provision::plan(&w, &input, "run-1", 0);
    assert!(p.warnings[0].contains("nat-other"));
    assert_eq!(p.conflicts.len(), 1);
    assert!(p.conflicts[0].message.contains("43.0.0.1"));
    let adopt = provision::plan(
        &w,
        &ProvisionInput::Adopt {
            nat_id: "nat-other".into(),
        },
        "run-1",
        0,
    );
    assert!(!adopt.is_blocked());
    assert!(matches!(adopt.undo_list()[0], Undo::CannotUndo { .. }));
}

#[test]
fn route_step_creates_default_routes_and_previews_every_flipping_instance() {
    let protected: BTreeSet<String> = ["ins-front".to_owned()].into();
    let p = route::plan(
        &world(),
        &"nat-1".into(),
        "run-1",
        &protected,
        &RouteInput::default(),
    );
    assert_eq!(p.change_list().len(), 2);
    assert!(
        p.change_list()
            .iter()
            .all(|c| matches!(c, Change::CreateRoute { .. }))
    );
    // Counted per route table, not listed per instance: the plan stays small at any size.
    assert!(p.flips.is_empty());
    let flipping: u64 = p.flip_tables.iter().map(|t| t.instances).sum();
    let protected: u64 = p.flip_tables.iter().map(|t| t.protected).sum();
    assert_eq!((flipping, protected), (4, 1));
    assert!(p.warnings[0].contains("ins-front"));
    assert!(p.warnings[0].contains("own subnet") && p.warnings[0].contains("EIP-type"));
}

#[test]
fn route_step_refuses_to_overwrite_existing_default_route_without_consent() {
    let mut w = world();
    w.route_tables[0]
        .routes
        .push(route(7, "CVM", "10.0.0.9", "USER"));
    let p = route::plan(
        &w,
        &"nat-1".into(),
        "run-1",
        &BTreeSet::new(),
        &RouteInput::default(),
    );
    assert_eq!(p.conflicts.len(), 1);
    assert!(p.conflicts[0].needs_consent);
    let p = route::plan(
        &w,
        &"nat-1".into(),
        "run-1",
        &BTreeSet::new(),
        &RouteInput {
            replace_existing_default: true,
        },
    );
    assert!(!p.is_blocked());
    let old = route(7, "CVM", "10.0.0.9", "USER");
    assert!(p.undo_list().contains(&Undo::RestoreRoute {
        route_table_id: "rtb-a".into(),
        old
    }));
}

#[test]
fn route_step_never_touches_system_routes_and_skips_tables_already_done() {
    let mut w = world();
    w.route_tables[0]
        .routes
        .push(route(1, "CCN", "ccn-1", "CCN"));
    w.route_tables[1]
        .routes
        .push(route(2, "NAT", "nat-1", "USER"));
    let p = route::plan(
        &w,
        &"nat-1".into(),
        "run-1",
        &BTreeSet::new(),
        &RouteInput {
            replace_existing_default: true,
        },
    );
    assert!(p.change_list().is_empty());
    assert_eq!(p.conflicts.len(), 1);
    assert!(!p.conflicts[0].needs_consent);
}

fn after(results: &[(&str, Egress)]) -> BTreeMap<String, Egress> {
    results
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect()
}

#[test]
fn verify_retires_only_instances_that_passed_and_are_not_protected() {
    let mut w = world();
    w.nat_gateways.push(nat("nat-1", Some("run-1")));
    w.instances
        .push(inst("ins-stopped", "subnet-a", Some("43.0.0.7")));
    let tables: BTreeSet<String> = ["rtb-a".to_owned(), "rtb-b".to_owned()].into();
    let nat_ip = Egress::Ip {
        ip: "43.0.0.100\n".into(),
    };
    let res = after(&[
        ("ins-front", nat_ip.clone()),
        ("ins-api", nat_ip.clone()),
        ("ins-batch", nat_ip.clone()),
        (
            "ins-stopped",
            Egress::Untestable {
                detail: "instance is STOPPED".into(),
            },
        ),
    ]);
    let protected: BTreeSet<String> = ["ins-front".to_owned(), "ins-batch".to_owned()].into();
    let p = verify::plan(
        &w,
        &"nat-1".into(),
        &tables,
        &res,
        &protected,
        &VerifyInput::default(),
        &Default::default(),
    );
    // api has an ordinary IP: convert, then unbind (reversible).
    assert_eq!(p.change_list().len(), 2);
    assert!(
        matches!(&p.change_list()[0], Change::TransformAddress { instance_id, .. } if instance_id == "ins-api")
    );
    assert!(
        matches!(&p.change_list()[1], Change::DisassociateEip { instance_id, .. } if instance_id == "ins-api")
    );
    let kept: Vec<(&str, &str)> = p
        .kept
        .iter()
        .map(|k| (k.instance_id.as_str(), k.reason.as_str()))
        .collect();
    assert!(kept.contains(&("ins-front", "protected")));
    assert!(
        kept.iter()
            .any(|(i, r)| *i == "ins-stopped" && r.contains("could not be tested"))
    );
    assert!(!p.has_irreversible());
}

#[test]
fn verify_refuses_to_keep_more_ordinary_ips_as_eips_than_the_eip_quota_allows() {
    let mut w = world();
    w.nat_gateways.push(nat("nat-1", Some("run-1")));
    let tables: BTreeSet<String> = ["rtb-a".to_owned(), "rtb-b".to_owned()].into();
    let nat_ip = Egress::Ip {
        ip: "43.0.0.100".into(),
    };
    let res = after(&[("ins-api", nat_ip)]);
    let plan = |w: &Inventory| {
        verify::plan(
            w,
            &"nat-1".into(),
            &tables,
            &res,
            &BTreeSet::new(),
            &VerifyInput::default(),
            &Default::default(),
        )
    };
    assert!(plan(&w).conflicts.is_empty(), "one transform, 17 EIPs free");
    w.quota.used = 20;
    let blocked = plan(&w);
    assert_eq!(blocked.conflicts.len(), 1);
    assert!(blocked.conflicts[0].message.contains("raise the EIP quota"));
}

#[test]
fn verify_keeps_ips_of_instances_whose_egress_is_not_a_nat_eip() {
    let mut w = world();
    w.nat_gateways.push(nat("nat-1", None));
    let tables: BTreeSet<String> = ["rtb-a".to_owned()].into();
    let res = after(&[
        (
            "ins-api",
            Egress::Ip {
                ip: "43.0.0.2".into(),
            },
        ),
        (
            "ins-front",
            Egress::Failed {
                detail: "exit 28".into(),
            },
        ),
    ]);
    let p = verify::plan(
        &w,
        &"nat-1".into(),
        &tables,
        &res,
        &BTreeSet::new(),
        &VerifyInput::default(),
        &Default::default(),
    );
    assert!(p.change_list().is_empty());
    assert_eq!(p.kept.len(), 2);
}

/// The world behind `nat-1` (route table `rtb-a`), where api and front both leave through
/// its EIP.
fn both_passed_behind_nat_1() -> (Inventory, BTreeSet<String>, BTreeMap<String, Egress>) {
    let mut w = world();
    w.nat_gateways.push(nat("nat-1", None));
    let tables: BTreeSet<String> = ["rtb-a".to_owned()].into();
    let ok = Egress::Ip {
        ip: "43.0.0.100".into(),
    };
    let res = after(&[("ins-api", ok.clone()), ("ins-front", ok)]);
    (w, tables, res)
}

#[test]
fn irreversible_retirement_happens_only_when_asked_and_is_flagged() {
    let (w, tables, res) = both_passed_behind_nat_1();
    let input = VerifyInput {
        eip_rule: EipRule::Release,
        ordinary_rule: OrdinaryRule::Return,
        confirm_irreversible: false,
        ..Default::default()
    };
    let unconfirmed = verify::plan(
        &w,
        &"nat-1".into(),
        &tables,
        &res,
        &BTreeSet::new(),
        &input,
        &Default::default(),
    );
    assert!(unconfirmed.is_blocked() && unconfirmed.conflicts[0].needs_consent);
    let input = VerifyInput {
        confirm_irreversible: true,
        ..input
    };
    let p = verify::plan(
        &w,
        &"nat-1".into(),
        &tables,
        &res,
        &BTreeSet::new(),
        &input,
        &Default::default(),
    );
    assert!(!p.is_blocked());
    let kinds: Vec<&Change> = p.changes().collect();
    assert!(
        matches!(kinds[0], Change::DisassociateEip { instance_id, .. } if instance_id == "ins-front")
    );
    assert!(matches!(kinds[1], Change::ReleaseEip { .. }));
    assert!(matches!(kinds[2], Change::ReturnNormalAddress { .. }));
    assert!(p.has_irreversible());
    assert!(p.warnings[0].contains("cannot be undone"));
}

#[test]
fn per_instance_choices_keep_one_address_and_take_the_irreversible_path_for_another_only() {
    let (w, tables, res) = both_passed_behind_nat_1();
    let input = VerifyInput {
        exceptions: [
            ("ins-api".to_owned(), RetireException::Keep),
            ("ins-front".to_owned(), RetireException::Irreversible),
        ]
        .into(),
        ..Default::default()
    };
    let unconfirmed = verify::plan(
        &w,
        &"nat-1".into(),
        &tables,
        &res,
        &BTreeSet::new(),
        &input,
        &Default::default(),
    );
    assert!(unconfirmed.is_blocked() && unconfirmed.conflicts[0].needs_consent);
    let input = VerifyInput {
        confirm_irreversible: true,
        ..input
    };
    let p = verify::plan(
        &w,
        &"nat-1".into(),
        &tables,
        &res,
        &BTreeSet::new(),
        &input,
        &Default::default(),
    );
    assert!(!p.is_blocked(), "{:?}", p.conflicts);
    assert!(
        p.kept
            .iter()
            .any(|k| k.instance_id == "ins-api" && k.reason.contains("operator"))
    );
    assert!(p.change_list().iter().all(|c| !matches!(c,
        Change::DisassociateEip { instance_id, .. }
        | Change::TransformAddress { instance_id, .. }
        | Change::ReturnNormalAddress { instance_id, .. } if instance_id == "ins-api")));
    assert!(p.change_list().iter().any(
        |c| matches!(c, Change::ReleaseEip { instance_id, .. } if instance_id == "ins-front")
    ));
}

#[test]
fn rules_choose_per_kind_and_exceptions_override_them_for_one_instance() {
    let (w, tables, res) = both_passed_behind_nat_1();
    let plan = |input: &VerifyInput| {
        verify::plan(
            &w,
            &"nat-1".into(),
            &tables,
            &res,
            &BTreeSet::new(),
            input,
            &Default::default(),
        )
    };
    // Rules: release EIPs, return ordinary IPs — both irreversible, so the VPC id is needed.
    let by_rule = VerifyInput {
        eip_rule: EipRule::Release,
        ordinary_rule: OrdinaryRule::Return,
        confirm_irreversible: true,
        ..VerifyInput::default()
    };
    let p = plan(&by_rule);
    assert!(
        p.change_list()
            .iter()
            .any(|c| matches!(c, Change::ReleaseEip { .. }))
    );
    assert!(
        p.change_list()
            .iter()
            .any(|c| matches!(c, Change::ReturnNormalAddress { .. }))
    );
    // An exception takes the reversible path for the EIP: unbound and kept, nothing released,
    // and the plan says the kept EIP is charged while idle.
    let excepted = VerifyInput {
        exceptions: [("ins-front".to_owned(), RetireException::Reversible)].into(),
        ..by_rule.clone()
    };
    let p = plan(&excepted);
    assert!(
        !p.change_list()
            .iter()
            .any(|c| matches!(c, Change::ReleaseEip { .. }))
    );
    assert!(p.change_list().iter().any(
        |c| matches!(c, Change::DisassociateEip { instance_id, .. } if instance_id == "ins-front")
    ));
    assert!(
        p.change_list()
            .iter()
            .any(|c| matches!(c, Change::ReturnNormalAddress { .. }))
    );
    assert!(
        p.warnings
            .iter()
            .any(|w| w.contains("charges for idle EIPs")),
        "{:?}",
        p.warnings
    );
    // Exceptions change what is applied, and so the digest the page carries.
    assert_ne!(plan(&by_rule).digest(), p.digest());
    // Keep: nothing happens to that instance.
    let kept = VerifyInput {
        exceptions: [("ins-api".to_owned(), RetireException::Keep)].into(),
        ..by_rule
    };
    let p = plan(&kept);
    assert!(
        !p.change_list()
            .iter()
            .any(|c| matches!(c, Change::ReturnNormalAddress { .. }))
    );
    assert!(
        p.kept
            .iter()
            .any(|k| k.instance_id == "ins-api" && k.reason.contains("exception"))
    );
}

#[test]
fn the_quota_blocker_says_what_to_do_in_words() {
    let (mut w, tables, res) = both_passed_behind_nat_1();
    w.quota.used = w.quota.limit;
    let p = verify::plan(
        &w,
        &"nat-1".into(),
        &tables,
        &res,
        &BTreeSet::new(),
        &VerifyInput::default(),
        &Default::default(),
    );
    assert!(p.is_blocked());
    let msg = &p.conflicts[0].message;
    assert!(!p.conflicts[0].needs_consent, "no consent lifts a quota");
    for advice in [
        "return them instead",
        "add exceptions",
        "raise the EIP quota",
    ] {
        assert!(msg.contains(advice), "{msg}");
    }
}

#[test]
fn a_route_plan_stored_before_per_table_flips_still_decodes_and_new_ones_have_no_rows() {
    let old = r#"{"items":[],"conflicts":[],"warnings":[],"kept":[],
        "flips":[{"instance_id":"ins-1","name":"a","route_table_id":"rtb-1",
                  "current_public_ip":null,"protected":false}]}"#;
    let plan: crate::wizard::plan::Plan = serde_json::from_str(old).unwrap();
    assert_eq!((plan.flips.len(), plan.flip_tables.len()), (1, 0));
    let new = route::plan(
        &world(),
        &"nat-1".into(),
        "run-1",
        &BTreeSet::new(),
        &RouteInput::default(),
    );
    let json = serde_json::to_string(&new).unwrap();
    assert!(
        !json.contains("\"flips\"") && !json.contains("ins-front"),
        "{json}"
    );
}
