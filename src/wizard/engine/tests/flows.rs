//! Whole runs through the engine API.

use super::*;
use crate::store::{self, EgressOutcome, EgressPhase, ReportKind, UndoState};
use crate::wizard::engine::{EngineError, StartError};
use crate::wizard::observed::{AddressKind, Route};

#[tokio::test]
async fn a_whole_run_moves_the_vpc_behind_the_nat_and_keeps_the_protected_frontend_ip() {
    let t = setup(&["vpc-a"]).await;
    let run = start(&t.engine, "vpc-a").await;
    let report = t.engine.exposure_report(run).await.unwrap().unwrap();
    let front = report
        .rows
        .iter()
        .find(|r| r.instance_id == "vpc-a-front")
        .unwrap();
    assert!(front.protected && front.dns_names == ["www.example.com"]);
    let route_plan = {
        confirm(&t.engine, run, StepInput::Assess(AssessInput::default())).await;
        confirm(&t.engine, run, provision()).await;
        t.engine
            .plan_step(run, &StepInput::Route(RouteInput::default()))
            .await
            .unwrap()
    };
    let flipping: u64 = route_plan.flip_tables.iter().map(|t| t.instances).sum();
    let protected: u64 = route_plan.flip_tables.iter().map(|t| t.protected).sum();
    assert_eq!((flipping, protected), (4, 1));
    assert!(
        route_plan
            .warnings
            .iter()
            .any(|w| w.contains("vpc-a-front"))
    );
    confirm(&t.engine, run, StepInput::Route(RouteInput::default())).await;
    assert_eq!(
        confirm(&t.engine, run, StepInput::Verify(VerifyInput::default())).await,
        RunStatus::Completed
    );

    let world = t.fake.world(|w| w.vpcs["vpc-a"].clone());
    let nat = &world.nat_gateways[0];
    assert_eq!(world.nat_gateways.len(), 1);
    assert_eq!(nat.run_tag(), Some(run.tag_value().as_str()));
    for table in &world.route_tables {
        let r = table.default_route().unwrap();
        assert_eq!(
            (r.gateway_type.as_str(), r.gateway_id.as_str()),
            ("NAT", nat.id.as_str())
        );
    }
    let bound = |id: &str| {
        world
            .addresses
            .iter()
            .find(|a| a.instance_id.as_deref() == Some(id))
            .cloned()
    };
    assert!(
        bound("vpc-a-front").is_some(),
        "the protected frontend keeps its EIP"
    );
    assert!(bound("vpc-a-api").is_none(), "api's public IP is retired");
    let api_ip = world.addresses.iter().find(|a| a.ip == "43.5.0.2").unwrap();
    assert_eq!(
        api_ip.kind,
        AddressKind::Eip,
        "converted, kept as an unbound EIP"
    );
    assert!(
        bound("vpc-a-batch").is_some(),
        "the stopped batch host was untestable, so it keeps its IP"
    );

    let after = store::results::list_egress(t.store.readers(), run, EgressPhase::After)
        .await
        .unwrap();
    let running: Vec<_> = after
        .iter()
        .filter(|e| e.outcome == EgressOutcome::Ip)
        .collect();
    assert_eq!(running.len(), 3);
    assert!(
        running
            .iter()
            .all(|e| e.ip.as_deref() == Some(nat.eips[0].1.as_str()))
    );
    let final_report = store::results::get_report(t.store.readers(), run, ReportKind::Final)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(final_report["kept"].as_array().unwrap().len(), 2);
    let ledger = store::ledger::list(t.store.readers(), run, 0, 1000)
        .await
        .unwrap();
    assert!(
        ledger
            .iter()
            .any(|c| c.action == "create_nat" && c.step == Some(Step::Provision))
    );
    let undo = store::undo::list(t.store.readers(), run).await.unwrap();
    assert!(undo.iter().all(|u| u.state == UndoState::Done));
}

#[tokio::test]
async fn a_second_run_on_a_busy_vpc_is_refused_naming_who_holds_it() {
    let t = setup(&["vpc-a"]).await;
    let first = start(&t.engine, "vpc-a").await;
    match t
        .engine
        .start_run("acct", "ap-guangzhou", "vpc-a", "bob")
        .await
    {
        Err(StartError::VpcBusy {
            holder, started_by, ..
        }) => assert_eq!((holder, started_by.as_str()), (first, "alice")),
        other => panic!("expected VpcBusy, got {other:?}"),
    }
    t.engine.abandon(first, "admin").await.unwrap();
    let second = start(&t.engine, "vpc-a").await;
    assert_ne!(first, second);
}

#[tokio::test]
async fn invalid_provision_input_is_refused_per_field_and_changes_nothing() {
    let form = ProvisionForm {
        name: String::new(),
        bandwidth_mbps: "7".into(),
        ..Default::default()
    };
    let errs = ProvisionInput::parse(&form).unwrap_err();
    assert!(errs.0.contains_key("name") && errs.0.contains_key("bandwidth_mbps"));
    let t = setup(&["vpc-a"]).await;
    assert!(matches!(
        t.engine
            .start_run("acct", "ap-guangzhou", "sg-1", "alice")
            .await,
        Err(StartError::Invalid(_))
    ));
    let run = start(&t.engine, "vpc-a").await;
    let err = t
        .engine
        .confirm_step(run, provision(), "alice")
        .await
        .unwrap_err();
    assert!(
        matches!(err, EngineError::WrongState { .. }),
        "step 2 before step 1 is refused: {err}"
    );
    assert_eq!(t.fake.calls("create_nat"), 0);
}

fn user_default_route(table: &str) -> Route {
    Route {
        route_id: 900,
        item_id: "rti-old".into(),
        destination: "0.0.0.0/0".into(),
        gateway_type: "CVM".into(),
        gateway_id: "10.0.0.9".into(),
        route_type: "USER".into(),
        enabled: true,
        description: format!("proxy for {table}"),
    }
}

#[tokio::test]
async fn route_step_refuses_to_overwrite_existing_default_route_without_consent_and_rollback_restores_it()
 {
    let t = setup(&["vpc-c"]).await;
    t.fake.world(|w| {
        let table = &mut w.vpcs.get_mut("vpc-c").unwrap().route_tables[1];
        table.routes.push(user_default_route(&table.id.clone()));
    });
    let original = t.fake.world(|w| w.vpcs["vpc-c"].route_tables.clone());
    let run = start(&t.engine, "vpc-c").await;
    confirm(&t.engine, run, StepInput::Assess(AssessInput::default())).await;
    confirm(&t.engine, run, provision()).await;
    let refused = t
        .engine
        .confirm_step(run, StepInput::Route(RouteInput::default()), "alice")
        .await
        .unwrap_err();
    let EngineError::Blocked(conflicts) = refused else {
        panic!("expected a blocked plan")
    };
    assert!(conflicts[0].needs_consent && conflicts[0].message.contains("CVM 10.0.0.9"));
    assert_eq!(t.fake.calls("replace_route"), 0);

    let consent = StepInput::Route(RouteInput {
        replace_existing_default: true,
    });
    assert_eq!(confirm(&t.engine, run, consent).await, RunStatus::Active);
    let replaced = t
        .fake
        .world(|w| w.vpcs["vpc-c"].route_tables[1].default_route().cloned())
        .unwrap();
    assert_eq!(
        (replaced.gateway_type.as_str(), replaced.route_id),
        ("NAT", 900)
    );

    t.engine.rollback(run, "alice", false).await.unwrap();
    assert_eq!(
        t.engine.wait(run).await.unwrap().status,
        RunStatus::RolledBack
    );
    let restored = t.fake.world(|w| w.vpcs["vpc-c"].route_tables.clone());
    assert_eq!(
        restored, original,
        "the old route is back exactly, ours are gone"
    );
    assert!(t.fake.world(|w| w.vpcs["vpc-c"].nat_gateways.is_empty()));
}

#[tokio::test]
async fn rollback_of_a_completed_run_restores_the_original_world_and_names_what_it_cannot_undo() {
    let t = setup(&["vpc-a"]).await;
    let before = t.fake.world(|w| w.vpcs["vpc-a"].clone());
    let run = start(&t.engine, "vpc-a").await;
    complete(&t.engine, run).await;
    t.engine.rollback(run, "alice", true).await.unwrap();
    assert_eq!(
        t.engine.wait(run).await.unwrap().status,
        RunStatus::RolledBack
    );
    let after = t.fake.world(|w| w.vpcs["vpc-a"].clone());
    assert_eq!(after.route_tables, before.route_tables);
    assert!(after.nat_gateways.is_empty());
    assert!(
        !after.addresses.iter().any(|a| a.ip.starts_with("9.9.9.")),
        "the NAT's allocated EIP was released on request"
    );
    for i in &before.instances {
        let ip = |inv: &crate::wizard::observed::Inventory| {
            inv.addresses
                .iter()
                .find(|a| a.instance_id.as_deref() == Some(i.id.as_str()))
                .map(|a| a.ip.clone())
        };
        assert_eq!(ip(&after), ip(&before), "{} has its public IP back", i.id);
    }
    let report = store::results::get_report(t.store.readers(), run, ReportKind::Rollback)
        .await
        .unwrap()
        .unwrap();
    let cannot = report["cannot_undo"].as_array().unwrap();
    assert!(
        cannot
            .iter()
            .any(|c| c.as_str().unwrap().contains("stays an EIP"))
    );
}

#[tokio::test]
async fn twenty_concurrent_runs_on_twenty_vpcs_complete() {
    let names: Vec<String> = (0..20).map(|i| format!("vpc-{i:02}")).collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let t = setup(&refs).await;
    let mut tasks = Vec::new();
    for vpc in names.clone() {
        let engine = t.engine.clone();
        tasks.push(tokio::spawn(async move {
            let run = start(&engine, &vpc).await;
            complete(&engine, run).await;
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let page = store::runs::list(t.store.readers(), &Default::default(), None, 100)
        .await
        .unwrap();
    assert_eq!(
        page.runs
            .iter()
            .filter(|r| r.status == RunStatus::Completed)
            .count(),
        20
    );
}

#[tokio::test]
async fn protection_is_refused_for_an_instance_outside_the_assessed_vpc() {
    let t = setup(&["vpc-a", "vpc-b"]).await;
    let run = start(&t.engine, "vpc-a").await;
    let err = t
        .engine
        .set_protected(run, "vpc-b-front", true, "alice")
        .await
        .unwrap_err();
    match err {
        EngineError::Invalid(errs) => assert!(
            errs.0["instance_id"].contains("vpc-b-front is not an instance of vpc-a"),
            "{errs:?}"
        ),
        other => panic!("expected a field error, got {other}"),
    }
    assert!(
        store::results::list_protected(t.store.readers(), run)
            .await
            .unwrap()
            .iter()
            .all(|h| h.instance_id != "vpc-b-front"),
        "nothing was recorded"
    );
    t.engine
        .set_protected(run, "vpc-a-front", false, "alice")
        .await
        .unwrap();
}

#[tokio::test]
async fn a_confirm_applies_only_the_plan_that_was_previewed() {
    let t = setup(&["vpc-a"]).await;
    let run = start(&t.engine, "vpc-a").await;
    confirm(&t.engine, run, StepInput::Assess(AssessInput::default())).await;
    confirm(&t.engine, run, provision()).await;
    let route = || StepInput::Route(RouteInput::default());
    let previewed = t.engine.plan_step(run, &route()).await.unwrap().digest();
    assert_eq!(
        t.engine.plan_step(run, &route()).await.unwrap().digest(),
        previewed,
        "the same input on the same cloud plans the same"
    );

    // A new instance appears in a routed subnet after the preview: its egress would flip
    // too, which the operator was not shown.
    t.fake.world(|w| {
        let vpc = w.vpcs.get_mut("vpc-a").unwrap();
        let mut late = vpc.instances[2].clone();
        late.id = "vpc-a-late".into();
        late.name = "late".into();
        vpc.instances.push(late);
    });
    let err = t
        .engine
        .confirm_previewed(run, route(), &previewed, "alice")
        .await
        .unwrap_err();
    assert!(matches!(err, EngineError::PlanChanged), "{err}");
    assert_eq!(t.fake.calls("create_route"), 0);
    let r = t.engine.run(run).await.unwrap();
    assert_eq!((r.status, r.current_step), (RunStatus::Active, Step::Route));

    let now = t.engine.plan_step(run, &route()).await.unwrap();
    let flipping: u64 = now.flip_tables.iter().map(|t| t.instances).sum();
    assert_eq!(flipping, 5, "the late instance is counted");
    t.engine
        .confirm_previewed(run, route(), &now.digest(), "alice")
        .await
        .unwrap();
    assert_eq!(t.engine.wait(run).await.unwrap().current_step, Step::Verify);
    assert_eq!(t.fake.calls("create_route"), 2);
}

/// Step 4 released one instance's EIP (an exception to the reversible rule): a rollback
/// afterwards undoes everything else, names the release among what it cannot undo, and ends
/// rolled back — it does not try to bind the released EIP back (a walk found it failing with
/// `natpilot.AddressGone` on every attempt).
#[tokio::test]
async fn rollback_after_an_eip_was_released_skips_binding_it_back_and_names_it() {
    let t = setup(&["vpc-a"]).await;
    t.fake.world(|w| {
        let vpc = w.vpcs.get_mut("vpc-a").unwrap();
        let api = vpc
            .addresses
            .iter_mut()
            .find(|a| a.instance_id.as_deref() == Some("vpc-a-api"))
            .unwrap();
        api.kind = AddressKind::Eip;
        api.id = "vpc-a-eip-api".into();
    });
    let run = start(&t.engine, "vpc-a").await;
    confirm(&t.engine, run, StepInput::Assess(AssessInput::default())).await;
    confirm(&t.engine, run, provision()).await;
    confirm(&t.engine, run, StepInput::Route(RouteInput::default())).await;
    let verify = VerifyInput {
        confirm_irreversible: true,
        exceptions: [(
            "vpc-a-api".to_owned(),
            crate::wizard::input::RetireException::Irreversible,
        )]
        .into(),
        ..VerifyInput::default()
    };
    assert_eq!(
        confirm(&t.engine, run, StepInput::Verify(verify)).await,
        RunStatus::Completed
    );
    assert!(
        !t.fake.world(|w| w.vpcs["vpc-a"]
            .addresses
            .iter()
            .any(|a| a.id == "vpc-a-eip-api")),
        "the EIP was released"
    );
    // Before the rollback, its preview does not offer to bind the released EIP back.
    let records = store::undo::list(t.store.readers(), run).await.unwrap();
    let rebinds_released = crate::wizard::engine::rollback::preview(&records)
        .into_iter()
        .filter(|d| {
            matches!(d, crate::wizard::engine::rollback::Disposition::Undo { entry, .. }
                if matches!(&entry.undo, crate::wizard::plan::Undo::ReassociateEip { address_id, .. }
                    if address_id.as_deref() == Some("vpc-a-eip-api")))
        })
        .count();
    assert_eq!(rebinds_released, 0);

    t.engine.rollback(run, "alice", true).await.unwrap();
    let r = t.engine.wait(run).await.unwrap();
    assert_eq!(r.status, RunStatus::RolledBack, "{:?}", r.last_error);
    let report = store::results::get_report(t.store.readers(), run, ReportKind::Rollback)
        .await
        .unwrap()
        .unwrap();
    let cannot: Vec<&str> = report["cannot_undo"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    assert!(
        cannot
            .iter()
            .any(|c| c.contains("vpc-a-eip-api") && c.contains("released")),
        "{cannot:?}"
    );
    // Everything else came back: batch's IP (converted to an EIP and kept) is bound again.
    let batch_ip = t.fake.world(|w| {
        w.vpcs["vpc-a"]
            .addresses
            .iter()
            .find(|a| a.instance_id.as_deref() == Some("vpc-a-batch"))
            .map(|a| a.ip.clone())
    });
    assert_eq!(batch_ip.as_deref(), Some("43.5.0.4"));
}
