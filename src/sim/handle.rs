//! Starting a simulator in-process and looking into it: `spawn` binds the listener (port 0
//! in tests) and serves in the background; `SimHandle` is a cheap clone that reads the world
//! and turns the runtime knobs; `RunningSim::shutdown` stops it gracefully.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::serve::ListenerExt;
use secrecy::ExposeSecret;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use super::config::{FaultConfig, SimConfig};
use super::faults::Faults;
use super::world::egress::ECHO_SERVICES;
use super::world::{NatGateway, World};
use super::{Shared, wire};

/// Starts a simulator and returns once it accepts connections.
pub async fn spawn(config: SimConfig) -> anyhow::Result<RunningSim> {
    let shared = Arc::new(Shared::new(&config)?);
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", config.listen))?;
    let addr = listener.local_addr()?;
    let (stop, stopped) = oneshot::channel::<()>();
    let app = wire::router(shared.clone());
    // Without TCP_NODELAY the tail of a large answer (a page of 100 instances) waits for the
    // client's delayed ACK, ~40 ms per request under concurrency (sim_pages benchmark).
    let listener = listener.tap_io(|tcp| {
        if let Err(error) = tcp.set_nodelay(true) {
            tracing::debug!(%error, "cannot set TCP_NODELAY");
        }
    });
    let task = tokio::spawn(async move {
        let result = axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .await;
        if let Err(error) = result {
            tracing::error!(%error, "simulator server stopped");
        }
    });
    Ok(RunningSim {
        handle: SimHandle { shared },
        addr,
        stop: Some(stop),
        task: Some(task),
    })
}

/// A running simulator. Dropping it stops accepting connections; `shutdown` also waits.
pub struct RunningSim {
    handle: SimHandle,
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl RunningSim {
    /// `http://127.0.0.1:PORT`, what a client (or `tccli --endpoint`) points at.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn handle(&self) -> SimHandle {
        self.handle.clone()
    }

    /// Stops the server and waits for in-flight requests to finish.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for RunningSim {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

impl std::ops::Deref for RunningSim {
    type Target = SimHandle;
    fn deref(&self) -> &SimHandle {
        &self.handle
    }
}

/// Read access to the world and the runtime knobs. Cheap to clone.
#[derive(Clone)]
pub struct SimHandle {
    shared: Arc<Shared>,
}

impl SimHandle {
    pub fn secret_id(&self) -> &str {
        &self.shared.secret_id
    }

    pub fn secret_key(&self) -> &str {
        self.shared.secret_key.expose_secret()
    }

    /// The region the world models (requests for other regions get `UnsupportedRegion`).
    pub fn region(&self) -> String {
        self.shared.region()
    }

    /// The whole state as JSON (the same document `GET /_sim/state` serves).
    pub fn state_json(&self) -> serde_json::Value {
        self.shared.state_json()
    }

    /// What `curl ifconfig.co` would print on the instance right now (without the newline),
    /// or `None` when it has no way out.
    pub fn egress_ip(&self, instance_id: &str) -> Option<String> {
        let destination = ECHO_SERVICES[0].1;
        self.with_world(|w| w.egress_ip(instance_id, destination))
    }

    pub fn nat_gateways(&self, vpc_id: &str) -> Vec<NatGateway> {
        self.with_world(|w| {
            w.nat_gateways
                .values()
                .filter(|n| n.vpc_id == vpc_id)
                .cloned()
                .collect()
        })
    }

    /// Runs `f` on the world, brought up to the current sim time. Tests may also mutate it
    /// (e.g. take an agent offline) — the change is visible to the next request.
    pub fn with_world<R>(&self, f: impl FnOnce(&mut World) -> R) -> R {
        self.shared.with_world(f)
    }

    /// The primary account's uin.
    pub fn uin(&self) -> String {
        self.shared.accounts.all()[0].uin.clone()
    }

    /// Runs `f` on account `uin`'s world in `region` (`None`: no such account or region).
    pub fn with_account_world<R>(
        &self,
        uin: &str,
        region: &str,
        f: impl FnOnce(&mut World) -> R,
    ) -> Option<R> {
        let account = self.shared.accounts.by_uin(uin)?;
        let caller = super::accounts::Caller {
            account,
            identity: super::accounts::Identity::Permanent,
        };
        self.shared.with_world_of(&caller, region, f)
    }

    /// From now on, account `uin` may not call `action` in `region` (`"*"` for any): the
    /// simulator answers `UnauthorizedOperation`, as a missing CAM permission does.
    pub fn deny(&self, uin: &str, region: &str, action: &str) {
        let account = self
            .shared
            .accounts
            .by_uin(uin)
            .unwrap_or_else(|| panic!("no simulated account {uin}"));
        self.shared.accounts.deny(account, region, action);
    }

    /// Every mutating call the simulator executed so far (whatever its answer), oldest first.
    pub fn received_mutations(&self) -> Vec<super::Received> {
        self.shared.received.lock().expect("received lock").clone()
    }

    /// How many `action` calls the simulator executed so far (whatever their answer; calls
    /// refused before the action ran, e.g. by a rate limit, are not counted).
    pub fn executed(&self, action: &str) -> u64 {
        let executed = self.shared.executed.lock().expect("executed lock");
        executed.get(action).copied().unwrap_or(0)
    }

    /// Moves the sim clock forward (completes async steps due within `by`).
    pub fn advance(&self, by: Duration) {
        self.shared.clock.advance(by);
    }

    /// Replaces the faults; the `Slow` answers still waiting are sent at once.
    pub fn set_faults(&self, faults: FaultConfig) {
        *self.shared.faults.lock().expect("faults lock") = Faults::new(faults);
        self.shared.faults_set.send_modify(|n| *n += 1);
    }

    pub fn set_rate_limit(&self, enabled: bool) {
        self.shared
            .limiter
            .lock()
            .expect("rate limiter lock")
            .enabled = enabled;
    }

    pub fn set_async_delay(&self, delay: Duration) {
        self.with_world(|w| w.behaviour.async_delay = delay);
    }

    /// Makes subsequent NAT gateway creations end in `PENDFAILURE` (or succeed again).
    pub fn set_nat_creation_fails(&self, fails: bool) {
        self.with_world(|w| w.behaviour.nat_creation_fails = fails);
    }
}

impl SimConfig {
    /// Convenience for tests: the config with a given scenario.
    pub fn with_scenario(mut self, scenario: super::ScenarioSource) -> SimConfig {
        self.scenario = scenario;
        self
    }
}
