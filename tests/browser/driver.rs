//! chromedriver + headless chromium for the browser test: started on a free loopback port,
//! waited for by polling its `/status` (no sleeps), and always ended: chromedriver runs in a
//! process group of its own, which its chromium processes inherit, and the whole group is
//! killed when [`Browser`] (or, during start-up, [`DriverProcesses`]) is dropped — on success,
//! on failure and on a panic alike.

use std::{
    os::unix::process::CommandExt,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::Duration,
};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;

const INSTALL_HINT: &str = "the browser test needs Debian's chromium and chromedriver: sudo apt-get install -y chromium chromium-driver";
/// How long one element or run state may take to appear. The engine's work behind any single
/// wait takes about a second (step 1's whole assessment: 0.9 s idle, 1.0 s with four CPU hogs
/// on two cores; the whole walk 16 s and 35 s); page loads of a debug build in a loaded
/// chromium are the slow part. Generous, because it only matters when something is wrong.
const WAIT: Duration = Duration::from_secs(120);
/// Between two looks at the page (reading the DOM, not reloading it).
const LOOK_EVERY: Duration = Duration::from_millis(200);

/// chromedriver and every process it started (chromium and its helpers), as one process group.
pub struct DriverProcesses {
    driver: Child,
}

impl DriverProcesses {
    fn spawn(chromedriver: &Path, port: u16) -> DriverProcesses {
        let driver = Command::new(chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            // Its own group (pgid = its pid): chromium and its renderers join it, so one
            // signal to the group ends them all, even if chromedriver dies first.
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start chromedriver: {e}; {INSTALL_HINT}"));
        DriverProcesses { driver }
    }

    /// SIGKILL to the whole group (through `kill(1)`: the crate forbids `unsafe`), reap
    /// chromedriver, and wait (bounded) until no process of the group is left. Idempotent.
    fn kill_all(&mut self) {
        let pgid = self.driver.id().to_string();
        let group = format!("-{pgid}");
        let _ = Command::new("kill")
            .args(["-KILL", "--", &group])
            .stderr(Stdio::null())
            .status();
        let _ = self.driver.kill();
        let _ = self.driver.wait();
        // Orphaned children are reaped by init; until then they still count as processes.
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while std::time::Instant::now() < deadline {
            let left = Command::new("pgrep")
                .args(["-g", &pgid])
                .stdout(Stdio::null())
                .status();
            if !left.is_ok_and(|s| s.success()) {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        eprintln!("browser processes of group {pgid} still exist after SIGKILL");
    }
}

impl Drop for DriverProcesses {
    fn drop(&mut self) {
        self.kill_all();
    }
}

pub struct Browser {
    pub client: Client,
    processes: DriverProcesses,
    _profile: tempfile::TempDir,
    shots: PathBuf,
}

fn require(program: &str) -> PathBuf {
    let found = std::env::var_os("PATH").map(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join(program))
            .find(|p| p.is_file())
    });
    match found.flatten() {
        Some(path) => path,
        None => panic!("{program} not found on PATH; {INSTALL_HINT}"),
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Browser {
    pub async fn start() -> Browser {
        let chromium = require("chromium");
        let chromedriver = require("chromedriver");
        let port = free_port();
        // From here on a panic (chromedriver never ready, session refused) drops the guard.
        let processes = DriverProcesses::spawn(&chromedriver, port);
        let url = format!("http://127.0.0.1:{port}");
        wait_until_ready(&url).await;

        let profile = tempfile::tempdir().unwrap();
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            json!({
                "binary": chromium,
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                    "--disable-background-networking", "--disable-component-update",
                    "--disable-sync", "--disable-quic", "--window-size=1366,900",
                    // No crash handler: it leaves chromium's process group, so killing the
                    // group would not end it.
                    "--disable-crash-reporter", "--disable-breakpad",
                    format!("--user-data-dir={}", profile.path().display()),
                ],
            }),
        );
        let client = ClientBuilder::rustls()
            .unwrap()
            .capabilities(caps)
            .connect(&url)
            .await
            .unwrap_or_else(|e| panic!("chromedriver refused a session: {e}; {INSTALL_HINT}"));
        let shots = Path::new(env!("CARGO_TARGET_TMPDIR"))
            .parent()
            .unwrap()
            .join("screenshots");
        std::fs::create_dir_all(&shots).unwrap();
        Browser {
            client,
            processes,
            _profile: profile,
            shots,
        }
    }

    pub async fn goto(&self, url: &str) {
        self.client.goto(url).await.unwrap();
    }

    pub async fn current_url(&self) -> String {
        self.client.current_url().await.unwrap().to_string()
    }

    pub async fn wait_for(&self, css: &str) -> fantoccini::elements::Element {
        match self
            .client
            .wait()
            .at_most(WAIT)
            .for_element(Locator::Css(css))
            .await
        {
            Ok(e) => e,
            Err(e) => {
                let source = self.client.source().await.unwrap_or_default();
                panic!("`{css}` never appeared ({e}); page was:\n{source}")
            }
        }
    }

    /// Waits until an element matching `css` contains `text` (pages update live over SSE).
    pub async fn wait_for_text(&self, css: &str, text: &str) {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            if let Ok(elements) = self.client.find_all(Locator::Css(css)).await {
                for element in elements {
                    if element.text().await.unwrap_or_default().contains(text) {
                        return;
                    }
                }
            }
            if tokio::time::Instant::now() > deadline {
                let source = self.client.source().await.unwrap_or_default();
                panic!("no `{css}` ever showed {text:?}; page was:\n{source}");
            }
            tokio::time::sleep(LOOK_EVERY).await;
        }
    }

    /// Text of the first element matching `css`.
    pub async fn text(&self, css: &str) -> String {
        self.wait_for(css).await.text().await.unwrap()
    }

    /// Opens step `n` of the run once the run page says the run is `active` (the previous
    /// step's background work is done), and waits for its form.
    pub async fn open_step(&self, run_url: &str, n: u8) {
        self.wait_for_run_status(run_url, "active").await;
        self.goto(&format!("{run_url}/step/{n}")).await;
        self.wait_for("#step-form").await;
    }

    /// Waits until the run page's live status (kept current by its event stream, no reload)
    /// reads `wanted`. Fails at once, with the page, if the run failed instead.
    pub async fn wait_for_run_status(&self, run_url: &str, wanted: &str) {
        if self.current_url().await.trim_end_matches('/') != run_url {
            self.goto(run_url).await;
        }
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let status = match self.client.find(Locator::Css("#run-status")).await {
                Ok(e) => e.text().await.unwrap_or_default(),
                Err(_) => String::new(),
            };
            if status.trim() == wanted {
                return;
            }
            if status.trim() == "failed" || tokio::time::Instant::now() > deadline {
                let source = self.client.source().await.unwrap_or_default();
                panic!("run status is {status:?}, waited for {wanted:?}; page was:\n{source}");
            }
            tokio::time::sleep(LOOK_EVERY).await;
        }
    }

    /// Clicks the element matching `css`. When the page was replaced between finding the
    /// element and clicking it (chromedriver answers "stale element reference" before it
    /// dispatches anything, so the click did not happen), it finds the element again on the
    /// page now shown and clicks that: what a user does when a page redraws under the mouse.
    pub async fn click(&self, css: &str) {
        self.on_fresh_element(css, |e| async move { e.click().await.map(|_| ()) })
            .await;
    }

    /// Types `text` into the input matching `css`, replacing what it held (again on a fresh
    /// element if the page was replaced in between, like [`Browser::click`]).
    pub async fn fill(&self, css: &str, text: &str) {
        let text = text.to_owned();
        self.on_fresh_element(css, |input| {
            let text = text.clone();
            async move {
                input.clear().await?;
                input.send_keys(&text).await
            }
        })
        .await;
    }

    /// Runs `act` on the element matching `css`, finding it again while the element it found
    /// went stale. Any other error fails the test.
    async fn on_fresh_element<F, Fut>(&self, css: &str, act: F)
    where
        F: Fn(fantoccini::elements::Element) -> Fut,
        Fut: std::future::Future<Output = Result<(), fantoccini::error::CmdError>>,
    {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            match act(self.wait_for(css).await).await {
                Ok(()) => return,
                Err(e)
                    if e.is_stale_element_reference() && tokio::time::Instant::now() < deadline =>
                {
                    println!(
                        "`{css}` went stale before the action (page replaced): finding it again"
                    );
                }
                Err(e) => panic!("acting on `{css}` failed: {e}"),
            }
        }
    }

    pub async fn screenshot(&self, name: &str) {
        let png = self.client.screenshot().await.unwrap();
        let path = self.shots.join(format!("{name}.png"));
        std::fs::write(&path, png).unwrap();
        println!("screenshot: {}", path.display());
    }

    /// Ends the WebDriver session (chromium quits), then the process group.
    pub async fn close(mut self) {
        let _ = self.client.clone().close().await;
        self.processes.kill_all();
    }
}

async fn wait_until_ready(url: &str) {
    let http = reqwest::Client::new();
    for _ in 0..200 {
        let ready = match http.get(format!("{url}/status")).send().await {
            Ok(resp) => resp
                .json::<serde_json::Value>()
                .await
                .is_ok_and(|body| body["value"]["ready"] == json!(true)),
            Err(_) => false,
        };
        if ready {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("chromedriver at {url} never became ready; {INSTALL_HINT}");
}
