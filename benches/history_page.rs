//! History-page benchmark (issue 5 "Performance"). Prints figures; asserts nothing about time.
//!
//! Seeds `--runs` finished runs (default 100,000) into a fresh SQLite file, starts the real
//! portal in-process on a loopback port, signs in, then loads it with `wrk` (Debian package
//! `wrk`), 32 connections, first against `/healthz` and then against the history page (50 rows)
//! at a cursor deep in the history, session check and layout included. Prints both
//! throughputs, their ratio (target >= 0.1) and the history page's p99 (target < 20 ms), then
//! the single-connection latency of a deep page (target < 5 ms at 1,000,000 runs).
//!
//! `cargo bench --bench history_page -- [--runs 100000] [--seconds 10]`
//! With `NATPILOT_TEST_POSTGRES=postgres://…` (see `.ci/postgres`) the store is a new database on
//! that PostgreSQL server instead of a SQLite file (issue 15: both stores, same machine).

#[path = "support/portal.rs"]
mod portal;

use std::{process::Command, time::Instant};

use natpilot::{
    sim::SimConfig,
    store::{Store, users::Role},
    tencent::Client,
};

/// The same allocator as the `natpilot` binary, so the figures are the shipped portal's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const USER: &str = "bench";

fn flag(name: &str, default: u64) -> u64 {
    let args: Vec<String> = std::env::args().collect();
    args.windows(2)
        .find(|w| w[0] == name)
        .map_or(default, |w| w[1].parse().expect("a number after the flag"))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let runs = flag("--runs", 100_000);
    let seconds = flag("--seconds", 10);
    let dir = tempfile::tempdir()?;
    let store = natpilot::store::test_store::open(dir.path()).await?;
    println!(
        "store: {}",
        if natpilot::store::test_store::postgres() {
            "PostgreSQL"
        } else {
            "SQLite"
        }
    );

    let started = Instant::now();
    seed_runs(&store, runs).await?;
    println!("seeded {runs} runs in {:.1?}", started.elapsed());
    portal::add_user(&store, USER, Role::Viewer).await?;
    let deep = deep_cursor(&store, runs / 2).await?;

    let sim = natpilot::sim::spawn(SimConfig::embedded()).await?;
    let h = sim.handle();
    let client = Client::for_endpoint(&sim.endpoint(), h.secret_id(), h.secret_key())?;
    let app = portal::start(store, client).await?;
    let cookie = portal::sign_in(&app.url(""), USER).await?;
    let history = app.url(&format!("/runs?after={deep}"));
    check_page(&history, &cookie).await?;

    let healthz = wrk(&app.url("/healthz"), None, seconds)?;
    let page = wrk(&history, Some(&cookie), seconds)?;
    println!("\n== {runs} runs in the database, 32 connections, {seconds}s each (wrk)");
    println!("/healthz            {:>10.0} requests/s", healthz.rps);
    println!(
        "history (deep page) {:>10.0} requests/s   p99 {:.2} ms",
        page.rps, page.p99_ms
    );
    println!(
        "ratio history/healthz {:.3} (target >= 0.1); p99 target < 20 ms",
        page.rps / healthz.rps
    );

    let latencies = sequential_latencies(&history, &cookie, 200).await?;
    println!(
        "one connection, deep page: median {:.2} ms, p99 {:.2} ms (target < 5 ms at 1M runs)",
        latencies.0, latencies.1
    );
    // Where a deep page's time goes: the bare request (healthz, same layers) and the store
    // query alone, uncached (called in-process); the page itself is mostly served from the
    // history cache.
    let bare = sequential_latencies(&app.url("/healthz"), &cookie, 200).await?;
    let query = query_latencies(&app.state.store, &deep, 200).await?;
    println!(
        "one connection, medians: /healthz {:.3} ms; the history query alone, uncached {:.3} ms",
        bare.0, query.0
    );
    Ok(())
}

/// Finished runs on many VPCs, one minute apart, inserted in large transactions.
async fn seed_runs(store: &Store, count: u64) -> anyhow::Result<()> {
    let start_ms: i64 = 1_700_000_000_000;
    let statuses = ["completed", "rolled_back", "abandoned"];
    let operators = ["alice", "bob", "carol", "dave"];
    let mut done = 0;
    while done < count {
        let mut tx = store.begin_write().await?;
        for i in done..(done + 10_000).min(count) {
            let at = start_ms + i as i64 * 60_000;
            natpilot::store::sql::query(
                "INSERT INTO runs (id, account, region, vpc_id, started_by, status, current_step, \
                 started_at, updated_at, finished_at, finished_by) VALUES (?, 'bench', 'ap-guangzhou', ?, ?, ?, 4, ?, ?, ?, ?)",
            )
            .bind(uuid::Uuid::new_v4().to_string())
            .bind(format!("vpc-{:08x}", i % 5_000))
            .bind(operators[i as usize % operators.len()])
            .bind(statuses[i as usize % statuses.len()])
            .bind(at)
            .bind(at + 30_000)
            .bind(at + 30_000)
            .bind(operators[i as usize % operators.len()])
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        done = (done + 10_000).min(count);
    }
    Ok(())
}

/// The history cursor `depth` rows from the newest run.
async fn deep_cursor(store: &Store, depth: u64) -> anyhow::Result<String> {
    let (ms, id): (i64, String) = natpilot::store::sql::query_as(
        "SELECT started_at, id FROM runs ORDER BY started_at DESC, id DESC LIMIT 1 OFFSET ?",
    )
    .bind(depth as i64)
    .fetch_one(store.readers())
    .await?;
    Ok(natpilot::store::runs::Cursor { started_at: ms, id }.encode())
}

async fn check_page(url: &str, cookie: &str) -> anyhow::Result<()> {
    let resp = reqwest::Client::new()
        .get(url)
        .header("Cookie", format!("natpilot_session={cookie}"))
        .send()
        .await?;
    let status = resp.status();
    let body = resp.text().await?;
    let rows = body.matches("<tr").count();
    anyhow::ensure!(
        status.is_success() && rows >= 50,
        "history page: {status}, {rows} rows"
    );
    println!("history page: {} bytes, {rows} table rows", body.len());
    Ok(())
}

struct WrkResult {
    rps: f64,
    p99_ms: f64,
}

fn wrk(url: &str, cookie: Option<&str>, seconds: u64) -> anyhow::Result<WrkResult> {
    let mut cmd = Command::new("wrk");
    cmd.args(["-t2", "-c32", &format!("-d{seconds}s"), "--latency"]);
    if let Some(c) = cookie {
        cmd.args(["-H", &format!("Cookie: natpilot_session={c}")]);
    }
    let out = cmd.arg(url).output().map_err(|e| {
        anyhow::anyhow!("cannot run wrk ({e}); install it: sudo apt-get install -y wrk")
    })?;
    let text = String::from_utf8_lossy(&out.stdout);
    let rps = text
        .lines()
        .find_map(|l| l.strip_prefix("Requests/sec:"))
        .and_then(|v| v.trim().parse().ok())
        .ok_or_else(|| anyhow::anyhow!("unexpected wrk output:\n{text}"))?;
    let p99_ms = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("99%"))
        .map(|v| parse_duration_ms(v.trim()))
        .unwrap_or(f64::NAN);
    Ok(WrkResult { rps, p99_ms })
}

/// wrk prints latencies as `812.00us`, `12.34ms` or `1.02s`.
fn parse_duration_ms(v: &str) -> f64 {
    let (number, scale) = if let Some(n) = v.strip_suffix("us") {
        (n, 0.001)
    } else if let Some(n) = v.strip_suffix("ms") {
        (n, 1.0)
    } else if let Some(n) = v.strip_suffix('s') {
        (n, 1000.0)
    } else {
        (v, f64::NAN)
    };
    number.parse::<f64>().map_or(f64::NAN, |n| n * scale)
}

/// The history page's store query alone, called `n` times at the deep cursor.
async fn query_latencies(store: &Store, deep: &str, n: usize) -> anyhow::Result<(f64, f64)> {
    let cursor = natpilot::store::runs::Cursor::decode(deep)
        .ok_or_else(|| anyhow::anyhow!("the deep cursor does not decode"))?;
    let filter = natpilot::store::runs::RunFilter::default();
    let mut ms = Vec::with_capacity(n);
    for _ in 0..n {
        let t = Instant::now();
        natpilot::store::runs::list(store.readers(), &filter, Some(&cursor), 50).await?;
        ms.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    ms.sort_by(f64::total_cmp);
    Ok((ms[n / 2], ms[(n * 99) / 100]))
}

async fn sequential_latencies(url: &str, cookie: &str, n: usize) -> anyhow::Result<(f64, f64)> {
    let http = reqwest::Client::new();
    let mut ms = Vec::with_capacity(n);
    for _ in 0..n {
        let t = Instant::now();
        http.get(url)
            .header("Cookie", format!("natpilot_session={cookie}"))
            .send()
            .await?
            .bytes()
            .await?;
        ms.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    ms.sort_by(f64::total_cmp);
    Ok((ms[n / 2], ms[(n * 99) / 100]))
}
