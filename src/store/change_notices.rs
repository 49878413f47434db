//! Change notices between replicas (issue 15). On PostgreSQL, triggers send a NOTIFY on
//! [`CHANNEL`] naming each table the portal caches or follows live whenever a statement
//! changes it (migration 0370), whichever process wrote it: another replica, or
//! `natpilot user disable` from a shell. Every serving process listens: a notice counts as a
//! write of this process (`write_generation`), so its caches (sessions, history, approval
//! counts) read again, and a notice about runs wakes the live run pages at once, so a browser
//! on replica A follows a job that replica B drives as closely as B's own pages do.
//!
//! Fail closed: while the listening connection is down a notice may be missed, so every
//! (re)connection counts as a change of everything; the caches' one-second lifetime bounds
//! what a replica can miss meanwhile. SQLite has one process per file and no listener.

use std::sync::Arc;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use sqlx::postgres::PgListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::Store;

/// The NOTIFY channel of migration 0370.
pub const CHANNEL: &str = "natpilot_changes";

/// Tables whose change may move a run page (status, steps, events, who drives it).
const RUN_TABLES: [&str; 4] = ["runs", "run_steps", "run_events", "run_leases"];

/// How long a broken listening connection waits before connecting again.
const RECONNECT_AFTER: Duration = Duration::from_secs(1);

/// What this process has heard of other processes' changes. Cheap to clone.
#[derive(Clone, Debug)]
pub struct ChangeNotices {
    /// Counts notices about runs (and every reconnection, which may have missed some).
    runs: Arc<watch::Sender<u64>>,
}

impl Default for ChangeNotices {
    fn default() -> ChangeNotices {
        ChangeNotices {
            runs: Arc::new(watch::channel(0).0),
        }
    }
}

impl ChangeNotices {
    /// Changes as they are heard. Never ends while its store lives.
    pub fn runs(&self) -> watch::Receiver<u64> {
        self.runs.subscribe()
    }
}

/// Completes when `rx` sees a new value; never when its sender is gone (a store that is
/// being dropped has nothing more to announce, and a closed channel must not spin a loop).
pub async fn changed(rx: &mut watch::Receiver<u64>) {
    if rx.changed().await.is_err() {
        std::future::pending::<()>().await;
    }
}

impl Store {
    /// Changes of other processes heard by [`Store::listen_for_changes`].
    pub fn change_notices(&self) -> &ChangeNotices {
        &self.notices
    }

    /// Counts a change made elsewhere to `table` (`None`: any table, e.g. after a reconnection).
    fn heard(&self, table: Option<&str>) {
        self.write_generation
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        if table.is_none_or(|t| RUN_TABLES.contains(&t)) {
            self.notices.runs.send_modify(|n| *n = n.wrapping_add(1));
        }
    }

    /// Listens for other processes' changes until `stop` turns true: a task on PostgreSQL,
    /// nothing on SQLite.
    pub fn listen_for_changes(&self, stop: watch::Receiver<bool>) -> Option<JoinHandle<()>> {
        let url = self.postgres_url.clone()?;
        Some(tokio::spawn(listen(self.clone(), url, stop)))
    }
}

async fn listen(store: Store, url: Arc<SecretString>, mut stop: watch::Receiver<bool>) {
    loop {
        match PgListener::connect(url.expose_secret()).await {
            Ok(mut listener) => match listener.listen(CHANNEL).await {
                Ok(()) => {
                    // Whatever happened before this connection listened is unknown.
                    store.heard(None);
                    loop {
                        tokio::select! {
                            got = listener.try_recv() => match got {
                                Ok(Some(notice)) => store.heard(Some(notice.payload())),
                                // The connection dropped; the next call reconnects. Notices
                                // sent meanwhile are lost: count everything as changed.
                                Ok(None) => store.heard(None),
                                Err(e) => {
                                    tracing::warn!(error = %e, "lost the change notices of other replicas; listening again");
                                    break;
                                }
                            },
                            _ = stop.wait_for(|s| *s) => return,
                        }
                    }
                }
                Err(e) => tracing::warn!(error = %e, "cannot listen for other replicas' changes"),
            },
            Err(e) => {
                tracing::warn!(error = %e, "cannot connect to listen for other replicas' changes")
            }
        }
        store.heard(None);
        tokio::select! {
            () = tokio::time::sleep(RECONNECT_AFTER) => {}
            _ = stop.wait_for(|s| *s) => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{sessions, test_store};

    /// Two processes on one PostgreSQL database: a change committed by one reaches the
    /// other's caches (its write generation moves) and wakes its run pages when it is about a
    /// run. On SQLite (one process per file) there is nothing to listen to.
    #[tokio::test]
    async fn a_change_by_another_process_reaches_this_ones_caches() {
        let dir = tempfile::tempdir().unwrap();
        let database = test_store::database(dir.path()).await.unwrap();
        let here = Store::connect(&database).await.unwrap();
        let (stop_tx, stop) = watch::channel(false);
        let mut runs = here.change_notices().runs();
        let listening = here.listen_for_changes(stop);
        if !test_store::postgres() {
            assert!(listening.is_none(), "SQLite has no listener");
            return;
        }
        let elsewhere = Store::connect(&database).await.unwrap();
        // The first connection counts as a change of everything: wait for it, then for ours.
        tokio::time::timeout(Duration::from_secs(30), changed(&mut runs))
            .await
            .expect("the listener connects");
        let before = here.write_generation();
        let name = crate::store::users::UserName::parse("olga").unwrap();
        let role = crate::store::users::Role::Operator;
        let user = crate::store::users::insert(elsewhere.writer(), &name, role, "x")
            .await
            .unwrap();
        let client = sessions::ClientInfo {
            ip: "127.0.0.1".into(),
            user_agent: "test".into(),
        };
        sessions::insert(elsewhere.writer(), "hash-1", Some(user), &client)
            .await
            .unwrap();
        let moved = async {
            while here.write_generation() == before {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        };
        tokio::time::timeout(Duration::from_secs(30), moved)
            .await
            .expect("a session created elsewhere moves this process's write generation");
        assert!(
            !runs.has_changed().unwrap(),
            "a session is no run: run pages stay asleep"
        );
        let new = crate::store::runs::NewRun {
            account: "default",
            region: "ap-guangzhou",
            vpc_id: "vpc-elsewhere",
            started_by: "olga",
        };
        let run = crate::store::runs::insert(&elsewhere, &new).await;
        assert!(run.is_ok(), "{run:?}");
        tokio::time::timeout(Duration::from_secs(30), changed(&mut runs))
            .await
            .expect("a run created elsewhere wakes this process's run pages");
        stop_tx.send(true).unwrap();
        listening.unwrap().await.unwrap();
    }
}
