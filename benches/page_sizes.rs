//! Page benchmark (issue 11 "Performance"): how big and how slow the wizard's pages are on a
//! large VPC. Prints figures; asserts nothing about time or size.
//!
//! On a `--instances` (default 50,000) `large` world it walks a run through the engine and,
//! at each step, loads that step's page and the run page (first page, as a browser asks for
//! it) on one signed-in connection: HTML bytes and time p50/p99 over `--samples` loads, after
//! one load that is not counted (the step's data — its cloud snapshot — is then in place).
//! It also prints the size of the step 4 confirm request a browser would send (every field
//! of `#step-form` as the page fills it in). Then, on a `--live-instances` (default 10,000)
//! world with the client's rate limits on, it confirms step 4 and loads the run page while
//! the retirements run.
//!
//! `cargo bench --bench page_sizes -- [--instances 50000] [--live-instances 10000] [--samples 20]`
//! Times are measured by the client over loopback (request sent → whole body read).

#[path = "support/portal.rs"]
mod portal;

use std::time::{Duration, Instant};

use natpilot::sim::{RunningSim, ScenarioSource, SimConfig};
use natpilot::store::{RunId, RunStatus, Step, Store, users::Role};
use natpilot::tencent::{
    Client, ClientSettings, CredentialSource, Credentials, CredentialsProvider, Endpoint,
};
use natpilot::wizard::engine::Engine;
use natpilot::wizard::input::*;
use scraper::{Html, Selector};

use portal::{Session, p50_p99};

/// The same allocator as the `natpilot` binary, so the figures are the shipped portal's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const VPC: &str = "vpc-large000";
const USER: &str = "bench";

struct Options {
    instances: usize,
    live_instances: usize,
    samples: usize,
}

fn options() -> Options {
    let mut o = Options {
        instances: 50_000,
        live_instances: 10_000,
        samples: 20,
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    for pair in args.windows(2) {
        let value = || pair[1].parse().expect("a number after the flag");
        match pair[0].as_str() {
            "--instances" => o.instances = value(),
            "--live-instances" => o.live_instances = value(),
            "--samples" => o.samples = value(),
            _ => {}
        }
    }
    o
}

/// A portal over a fresh database and a `large` world of `instances`, with a signed-in
/// operator; `rate_limit` turns the portal client's per-action limits on.
struct Bench {
    sim: RunningSim,
    app: natpilot::app::RunningApp,
    session: Session,
    _dir: tempfile::TempDir,
}

impl Bench {
    async fn start(instances: usize, rate_limit: bool) -> anyhow::Result<Bench> {
        let built = Instant::now();
        let sim = natpilot::sim::spawn(SimConfig {
            scenario: ScenarioSource::Large { instances },
            rate_limit: false,
            async_delay: Duration::from_millis(5),
            ..SimConfig::default()
        })
        .await?;
        println!(
            "== {instances} instances (world built in {:.1?})",
            built.elapsed()
        );
        let mut settings = ClientSettings::new(
            Endpoint::override_url(&sim.endpoint())?,
            CredentialsProvider::fixed(
                Credentials::new(sim.secret_id(), sim.secret_key()),
                CredentialSource::Explicit,
            ),
        );
        settings.rate_limit = rate_limit;
        let client = Client::new(settings)?;
        let dir = tempfile::tempdir()?;
        let store = Store::open(&dir.path().join("natpilot.db")).await?;
        portal::add_user(&store, USER, Role::Operator).await?;
        let app = portal::start(store, client).await?;
        let session = Session::new(portal::sign_in(&app.url(""), USER).await?)?;
        Ok(Bench {
            sim,
            app,
            session,
            _dir: dir,
        })
    }

    fn engine(&self) -> &Engine {
        &self.app.state.engine
    }

    async fn start_run(&self) -> anyhow::Result<RunId> {
        let started = Instant::now();
        let account = self.app.state.settings.cloud.account().to_owned();
        let run = self
            .engine()
            .start_run(&account, &self.sim.region(), VPC, USER)
            .await?;
        self.settled(run).await?;
        println!("assessment done in {:.1?}", started.elapsed());
        Ok(run)
    }

    /// Waits for the run's job; it must leave the run waiting for the operator (or done).
    /// (The job may hand over to another task of the engine, e.g. after taking the lease,
    /// so the run's status is what is waited for.)
    async fn settled(&self, run: RunId) -> anyhow::Result<()> {
        let mut r = self.engine().wait(run).await?;
        while matches!(r.status, RunStatus::Applying | RunStatus::RollingBack) {
            tokio::time::sleep(Duration::from_millis(200)).await;
            r = self.engine().wait(run).await?;
        }
        anyhow::ensure!(
            matches!(r.status, RunStatus::Active | RunStatus::Completed),
            "the run ended {:?}: {:?}",
            r.status,
            r.last_error
        );
        Ok(())
    }

    async fn confirm(&self, run: RunId, input: StepInput) -> anyhow::Result<()> {
        let (step, started) = (input.step(), Instant::now());
        self.engine().confirm_step(run, input, USER).await?;
        self.settled(run).await?;
        println!(
            "step {} confirmed and applied in {:.1?}",
            step.number(),
            started.elapsed()
        );
        Ok(())
    }

    /// Loads `path` once (not counted), then `samples` times; prints bytes and p50/p99.
    /// Returns the page's HTML. A page slower than a few seconds gets fewer samples.
    async fn measure(&self, label: &str, path: &str, samples: usize) -> anyhow::Result<String> {
        let url = self.app.url(path);
        let first = self.session.get(&url).await?;
        anyhow::ensure!(first.status.is_success(), "{path}: {}", first.status);
        let (mut times, budget) = (Vec::new(), Instant::now());
        while times.len() < samples.max(1)
            && (times.len() < 3 || budget.elapsed() < Duration::from_secs(30))
        {
            times.push(self.session.get(&url).await?.took);
        }
        let (p50, p99) = p50_p99(&mut times);
        println!(
            "{label:<34} {:>10} bytes  p50 {p50:>8.1} ms  p99 {p99:>8.1} ms  ({} loads; first {:.1?})",
            thousands(first.body.len()),
            times.len(),
            first.took
        );
        Ok(first.body)
    }
}

impl Bench {
    /// The operator's common edit on step 4: one exception saved (its row's "Keep its IP"
    /// button, which submits `#step-form` to the exception endpoint), then the page the POST
    /// redirects to. Prints the POST's time and the next view's, per edit; the edits go
    /// keep, rule, keep, … on the first row.
    async fn after_exception_edits(
        &self,
        page: &str,
        html: &str,
        samples: usize,
    ) -> anyhow::Result<()> {
        let doc = Html::parse_document(html);
        let row = Selector::parse("#egress-table button.keep-ip").expect("selector");
        let set = doc
            .select(&row)
            .next()
            .and_then(|b| b.value().attr("value"))
            .ok_or_else(|| anyhow::anyhow!("no row of {page} offers \"Keep its IP\""))?
            .to_owned();
        let (instance, _) = set.split_once('=').expect("instance=choice");
        let action = doc
            .select(&row)
            .next()
            .and_then(|b| b.value().attr("formaction"))
            .expect("the button's formaction")
            .to_owned();
        let form = confirm_body(html);
        let (mut posts, mut views) = (Vec::new(), Vec::new());
        let (mut bytes, mut notices) = (0, 0);
        for k in 0..samples.max(3) {
            let choice = if k % 2 == 0 { "keep" } else { "rule" };
            let body = format!(
                "{form}&{}",
                serde_urlencoded::to_string([("set", format!("{instance}={choice}"))])?
            );
            let done = self
                .session
                .post(&self.app.url(&action), &self.app.url(""), body)
                .await?;
            anyhow::ensure!(done.status.as_u16() == 303, "{action}: {}", done.status);
            posts.push(done.took);
            let view = self.session.get(&self.app.url(page)).await?;
            anyhow::ensure!(view.status.is_success(), "{page}: {}", view.status);
            bytes = view.body.len();
            notices += usize::from(view.body.contains("id=\"verify-rebuilding\""));
            views.push(view.took);
        }
        let (p50, p99) = p50_p99(&mut posts);
        println!(
            "{:<34} {:>10}        p50 {p50:>8.1} ms  p99 {p99:>8.1} ms  ({} edits)",
            "step 4 exception POST",
            "",
            posts.len()
        );
        let (p50, p99) = p50_p99(&mut views);
        println!(
            "{:<34} {:>10} bytes  p50 {p50:>8.1} ms  p99 {p99:>8.1} ms  ({} loads, {notices} of them \"being rebuilt\")",
            "step 4 page after an exception",
            thousands(bytes),
            views.len()
        );
        Ok(())
    }

    /// Loads the step 4 page until it shows its table (not "the table is being rebuilt"):
    /// the figures are of the table.
    async fn step_4_table(&self, page: &str) -> anyhow::Result<()> {
        let started = Instant::now();
        loop {
            let view = self.session.get(&self.app.url(page)).await?;
            if !view.body.contains("id=\"verify-rebuilding\"") {
                println!("step 4 table built in {:.1?}", started.elapsed());
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn provision() -> StepInput {
    StepInput::Provision(ProvisionInput::Create(NewNat {
        name: "bench-egress".into(),
        bandwidth_mbps: 100,
        max_connections: 1_000_000,
        eips: EipChoice::New(1),
        zone: None,
    }))
}

/// The body a browser sends when "Confirm and apply" is pressed on `html`: every named
/// field of `#step-form` as the page fills it in (checked boxes only, selected options).
fn confirm_body(html: &str) -> String {
    let doc = Html::parse_document(html);
    let fields = Selector::parse(
        "#step-form input[name], #step-form select[name], #step-form textarea[name]",
    )
    .expect("selector");
    let selected = Selector::parse("option[selected]").expect("selector");
    let first = Selector::parse("option").expect("selector");
    let mut pairs: Vec<(String, String)> = Vec::new();
    for field in doc.select(&fields) {
        let el = field.value();
        let name = el.attr("name").unwrap_or_default().to_owned();
        let value = match el.name() {
            "select" => field
                .select(&selected)
                .next()
                .or_else(|| field.select(&first).next())
                .map(|o| {
                    o.value()
                        .attr("value")
                        .map(str::to_owned)
                        .unwrap_or_else(|| o.text().collect())
                }),
            "textarea" => Some(field.text().collect()),
            _ => match el.attr("type").unwrap_or("text") {
                "checkbox" | "radio" if el.attr("checked").is_none() => None,
                "checkbox" | "radio" => Some(el.attr("value").unwrap_or("on").to_owned()),
                "submit" | "button" | "reset" | "file" | "image" => None,
                _ => Some(el.attr("value").unwrap_or_default().to_owned()),
            },
        };
        if let Some(value) = value {
            pairs.push((name, value));
        }
    }
    serde_urlencoded::to_string(&pairs).unwrap_or_default()
}

/// Steps 1–4 of a run on the big world: each step page and the run page at that step.
async fn step_pages(o: &Options) -> anyhow::Result<()> {
    let b = Bench::start(o.instances, false).await?;
    let run = b.start_run().await?;
    let (run_page, step_page) = (format!("/runs/{run}"), |n: u8| {
        format!("/runs/{run}/step/{n}")
    });
    b.measure("step 1 page", &step_page(1), o.samples).await?;
    b.measure("run page at step 1", &run_page, o.samples)
        .await?;
    let assess = StepInput::Assess(AssessInput::default());
    b.confirm(run, assess).await?;
    b.measure("step 2 page", &step_page(2), o.samples).await?;
    b.confirm(run, provision()).await?;
    b.measure("step 3 page", &step_page(3), o.samples).await?;
    b.confirm(run, StepInput::Route(RouteInput::default()))
        .await?;
    b.step_4_table(&step_page(4)).await?;
    let step4 = b.measure("step 4 page", &step_page(4), o.samples).await?;
    b.after_exception_edits(&step_page(4), &step4, o.samples)
        .await?;
    b.measure("run page at step 4", &run_page, o.samples)
        .await?;
    let body = confirm_body(&step4);
    println!(
        "{:<34} {:>10} bytes  (csrf_token, plan_digest and {} other fields)",
        "step 4 confirm request body",
        thousands(body.len()),
        body.split('&').count().saturating_sub(2)
    );
    b.app.state.engine.wait(run).await?;
    Ok(())
}

/// The run page while a step 4 of `live_instances` runs under the documented rate limits.
async fn live_run_page(o: &Options) -> anyhow::Result<()> {
    let b = Bench::start(o.live_instances, true).await?;
    let run = b.start_run().await?;
    b.confirm(run, StepInput::Assess(AssessInput::default()))
        .await?;
    b.confirm(run, provision()).await?;
    b.confirm(run, StepInput::Route(RouteInput::default()))
        .await?;
    // Ordinary IPs are returned (the `large` world has too little EIP quota to keep them),
    // at ReturnNormalAddresses' 2/s: the step runs long enough to be watched.
    let retire = VerifyInput {
        ordinary_rule: natpilot::wizard::input::OrdinaryRule::Return,
        confirm_irreversible: true,
        ..VerifyInput::default()
    };
    b.engine()
        .confirm_step(run, StepInput::Verify(retire), USER)
        .await?;
    // Let some retirements finish, so the page has progress and events to show.
    tokio::time::sleep(Duration::from_secs(5)).await;
    let status = |r: natpilot::store::runs::Run| (r.status, r.current_step == Step::Verify);
    let r = b.engine().run(run).await?;
    anyhow::ensure!(
        status(r) == (RunStatus::Applying, true),
        "step 4 is no longer running; use a larger --live-instances"
    );
    b.measure(
        "run page, step 4 in progress",
        &format!("/runs/{run}"),
        o.samples,
    )
    .await?;
    let events = natpilot::store::events::list(b.app.state.store.readers(), run, 0, 1_000_000)
        .await
        .map(|e| e.len())
        .unwrap_or_default();
    println!("  ({events} events recorded by then)");
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let o = options();
    step_pages(&o).await?;
    live_run_page(&o).await?;
    Ok(())
}
