//! Campaigns (issue 13 item 5) through the pages, on a simulated account with four VPCs in
//! ap-guangzhou and one in ap-shanghai, whose NAT gateway creations fail (PENDFAILURE) when a
//! test says so: a campaign stops starting runs after the failure (and says so), keeps going
//! when told to with at most its limit of runs under way (read from the runs' own event
//! order, not from timing), refuses to start with a busy VPC, and resumes after a restart.

use std::time::Duration;

use natpilot::{
    app::{self, AppConfig},
    sim::{PRIMARY_UIN, Scenario, ScenarioSource, SimConfig, world::*},
    store::{
        self, RunId, RunStatus, Step, Store,
        campaigns::{Campaign, CampaignId, CampaignState, MemberState},
        users::Role,
    },
    tencent::Client,
    web::settings::WebSettings,
    wizard::input::StepInput,
};
use reqwest::StatusCode;

use crate::harness::{Browser, TestApp};

const GZ: &str = "ap-guangzhou";
const SH: &str = "ap-shanghai";
const ACCOUNT: &str = "simulated";
const FAILING: &str = "vpc-shfail01";

/// One VPC per id: a subnet, its route table, a server with an EIP and one with an ordinary
/// public IP (no DNS, no protection tag: nothing a campaign must stop for).
fn world(region: &str, vpcs: &[&str]) -> Scenario {
    let mut s = Scenario {
        region: region.into(),
        quotas: Quotas::default(),
        vpcs: vec![],
        subnets: vec![],
        route_tables: vec![],
        instances: vec![],
        addresses: vec![],
        nat_gateways: vec![],
        domains: vec![],
    };
    let zone = format!("{region}-3");
    for (i, vpc) in vpcs.iter().enumerate() {
        let n = i + 1;
        let tail = &vpc[4..];
        let (subnet, table) = (format!("subnet-{tail}"), format!("rtb-{tail}"));
        s.vpcs.push(Vpc {
            id: (*vpc).into(),
            name: format!("campaign-{n}"),
            cidr: format!("10.{n}.0.0/16"),
            is_default: false,
            created_time: DEFAULT_CREATED.into(),
            tags: vec![],
        });
        s.subnets.push(Subnet {
            id: subnet.clone(),
            name: "app".into(),
            vpc_id: (*vpc).into(),
            cidr: format!("10.{n}.1.0/24"),
            zone: zone.clone(),
            route_table_id: table.clone(),
            created_time: DEFAULT_CREATED.into(),
        });
        s.route_tables.push(RouteTable {
            id: table,
            name: "default".into(),
            vpc_id: (*vpc).into(),
            main: true,
            routes: vec![],
            created_time: DEFAULT_CREATED.into(),
        });
        let base = if region == GZ { 20 } else { 30 };
        for (k, ordinary) in [(1, false), (2, true)] {
            let id = format!("ins-{tail}{k}");
            let ip = format!("119.{base}.{n}.{k}");
            s.instances.push(Instance {
                id: id.clone(),
                name: format!("server-{k}"),
                vpc_id: (*vpc).into(),
                subnet_id: subnet.clone(),
                zone: zone.clone(),
                private_ip: format!("10.{n}.1.{}", 10 + k),
                public_ip: ordinary.then(|| ip.clone()),
                state: "RUNNING".into(),
                agent: AgentState::Online,
                os_name: "TencentOS Server 3.1 (TK4)".into(),
                instance_type: "S5.MEDIUM4".into(),
                tags: vec![],
                created_time: DEFAULT_CREATED.into(),
            });
            if !ordinary {
                s.addresses.push(Address {
                    id: format!("eip-{tail}{k}"),
                    ip,
                    name: format!("server-{k}-eip"),
                    status: AddressStatus::Bind,
                    instance_id: Some(id),
                    bandwidth: 10,
                    charge_type: "TRAFFIC_POSTPAID_BY_HOUR".into(),
                    isp: "BGP".into(),
                    created_time: "2024-01-01T00:00:00Z".into(),
                    busy_task: None,
                });
            }
        }
    }
    s
}

const GZ_VPCS: [&str; 4] = [
    "vpc-gzcamp01",
    "vpc-gzcamp02",
    "vpc-gzcamp03",
    "vpc-gzcamp04",
];

fn sim_config() -> SimConfig {
    SimConfig {
        scenario: ScenarioSource::Inline(Box::new(world(GZ, &GZ_VPCS))),
        extra_regions: vec![(
            SH.into(),
            ScenarioSource::Inline(Box::new(world(SH, &[FAILING]))),
        )],
        ..TestApp::sim_config()
    }
}

async fn start() -> TestApp {
    TestApp::start_custom(WebSettings::default(), sim_config(), |_| async {
        Vec::new()
    })
    .await
}

/// From now on every NAT gateway created in ap-shanghai ends in PENDFAILURE.
fn fail_in_shanghai(app: &TestApp) {
    app.sim
        .handle()
        .with_account_world(PRIMARY_UIN, SH, |w| w.behaviour.nat_creation_fails = true)
        .expect("the simulator has ap-shanghai");
}

fn key(region: &str, vpc: &str) -> String {
    format!("{ACCOUNT}/{region}/{vpc}")
}

/// The five VPCs in start order; the failing one second.
fn five() -> Vec<String> {
    vec![
        key(GZ, GZ_VPCS[0]),
        key(SH, FAILING),
        key(GZ, GZ_VPCS[1]),
        key(GZ, GZ_VPCS[2]),
        key(GZ, GZ_VPCS[3]),
    ]
}

/// Posts the campaign form with these VPCs and choices (the reversible rules, 1 new EIP).
async fn post_campaign(
    b: &mut Browser,
    vpcs: &[String],
    concurrency: &str,
    keep_going: bool,
    confirm_assessed: bool,
) -> crate::harness::Page {
    let form = b.get("/campaigns/new").await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.body);
    let mut fields: Vec<(&str, &str)> = vec![
        ("name", "close the estate"),
        ("concurrency", concurrency),
        ("nat_name", "natpilot-egress"),
        ("bandwidth_mbps", "100"),
        ("max_connections", "1000000"),
        ("new_eips", "1"),
        ("zone", ""),
        ("eip_rule", "unbind"),
        ("ordinary_rule", "convert"),
    ];
    if keep_going {
        fields.push(("keep_going", "yes"));
    }
    if confirm_assessed {
        fields.push(("confirm_assessed", "yes"));
    }
    for v in vpcs {
        fields.push(("vpc", v));
    }
    b.post("/campaigns", &fields).await
}

/// The campaign a successful post redirected to.
fn started(page: &crate::harness::Page) -> CampaignId {
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    let at = page.location().unwrap();
    at.strip_prefix("/campaigns/").unwrap().parse().unwrap()
}

/// Waits (polling the store) until the campaign satisfies `done`.
async fn wait_campaign(
    store: &Store,
    id: CampaignId,
    what: &str,
    done: impl Fn(&Campaign, &[store::campaigns::Member]) -> bool,
) -> (Campaign, Vec<store::campaigns::Member>) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(180);
    loop {
        let c = store::campaigns::get(store.readers(), id)
            .await
            .unwrap()
            .unwrap();
        let m = store::campaigns::members(store.readers(), id)
            .await
            .unwrap();
        if done(&c, &m) {
            return (c, m);
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}: {c:?} {m:#?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn states(members: &[store::campaigns::Member]) -> Vec<(String, MemberState)> {
    members
        .iter()
        .map(|m| (m.vpc_id.clone(), m.state))
        .collect()
}

#[tokio::test]
async fn a_campaign_of_five_with_one_failing_stops_starting_runs_and_the_page_says_so() {
    let app = start().await;
    fail_in_shanghai(&app);
    let mut olga = app.signed_in("olga", Role::Operator).await;
    let id = started(&post_campaign(&mut olga, &five(), "1", false, true).await);
    let (c, members) = wait_campaign(app.store(), id, "the campaign to finish", |c, _| {
        c.state == CampaignState::Finished
    })
    .await;
    use MemberState::*;
    assert_eq!(
        states(&members),
        [
            (GZ_VPCS[0].into(), Done),
            (FAILING.into(), Failed),
            (GZ_VPCS[1].into(), Skipped),
            (GZ_VPCS[2].into(), Skipped),
            (GZ_VPCS[3].into(), Skipped),
        ]
    );
    assert!(members[2..].iter().all(|m| m.run_id.is_none()));
    let failed = &members[1];
    assert!(
        failed.detail.contains("NatGateway.PendFailure"),
        "{}",
        failed.detail
    );
    assert!(c.halted_by_failure.as_deref().unwrap().contains(FAILING));
    let done = app
        .app
        .state
        .engine
        .run(members[0].run_id.unwrap())
        .await
        .unwrap();
    assert_eq!(done.status, RunStatus::Completed);
    assert_eq!(done.started_by, "olga");

    let page = olga.get(&format!("/campaigns/{id}")).await;
    assert_eq!(page.status, StatusCode::OK);
    let halted = page.text("#campaign-halted");
    assert!(
        halted.contains("stopped starting runs after the failure of") && halted.contains(FAILING),
        "{halted}"
    );
    assert_eq!(page.text("#campaign-state"), "finished");
    let row = |vpc: &str, css: &str| page.text(&format!("tr[data-vpc='{vpc}'] {css}"));
    assert_eq!(row(FAILING, ".member-state"), "failed");
    assert!(row(FAILING, ".member-step").contains("step 2 · Provision NAT gateway — failed"));
    assert_eq!(row(GZ_VPCS[0], ".member-state"), "completed");
    assert_eq!(row(GZ_VPCS[3], ".member-state"), "not started");
    assert!(row(GZ_VPCS[3], ".member-detail").contains("after a failure"));
    assert_eq!(
        page.text("#campaign-counts li[data-state='skipped'] .count"),
        "3"
    );
    assert_eq!(
        page.text("#campaign-counts li[data-state='done'] .count"),
        "1"
    );
    // Every confirm was of the plan previewed, by the person who started the campaign.
    let confirms = app.audited("run.confirm").await;
    assert!(!confirms.is_empty());
    for a in &confirms {
        assert_eq!(a.actor, "olga");
        assert!(a.details["plan_digest"].is_string(), "{:?}", a.details);
    }
    let start = app.audited("campaign.start").await;
    assert_eq!((start.len(), start[0].actor.as_str()), (1, "olga"));
}

/// Each run's span in the global event order: (first event id, last event id).
async fn span(store: &Store, run: RunId) -> (i64, i64) {
    let events = store::events::list(store.readers(), run, 0, 10_000)
        .await
        .unwrap();
    (events.first().unwrap().id, events.last().unwrap().id)
}

#[tokio::test]
async fn with_keep_going_the_other_four_complete_and_at_most_two_runs_are_under_way_at_once() {
    let app = start().await;
    fail_in_shanghai(&app);
    let mut olga = app.signed_in("olga", Role::Operator).await;
    let id = started(&post_campaign(&mut olga, &five(), "2", true, true).await);
    let (c, members) = wait_campaign(app.store(), id, "the campaign to finish", |c, _| {
        c.state == CampaignState::Finished
    })
    .await;
    assert_eq!(c.halted_by_failure, None);
    let done = members.iter().filter(|m| m.state == MemberState::Done);
    assert_eq!(done.count(), 4, "{members:#?}");
    assert_eq!(members[1].state, MemberState::Failed);
    for m in &members {
        let r = app.app.state.engine.run(m.run_id.unwrap()).await.unwrap();
        let want = if m.vpc_id == FAILING {
            RunStatus::Failed
        } else {
            RunStatus::Completed
        };
        assert_eq!(r.status, want, "{}", m.vpc_id);
    }
    // The limit, from the runs' own records: a run's events all lie between its first and
    // its last; at no run's start were two others already started and not yet ended.
    let mut spans = Vec::new();
    for m in &members {
        spans.push(span(app.store(), m.run_id.unwrap()).await);
    }
    let mut most = 0;
    for (start, _) in &spans {
        let under_way = spans
            .iter()
            .filter(|(s, e)| s <= start && start <= e)
            .count();
        most = most.max(under_way);
    }
    assert_eq!(most, 2, "{spans:?}");
    let page = olga.get(&format!("/campaigns/{id}")).await;
    assert_eq!(page.count("#campaign-halted"), 0);
    assert_eq!(
        page.text("#campaign-counts li[data-state='done'] .count"),
        "4"
    );
    assert_eq!(
        page.text("#campaign-counts li[data-state='failed'] .count"),
        "1"
    );
}

#[tokio::test]
async fn a_vpc_busy_with_another_run_is_refused_at_start_with_the_reason_and_nothing_starts() {
    let app = start().await;
    let mut olga = app.signed_in("olga", Role::Operator).await;
    // The estate page offers campaigns; the form lists the scanned VPCs.
    let estate = olga.get("/estate").await;
    assert_eq!(
        estate.attr("#start-campaign", "href").as_deref(),
        Some("/campaigns/new")
    );
    olga.post("/estate/scan", &[]).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while store::estate::latest_scans(app.store().readers())
        .await
        .unwrap()
        .is_empty()
    {
        assert!(tokio::time::Instant::now() < deadline, "no scan finished");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let engine = &app.app.state.engine;
    let busy = engine
        .start_run(ACCOUNT, GZ, GZ_VPCS[2], "bob")
        .await
        .unwrap();
    let form = olga.get("/campaigns/new").await;
    let keys = form.select_attrs("#campaign-vpcs input[name=vpc]", "value");
    assert_eq!(keys.len(), 5, "{keys:?}");
    assert!(keys.contains(&key(SH, FAILING)));
    let held = form.text(&format!("tr[data-key='{}'] .vpc-busy", key(GZ, GZ_VPCS[2])));
    assert!(
        held.contains(&busy.to_string()) && held.contains("bob"),
        "{held}"
    );

    let picked = vec![key(GZ, GZ_VPCS[0]), key(GZ, GZ_VPCS[2])];
    let refused = post_campaign(&mut olga, &picked, "2", false, true).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    let why = refused.text("#campaign-refused");
    assert!(
        why.contains(&format!("VPC {} ({ACCOUNT}, {GZ}) is busy", GZ_VPCS[2]))
            && why.contains(&busy.to_string())
            && why.contains("bob")
            && why.contains("nothing was started"),
        "{why}"
    );
    // The form keeps what was typed and ticked.
    let ticked = refused.select_attrs("#campaign-vpcs input[name=vpc][checked]", "value");
    assert_eq!(ticked, picked);
    assert_eq!(
        refused.attr("#campaign-name", "value").as_deref(),
        Some("close the estate")
    );
    assert!(
        store::campaigns::list(app.store().readers(), 10)
            .await
            .unwrap()
            .is_empty()
    );
    let free = store::runs::active_holder(app.store().readers(), ACCOUNT, GZ, GZ_VPCS[0])
        .await
        .unwrap();
    assert_eq!(free, None, "no run was started for the free VPC");
    assert_eq!(app.audited("campaign.start_refused").await.len(), 1);
    // A bad field is named, and nothing starts either.
    let bad = post_campaign(&mut olga, &picked[..1], "0", false, true).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.text("p[data-field=concurrency]").contains("1 to 20"));
}

#[tokio::test]
async fn a_campaign_resumes_after_a_restart_and_step_1_waits_for_a_person_unless_told_otherwise() {
    let t = start().await;
    let mut olga = t.signed_in("olga", Role::Operator).await;
    let two = vec![key(GZ, GZ_VPCS[0]), key(GZ, GZ_VPCS[1])];
    let id = started(&post_campaign(&mut olga, &two, "2", false, false).await);
    let (_, members) = wait_campaign(t.store(), id, "step 1 to wait for a person", |_, m| {
        m.iter().all(|m| m.state == MemberState::NeedsYou)
    })
    .await;
    assert!(
        members[0].detail.contains("review step 1"),
        "{}",
        members[0].detail
    );
    let page = olga.get(&format!("/campaigns/{id}")).await;
    assert_eq!(page.count("#stop-campaign"), 1);
    assert_eq!(
        page.text(&format!("tr[data-vpc='{}'] .member-state", GZ_VPCS[0])),
        "needs you"
    );

    // Restart: same database, same cloud.
    let (app, sim, database, dir) = t.into_parts();
    app.shutdown().await;
    let app =
        TestApp::process_on(&database, &sim, WebSettings::default(), Default::default()).await;
    // A person reviews step 1 of each run (as its page does); the resumed campaign does the rest.
    let engine = &app.state.engine;
    for m in &members {
        let run = m.run_id.unwrap();
        let input = StepInput::Assess(engine.stored_assess_input(run).await.unwrap());
        engine.confirm_step(run, input, "olga").await.unwrap();
    }
    let (c, members) = wait_campaign(
        &app.state.store,
        id,
        "the resumed campaign to finish",
        |c, _| c.state == CampaignState::Finished,
    )
    .await;
    assert!(
        members.iter().all(|m| m.state == MemberState::Done),
        "{members:#?}"
    );
    assert_eq!(c.state, CampaignState::Finished);
    for m in &members {
        let r = engine.run(m.run_id.unwrap()).await.unwrap();
        assert_eq!(
            (r.status, r.current_step),
            (RunStatus::Completed, Step::Verify)
        );
    }
    drop(dir);
}

#[tokio::test]
async fn stop_starts_no_more_runs_and_is_audited_with_who_stopped_it() {
    let app = start().await;
    let mut olga = app.signed_in("olga", Role::Operator).await;
    let three = vec![
        key(GZ, GZ_VPCS[0]),
        key(GZ, GZ_VPCS[1]),
        key(GZ, GZ_VPCS[2]),
    ];
    let id = started(&post_campaign(&mut olga, &three, "1", false, false).await);
    wait_campaign(
        app.store(),
        id,
        "the first run to wait at step 1",
        |_, m| m[0].state == MemberState::NeedsYou,
    )
    .await;
    // Someone else may look but not stop it.
    let mut vic = app.signed_in("vic", Role::Operator).await;
    vic.get(&format!("/campaigns/{id}")).await;
    let refused = vic.post(&format!("/campaigns/{id}/stop"), &[]).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    olga.get(&format!("/campaigns/{id}")).await;
    let stopped = olga.post(&format!("/campaigns/{id}/stop"), &[]).await;
    assert_eq!(stopped.status, StatusCode::SEE_OTHER, "{}", stopped.body);
    let page = olga.get(&format!("/campaigns/{id}")).await;
    assert!(page.text("#campaign-state").starts_with("stopped by olga"));
    assert_eq!(page.count("#stop-campaign"), 0);
    assert!(
        page.text("#campaign-stopped")
            .contains("drives no run any more")
    );
    let members = store::campaigns::members(app.store().readers(), id)
        .await
        .unwrap();
    assert_eq!(
        states(&members)[1..],
        [
            (GZ_VPCS[1].into(), MemberState::Skipped),
            (GZ_VPCS[2].into(), MemberState::Skipped)
        ]
    );
    let audit = app.audited("campaign.stop").await;
    assert_eq!((audit.len(), audit[0].actor.as_str()), (1, "olga"));
    assert_eq!(audit[0].target, id.to_string());
    let list = olga.get("/campaigns").await;
    assert_eq!(
        list.text("tr.campaign td:last-child").split(' ').next(),
        Some("stopped")
    );
}

#[tokio::test]
async fn a_campaign_waits_for_four_eyes_approvals_and_hands_a_rejected_step_to_a_person() {
    let engine = natpilot::wizard::engine::EngineOptions {
        approvals: natpilot::approvals::ApprovalPolicy::four_eyes(Duration::from_secs(3600)),
        ..Default::default()
    };
    let app = TestApp::start_custom_engine(
        WebSettings::default(),
        sim_config(),
        |_| async { Vec::new() },
        engine,
    )
    .await;
    let mut olga = app.signed_in("olga", Role::Operator).await;
    let id = started(&post_campaign(&mut olga, &[key(GZ, GZ_VPCS[0])], "1", false, true).await);
    let at_step = |step: Step| {
        move |_: &Campaign, m: &[store::campaigns::Member]| {
            m[0].state == MemberState::Approval && m[0].held.is_some_and(|(_, s)| s == step)
        }
    };
    let (_, m) = wait_campaign(
        app.store(),
        id,
        "step 2 to wait for approval",
        at_step(Step::Provision),
    )
    .await;
    let (run, request) = (m[0].run_id.unwrap(), m[0].approval_id.unwrap());
    let engine = &app.app.state.engine;
    let r = engine.run(run).await.unwrap();
    assert_eq!(
        (r.status, r.current_step),
        (RunStatus::Active, Step::Provision),
        "nothing applied"
    );
    assert!(app.sim.handle().nat_gateways(GZ_VPCS[0]).is_empty());
    let page = olga.get(&format!("/campaigns/{id}")).await;
    let row = |p: &crate::harness::Page, css: &str| {
        p.text(&format!("tr[data-vpc='{}'] {css}", GZ_VPCS[0]))
    };
    assert_eq!(row(&page, ".member-state"), "waiting for approval");
    assert!(row(&page, ".member-detail").contains(&format!("approval request {request}")));
    // The campaign asked as olga: she cannot approve it herself.
    let own = engine.approve(request, "olga", Role::Operator, "").await;
    assert!(own.is_err());
    engine
        .approve(request, "ann", Role::Operator, "looks right")
        .await
        .unwrap();
    let (_, m) = wait_campaign(
        app.store(),
        id,
        "step 3 to wait for approval",
        at_step(Step::Route),
    )
    .await;
    let request = m[0].approval_id.unwrap();
    engine
        .reject(request, "ann", Role::Operator, "not this week")
        .await
        .unwrap();
    let (_, m) = wait_campaign(
        app.store(),
        id,
        "the rejected step to go to a person",
        |_, m| m[0].state == MemberState::NeedsYou,
    )
    .await;
    assert!(m[0].detail.contains("was rejected"), "{}", m[0].detail);
    let r = engine.run(run).await.unwrap();
    assert_eq!((r.status, r.current_step), (RunStatus::Active, Step::Route));
    let pending = store::approvals::pending_for(app.store().readers(), run, Step::Route)
        .await
        .unwrap();
    assert!(
        pending.is_none(),
        "the campaign does not ask again on its own"
    );
}

#[tokio::test]
async fn a_blocked_step_waits_for_a_person_and_the_campaign_drives_on_once_they_confirm_it() {
    let app = start().await;
    // VPC 2 already sends 0.0.0.0/0 to a server: replacing that route is a person's call.
    app.sim.handle().with_world(|w| {
        let old = serde_json::json!({"destination": "0.0.0.0/0", "gateway_type": "NORMAL_CVM",
            "gateway_id": "10.2.1.11", "id": 900, "item_id": "rti-old00001"});
        let table = w.route_tables.get_mut("rtb-gzcamp02").unwrap();
        table.routes.push(serde_json::from_value(old).unwrap());
    });
    let mut olga = app.signed_in("olga", Role::Operator).await;
    let two = vec![key(GZ, GZ_VPCS[0]), key(GZ, GZ_VPCS[1])];
    let id = started(&post_campaign(&mut olga, &two, "2", false, true).await);
    let (c, m) = wait_campaign(
        app.store(),
        id,
        "VPC 2 to wait for a person at step 3",
        |_, m| m[0].state == MemberState::Done && m[1].state == MemberState::NeedsYou,
    )
    .await;
    assert_eq!(
        c.state,
        CampaignState::Running,
        "a blocker is not a failure"
    );
    assert_eq!(m[1].held, Some((RunStatus::Active, Step::Route)));
    assert!(m[1].detail.contains("step 3 is blocked"), "{}", m[1].detail);
    let page = olga.get(&format!("/campaigns/{id}")).await;
    let detail = page.text(&format!("tr[data-vpc='{}'] .member-detail", GZ_VPCS[1]));
    assert!(
        detail.contains("confirm the step on the run's page"),
        "{detail}"
    );
    // The person consents on the run's page (the engine call that page makes).
    let run = m[1].run_id.unwrap();
    let consent = natpilot::wizard::input::RouteInput {
        replace_existing_default: true,
    };
    let engine = &app.app.state.engine;
    let plan = engine
        .plan_step(run, &StepInput::Route(consent.clone()))
        .await
        .unwrap();
    engine
        .confirm_previewed(run, StepInput::Route(consent), &plan.digest(), "olga")
        .await
        .unwrap();
    let (_, m) = wait_campaign(app.store(), id, "the campaign to finish", |c, _| {
        c.state == CampaignState::Finished
    })
    .await;
    assert!(m.iter().all(|m| m.state == MemberState::Done), "{m:#?}");
}

/// Engine options with a short lease, so a dead process's campaign is taken over in seconds.
fn short_lease() -> natpilot::wizard::engine::EngineOptions {
    natpilot::wizard::engine::EngineOptions {
        lease: natpilot::wizard::engine::LeaseOptions::with_ttl(Duration::from_secs(2)),
        ..Default::default()
    }
}

#[tokio::test]
async fn one_process_drives_a_campaign_and_another_takes_it_over_when_the_first_dies() {
    let t = TestApp::start_custom_engine(
        WebSettings::default(),
        sim_config(),
        |_| async { Vec::new() },
        short_lease(),
    )
    .await;
    let mut olga = t.signed_in("olga", Role::Operator).await;
    let one = vec![key(GZ, GZ_VPCS[0])];
    let id = started(&post_campaign(&mut olga, &one, "1", false, false).await);
    let (_, m) = wait_campaign(t.store(), id, "step 1 to wait for a person", |_, m| {
        m[0].state == MemberState::NeedsYou
    })
    .await;
    let first = t.app.state.engine.holder().to_owned();
    let holder = || async {
        store::campaigns::lease_holder(t.store().readers(), id)
            .await
            .unwrap()
    };
    assert_eq!(holder().await.as_deref(), Some(first.as_str()));
    // A second process on the same database leaves the campaign to the live first one.
    let h = t.sim.handle();
    let second = app::spawn(AppConfig {
        client: Client::for_endpoint(&t.sim.endpoint(), h.secret_id(), h.secret_key()).unwrap(),
        listener: tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap(),
        metrics_listener: None,
        store: Store::connect(&t.database).await.unwrap(),
        settings: WebSettings::default(),
        tls: None,
        engine: short_lease(),
    })
    .await
    .unwrap();
    assert_eq!(second.state.campaigns.resume().await.unwrap(), 0);
    assert_eq!(holder().await.as_deref(), Some(first.as_str()));
    // The first process dies: nothing is released; the second takes over once the lease
    // expires, and drives the run on after a person confirms step 1.
    t.app.state.campaigns.halt();
    t.app.state.engine.halt();
    let engine = &second.state.engine;
    let run = m[0].run_id.unwrap();
    let input = StepInput::Assess(engine.stored_assess_input(run).await.unwrap());
    engine.confirm_step(run, input, "olga").await.unwrap();
    let (_, m) = wait_campaign(t.store(), id, "the second process to finish it", |c, _| {
        c.state == CampaignState::Finished
    })
    .await;
    assert_eq!(m[0].state, MemberState::Done);
    let r = engine.run(run).await.unwrap();
    assert_eq!(r.status, RunStatus::Completed);
    assert_eq!(holder().await, None, "the lease is given up at the end");
    assert_eq!(app_nats(&t), 1, "one NAT gateway");
}

fn app_nats(t: &TestApp) -> usize {
    t.sim.handle().nat_gateways(GZ_VPCS[0]).len()
}
