//! Builds the portal: typed state, the router with all its layers, and the listeners.
//! `natpilot serve` and every test go through [`spawn`], so tests run the real app.

use std::{net::SocketAddr, sync::Arc, time::Duration};

use anyhow::Context;
use axum::{Router, extract::FromRef};
use tokio::{net::TcpListener, sync::watch, task::JoinHandle};

use crate::{
    config::Config,
    store::Store,
    tencent::{Client, ClientSettings, CredentialChain},
    web::{
        self,
        auth::AuthState,
        metrics::Metrics,
        routes::AccessTable,
        settings::{CloudLabel, WebSettings},
        tls::TlsFiles,
    },
    wizard::{
        engine::{Engine, EngineOptions, SHUTDOWN_BOUND},
        tencent_cloud::TencentConnector,
    },
};

/// Everything a handler may need. One `Arc`, so the per-request clones axum makes (every
/// middleware and `State` extractor) cost one reference count, not one per field (history
/// benchmark, issue 5). Handlers take the sub-state they use (`State<Store>`,
/// `State<Metrics>`) through `FromRef`.
#[derive(Clone)]
pub struct AppState(Arc<AppParts>);

pub struct AppParts {
    pub store: Store,
    pub settings: Arc<WebSettings>,
    pub metrics: Metrics,
    pub auth: Arc<AuthState>,
    pub access: AccessTable,
    /// Starts and drives runs; the only way handlers change anything in the cloud.
    pub engine: Engine,
    /// The cloud client (read-only listings such as the new-run page's VPCs).
    pub cloud: Client,
    /// Every cloud account (the default one first, its client is `cloud`), issue 13.
    pub accounts: crate::estate::CloudAccounts,
    /// Step 4's tables being rebuilt in the background (issue 11).
    pub verify_builds: crate::web::pages::verify_build::Builds,
    /// Starts, stops and drives campaigns through `engine` (issue 13 item 5).
    pub campaigns: crate::wizard::campaign::Campaigns,
    /// The rehearsals' simulated twins of this process (issue 13 item 7).
    pub twins: crate::rehearsal::Twins,
}

impl std::ops::Deref for AppState {
    type Target = AppParts;
    fn deref(&self) -> &AppParts {
        &self.0
    }
}

impl FromRef<AppState> for Store {
    fn from_ref(state: &AppState) -> Store {
        state.store.clone()
    }
}

impl FromRef<AppState> for Metrics {
    fn from_ref(state: &AppState) -> Metrics {
        state.metrics.clone()
    }
}

/// What [`spawn`] needs: already-bound listeners (port 0 in tests), an open store, settings.
pub struct AppConfig {
    /// The cloud the portal talks to (Tencent, or the embedded simulator's endpoint).
    pub client: Client,
    pub listener: TcpListener,
    pub metrics_listener: Option<TcpListener>,
    pub store: Store,
    pub settings: WebSettings,
    pub tls: Option<TlsFiles>,
    /// Pacing of the cutover engine (config section `[engine]`).
    pub engine: EngineOptions,
}

/// A running portal.
pub struct RunningApp {
    pub addr: SocketAddr,
    pub metrics_addr: Option<SocketAddr>,
    /// `https` when serving TLS directly, else `http`.
    pub scheme: &'static str,
    /// The one-time link that creates the first admin, when the database has no users yet.
    /// Printed to the console by `serve`; never logged.
    pub setup_path: Option<String>,
    pub state: AppState,
    server: JoinHandle<()>,
    metrics_server: Option<JoinHandle<()>>,
    housekeeping: JoinHandle<()>,
    /// The webhook outbox deliverer, when webhooks are configured; ends on `stop`.
    deliverer: Option<JoinHandle<()>>,
    /// Set to true to make the servers stop accepting (graceful shutdown).
    stop: watch::Sender<bool>,
}

impl RunningApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}://{}{}", self.scheme, self.addr, path)
    }

    /// Serves until `signal` completes (or a server task fails), then shuts down gracefully;
    /// `force` (a second signal) cuts the graceful shutdown short, which is as safe as a crash.
    pub async fn serve_until(
        mut self,
        signal: impl Future<Output = ()>,
        force: impl Future<Output = ()>,
    ) -> anyhow::Result<()> {
        tokio::select! {
            ended = &mut self.server => {
                ended?;
                anyhow::bail!("the portal server stopped unexpectedly (see the log)");
            }
            () = signal => {}
        }
        tokio::select! {
            () = self.shutdown() => {}
            () = force => tracing::warn!("second signal: exiting without waiting for jobs"),
        }
        Ok(())
    }

    /// Graceful shutdown: stop accepting connections, let running engine jobs reach their
    /// next persisted point (bounded by `engine::SHUTDOWN_BOUND`), let requests in flight
    /// finish (bounded by [`DRAIN_BOUND`]: live event streams never end by themselves).
    /// A run left applying or rolling back resumes at the next start.
    pub async fn shutdown(mut self) {
        self.stop.send_replace(true);
        let engine = self.state.engine.clone();
        // Campaign drivers stop first and give their leases up: the next start resumes them.
        self.state.campaigns.shutdown(SHUTDOWN_BOUND).await;
        let (left, ()) = tokio::join!(engine.shutdown(SHUTDOWN_BOUND), async {
            if tokio::time::timeout(DRAIN_BOUND, &mut self.server)
                .await
                .is_err()
            {
                tracing::info!(
                    "shutting down: closing connections still open (live event streams)"
                );
            }
        });
        tracing::info!(jobs_left = left, "shut down");
    }
}

/// How long a graceful shutdown waits for open connections after it stops accepting.
pub const DRAIN_BOUND: Duration = Duration::from_secs(5);

impl Drop for RunningApp {
    fn drop(&mut self) {
        self.server.abort();
        self.housekeeping.abort();
        if let Some(m) = &self.metrics_server {
            m.abort();
        }
        // A delivery cut short is claimed for a while and then sent again (at-least-once).
        if let Some(d) = &self.deliverer {
            d.abort();
        }
    }
}

/// Builds the state (creating a setup token when there are no users) and the router.
pub async fn build(
    store: Store,
    settings: WebSettings,
    client: Client,
    options: EngineOptions,
) -> anyhow::Result<(AppState, Router)> {
    let metrics = Metrics::default();
    let client = client.with_observer(Arc::new(metrics.clone()));
    // Polls back off (by default from 250 ms to 5 s): quick on the simulator, gentle on
    // Tencent Cloud.
    // The default account is today's single client; `[[accounts]]` add their own (issue 13).
    let observed = |mut e: crate::estate::ExtraAccount| {
        e.client = e.client.map(|c| c.with_observer(Arc::new(metrics.clone())));
        e
    };
    let accounts = crate::estate::CloudAccounts::new(
        settings.cloud.account(),
        client.clone(),
        settings.cloud.region(),
        settings.accounts.iter().cloned().map(observed).collect(),
    );
    let twins = crate::rehearsal::Twins::default();
    let connector = Arc::new(TencentConnector::for_accounts(
        accounts.clone(),
        twins.clone(),
        options.poll,
    ));
    let lease = options.lease;
    let engine = Engine::new(store.clone(), connector, options);
    // Before resuming: a rehearsal's twin died with the previous process, its run must end
    // (fail closed), never be resumed against anything else.
    let lost = engine.end_lost_rehearsals().await?;
    if lost > 0 {
        tracing::info!(
            lost,
            "ended rehearsals whose simulated twin was lost at restart"
        );
    }
    let resumed = engine.resume().await?;
    if resumed > 0 {
        tracing::info!(resumed, "resumed unfinished runs");
    }
    // Later, take over the runs of a process on this database that died (lease expired).
    engine.watch_leases();
    let campaigns = crate::wizard::campaign::Campaigns::new(engine.clone(), lease);
    let resumed = campaigns.resume().await?;
    if resumed > 0 {
        tracing::info!(resumed, "resumed running campaigns");
    }
    campaigns.watch();
    let auth = Arc::new(AuthState::new(&settings));
    let access = web::routes().into_parts().2;
    let state = AppState(Arc::new(AppParts {
        store,
        settings: Arc::new(settings),
        metrics,
        auth,
        access,
        engine,
        cloud: client,
        accounts,
        verify_builds: Default::default(),
        campaigns,
        twins,
    }));
    web::auth::setup::arm_if_no_users(&state).await?;
    let router = web::router(state.clone());
    Ok((state, router))
}

/// Every ten minutes: drop expired sessions and idle throttling buckets.
async fn housekeeping(state: AppState) {
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(600));
    loop {
        tick.tick().await;
        let s = &state.settings;
        let (idle, absolute) = (
            s.session_idle.as_secs() as i64,
            s.session_absolute.as_secs() as i64,
        );
        if let Err(e) =
            crate::store::sessions::delete_expired(state.store.writer(), idle, absolute).await
        {
            tracing::warn!(error = %e, "could not delete expired sessions");
        }
        if let Err(e) = state.auth.throttle.retain_recent(&state.store).await {
            tracing::warn!(error = %e, "could not delete full login buckets");
        }
    }
}

/// Builds the app and serves it on the given listeners in background tasks.
pub async fn spawn(config: AppConfig) -> anyhow::Result<RunningApp> {
    let (state, router) =
        build(config.store, config.settings, config.client, config.engine).await?;
    let addr = config.listener.local_addr()?;
    let make_service = router.into_make_service_with_connect_info::<web::tls::ClientAddr>();
    let scheme = if config.tls.is_some() {
        "https"
    } else {
        "http"
    };
    let (stop, _) = watch::channel(false);
    let server = match config.tls {
        Some(files) => {
            let listener = web::tls::TlsListener::new(config.listener, &files)?;
            let serve = axum::serve(listener, make_service).with_graceful_shutdown(stopped(&stop));
            tokio::spawn(async move {
                if let Err(e) = serve.await {
                    tracing::error!(error = %e, "portal server stopped");
                }
            })
        }
        None => {
            let listener = web::tls::PlainListener(config.listener);
            let serve = axum::serve(listener, make_service).with_graceful_shutdown(stopped(&stop));
            tokio::spawn(async move {
                if let Err(e) = serve.await {
                    tracing::error!(error = %e, "portal server stopped");
                }
            })
        }
    };
    let (metrics_addr, metrics_server) = match config.metrics_listener {
        Some(listener) => {
            let addr = listener.local_addr()?;
            let router = web::metrics::router(state.metrics.clone(), state.store.clone());
            let serve = axum::serve(listener, router).with_graceful_shutdown(stopped(&stop));
            let task = tokio::spawn(async move {
                if let Err(e) = serve.await {
                    tracing::error!(error = %e, "metrics server stopped");
                }
            });
            (Some(addr), Some(task))
        }
        None => (None, None),
    };
    let housekeeping = tokio::spawn(housekeeping(state.clone()));
    tokio::spawn(crate::store::health::probe(
        state.store.clone(),
        stop.subscribe(),
    ));
    // Replicas on PostgreSQL: what another one changes reaches this one's caches and pages.
    let _listening = state.store.listen_for_changes(stop.subscribe());
    if state.auth.sso.is_some() {
        // Discovery in the background: the first sign-in page's CSP then already allows the
        // provider's endpoints, and an unreachable provider never delays start-up.
        let (state, stop) = (state.clone(), stop.subscribe());
        tokio::spawn(async move {
            if let Some(sso) = &state.auth.sso {
                sso.provider.warm_up(stop).await;
            }
        });
    }
    if let Some(every) = state.settings.estate_scan_interval {
        let (store, accounts) = (state.store.clone(), state.accounts.clone());
        tokio::spawn(crate::estate::schedule::run(
            store,
            accounts,
            every,
            stop.subscribe(),
        ));
    }
    let deliverer = crate::notify::deliver::Deliverer::new(
        state.store.clone(),
        state.settings.webhooks.clone(),
        state.settings.webhook_delivery,
    )
    .spawn(stop.subscribe());
    let setup_path = state.auth.setup_path();
    Ok(RunningApp {
        addr,
        metrics_addr,
        scheme,
        setup_path,
        state,
        server,
        metrics_server,
        housekeeping,
        deliverer,
        stop,
    })
}

/// Completes once `stop` turns true: the servers' graceful-shutdown signal.
fn stopped(stop: &watch::Sender<bool>) -> impl Future<Output = ()> + Send + 'static {
    let mut rx = stop.subscribe();
    async move {
        let _ = rx.wait_for(|stopping| *stopping).await;
    }
}

mod signal;
mod starting;

/// `natpilot serve`: opens the database, binds the listeners, starts the portal and prints
/// where it is (and the one-time setup link, to the console only, when there are no users).
pub async fn serve(config: &Config) -> anyhow::Result<()> {
    // Credentials first: a broken source stops start-up before anything is created.
    let (client, cloud, _sim) = connect_cloud(config).await?;
    let listener = TcpListener::bind(config.server.listen)
        .await
        .with_context(|| {
            format!(
                "cannot listen on {} (set --listen or server.listen)",
                config.server.listen
            )
        })?;
    let metrics_listener =
        match config.server.metrics_listen {
            Some(addr) => Some(TcpListener::bind(addr).await.with_context(|| {
                format!("cannot listen on {addr} for metrics (--metrics-listen)")
            })?),
            None => None,
        };
    let sec = &config.security;
    let tls = match (&sec.tls_cert, &sec.tls_key) {
        (Some(cert), Some(key)) => Some(TlsFiles {
            cert: cert.clone(),
            key: key.clone(),
        }),
        (None, None) => None,
        _ => anyhow::bail!(
            "give both --tls-cert and --tls-key (security.tls_cert/tls_key), or neither"
        ),
    };
    // Not ready while the store opens and migrates: said on the portal's own address (plain
    // HTTP only: on an HTTPS address a failed handshake already reads as not ready).
    let scheme = if tls.is_some() { "https" } else { "http" };
    println!(
        "natpilot starting on {scheme}://{}/: opening the database {} (migrating it if needed)",
        listener.local_addr()?,
        config.server.database
    );
    let (store, listener) = if tls.is_none() {
        let phase = "opening and migrating the database";
        let starting = starting::answer_while_starting(listener, phase)?;
        let store = Store::connect(&config.server.database).await;
        (store?, starting.finish().await?)
    } else {
        (Store::connect(&config.server.database).await?, listener)
    };
    let approvals =
        crate::approvals::ApprovalPolicy::from_config(&config.approvals, cloud.is_simulated());
    let mut settings = WebSettings::from_config(sec, cloud, tls.is_some());
    settings.webhooks = crate::notify::Webhook::from_configs(&config.webhooks)
        .map_err(|e| anyhow::anyhow!("configuration: {e}"))?;
    settings.auth = config
        .auth
        .settings()
        .map_err(|e| anyhow::anyhow!("configuration: {e}"))?;
    settings.kept_eips =
        crate::kept_eips::KeptSettings::from_config(&config.kept_eips, &config.costs)
            .map_err(|e| anyhow::anyhow!("configuration: {e}"))?;
    settings.accounts =
        crate::estate::accounts::resolve_entries(config, settings.cloud.account()).await;
    settings.rehearsal_async_delay = config.sim.async_delay()?;
    let app = spawn(AppConfig {
        client,
        listener,
        metrics_listener,
        store,
        settings,
        tls,
        engine: EngineOptions {
            poll: config.engine.poll(),
            concurrency: config.engine.retire_concurrency,
            lease: config.engine.lease(),
            approvals,
        },
    })
    .await?;
    println!("natpilot portal: {}", app.url("/"));
    // Who each account is (STS GetCallerIdentity), in the background: a slow or refusing
    // account must not hold up the portal; the accounts page shows the answer.
    tokio::spawn(app.state.accounts.clone().identify_all_owned());
    if let Some(addr) = app.metrics_addr {
        println!("Prometheus metrics: http://{addr}/metrics");
    }
    if let Some(setup) = &app.setup_path {
        // Console only (never the log): whoever opens it first becomes admin.
        println!(
            "No users yet. Create the first admin with this one-time link (it works for one hour; restart natpilot for a new one):\n  {}",
            app.url(setup)
        );
    }
    let result = app
        .serve_until(signal::shutdown_requested(), signal::shutdown_requested())
        .await;
    drop(_sim);
    result
}

/// The Tencent client from the credential chain, or — with no credentials configured — an
/// embedded simulator (tutorial scenario, fresh random keys) that lives as long as the portal.
async fn connect_cloud(
    config: &Config,
) -> anyhow::Result<(Client, CloudLabel, Option<crate::sim::RunningSim>)> {
    let mut chain = CredentialChain::from_config(&config.tencent);
    // Probing the CVM metadata service off-cloud would only add a timeout; a CVM role is
    // used when `tencent.profile`/keys are absent only on a real CVM, via `natpilot doctor`.
    chain.metadata_url = None;
    match chain.resolve().await {
        Ok(resolved) => {
            let region = config.tencent.region.clone().or(resolved.region).context(
                "Tencent credentials found but no region: set tencent.region or TENCENTCLOUD_REGION",
            )?;
            let settings = ClientSettings::from_config(&config.tencent, resolved.provider)?;
            let account = config
                .tencent
                .profile
                .clone()
                .unwrap_or_else(|| "default".into());
            println!("Using Tencent Cloud ({region}, profile {account}).");
            Ok((
                Client::new(settings)?,
                CloudLabel::Tencent {
                    account,
                    region,
                    endpoint: config.tencent.endpoint.clone(),
                },
                None,
            ))
        }
        // Only "no source configured at all" means the simulator: a source that is there but
        // broken (half a key pair, a named profile that does not exist, a file that does not
        // parse) stops start-up, or the operator would believe they manage their real VPCs.
        Err(e) if !e.nothing_configured() => Err(anyhow::anyhow!(
            "Tencent Cloud credentials are configured but unusable, so the portal does not \
             start (it will not fall back to the simulated cloud):\n{e}\n\
             Fix the source above (`natpilot doctor` checks it), or remove it to use the \
             embedded simulator."
        )),
        Err(_) => {
            let sim = crate::sim::spawn(config.sim.to_sim_config()?).await?;
            let h = sim.handle();
            let client = Client::for_endpoint(&sim.endpoint(), h.secret_id(), h.secret_key())?;
            println!(
                "No Tencent Cloud credentials configured: using the embedded SIMULATED cloud at {} \
                 ({}, [sim] in the configuration). Configure credentials to manage real VPCs.",
                sim.endpoint(),
                config.sim.describe()
            );
            Ok((
                client,
                CloudLabel::Simulated { region: h.region() },
                Some(sim),
            ))
        }
    }
}
