//! Simulator benchmark (issue 3 "Performance"): with rate limiting off, an in-process `natpilot
//! sim` holding the `large` world serves signed DescribeInstances pages (Limit 100, filtered by
//! VPC) to N concurrent clients — the ordinary natpilot client, signing every request. Prints
//! figures; asserts nothing about time (a loaded CI machine must not fail it).
//!
//! `cargo bench --bench sim_pages -- [--instances 50000] [--clients 4] [--walks 3]`
//! Each client walks the whole inventory `--walks` times. Resident memory is this process's
//! (simulator and load generator together, so an upper bound for the simulator alone).

use std::time::{Duration, Instant};

use natpilot::sim::{ScenarioSource, SimConfig};
use natpilot::tencent::models::{Filter, cvm};
use natpilot::tencent::{
    Client, ClientSettings, CredentialSource, Credentials, CredentialsProvider, Endpoint,
    PagedAction,
};

/// The same allocator as the `natpilot` binary, so the figures are the shipped simulator's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const VPC: &str = "vpc-large000";

struct Options {
    instances: usize,
    clients: usize,
    walks: usize,
}

fn options() -> Options {
    let mut o = Options {
        instances: 50_000,
        clients: 4,
        walks: 3,
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    for pair in args.windows(2) {
        let value = || pair[1].parse().expect("a number after the flag");
        match pair[0].as_str() {
            "--instances" => o.instances = value(),
            "--clients" => o.clients = value(),
            "--walks" => o.walks = value(),
            _ => {}
        }
    }
    o
}

/// CPU time (user + system) this process has used so far, from /proc/self/stat (Linux only).
/// Pages per CPU-second do not depend on what else the machine runs, unlike pages per second.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the `(comm)`: state is field 3, utime 14 and stime 15 (clock ticks).
    let after_comm = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after_comm.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (ticks(11) + ticks(12)) / 100.0
}

/// `VmRSS` and `VmHWM` (peak) of this process, in MiB, from /proc (Linux only).
fn memory() -> String {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse::<u64>().ok())
            .map_or("?".to_string(), |kb| {
                format!("{:.0} MiB", kb as f64 / 1024.0)
            })
    };
    format!("VmRSS {}, VmHWM {}", field("VmRSS:"), field("VmHWM:"))
}

/// One walk over every instance of the VPC, page by page, keeping nothing (so the memory
/// printed is the simulator's, not a pile of fetched pages); returns (pages, instances).
async fn walk(client: &Client, region: &str) -> (usize, usize) {
    let filter = cvm::DescribeInstancesRequest {
        filters: Some(vec![Filter::one("vpc-id", VPC)]),
        ..Default::default()
    };
    let (mut pages, mut seen) = (0, 0);
    loop {
        let page = cvm::DescribeInstances::page_request(&filter, seen as u64, 100);
        let response = client
            .call::<cvm::DescribeInstances>(region, &page)
            .await
            .expect("DescribeInstances page");
        pages += 1;
        seen += response.instance_set.len();
        if response.instance_set.is_empty() || seen as i64 >= response.total_count {
            return (pages, seen);
        }
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let o = options();
    let built = Instant::now();
    let sim = natpilot::sim::spawn(SimConfig {
        scenario: ScenarioSource::Large {
            instances: o.instances,
        },
        rate_limit: false,
        ..SimConfig::default()
    })
    .await?;
    println!(
        "sim: {} instances built in {:.2?}; {}",
        o.instances,
        built.elapsed(),
        memory()
    );
    let endpoint = Endpoint::override_url(&sim.endpoint())?;
    let credentials = Credentials::new(sim.secret_id(), sim.secret_key());
    let mut settings = ClientSettings::new(
        endpoint,
        CredentialsProvider::fixed(credentials, CredentialSource::Explicit),
    );
    settings.rate_limit = false;
    let client = Client::new(settings)?;
    let region = sim.region();

    let single = Instant::now();
    let (pages, items) = walk(&client, &region).await;
    let single = single.elapsed();
    assert_eq!(items, o.instances, "the walk saw every instance once");
    println!("one client, whole inventory: {pages} pages in {single:.2?}");

    let (started, cpu_before) = (Instant::now(), cpu_seconds());
    let tasks: Vec<_> = (0..o.clients)
        .map(|_| {
            let (client, region) = (client.clone(), region.clone());
            tokio::spawn(async move {
                let mut pages = 0;
                for _ in 0..o.walks {
                    pages += walk(&client, &region).await.0;
                }
                pages
            })
        })
        .collect();
    let mut total = 0;
    for task in tasks {
        total += task.await?;
    }
    let elapsed = started.elapsed().max(Duration::from_millis(1));
    println!(
        "{} clients x {} walks: {total} pages in {elapsed:.2?} = {:.0} pages/s; {}",
        o.clients,
        o.walks,
        total as f64 / elapsed.as_secs_f64(),
        memory()
    );
    let cpu = (cpu_seconds() - cpu_before).max(0.01);
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    println!(
        "CPU used {cpu:.2}s = {:.0} pages per CPU-second, i.e. {:.0} pages/s on {cores} idle cores \
         (load average while measuring: {})",
        total as f64 / cpu,
        total as f64 / cpu * cores as f64,
        std::fs::read_to_string("/proc/loadavg")
            .unwrap_or_default()
            .trim()
    );
    sim.shutdown().await;
    Ok(())
}
