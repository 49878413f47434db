//! The portal under test: the real app in-process on port 0, a fresh store (SQLite file, or
//! PostgreSQL under NATPILOT_TEST_POSTGRES), and the
//! simulator with the tutorial scenario, exactly as `natpilot serve` runs without credentials.

use natpilot::{
    app::{self, AppConfig, RunningApp},
    sim::{RunningSim, SimConfig},
    tencent::Client,
    web::settings::WebSettings,
    wizard::{engine::EngineOptions, poll::Poll},
};

pub struct Portal {
    pub app: RunningApp,
    pub _sim: RunningSim,
    _dir: tempfile::TempDir,
}

impl Portal {
    pub async fn start() -> Portal {
        Portal::start_in(natpilot::sim::ScenarioSource::Tutorial).await
    }

    pub async fn start_in(scenario: natpilot::sim::ScenarioSource) -> Portal {
        Portal::start_with(scenario, WebSettings::default()).await
    }

    /// With the portal's settings (single sign-on's `[auth]`, say).
    pub async fn start_with(
        scenario: natpilot::sim::ScenarioSource,
        settings: WebSettings,
    ) -> Portal {
        let dir = tempfile::tempdir().unwrap();
        let store = natpilot::store::test_store::open(dir.path()).await.unwrap();
        let sim = natpilot::sim::spawn(SimConfig {
            async_delay: std::time::Duration::from_millis(300),
            scenario,
            ..SimConfig::default()
        })
        .await
        .unwrap();
        let h = sim.handle();
        let client = Client::for_endpoint(&sim.endpoint(), h.secret_id(), h.secret_key()).unwrap();
        let app = app::spawn(AppConfig {
            client,
            listener: tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap(),
            metrics_listener: None,
            store,
            settings,
            tls: None,
            // Looks at asynchronous work (TAT invocations, the NAT gateway) every 100 ms: the
            // simulator's steps take 300 ms here, and the real-cloud default backs off to 5 s
            // between looks, which would make each engine wait end seconds after the work.
            engine: EngineOptions {
                poll: Poll::fixed(std::time::Duration::from_millis(100)),
                ..EngineOptions::default()
            },
        })
        .await
        .unwrap();
        Portal {
            app,
            _sim: sim,
            _dir: dir,
        }
    }

    pub fn setup_url(&self) -> String {
        let path = self
            .app
            .setup_path
            .as_deref()
            .expect("a fresh database arms the setup link");
        self.app.url(path)
    }
}
