//! Estate-scan benchmark (issue 13 "Performance"): a scan of 3 accounts × 5 regions × 10 VPCs
//! × 1,000 instances on the simulator with its documented rate limits on, through the
//! portal's own client and limiter. Prints the elapsed time next to the rate-limit floor
//! (target ≤ 1.1×), the calls made next to the minimum per action, and how many calls the
//! simulator refused with `RequestLimitExceeded` (target 0). Asserts nothing about time.
//!
//! The floor: accounts and regions are scanned at once and Tencent counts per action, region
//! and account, so it is one region's: `DescribeRegions`, then the slowest of the region's
//! lists, each `(pages − 1) / limit` (the first call of a budget goes at once; the one
//! `DescribeRegions` of an account is such a first call).
//!
//! `cargo bench --bench estate_scan -- [--instances 1000] [--vpcs 10]`

use std::time::Instant;

use natpilot::estate::{CloudAccounts, ExtraAccount};
use natpilot::sim::{
    DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY, ScenarioSource, SimAccountConfig, SimConfig,
    scenario::Scenario,
};
use natpilot::store::Store;
use natpilot::tencent::models::{cvm, vpc};
use natpilot::tencent::{Action, Client};

/// The same allocator as the `natpilot` binary, so the figures are the shipped portal's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const REGIONS: [&str; 5] = [
    "ap-guangzhou",
    "ap-shanghai",
    "ap-beijing",
    "ap-singapore",
    "na-siliconvalley",
];
/// What the simulator answers per page at most (and the scan asks for).
const PAGE: usize = 100;

fn flag(name: &str, default: usize) -> usize {
    let args: Vec<String> = std::env::args().collect();
    args.windows(2)
        .find(|w| w[0] == name)
        .map_or(default, |w| w[1].parse().expect("a number after the flag"))
}

/// One region's world: `vpcs` copies of the `large` scenario's VPC with `instances` each, ids
/// and public IPs made unique per copy.
fn region_world(vpcs: usize, instances: usize) -> anyhow::Result<Scenario> {
    let one = serde_json::to_string(&ScenarioSource::Large { instances }.load()?)?;
    let mut merged: Option<Scenario> = None;
    for v in 0..vpcs {
        // `large` ids are `<prefix>-large<nnn>` and `<prefix>-<8 hex>` with leading zeros
        // (under 65,536 instances), public IPs 101.32.x.y and 162.14.x.y.
        let text = one
            .replace("large", &format!("lrg{v:x}0"))
            .replace("\"ins-0", &format!("\"ins-{v:x}"))
            .replace("\"eip-0", &format!("\"eip-{v:x}"))
            .replace("\"101.32.", &format!("\"101.{}.", 32 + v))
            .replace("\"162.14.", &format!("\"162.{}.", 14 + v));
        let copy: Scenario = serde_json::from_str(&text)?;
        match &mut merged {
            None => merged = Some(copy),
            Some(m) => {
                m.vpcs.extend(copy.vpcs);
                m.subnets.extend(copy.subnets);
                m.route_tables.extend(copy.route_tables);
                m.instances.extend(copy.instances);
                m.addresses.extend(copy.addresses);
                m.quotas.eip_total += copy.quotas.eip_total;
            }
        }
    }
    merged.ok_or_else(|| anyhow::anyhow!("--vpcs must be at least 1"))
}

fn pages(n: usize) -> usize {
    n.div_ceil(PAGE).max(1)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let instances = flag("--instances", 1_000);
    let vpcs = flag("--vpcs", 10);
    let world = region_world(vpcs, instances)?;
    let worlds = |_: &str| ScenarioSource::Inline(Box::new(world.clone()));
    let extra = |n: usize| SimAccountConfig {
        uin: format!("10000000000{}", n + 1),
        secret_id: format!("AKIDbenchaccount{n}00000000000000000000"),
        secret_key: format!("benchSecretKey{n}0000000000000000000").into(),
        regions: REGIONS.iter().map(|r| (r.to_string(), worlds(r))).collect(),
        roles: vec![],
        denied: vec![],
    };
    let config = SimConfig {
        region: Some(REGIONS[0].into()),
        scenario: worlds(REGIONS[0]),
        extra_regions: REGIONS[1..]
            .iter()
            .map(|r| (r.to_string(), worlds(r)))
            .collect(),
        accounts: vec![extra(1), extra(2)],
        rate_limit: true,
        ..SimConfig::default()
    };
    let sim = natpilot::sim::spawn(config.clone()).await?;
    let endpoint = sim.endpoint();
    let default = Client::for_endpoint(&endpoint, DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY)?;
    let extras = config
        .accounts
        .iter()
        .enumerate()
        .map(|(i, a)| {
            use secrecy::ExposeSecret as _;
            Ok(ExtraAccount {
                label: format!("account-{}", i + 2),
                region: Some(REGIONS[0].into()),
                client: Ok(Client::for_endpoint(
                    &endpoint,
                    &a.secret_id,
                    a.secret_key.expose_secret(),
                )?),
            })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let accounts = CloudAccounts::new("account-1", default, REGIONS[0], extras);
    let dir = tempfile::tempdir()?;
    let store = Store::open(&dir.path().join("natpilot.db")).await?;

    let probe = writer_probe(&store);
    let started = Instant::now();
    let scans = natpilot::estate::scan::scan_all(&store, &accounts, "bench").await?;
    let elapsed = started.elapsed().as_secs_f64();
    let mut probe = probe;
    probe.stop();
    let waits = probe.await_waits().await;

    // The minimum per region and action, and the floor (one region's slowest list).
    let addresses = world.addresses.len();
    let minimum: [(&str, usize, u32); 5] = [
        (
            "DescribeVpcs",
            pages(world.vpcs.len()),
            vpc::DescribeVpcs::RATE_LIMIT_PER_SECOND,
        ),
        (
            "DescribeInstances",
            pages(world.instances.len()),
            cvm::DescribeInstances::RATE_LIMIT_PER_SECOND,
        ),
        (
            "DescribeAddresses",
            pages(addresses),
            vpc::DescribeAddresses::RATE_LIMIT_PER_SECOND,
        ),
        (
            "DescribeNatGateways",
            pages(world.nat_gateways.len()),
            vpc::DescribeNatGateways::RATE_LIMIT_PER_SECOND,
        ),
        (
            "DescribeRouteTables",
            pages(world.route_tables.len()),
            vpc::DescribeRouteTables::RATE_LIMIT_PER_SECOND,
        ),
    ];
    let slowest = minimum
        .iter()
        .map(|(_, n, limit)| (*n as f64 - 1.0) / f64::from(*limit))
        .fold(0.0, f64::max);
    // DescribeRegions is one call per account: the first of its budget, so it adds nothing.
    let floor = slowest;
    let accounts_n = scans.len();
    println!(
        "\n== scan of {accounts_n} accounts × {} regions × {vpcs} VPCs × {instances} instances \
         (rate limits on)",
        REGIONS.len()
    );
    println!(
        "elapsed {elapsed:.2} s, rate-limit floor {floor:.2} s, ratio {:.2} (target <= 1.1)",
        elapsed / floor.max(f64::EPSILON)
    );
    println!("calls per action (all accounts and regions) vs the minimum:");
    let regions_n = (accounts_n * REGIONS.len()) as i64;
    for (action, n, limit) in minimum {
        let made: i64 = natpilot::store::sql::query_scalar(
            "SELECT count(*) FROM estate_calls WHERE action = ? AND state != 'error'",
        )
        .bind(action)
        .fetch_one(store.readers())
        .await?;
        println!(
            "  {action:<22} {made:>6} made, {:>6} minimum ({limit}/s per region)",
            n as i64 * regions_n
        );
    }
    let limited: i64 = natpilot::store::sql::query_scalar(
        "SELECT count(*) FROM estate_calls WHERE error_code LIKE 'RequestLimitExceeded%'",
    )
    .fetch_one(store.readers())
    .await?;
    let refused: i64 = natpilot::store::sql::query_scalar(
        "SELECT count(*) FROM estate_scan_regions WHERE state = 'refused'",
    )
    .fetch_one(store.readers())
    .await?;
    println!("RequestLimitExceeded answers: {limited} (target 0); regions refused: {refused}");
    chain_breakdown(&store).await?;
    let mut waits = waits;
    println!(
        "  a one-row write's wait for the store's writer during the scan, µs: {}",
        spread(&mut waits)
    );
    anyhow::ensure!(
        refused == 0 && accounts_n == 3,
        "the scan did not cover every account and region"
    );
    Ok(())
}

/// Where one region's `DescribeInstances` chain spends its time, from the ledger: the gap
/// between one page's send and the next's, the page's round trip (`duration_ms`, send to
/// answer) and what is left between an answer and the next send (ledger writes, decoding,
/// the limiter's wait). Printed as p50 / p90 / max over every chain, in ms.
async fn chain_breakdown(store: &Store) -> anyhow::Result<()> {
    let rows: Vec<(i64, String, i64, i64)> = natpilot::store::sql::query_as(
        "SELECT scan_id, region, sent_at, coalesce(duration_ms, 0) FROM estate_calls \
         WHERE action = 'DescribeInstances' ORDER BY scan_id, region, id",
    )
    .fetch_all(store.readers())
    .await?;
    let (mut gaps, mut trips, mut rest) = (Vec::new(), Vec::new(), Vec::new());
    for pair in rows.windows(2) {
        let ((s0, r0, t0, d0), (s1, r1, t1, _)) = (&pair[0], &pair[1]);
        if s0 != s1 || r0 != r1 {
            continue;
        }
        gaps.push(t1 - t0);
        trips.push(*d0);
        rest.push(t1 - t0 - d0);
    }
    println!("DescribeInstances chains, ms between consecutive pages of one region:");
    println!("  send to next send      {}", spread(&mut gaps));
    println!("  send to answer         {}", spread(&mut trips));
    println!("  answer to next send    {}", spread(&mut rest));
    Ok(())
}

fn spread(v: &mut [i64]) -> String {
    v.sort_unstable();
    let at = |q: f64| {
        v.get(((v.len() as f64 - 1.0) * q) as usize)
            .copied()
            .unwrap_or(0)
    };
    let mean = v.iter().sum::<i64>() as f64 / v.len().max(1) as f64;
    format!(
        "mean {mean:.1}, p50 {}, p90 {}, max {}",
        at(0.5),
        at(0.9),
        at(1.0)
    )
}

/// Every 5 ms, times one trivial write through the store's writer connection while the scan
/// runs: how long anything that writes (the ledger's rows among them) waits for it.
fn writer_probe(store: &Store) -> ProbeTask {
    let store = store.clone();
    let (stop, mut stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let mut waits = Vec::new();
        loop {
            tokio::select! {
                _ = &mut stopped => return waits,
                () = tokio::time::sleep(std::time::Duration::from_millis(5)) => {}
            }
            let t = Instant::now();
            let done = natpilot::store::sql::query(
                "UPDATE estate_scan_claim SET until = until WHERE name = 'probe'",
            )
            .execute(store.writer())
            .await;
            if done.is_ok() {
                waits.push(t.elapsed().as_micros() as i64);
            }
        }
    });
    ProbeTask {
        stop: Some(stop),
        task,
    }
}

struct ProbeTask {
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<Vec<i64>>,
}

impl ProbeTask {
    fn stop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
    }
    async fn await_waits(self) -> Vec<i64> {
        self.task.await.unwrap_or_default()
    }
}
