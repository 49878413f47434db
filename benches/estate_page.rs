//! Estate-page benchmark (issue 13 "Performance": the estate page with 1,000,000 stored
//! snapshot rows under 50 ms server time). Prints figures; asserts nothing about time.
//!
//! Seeds `--rows` per-VPC snapshot rows (default 1,000,000) into a fresh SQLite file as
//! repeated scan rounds of 3 accounts × 5 regions × 10 VPCs (150 rows a round, every 20th
//! VPC with a few public IPs), starts the real portal in-process on a loopback port, signs in
//! and loads `/estate` (the newest scan of each account, its totals, its drift findings and the
//! trend over the newest scans) `--samples` times on one connection, then prints the page's
//! size and its time p50/p99, measured by the client over loopback.
//!
//! `cargo bench --bench estate_page -- [--rows 1000000] [--samples 50]`

#[path = "support/portal.rs"]
mod portal;

use std::time::Instant;

use natpilot::{
    sim::SimConfig,
    store::{Store, users::Role},
    tencent::Client,
};

/// The same allocator as the `natpilot` binary, so the figures are the shipped portal's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const USER: &str = "bench";
const ACCOUNTS: [&str; 3] = ["prod", "staging", "shared-services"];
const REGIONS: [&str; 5] = [
    "ap-guangzhou",
    "ap-shanghai",
    "ap-beijing",
    "ap-singapore",
    "na-siliconvalley",
];
const VPCS_PER_REGION: usize = 10;
const ROUNDS_PER_TX: usize = 200;

fn flag(name: &str, default: u64) -> u64 {
    let args: Vec<String> = std::env::args().collect();
    args.windows(2)
        .find(|w| w[0] == name)
        .map_or(default, |w| w[1].parse().expect("a number after the flag"))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let rows = flag("--rows", 1_000_000);
    let samples = flag("--samples", 50) as usize;
    let dir = tempfile::tempdir()?;
    let store = Store::open(&dir.path().join("natpilot.db")).await?;

    let per_round = (ACCOUNTS.len() * REGIONS.len() * VPCS_PER_REGION) as u64;
    let rounds = rows.div_ceil(per_round) as usize;
    let started = Instant::now();
    seed(&store, rounds).await?;
    let stored: i64 = natpilot::store::sql::query_scalar("SELECT count(*) FROM estate_vpcs")
        .fetch_one(store.readers())
        .await?;
    println!(
        "seeded {stored} snapshot rows ({rounds} scan rounds of {} accounts) in {:.1?}",
        ACCOUNTS.len(),
        started.elapsed()
    );
    portal::add_user(&store, USER, Role::Viewer).await?;

    let sim = natpilot::sim::spawn(SimConfig::embedded()).await?;
    let h = sim.handle();
    let client = Client::for_endpoint(&sim.endpoint(), h.secret_id(), h.secret_key())?;
    let app = portal::start(store, client).await?;
    let cookie = portal::sign_in(&app.url(""), USER).await?;
    let session = portal::Session::new(cookie)?;
    let url = app.url("/estate");
    let first = session.get(&url).await?;
    anyhow::ensure!(
        first.status.is_success(),
        "estate page: {}\n{}",
        first.status,
        first.body
    );
    let vpc_rows = first.body.matches("class=\"estate-vpc\"").count();
    anyhow::ensure!(
        vpc_rows == per_round as usize,
        "the estate page lists {vpc_rows} VPCs, expected {per_round}"
    );
    let mut took = Vec::with_capacity(samples);
    for _ in 0..samples {
        took.push(session.get(&url).await?.took);
    }
    let (p50, p99) = portal::p50_p99(&mut took);
    println!(
        "\n== /estate with {stored} snapshot rows, one connection, {samples} loads\n\
         HTML {} bytes ({vpc_rows} VPC rows); p50 {p50:.2} ms, p99 {p99:.2} ms (target < 50 ms)",
        first.body.len()
    );
    Ok(())
}

/// `rounds` completed scan rounds, an hour apart, in large transactions.
async fn seed(store: &Store, rounds: usize) -> anyhow::Result<()> {
    let start_ms: i64 = 1_700_000_000_000;
    let mut round = 0;
    while round < rounds {
        let mut tx = store.begin_write().await?;
        for r in round..(round + ROUNDS_PER_TX).min(rounds) {
            let at = start_ms + r as i64 * 3_600_000;
            for account in ACCOUNTS {
                let scan: i64 = natpilot::store::sql::query_scalar(
                    "INSERT INTO estate_scans (account, started_by, state, started_at, \
                     finished_at) VALUES (?, 'schedule', 'completed', ?, ?) RETURNING id",
                )
                .bind(account)
                .bind(at)
                .bind(at + 60_000)
                .fetch_one(&mut *tx)
                .await?;
                for (ri, region) in REGIONS.iter().enumerate() {
                    natpilot::store::sql::query(
                        "INSERT INTO estate_scan_regions (scan_id, region, state, unbound_eips) \
                         VALUES (?, ?, 'ok', ?)",
                    )
                    .bind(scan)
                    .bind(region)
                    .bind((r + ri) as i64 % 3)
                    .execute(&mut *tx)
                    .await?;
                    for v in 0..VPCS_PER_REGION {
                        let exposed = (r + v) % 20 == 0;
                        let hosts = if exposed {
                            format!(
                                r#"[{{"instance_id":"ins-{v:08x}","ip":"119.28.{ri}.{v}","kind":"ordinary"}}]"#
                            )
                        } else {
                            "[]".to_owned()
                        };
                        natpilot::store::sql::query(
                            "INSERT INTO estate_vpcs (scan_id, region, vpc_id, vpc_name, \
                             instances, eip_hosts, ordinary_hosts, nat_gateways, route_tables, \
                             nat_routed_tables, public_hosts, default_routes) \
                             VALUES (?, ?, ?, ?, 1000, ?, ?, 1, 2, 2, ?, '[]')",
                        )
                        .bind(scan)
                        .bind(region)
                        .bind(format!("vpc-{ri:02x}{v:06x}"))
                        .bind(format!("{account}-{region}-{v}"))
                        .bind(i64::from(exposed) * 2)
                        .bind(i64::from(exposed))
                        .bind(&hosts)
                        .execute(&mut *tx)
                        .await?;
                    }
                }
            }
        }
        tx.commit().await?;
        round = (round + ROUNDS_PER_TX).min(rounds);
    }
    Ok(())
}
