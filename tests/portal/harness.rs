//! The one test harness: `TestApp` starts the real portal in-process on port 0 with a fresh
//! store (a SQLite file, or a PostgreSQL database of its own when `NATPILOT_TEST_POSTGRES` is
//! set, so the suite runs on both); `Browser` is a cookie-keeping client with typed helpers; pages are parsed
//! with `scraper`. Logs go to an in-memory buffer (scanned by the secrets test) and are
//! printed only when TEST_LOG is set.

use std::{
    io::Write,
    sync::{Mutex, OnceLock},
};

use natpilot::{
    app::{self, AppConfig, RunningApp},
    sim::{RunningSim, SimConfig},
    store::{
        Database, Store,
        users::{self, Role, UserName},
    },
    tencent::Client,
    web::{auth::password, settings::WebSettings},
};
use reqwest::{StatusCode, header};
use scraper::{Html, Selector};
use secrecy::SecretString;

pub const PASSWORD: &str = "correct horse battery";

static LOGS: OnceLock<Mutex<Vec<u8>>> = OnceLock::new();

struct LogSink;
impl Write for LogSink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if std::env::var_os("TEST_LOG").is_some() {
            std::io::stderr().write_all(buf)?;
        }
        LOGS.get_or_init(Default::default)
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn init_logs() {
    static ONCE: OnceLock<()> = OnceLock::new();
    ONCE.get_or_init(|| {
        let filter = std::env::var("TEST_LOG").unwrap_or_else(|_| "debug".into());
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
            .with_writer(|| LogSink)
            .with_ansi(false)
            .try_init();
    });
}

/// Everything logged by any test so far in this binary.
pub fn captured_logs() -> Vec<u8> {
    LOGS.get_or_init(Default::default).lock().unwrap().clone()
}

pub struct TestApp {
    pub app: RunningApp,
    pub sim: RunningSim,
    /// The test's database (a SQLite file, or a PostgreSQL database of its own).
    pub database: Database,
    _dir: tempfile::TempDir,
}

impl TestApp {
    pub async fn start() -> TestApp {
        TestApp::start_with(WebSettings::default()).await
    }

    pub async fn start_with(settings: WebSettings) -> TestApp {
        TestApp::start_in(settings, natpilot::sim::ScenarioSource::Tutorial).await
    }

    /// The simulator's `large` world of `instances` CVMs (VPC `vpc-large000`).
    pub async fn start_large(instances: usize) -> TestApp {
        let large = natpilot::sim::ScenarioSource::Large { instances };
        TestApp::start_in(WebSettings::default(), large).await
    }

    pub async fn start_in(
        settings: WebSettings,
        scenario: natpilot::sim::ScenarioSource,
    ) -> TestApp {
        TestApp::start_full(settings, scenario, Default::default()).await
    }

    /// The tutorial world with these engine options (e.g. an approval policy).
    pub async fn start_with_engine(
        settings: WebSettings,
        engine: natpilot::wizard::engine::EngineOptions,
    ) -> TestApp {
        let tutorial = natpilot::sim::ScenarioSource::Tutorial;
        TestApp::start_full(settings, tutorial, engine).await
    }

    pub async fn start_full(
        settings: WebSettings,
        scenario: natpilot::sim::ScenarioSource,
        engine: natpilot::wizard::engine::EngineOptions,
    ) -> TestApp {
        let sim_config = SimConfig {
            scenario,
            ..TestApp::sim_config()
        };
        TestApp::start_custom_engine(settings, sim_config, |_| async { Vec::new() }, engine).await
    }

    /// The simulator settings of every test app: real clock with short async phases
    /// (background jobs finish on their own), no rate limit.
    pub fn sim_config() -> SimConfig {
        SimConfig {
            async_delay: std::time::Duration::from_millis(20),
            rate_limit: false,
            ..SimConfig::default()
        }
    }

    /// A portal on a simulator of `sim_config`, with the `[[accounts]]` that `accounts`
    /// resolves once the simulator's endpoint is known (issue 13).
    pub async fn start_custom<F, Fut>(
        settings: WebSettings,
        sim_config: SimConfig,
        accounts: F,
    ) -> TestApp
    where
        F: FnOnce(String) -> Fut,
        Fut: std::future::Future<Output = Vec<natpilot::estate::ExtraAccount>>,
    {
        TestApp::start_custom_engine(settings, sim_config, accounts, Default::default()).await
    }

    /// [`TestApp::start_custom`] with engine options too.
    pub async fn start_custom_engine<F, Fut>(
        mut settings: WebSettings,
        sim_config: SimConfig,
        accounts: F,
        engine: natpilot::wizard::engine::EngineOptions,
    ) -> TestApp
    where
        F: FnOnce(String) -> Fut,
        Fut: std::future::Future<Output = Vec<natpilot::estate::ExtraAccount>>,
    {
        init_logs();
        let dir = tempfile::tempdir().unwrap();
        let database = natpilot::store::test_store::database(dir.path())
            .await
            .unwrap();
        let store = Store::connect(&database).await.unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let metrics_listener = Some(tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap());
        let sim = natpilot::sim::spawn(sim_config).await.unwrap();
        settings.accounts = accounts(sim.endpoint()).await;
        let h = sim.handle();
        let client = Client::for_endpoint(&sim.endpoint(), h.secret_id(), h.secret_key()).unwrap();
        let config = AppConfig {
            client,
            listener,
            metrics_listener,
            store,
            settings,
            tls: None,
            engine,
        };
        let app = app::spawn(config).await.unwrap();
        TestApp {
            app,
            sim,
            database,
            _dir: dir,
        }
    }

    /// The running app, its simulator, database path and the directory that holds it (kept
    /// alive by the caller), to stop the app and start another process on the same database.
    pub fn into_parts(self) -> (RunningApp, RunningSim, Database, tempfile::TempDir) {
        (self.app, self.sim, self.database, self._dir)
    }

    /// Another natpilot process (or the next start of one) on `database`, talking to `sim`:
    /// what a restart or a second replica is in these tests.
    pub async fn process_on(
        database: &Database,
        sim: &RunningSim,
        settings: WebSettings,
        engine: natpilot::wizard::engine::EngineOptions,
    ) -> RunningApp {
        let h = sim.handle();
        app::spawn(AppConfig {
            client: Client::for_endpoint(&sim.endpoint(), h.secret_id(), h.secret_key()).unwrap(),
            listener: tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap(),
            metrics_listener: None,
            store: Store::connect(database).await.unwrap(),
            settings,
            tls: None,
            engine,
        })
        .await
        .unwrap()
    }

    /// Waits for a run's background job (assessment, apply, rollback) to finish.
    pub async fn settle(&self, run: &str) {
        let id = run.parse().unwrap();
        self.app.state.engine.wait(id).await.unwrap();
    }

    /// A step 4 page at `path` (`/runs/{id}/step/4…`) once its table is there: while the
    /// page says the table is being rebuilt, waits for the rebuild (on the app's state, not
    /// on time) and loads it again.
    pub async fn step_4_table(&self, browser: &mut Browser, path: &str) -> Page {
        let run = path
            .trim_start_matches("/runs/")
            .split('/')
            .next()
            .and_then(|id| id.parse().ok())
            .expect("a step 4 path");
        loop {
            let page = browser.get(path).await;
            if page.count("#verify-rebuilding") == 0 {
                // A current table stops the rebuild notice's asking again.
                assert_eq!(
                    page.attr("#verify-table", "hx-trigger"),
                    None,
                    "{}",
                    page.body
                );
                return page;
            }
            self.app.state.verify_builds.settled(run).await;
        }
    }

    /// The audit entries of one action, newest first.
    pub async fn audited(&self, action: &str) -> Vec<natpilot::store::audit::AuditEntry> {
        let filter = natpilot::store::audit::AuditFilter {
            action: Some(action.into()),
            ..Default::default()
        };
        natpilot::store::audit::list(self.store().readers(), &filter, 100)
            .await
            .unwrap()
    }

    pub fn store(&self) -> &Store {
        &self.app.state.store
    }

    pub fn browser(&self) -> Browser {
        Browser::new(self.app.url(""))
    }

    /// Creates a user directly in the store (the admin pages are tested on their own).
    pub async fn user(&self, name: &str, role: Role) -> i64 {
        let hash = password::hash(SecretString::from(PASSWORD)).await.unwrap();
        let name = UserName::parse(name).unwrap();
        users::insert(self.store().writer(), &name, role, &hash)
            .await
            .unwrap()
    }

    /// A browser signed in as a new user with this role.
    pub async fn signed_in(&self, name: &str, role: Role) -> Browser {
        self.user(name, role).await;
        let mut b = self.browser();
        let page = b.login(name, PASSWORD).await;
        assert_eq!(
            page.status,
            StatusCode::SEE_OTHER,
            "login of {name} failed: {}",
            page.body
        );
        b
    }

    /// Everything the database holds, as bytes to search for a secret (the SQLite file and
    /// its WAL, or every row on PostgreSQL).
    pub async fn db_contents(&self) -> Vec<u8> {
        natpilot::store::test_store::contents(self.store(), &self.database).await
    }
}

/// A fetched page.
pub struct Page {
    pub status: StatusCode,
    pub headers: header::HeaderMap,
    pub body: String,
}

impl Page {
    pub fn html(&self) -> Html {
        Html::parse_document(&self.body)
    }

    pub fn location(&self) -> Option<String> {
        self.headers
            .get(header::LOCATION)
            .map(|v| v.to_str().unwrap().to_owned())
    }

    /// Text of all elements matching a CSS selector.
    pub fn texts(&self, css: &str) -> Vec<String> {
        let sel = Selector::parse(css).unwrap();
        self.html()
            .select(&sel)
            .map(|e| e.text().collect::<String>().trim().to_owned())
            .collect()
    }

    pub fn text(&self, css: &str) -> String {
        let texts = self.texts(css);
        assert!(
            !texts.is_empty(),
            "no element matches `{css}` in:\n{}",
            self.body
        );
        texts[0].clone()
    }

    pub fn count(&self, css: &str) -> usize {
        self.texts(css).len()
    }

    pub fn attr(&self, css: &str, attr: &str) -> Option<String> {
        let sel = Selector::parse(css).unwrap();
        self.html()
            .select(&sel)
            .next()
            .and_then(|e| e.value().attr(attr).map(str::to_owned))
    }

    /// The attribute of every element matching `css`, in document order.
    pub fn select_attrs(&self, css: &str, attr: &str) -> Vec<String> {
        let sel = Selector::parse(css).unwrap();
        self.html()
            .select(&sel)
            .filter_map(|e| e.value().attr(attr).map(str::to_owned))
            .collect()
    }
}

/// A browser: keeps the session cookie (under the name the portal gave it), the other
/// cookies (the pre-session cookie of the sign-in form) and the last page's CSRF token.
pub struct Browser {
    base: String,
    client: reqwest::Client,
    /// The session id, whichever the cookie's name (`natpilot_session`, or
    /// `__Host-natpilot_session` over HTTPS).
    pub cookie: Option<String>,
    session_name: String,
    /// Every other cookie, by name.
    pub jar: std::collections::BTreeMap<String, String>,
    pub csrf: Option<String>,
}

impl Browser {
    pub fn new(base: String) -> Browser {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        Browser {
            base,
            client,
            cookie: None,
            session_name: "natpilot_session".into(),
            jar: Default::default(),
            csrf: None,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// The `Cookie` header this browser sends (empty when it has no cookie).
    pub fn cookie_header(&self) -> String {
        let session = self
            .cookie
            .iter()
            .map(|c| format!("{}={c}", self.session_name));
        let others = self.jar.iter().map(|(k, v)| format!("{k}={v}"));
        session.chain(others).collect::<Vec<_>>().join("; ")
    }

    pub async fn send(&mut self, req: reqwest::RequestBuilder) -> Page {
        let cookies = self.cookie_header();
        let req = match cookies.is_empty() {
            false => req.header(header::COOKIE, cookies),
            true => req,
        };
        let resp = req.send().await.unwrap();
        let status = resp.status();
        let headers = resp.headers().clone();
        for v in headers.get_all(header::SET_COOKIE) {
            let v = v.to_str().unwrap();
            let pair = v.split(';').next().unwrap();
            let (name, value) = pair.split_once('=').unwrap();
            let value = (!value.is_empty()).then(|| value.to_owned());
            if name.ends_with("natpilot_session") {
                self.session_name = name.to_owned();
                self.cookie = value;
            } else {
                match value {
                    Some(value) => self.jar.insert(name.to_owned(), value),
                    None => self.jar.remove(name),
                };
            }
        }
        let page = Page {
            status,
            headers,
            body: resp.text().await.unwrap(),
        };
        if let Some(token) = page
            .attr("meta[name=csrf-token]", "content")
            .filter(|t| !t.is_empty())
        {
            self.csrf = Some(token);
        }
        page
    }

    pub async fn get(&mut self, path: &str) -> Page {
        let req = self.client.get(self.url(path));
        self.send(req).await
    }

    /// Posts a form the way our pages do: same origin, with the page's CSRF token.
    /// Posts the first-admin setup form at `setup` (the one-time link) for `name`.
    pub async fn submit_setup(&mut self, setup: &str, name: &str) -> Page {
        let fields = [
            ("name", name),
            ("password", PASSWORD),
            ("password_confirm", PASSWORD),
        ];
        self.post(setup, &fields).await
    }

    pub async fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> Page {
        let mut form: Vec<(&str, &str)> = fields.to_vec();
        let token = self.csrf.clone().unwrap_or_default();
        form.push(("csrf_token", &token));
        let req = self
            .client
            .post(self.url(path))
            .header(header::ORIGIN, &self.base)
            .form(&form);
        self.send(req).await
    }

    pub async fn login(&mut self, name: &str, password: &str) -> Page {
        let page = self.get("/login").await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        self.post("/login", &[("name", name), ("password", password)])
            .await
    }
}
