//! Engine benchmark (issue 4 "Performance"): a whole run — the four steps confirmed through
//! the engine API — on the simulator's `large` scenario with its documented per-action rate
//! limits on, the portal's own client (with its limiter) and engine. Prints each step's time,
//! its rate-limit floor and their ratio, calls made vs the minimum needed, and how many
//! `RequestLimitExceeded` answers came back. Asserts nothing about time.
//!
//! `cargo bench --bench engine_run -- [--instances 10000] [--async-ms 5] [--concurrency 64]
//! [--rollback 1]`; with `NATPILOT_TEST_POSTGRES=postgres://…` on a new PostgreSQL database
//! instead of a SQLite file.
//! The simulator's async steps (EIP tasks, TAT, NAT creation) take `--async-ms`, small enough
//! that the rate limits, not the simulated cloud, decide how long the run takes.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use natpilot::sim::{ScenarioSource, SimConfig, SimHandle};
use natpilot::store::{self, RunId, RunStatus, Step, Store, ledger::ApiCall};
use natpilot::tencent::{
    Client, ClientSettings, CredentialSource, Credentials, CredentialsProvider, Endpoint, Service,
};
use natpilot::wizard::engine::{Engine, EngineOptions};
use natpilot::wizard::input::*;
use natpilot::wizard::plan::{Change, Plan};
use natpilot::wizard::poll::Poll;
use natpilot::wizard::tencent_cloud::TencentConnector;

const VPC: &str = "vpc-large000";

struct Options {
    instances: usize,
    async_ms: u64,
    concurrency: usize,
    /// Also roll the completed run back (`--rollback 1`) and print the same figures for it.
    rollback: bool,
}

fn options() -> Options {
    let mut o = Options {
        instances: 10_000,
        async_ms: 5,
        concurrency: natpilot::wizard::engine::DEFAULT_CONCURRENCY,
        rollback: false,
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    for pair in args.windows(2) {
        let value = || pair[1].parse::<u64>().expect("a number after the flag");
        match pair[0].as_str() {
            "--instances" => o.instances = value() as usize,
            "--async-ms" => o.async_ms = value(),
            "--concurrency" => o.concurrency = value() as usize,
            "--rollback" => o.rollback = value() != 0,
            _ => {}
        }
    }
    o
}

/// Read-only look-ups: in every step they come first (the plan's inventory, the address
/// snapshot) and the step's work needs their answers.
const DISCOVERY: [&str; 9] = [
    "DescribeVpcs",
    "DescribeSubnets",
    "DescribeRouteTables",
    "DescribeInstances",
    "DescribeAutomationAgentStatus",
    "DescribeAddresses",
    "DescribeAddressQuota",
    "DescribeDomainList",
    "DescribeRecordList",
];

/// The documented limit of an action (reference §3.5), from the simulator's registry, which
/// takes it from the same `Action::RATE_LIMIT_PER_SECOND` the client's limiter uses.
fn limit(action: &str) -> f64 {
    let registry = natpilot::sim::actions::registry();
    Service::ALL
        .iter()
        .find_map(|s| registry.get(*s, action))
        .map_or(f64::INFINITY, |e| f64::from(e.rate_limit.max(1)))
}

/// The least time the documented limits allow for `calls` (action → count) of one step.
///
/// n calls of an action limited to L/s need n/L seconds (Tencent counts per second; we ignore
/// the at most one second a first burst could save). Calls of different actions can overlap,
/// so a set of independent calls needs the max over its actions. Each step has two such sets
/// that cannot overlap: its discovery (the inventory the plan is made from, the address
/// snapshot) and the work that needs the discovery's answers (creates, retirements, the egress
/// test's RunCommand/DescribeInvocationTasks, task polls). So
///   floor(step) = max over discovery actions (n/L) + max over work actions (n/L).
/// The counts are the calls actually made; "calls vs minimum" below shows any excess.
fn floor(calls: &BTreeMap<String, usize>) -> f64 {
    let phase = |discovery: bool| {
        calls
            .iter()
            .filter(|(a, _)| DISCOVERY.contains(&a.as_str()) == discovery)
            .map(|(a, n)| *n as f64 / limit(a))
            .fold(0.0, f64::max)
    };
    phase(true) + phase(false)
}

async fn ledger(store: &Store, run: RunId) -> anyhow::Result<Vec<ApiCall>> {
    let mut all: Vec<ApiCall> = Vec::new();
    loop {
        let after = all.last().map_or(0, |c| c.id);
        let page = store::ledger::list(store.readers(), run, after, 10_000).await?;
        if page.is_empty() {
            return Ok(all);
        }
        all.extend(page);
    }
}

/// Confirms `input` and waits for the step's job; returns how long both took.
async fn step(engine: &Engine, run: RunId, input: StepInput) -> anyhow::Result<Duration> {
    let started = Instant::now();
    engine.confirm_step(run, input, "bench").await?;
    let r = engine.wait(run).await?;
    anyhow::ensure!(
        matches!(r.status, RunStatus::Active | RunStatus::Completed),
        "step ended {:?}: {:?}",
        r.status,
        r.last_error
    );
    Ok(started.elapsed())
}

async fn whole_run(engine: &Engine) -> anyhow::Result<(RunId, BTreeMap<Step, Duration>)> {
    let mut times = BTreeMap::new();
    let started = Instant::now();
    let run = engine
        .start_run("sim", "ap-guangzhou", VPC, "bench")
        .await?;
    engine.wait(run).await?;
    let assess = StepInput::Assess(AssessInput::default());
    step(engine, run, assess).await?;
    times.insert(Step::Assess, started.elapsed());
    let provision = StepInput::Provision(ProvisionInput::Create(NewNat {
        name: "bench-egress".into(),
        bandwidth_mbps: 100,
        max_connections: 1_000_000,
        eips: EipChoice::New(1),
        zone: None,
    }));
    times.insert(Step::Provision, step(engine, run, provision).await?);
    let route = StepInput::Route(RouteInput::default());
    times.insert(Step::Route, step(engine, run, route).await?);
    let verify = StepInput::Verify(VerifyInput::default());
    times.insert(Step::Verify, step(engine, run, verify).await?);
    Ok((run, times))
}

/// What the world held before the run, for the minimum-calls count.
struct Facts {
    instances: usize,
    testable: usize,
    eips: usize,
    ordinary: usize,
    tables: usize,
}

fn facts(sim: &SimHandle) -> Facts {
    sim.with_world(|w| Facts {
        instances: w.instances().len(),
        testable: w
            .instances()
            .iter()
            .filter(|i| i.state == "RUNNING" && format!("{:?}", i.agent) == "Online")
            .count(),
        eips: w.addresses.len(),
        ordinary: w
            .instances()
            .iter()
            .filter(|i| i.public_ip.is_some())
            .count(),
        tables: w.route_tables.len(),
    })
}

/// The fewest calls per action a run of this world needs: five inventories (assessment, the
/// plans of steps 2–4, the check after routing), two egress tests, one create, one route per
/// table, and per retirement its call and one look at its task.
fn minimum(f: &Facts, plan: &Plan) -> BTreeMap<&'static str, usize> {
    let pages = |n: usize| n.div_ceil(100);
    let count = |p: fn(&Change) -> bool| plan.changes().filter(|c| p(c)).count();
    let transforms = count(|c| matches!(c, Change::TransformAddress { .. }));
    let unbinds = count(|c| matches!(c, Change::DisassociateEip { .. }));
    let inventories = 5;
    // The first two inventories come before the NAT gateway (and its EIP) exists.
    let wan = pages(f.ordinary).min(pages(f.instances));
    let addresses = 2 * (pages(f.eips) + wan) + 3 * (pages(f.eips + 1) + wan);
    let snapshot = pages(f.eips + 1) + pages(f.ordinary).min(pages(unbinds));
    BTreeMap::from([
        ("DescribeSubnets", inventories),
        ("DescribeRouteTables", inventories + f.tables),
        ("DescribeInstances", inventories * pages(f.instances)),
        (
            "DescribeAutomationAgentStatus",
            inventories * pages(f.instances),
        ),
        ("DescribeAddresses", addresses + snapshot),
        ("DescribeNatGateways", inventories + 2),
        ("DescribeAddressQuota", inventories),
        ("DescribeDomainList", inventories),
        ("RunCommand", 2 * pages(f.testable)),
        ("DescribeInvocationTasks", 2 * pages(f.testable)),
        ("CreateNatGateway", 1),
        ("CreateRoutes", f.tables),
        ("TransformAddress", transforms),
        ("DisassociateAddress", unbinds),
        ("DescribeTaskResult", transforms + unbinds),
    ])
}

async fn engine(sim: &natpilot::sim::RunningSim, o: &Options) -> anyhow::Result<(Engine, Store)> {
    let endpoint = Endpoint::override_url(&sim.endpoint())?;
    let credentials = Credentials::new(sim.secret_id(), sim.secret_key());
    // Default settings: the client's per-action limiter is on, as against Tencent Cloud.
    let client = Client::new(ClientSettings::new(
        endpoint,
        CredentialsProvider::fixed(credentials, CredentialSource::Explicit),
    ))?;
    // First look just after the simulated work is due (TAT takes two async steps), then back off.
    let poll = Poll {
        first: Duration::from_millis(3 * o.async_ms + 5),
        max: Duration::from_secs(1),
    };
    let dir = std::env::temp_dir().join(format!("natpilot-engine-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let store = natpilot::store::test_store::open(&dir).await?;
    let kind = if natpilot::store::test_store::postgres() {
        "PostgreSQL"
    } else {
        "SQLite"
    };
    println!("store: {kind}");
    let options = EngineOptions {
        poll,
        concurrency: o.concurrency,
        ..EngineOptions::default()
    };
    let connector = std::sync::Arc::new(TencentConnector::new(client, poll));
    Ok((Engine::new(store.clone(), connector, options), store))
}

fn print_steps(times: &BTreeMap<Step, Duration>, calls: &[ApiCall]) {
    println!(
        "{:<28} {:>10} {:>10} {:>7}",
        "step", "elapsed s", "floor s", "ratio"
    );
    let (mut total, mut total_floor) = (0.0, 0.0);
    for (step, elapsed) in times {
        let mut by_action: BTreeMap<String, usize> = BTreeMap::new();
        for c in calls.iter().filter(|c| c.step == Some(*step)) {
            *by_action.entry(c.action.clone()).or_default() += 1;
        }
        let (e, f) = (elapsed.as_secs_f64(), floor(&by_action));
        total += e;
        total_floor += f;
        println!("{:<28} {e:>10.2} {f:>10.2} {:>7.2}", step.title(), e / f);
    }
    println!(
        "{:<28} {total:>10.2} {total_floor:>10.2} {:>7.2}  (target <= 1.3)",
        "whole run",
        total / total_floor
    );
}

fn print_calls(calls: &[ApiCall], minimum: &BTreeMap<&'static str, usize>) {
    let made = per_action(calls);
    println!(
        "{:<36} {:>8} {:>8} {:>7}",
        "action (limit/s)", "made", "minimum", "extra"
    );
    for (action, n) in &made {
        let min = minimum.get(action).copied().unwrap_or(0);
        let name = format!("{action} ({})", limit(action));
        println!("{name:<36} {n:>8} {min:>8} {:>7}", *n as i64 - min as i64);
    }
    let limited = rate_limited(calls);
    let failed = calls.iter().filter(|c| c.error_code.is_some()).count();
    println!(
        "RequestLimitExceeded answers: {limited} (target 0); failed calls of any kind: {failed}"
    );
}

/// How many of `calls` each action made.
fn per_action(calls: &[ApiCall]) -> BTreeMap<&str, usize> {
    let mut n: BTreeMap<&str, usize> = BTreeMap::new();
    for c in calls {
        *n.entry(c.action.as_str()).or_default() += 1;
    }
    n
}

/// How many of `calls` the simulator answered with RequestLimitExceeded (target 0).
fn rate_limited(calls: &[ApiCall]) -> usize {
    calls
        .iter()
        .filter(|c| {
            c.error_code
                .as_deref()
                .is_some_and(|e| e.starts_with("RequestLimitExceeded"))
        })
        .count()
}

/// Rolls the run back (releasing the NAT's EIP) and prints its time against its floor. Every
/// rollback call of an instance (look up its EIP, bind it back, poll the task) overlaps those
/// of other instances, so here the floor is the max over all actions of calls / limit.
async fn roll_back(engine: &Engine, store: &Store, run: RunId, after: i64) -> anyhow::Result<()> {
    let started = Instant::now();
    engine.rollback(run, "bench", true).await?;
    let r = engine.wait(run).await?;
    anyhow::ensure!(
        r.status == RunStatus::RolledBack,
        "rollback ended {:?}: {:?}",
        r.status,
        r.last_error
    );
    let elapsed = started.elapsed().as_secs_f64();
    let calls: Vec<ApiCall> = ledger(store, run)
        .await?
        .into_iter()
        .filter(|c| c.id > after)
        .collect();
    let by_action = per_action(&calls);
    let floor = by_action
        .iter()
        .map(|(a, n)| *n as f64 / limit(a))
        .fold(0.0, f64::max);
    println!(
        "rollback: {elapsed:.2} s, floor {floor:.2} s, ratio {:.2}",
        elapsed / floor
    );
    for (action, n) in &by_action {
        println!("  {:<34} {n:>8}", format!("{action} ({})", limit(action)));
    }
    let limited = rate_limited(&calls);
    println!("  RequestLimitExceeded answers: {limited}");
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let o = options();
    let sim = natpilot::sim::spawn(SimConfig {
        scenario: ScenarioSource::Large {
            instances: o.instances,
        },
        async_delay: Duration::from_millis(o.async_ms),
        rate_limit: true,
        ..SimConfig::default()
    })
    .await?;
    // Each ordinary IP kept as an EIP counts against the EIP quota (reference §4.18).
    sim.with_world(|w| w.quotas.eip_total = 1_000_000);
    let facts = facts(&sim);
    let (engine, store) = engine(&sim, &o).await?;
    println!(
        "engine run: {} instances ({} testable, {} EIPs, {} ordinary public IPs), sim async {} ms, \
         {} retirements at once, rate limits on",
        facts.instances, facts.testable, facts.eips, facts.ordinary, o.async_ms, o.concurrency
    );
    let (run, times) = whole_run(&engine).await?;
    let calls = ledger(&store, run).await?;
    let verify = store::steps::get(store.readers(), run, Step::Verify).await?;
    let plan: Plan = verify
        .and_then(|r| serde_json::from_value(r.plan).ok())
        .unwrap_or_default();
    print_steps(&times, &calls);
    print_calls(&calls, &minimum(&facts, &plan));
    if o.rollback {
        roll_back(&engine, &store, run, calls.last().map_or(0, |c| c.id)).await?;
    }
    sim.shutdown().await;
    Ok(())
}
