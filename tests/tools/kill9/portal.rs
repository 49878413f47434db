//! `natpilot serve` as a real process against a simulator that lives in the test process (so
//! the cloud survives a `kill -9` of the portal), on a database the test reads: a SQLite file
//! (read-only), or — when `NATPILOT_TEST_POSTGRES` is set — a PostgreSQL database of its own,
//! which is how several replicas share a store (issue 15); and the waits on its state.

use std::time::Duration;

use natpilot::sim::{FaultConfig, FaultKind, RunningSim, SimConfig};
use natpilot::store::ledger::{ApiCall, CallState};
use natpilot::store::{self, Database, RunId, RunStatus, Step};
use sqlx::AnyPool;

pub use crate::common::until;
use crate::process::{self, Natpilot, START_BUDGET};

/// Strong enough for the portal's zxcvbn check (score >= 3), and only ever in this test.
pub const PASSWORD: &str = "quartz-lantern-meadow-71-orbit";

/// The cloud (a simulator in this process), a home directory and the database (a file in it,
/// or a PostgreSQL database).
pub struct World {
    pub sim: RunningSim,
    pub home: tempfile::TempDir,
    pub db: Database,
}

impl World {
    pub async fn start() -> World {
        let sim = natpilot::sim::spawn(SimConfig {
            // Real clock, short async phases: the portal polls as it would Tencent Cloud.
            async_delay: Duration::from_millis(20),
            rate_limit: false,
            ..SimConfig::default()
        })
        .await
        .unwrap();
        let home = tempfile::tempdir().unwrap();
        let db = store::test_store::database(home.path()).await.unwrap();
        World { sim, home, db }
    }

    /// The environment every natpilot process of the test gets: the simulator as "Tencent
    /// Cloud" (endpoint override and its key pair), the shared database, a 3 s run lease (the
    /// shortest allowed), fast polling and no approvals.
    fn env(&self) -> Vec<(&'static str, String)> {
        let h = self.sim.handle();
        vec![
            ("TENCENTCLOUD_SECRET_ID", h.secret_id().to_owned()),
            ("TENCENTCLOUD_SECRET_KEY", h.secret_key().to_owned()),
            ("NATPILOT_TENCENT__ENDPOINT", self.sim.endpoint()),
            ("NATPILOT_TENCENT__REGION", h.region()),
            ("NATPILOT_SERVER__DATABASE", self.database_setting()),
            ("NATPILOT_ENGINE__LEASE_SECS", "3".to_owned()),
            ("NATPILOT_ENGINE__POLL_FIRST_MS", "10".to_owned()),
            ("NATPILOT_ENGINE__POLL_MAX_SECS", "1".to_owned()),
            // The simulator stands in for a real cloud here (keys and an endpoint), where
            // steps 2–4, and a rollback that releases the NAT gateway's EIPs, wait for a second
            // person by default; these tests crash one operator's confirmed steps and
            // rollback, so nothing waits for approval.
            ("NATPILOT_APPROVALS__STEPS", "[]".to_owned()),
            (
                "NATPILOT_APPROVALS__IRREVERSIBLE_NEEDS_ADMIN",
                "false".to_owned(),
            ),
        ]
    }

    /// `server.database` for the processes: the file's path, or the PostgreSQL URL.
    fn database_setting(&self) -> String {
        match &self.db {
            Database::Sqlite(path) => path.to_str().unwrap().to_owned(),
            Database::Postgres(url) => url.expose().to_owned(),
        }
    }

    fn command(&self, args: &[&str]) -> std::process::Command {
        let env = self.env();
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        process::command(self.home.path(), &env, args)
    }

    /// `natpilot user add NAME --role operator --password-stdin` on the test's database.
    pub fn add_operator(&self, name: &str) {
        let logs = tempfile::tempdir().unwrap();
        let cmd = self.command(&[
            "user",
            "add",
            name,
            "--role",
            "operator",
            "--password-stdin",
        ]);
        let mut add = Natpilot::spawn_with_input(cmd, logs.path(), &format!("{PASSWORD}\n"));
        let status = add.exit_within(START_BUDGET);
        assert!(
            status.is_some_and(|s| s.success()),
            "user add: {status:?}\n{}",
            add.output()
        );
    }

    /// Starts `natpilot serve` on port 0 and returns once it printed where it listens.
    pub fn serve(&self) -> Portal {
        let logs = tempfile::tempdir().unwrap();
        let cmd = self.command(&["serve", "--listen", "127.0.0.1:0"]);
        let mut process = Natpilot::spawn(cmd, logs.path());
        let url = process.wait_for_line("natpilot portal:", START_BUDGET);
        assert!(
            process.stdout().contains("Using Tencent Cloud"),
            "the portal must treat the test's simulator as the cloud:\n{}",
            process.output()
        );
        Portal {
            process,
            url,
            _logs: logs,
        }
    }

    /// A connection to the database for the test's reads (the portal processes own the
    /// writes): read-only on SQLite; on PostgreSQL the store's readers (its migrations are
    /// already applied by the first process).
    pub async fn reader(&self) -> AnyPool {
        match &self.db {
            Database::Sqlite(path) => {
                sqlx::any::install_default_drivers();
                sqlx::any::AnyPoolOptions::new()
                    .max_connections(1)
                    .connect(&format!("sqlite://{}?mode=ro", path.display()))
                    .await
                    .unwrap()
            }
            Database::Postgres(_) => store::Store::connect(&self.db)
                .await
                .unwrap()
                .readers()
                .clone(),
        }
    }

    /// Makes `action` run in the cloud at once but answer only after 20 s (under the client's
    /// 30 s timeout, so no retry): the window in which the portal is killed.
    pub fn slow(&self, action: &str) {
        self.sim.handle().set_faults(FaultConfig {
            per_action: [(action.to_owned(), 1.0)].into(),
            kinds: vec![FaultKind::Slow],
            slow_delay: Duration::from_secs(20),
            ..FaultConfig::default()
        });
    }

    pub fn no_faults(&self) {
        self.sim.handle().set_faults(FaultConfig::default());
    }

    pub fn received(&self, action: &str) -> usize {
        self.sim
            .handle()
            .received_mutations()
            .iter()
            .filter(|r| r.action == action)
            .count()
    }
}

/// A running `natpilot serve`; killed when dropped, however the test ends.
pub struct Portal {
    pub process: Natpilot,
    pub url: String,
    _logs: tempfile::TempDir,
}

pub async fn ledger(db: &AnyPool, run: RunId) -> Vec<ApiCall> {
    store::ledger::list(db, run, 0, 100_000).await.unwrap()
}

pub async fn status(db: &AnyPool, run: RunId) -> (RunStatus, Step) {
    let r = store::runs::get(db, run).await.unwrap().unwrap();
    (r.status, r.current_step)
}

/// Waits until the run stands at `want`; panics at once if it failed instead.
pub async fn until_status(db: &AnyPool, run: RunId, want: (RunStatus, Step)) {
    until(&format!("run {run} to reach {want:?}"), || async {
        let r = store::runs::get(db, run).await.unwrap().unwrap();
        assert_ne!(r.status, RunStatus::Failed, "{:?}", r.last_error);
        (r.status, r.current_step) == want
    })
    .await;
}

/// Waits until `action` reached the cloud (one more than `before`) and its ledger row is
/// `sent`: the moment the portal is killed.
pub async fn until_in_flight(world: &World, db: &AnyPool, run: RunId, action: &str, before: usize) {
    until(&format!("{action} to be in flight"), || async {
        world.received(action) > before
            && ledger(db, run)
                .await
                .iter()
                .any(|c| c.action == action && c.state == CallState::Sent)
    })
    .await;
}
