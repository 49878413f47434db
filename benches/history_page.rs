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

use std::{process::Command, time::Instant};

use natpilot::{
    app::{self, AppConfig},
    sim::SimConfig,
    store::{
        Store,
        users::{self, Role, UserName},
    },
    tencent::Client,
    web::{auth::password, settings::WebSettings},
};
use secrecy::SecretString;

/// The same allocator as the `natpilot` binary, so the figures are the shipped portal's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const USER: &str = "bench";
const PASSWORD: &str = "benchmark password";

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
    let store = Store::open(&dir.path().join("natpilot.db")).await?;

    let started = Instant::now();
    seed_runs(&store, runs).await?;
    println!("seeded {runs} runs in {:.1?}", started.elapsed());
    let hash = password::hash(SecretString::from(PASSWORD)).await?;
    users::insert(
        store.writer(),
        &UserName::parse(USER).map_err(anyhow::Error::msg)?,
        Role::Viewer,
        &hash,
    )
    .await?;
    let deep = deep_cursor(&store, runs / 2).await?;

    let sim = natpilot::sim::spawn(SimConfig::embedded()).await?;
    let h = sim.handle();
    let client = Client::for_endpoint(&sim.endpoint(), h.secret_id(), h.secret_key())?;
    let app = app::spawn(AppConfig {
        client,
        listener: tokio::net::TcpListener::bind("127.0.0.1:0").await?,
        metrics_listener: None,
        store,
        settings: WebSettings::default(),
        tls: None,
        engine: Default::default(),
    })
    .await?;
    let cookie = sign_in(&app.url("")).await?;
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
            sqlx::query(
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
    let (ms, id): (i64, String) = sqlx::query_as(
        "SELECT started_at, id FROM runs ORDER BY started_at DESC, id DESC LIMIT 1 OFFSET ?",
    )
    .bind(depth as i64)
    .fetch_one(store.readers())
    .await?;
    Ok(natpilot::store::runs::Cursor { started_at: ms, id }.encode())
}

async fn sign_in(base: &str) -> anyhow::Result<String> {
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let login = http.get(format!("{base}/login")).send().await?;
    let cookie = session_cookie(&login).unwrap_or_default();
    let body = login.text().await?;
    let csrf = body
        .split("name=\"csrf-token\" content=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .ok_or_else(|| anyhow::anyhow!("no CSRF token on the login page"))?;
    let resp = http
        .post(format!("{base}/login"))
        .header("Origin", base)
        .header("Cookie", format!("natpilot_session={cookie}"))
        .form(&[("name", USER), ("password", PASSWORD), ("csrf_token", csrf)])
        .send()
        .await?;
    session_cookie(&resp).ok_or_else(|| anyhow::anyhow!("sign-in failed: {}", resp.status()))
}

fn session_cookie(resp: &reqwest::Response) -> Option<String> {
    resp.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| v.strip_prefix("natpilot_session="))
        .map(|v| v.split(';').next().unwrap_or_default().to_string())
        .filter(|v| !v.is_empty())
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
