//! chromedriver + headless chromium for the browser test: started on a free loopback port,
//! waited for by polling its `/status` (no sleeps), stopped when dropped.

use std::{
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::Duration,
};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;

const INSTALL_HINT: &str = "the browser test needs Debian's chromium and chromedriver: sudo apt-get install -y chromium chromium-driver";
/// How long one element may take to appear (the run engine works in the background).
const WAIT: Duration = Duration::from_secs(60);

pub struct Browser {
    pub client: Client,
    driver: Child,
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
        let driver = Command::new(chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start chromedriver: {e}; {INSTALL_HINT}"));
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
            driver,
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
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Text of the first element matching `css`.
    pub async fn text(&self, css: &str) -> String {
        self.wait_for(css).await.text().await.unwrap()
    }

    /// Reloads `url` until the step is open for input (its "Preview the plan" button shows):
    /// the previous step applies in the background first.
    pub async fn open_when_current(&self, url: &str) {
        self.reload_until(url, "#preview-plan", None).await;
    }

    /// Reloads the current page until an element matching `css` contains `text`.
    pub async fn wait_for_reloading(&self, css: &str, text: &str) {
        let url = self.current_url().await;
        self.reload_until(&url, css, Some(text)).await;
    }

    async fn reload_until(&self, url: &str, css: &str, text: Option<&str>) {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            self.goto(url).await;
            if let Ok(element) = self.client.find(Locator::Css(css)).await {
                let found = match text {
                    Some(t) => element.text().await.unwrap_or_default().contains(t),
                    None => true,
                };
                if found {
                    return;
                }
            }
            if tokio::time::Instant::now() > deadline {
                let source = self.client.source().await.unwrap_or_default();
                panic!("{url} never showed `{css}` {text:?}; page was:\n{source}");
            }
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
    }

    pub async fn click(&self, css: &str) {
        self.wait_for(css).await.click().await.unwrap();
    }

    pub async fn fill(&self, css: &str, text: &str) {
        let input = self.wait_for(css).await;
        input.clear().await.unwrap();
        input.send_keys(text).await.unwrap();
    }

    pub async fn screenshot(&self, name: &str) {
        let png = self.client.screenshot().await.unwrap();
        let path = self.shots.join(format!("{name}.png"));
        std::fs::write(&path, png).unwrap();
        println!("screenshot: {}", path.display());
    }

    pub async fn close(mut self) {
        let _ = self.client.clone().close().await;
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
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
