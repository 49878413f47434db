//! A real `kill -9` of a real `natpilot serve` while a step applies (issue 10: "a `kill -9` at
//! any point of steps 2–4 … leaves no duplicate, no orphaned EIP and a ledger row for every
//! call that reached the cloud"). The cloud is a simulator in the test process, so it survives
//! the kill; the portal is the binary, driven over HTTP like a browser. The kill lands when the
//! targeted mutating call has reached the cloud and its write-ahead ledger row reads `sent`
//! (the call answers late, so the process dies with it in flight). The next `serve` on the
//! same database waits out the dead process's lease, takes the run over and finishes the step.

mod browser;
mod checks;
mod portal;

use natpilot::store::{RunId, RunStatus, Step};
use reqwest::StatusCode;
use sqlx::AnyPool;

use browser::Browser;
use portal::{PASSWORD, Portal, World, until, until_in_flight, until_status};

const VPC: &str = "vpc-tut0rial";
const OPERATOR: &str = "olga";

const NAT: [(&str, &str); 4] = [
    ("name", "egress-nat"),
    ("bandwidth_mbps", "100"),
    ("max_connections", "1000000"),
    ("new_eips", "1"),
];

async fn signed_in(portal: &Portal) -> Browser {
    let mut b = Browser::new(&portal.url);
    b.login(OPERATOR, PASSWORD).await;
    b
}

/// Starts a run on the tutorial VPC through the new-run form; returns once step 1 is ready.
async fn start_run(b: &mut Browser, db: &AnyPool) -> RunId {
    let form = b.get("/runs/new").await;
    let region = form
        .attr("#new-run-form input[name=region]", "value")
        .unwrap_or_else(|| panic!("no region on the new-run form:\n{}", form.body));
    let done = b
        .post("/runs", &[("region", &region), ("vpc_id", VPC)])
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    let run: RunId = done
        .location
        .unwrap()
        .trim_start_matches("/runs/")
        .parse()
        .unwrap();
    until_status(db, run, (RunStatus::Active, Step::Assess)).await;
    run
}

/// Previews step `n` with `fields` and confirms the plan shown; does not wait for the apply.
async fn confirm(b: &mut Browser, run: RunId, n: u8, fields: &[(&str, &str)]) {
    b.get(&format!("/runs/{run}/step/{n}")).await;
    let preview = b.post(&format!("/runs/{run}/step/{n}/plan"), fields).await;
    assert_eq!(preview.status, StatusCode::OK, "step {n}: {}", preview.body);
    let digest = preview
        .attr("#step-form input[name=plan_digest]", "value")
        .expect("a preview carries the digest of its plan");
    let mut confirmed = fields.to_vec();
    confirmed.push(("plan_digest", &digest));
    let done = b
        .post(&format!("/runs/{run}/step/{n}/confirm"), &confirmed)
        .await;
    assert_eq!(
        done.status,
        StatusCode::SEE_OTHER,
        "step {n}: {}",
        done.body
    );
}

/// What the portal is doing when it is killed.
enum Doing<'a> {
    /// Confirming step `n` with these fields.
    Step(u8, &'a [(&'a str, &'a str)]),
    /// Rolling back, also releasing the NAT gateway's new EIPs.
    RollbackReleasingEips,
}

/// Starts `doing` on run `run` with `action` answering late, `kill -9`s the portal once that
/// call is in flight, and starts the next portal on the same database (which takes over).
async fn killed_during(
    world: &World,
    db: &AnyPool,
    mut portal: Portal,
    (run, doing): (RunId, Doing<'_>),
    action: &str,
) -> Portal {
    let mut b = signed_in(&portal).await;
    let before = world.received(action);
    world.slow(action);
    match doing {
        Doing::Step(n, fields) => confirm(&mut b, run, n, fields).await,
        Doing::RollbackReleasingEips => {
            b.get(&format!("/runs/{run}")).await;
            let done = b
                .post(
                    &format!("/runs/{run}/rollback"),
                    &[("release_nat_eips", "1")],
                )
                .await;
            assert_eq!(
                done.status,
                StatusCode::SEE_OTHER,
                "rollback: {}",
                done.body
            );
        }
    }
    until_in_flight(world, db, run, action, before).await;
    portal.process.kill9();
    world.no_faults();
    world.serve()
}

#[tokio::test]
async fn kill_9_of_serve_during_create_nat_gateway_and_during_retirement_leaves_one_gateway_and_every_call_ledgered()
 {
    let world = World::start().await;
    let eips_before = checks::eip_ids(&world);
    world.add_operator(OPERATOR);
    let db = world.reader().await;
    let portal = world.serve();

    let mut b = signed_in(&portal).await;
    let run = start_run(&mut b, &db).await;
    confirm(&mut b, run, 1, &[]).await;
    until_status(&db, run, (RunStatus::Active, Step::Provision)).await;

    // Step 2, killed with CreateNatGateway in flight: the next process finds the gateway
    // (reconcile first) instead of creating a second one.
    let portal = killed_during(
        &world,
        &db,
        portal,
        (run, Doing::Step(2, &NAT)),
        "CreateNatGateway",
    )
    .await;
    until_status(&db, run, (RunStatus::Active, Step::Route)).await;
    checks::assert_one_nat_gateway(&world, VPC);

    let mut b = signed_in(&portal).await;
    confirm(&mut b, run, 3, &[("replace_existing_default", "1")]).await;
    until_status(&db, run, (RunStatus::Active, Step::Verify)).await;

    // Step 4, killed with a TransformAddress (an ordinary public IP becoming an EIP) in flight.
    let portal = killed_during(
        &world,
        &db,
        portal,
        (run, Doing::Step(4, &[])),
        "TransformAddress",
    )
    .await;
    until_status(&db, run, (RunStatus::Completed, Step::Verify)).await;

    checks::assert_one_nat_gateway(&world, VPC);
    checks::assert_no_duplicate_route(&world);
    checks::assert_no_orphaned_eip(&world, &db, run, &eips_before).await;
    let sent = checks::assert_every_received_call_is_ledgered(&world, &db, run).await;
    assert!(
        sent.iter().any(|a| a == "CreateNatGateway")
            && sent.iter().any(|a| a == "TransformAddress"),
        "the killed processes' calls are left sent: {sent:?}"
    );

    // The run's call ledger says what became of the calls whose answers died with a process.
    let mut b = signed_in(&portal).await;
    let calls = b.get(&format!("/runs/{run}/calls")).await;
    let unknown = calls.texts("tr:has(.outcome-unknown) .ledger-action");
    for action in ["vpc:CreateNatGateway", "vpc:TransformAddress"] {
        assert!(
            unknown.iter().any(|a| a == action),
            "{action} reads outcome unknown: {unknown:?}"
        );
    }
}

#[tokio::test]
async fn kill_9_of_serve_during_create_routes_disassociate_address_and_rollback_duplicates_nothing_and_releases_the_new_eips()
 {
    let world = World::start().await;
    let eips_before = checks::eip_ids(&world);
    let ips_before = checks::records_per_ip(&world);
    world.add_operator(OPERATOR);
    let db = world.reader().await;
    let portal = world.serve();

    let mut b = signed_in(&portal).await;
    let run = start_run(&mut b, &db).await;
    confirm(&mut b, run, 1, &[]).await;
    until_status(&db, run, (RunStatus::Active, Step::Provision)).await;
    confirm(&mut b, run, 2, &NAT).await;
    until_status(&db, run, (RunStatus::Active, Step::Route)).await;

    let portal = killed_during(
        &world,
        &db,
        portal,
        (run, Doing::Step(3, &[])),
        "CreateRoutes",
    )
    .await;
    until_status(&db, run, (RunStatus::Active, Step::Verify)).await;
    checks::assert_no_duplicate_route(&world);

    let step4 = (run, Doing::Step(4, &[]));
    let portal = killed_during(&world, &db, portal, step4, "DisassociateAddress").await;
    until_status(&db, run, (RunStatus::Completed, Step::Verify)).await;
    checks::assert_one_nat_gateway(&world, VPC);
    checks::assert_no_orphaned_eip(&world, &db, run, &eips_before).await;

    // Rollback with "also release the NAT gateway's new EIPs", killed with DeleteNatGateway in
    // flight: the next process finishes it and releases the EIPs from the undo record.
    let rollback = (run, Doing::RollbackReleasingEips);
    let portal = killed_during(&world, &db, portal, rollback, "DeleteNatGateway").await;
    until_status(&db, run, (RunStatus::RolledBack, Step::Verify)).await;
    drop(portal);

    assert!(world.sim.handle().nat_gateways(VPC).is_empty());
    checks::assert_no_duplicate_route(&world);
    checks::assert_no_new_unbound_eip(&world, &eips_before);
    let per_ip = checks::records_per_ip(&world);
    assert!(per_ip.values().all(|n| *n == 1), "{per_ip:?}");
    assert!(
        ips_before.keys().all(|ip| per_ip.contains_key(ip)),
        "an IP the VPC had was lost: before {ips_before:?}, now {per_ip:?}"
    );
    let sent = checks::assert_every_received_call_is_ledgered(&world, &db, run).await;
    for action in ["CreateRoutes", "DisassociateAddress", "DeleteNatGateway"] {
        assert!(
            sent.iter().any(|a| a == action),
            "the {action} of a killed process is left sent: {sent:?}"
        );
    }
}

/// The run page's "driven by another natpilot process" notice, if the page has one.
async fn driver_notice(b: &mut Browser, run: RunId) -> Option<String> {
    let page = b.get(&format!("/runs/{run}")).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    page.text("#run-driver")
}

/// The run's lease holder now, if any.
async fn lease_holder(db: &AnyPool, run: RunId) -> Option<String> {
    natpilot::store::lease::get(db, run)
        .await
        .unwrap()
        .map(|l| l.holder)
}

/// The status a live fragment shows.
fn shown_status(page: &browser::Page) -> Option<String> {
    page.attr("#run-status", "data-status")
}

/// Two replicas on one database (a SQLite file, or PostgreSQL in `.ci/run`'s PostgreSQL pass:
/// issue 15's failover test). The replica applying step 2 is killed with CreateNatGateway in
/// flight; the other, whose browser follows the run live on a stream it opened while the first
/// drove, takes the run over once the lease expires, finishes the step with one gateway, and
/// its stream shows it without a reload. Then a third replica applies step 4 and is killed
/// with DisassociateAddress in flight; the survivor finishes the run and its stream shows the
/// run completed. The time from each kill to the survivor taking the lease is printed.
#[tokio::test]
async fn two_replicas_on_one_database_either_can_die_mid_step_and_the_survivor_finishes_the_run_live()
 {
    let world = World::start().await;
    let eips_before = checks::eip_ids(&world);
    world.add_operator(OPERATOR);
    let db = world.reader().await;
    let mut portals = [world.serve(), world.serve()];

    let mut b = signed_in(&portals[0]).await;
    let run = start_run(&mut b, &db).await;
    confirm(&mut b, run, 1, &[]).await;
    until_status(&db, run, (RunStatus::Active, Step::Provision)).await;
    world.slow("CreateNatGateway");
    confirm(&mut b, run, 2, &NAT).await;
    until_in_flight(&world, &db, run, "CreateNatGateway", 0).await;

    // Exactly one process drives the run; the other's page names it as another process.
    let mut browsers = [signed_in(&portals[0]).await, signed_in(&portals[1]).await];
    let mut notices = Vec::new();
    for b in &mut browsers {
        notices.push(driver_notice(b, run).await);
    }
    let driver = match &notices[..] {
        [None, Some(n)] | [Some(n), None] => {
            assert!(
                n.starts_with("Driven by another natpilot process (holder"),
                "{n}"
            );
            notices.iter().position(Option::is_none).unwrap()
        }
        _ => panic!("exactly one process must drive the run: {notices:?}"),
    };
    let other = 1 - driver;
    assert_eq!(
        portal::status(&db, run).await,
        (RunStatus::Applying, Step::Provision)
    );
    // The survivor's browser follows the run live while the other replica drives it.
    let mut live = browsers[other].stream(&format!("/runs/{run}/events")).await;
    let first = live
        .until("the run driven by the other replica", |p| {
            p.text("#run-driver").is_some()
        })
        .await;
    assert_eq!(shown_status(&first).as_deref(), Some("applying"));
    let dead = lease_holder(&db, run)
        .await
        .expect("the driver holds the lease");

    portals[driver].process.kill9();
    let killed = std::time::Instant::now();
    world.no_faults();
    until("the survivor to take the run's lease", || async {
        lease_holder(&db, run).await.is_some_and(|h| h != dead)
    })
    .await;
    let takeover = killed.elapsed();
    until_status(&db, run, (RunStatus::Active, Step::Route)).await;
    eprintln!(
        "failover: step 2 taken over {:.1} s and finished {:.1} s after the kill -9 (lease 3 s)",
        takeover.as_secs_f64(),
        killed.elapsed().as_secs_f64()
    );
    checks::assert_one_nat_gateway(&world, VPC);
    // The same stream, never reloaded, shows the survivor's work.
    live.until("step 2 finished by the survivor", |p| {
        shown_status(p).as_deref() == Some("active") && p.text("#run-driver").is_none()
    })
    .await;
    drop(live);
    assert_eq!(
        driver_notice(&mut browsers[other], run).await,
        None,
        "the survivor drives the run now"
    );

    let mut b = signed_in(&portals[other]).await;
    confirm(&mut b, run, 3, &[("replace_existing_default", "1")]).await;
    until_status(&db, run, (RunStatus::Active, Step::Verify)).await;

    // Step 4 on a third replica, killed with a retirement in flight.
    let third = world.serve();
    let mut b3 = signed_in(&third).await;
    let before = world.received("DisassociateAddress");
    world.slow("DisassociateAddress");
    confirm(&mut b3, run, 4, &[]).await;
    until_in_flight(&world, &db, run, "DisassociateAddress", before).await;
    let mut live = browsers[other].stream(&format!("/runs/{run}/events")).await;
    live.until("step 4 driven by the third replica", |p| {
        p.text("#run-driver").is_some()
    })
    .await;
    let dead = lease_holder(&db, run)
        .await
        .expect("the third holds the lease");
    let mut third = third;
    third.process.kill9();
    let killed = std::time::Instant::now();
    world.no_faults();
    until("the survivor to take step 4 over", || async {
        lease_holder(&db, run).await.is_none_or(|h| h != dead)
    })
    .await;
    eprintln!(
        "failover: step 4 taken over {:.1} s after the kill -9 (lease 3 s)",
        killed.elapsed().as_secs_f64()
    );
    until_status(&db, run, (RunStatus::Completed, Step::Verify)).await;
    live.until("the run completed", |p| {
        shown_status(p).as_deref() == Some("completed")
    })
    .await;
    assert!(
        matches!(live.next().await, Some(browser::Message::Done)),
        "the stream says done after the final fragment"
    );

    checks::assert_one_nat_gateway(&world, VPC);
    checks::assert_no_duplicate_route(&world);
    checks::assert_no_orphaned_eip(&world, &db, run, &eips_before).await;
    // The calls in flight at each kill are left sent (step 4 has several in flight at once,
    // e.g. a verification's DescribeTaskResult beside the retirement).
    let sent = checks::assert_every_received_call_is_ledgered(&world, &db, run).await;
    for action in ["CreateNatGateway", "DisassociateAddress"] {
        assert!(
            sent.iter().any(|a| a == action),
            "the killed {action} is left sent: {sent:?}"
        );
    }
}
