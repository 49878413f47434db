//! What the portal benchmarks share: the real portal started in-process against a simulator,
//! a signed-in session, and single-connection page timings. Included by `#[path]`; each
//! benchmark uses only part of it.
#![allow(dead_code)]

use std::time::{Duration, Instant};

use natpilot::{
    app::{self, AppConfig, RunningApp},
    store::{
        Store,
        users::{self, Role, UserName},
    },
    tencent::Client,
    web::{auth::password, settings::WebSettings},
};
use secrecy::SecretString;

pub const PASSWORD: &str = "benchmark password";

/// Starts the portal on a loopback port over `store`, calling the cloud through `client`.
pub async fn start(store: Store, client: Client) -> anyhow::Result<RunningApp> {
    app::spawn(AppConfig {
        client,
        listener: tokio::net::TcpListener::bind("127.0.0.1:0").await?,
        metrics_listener: None,
        store,
        settings: WebSettings::default(),
        tls: None,
        engine: Default::default(),
    })
    .await
}

/// Creates user `name` with `role` directly in the store.
pub async fn add_user(store: &Store, name: &str, role: Role) -> anyhow::Result<()> {
    let hash = password::hash(SecretString::from(PASSWORD)).await?;
    let name = UserName::parse(name).map_err(anyhow::Error::msg)?;
    users::insert(store.writer(), &name, role, &hash).await?;
    Ok(())
}

/// Signs `user` in through the login form; returns the session cookie's value.
pub async fn sign_in(base: &str, user: &str) -> anyhow::Result<String> {
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let login = http.get(format!("{base}/login")).send().await?;
    // The sign-in form is checked against the pre-session cookie the login page sets.
    let cookies = set_cookies(&login).join("; ");
    let body = login.text().await?;
    let csrf = body
        .split("name=\"csrf-token\" content=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .ok_or_else(|| anyhow::anyhow!("no CSRF token on the login page"))?;
    let resp = http
        .post(format!("{base}/login"))
        .header("Origin", base)
        .header("Cookie", cookies)
        .form(&[("name", user), ("password", PASSWORD), ("csrf_token", csrf)])
        .send()
        .await?;
    session_cookie(&resp).ok_or_else(|| anyhow::anyhow!("sign-in failed: {}", resp.status()))
}

/// Every `name=value` the response sets (attributes dropped).
fn set_cookies(resp: &reqwest::Response) -> Vec<String> {
    resp.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| v.split(';').next())
        .map(str::to_owned)
        .collect()
}

fn session_cookie(resp: &reqwest::Response) -> Option<String> {
    set_cookies(resp)
        .iter()
        .find_map(|v| v.strip_prefix("natpilot_session="))
        .map(str::to_owned)
        .filter(|v| !v.is_empty())
}

/// One signed-in connection (reqwest keeps it alive between requests).
pub struct Session {
    http: reqwest::Client,
    cookie: String,
}

/// Time from sending a GET to having read the whole page, and the page.
pub struct Fetched {
    pub status: reqwest::StatusCode,
    pub body: String,
    pub took: Duration,
}

impl Session {
    pub fn new(cookie: String) -> anyhow::Result<Session> {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .pool_max_idle_per_host(1)
            .build()?;
        Ok(Session { http, cookie })
    }

    pub async fn get(&self, url: &str) -> anyhow::Result<Fetched> {
        let started = Instant::now();
        let resp = self
            .http
            .get(url)
            .header("Cookie", format!("natpilot_session={}", self.cookie))
            .send()
            .await?;
        let status = resp.status();
        let body = resp.text().await?;
        Ok(Fetched {
            status,
            body,
            took: started.elapsed(),
        })
    }

    /// A form POST (`body` already url-encoded, with its CSRF token) from `origin`, as a
    /// browser sends it; the answer is not followed.
    pub async fn post(&self, url: &str, origin: &str, body: String) -> anyhow::Result<Fetched> {
        let started = Instant::now();
        let resp = self
            .http
            .post(url)
            .header("Cookie", format!("natpilot_session={}", self.cookie))
            .header("Origin", origin)
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await?;
        let status = resp.status();
        let body = resp.text().await?;
        Ok(Fetched {
            status,
            body,
            took: started.elapsed(),
        })
    }
}

/// Median and 99th percentile of `samples`, in milliseconds.
pub fn p50_p99(samples: &mut [Duration]) -> (f64, f64) {
    samples.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let n = samples.len();
    if n == 0 {
        return (f64::NAN, f64::NAN);
    }
    (ms(samples[n / 2]), ms(samples[((n * 99) / 100).min(n - 1)]))
}
