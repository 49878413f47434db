//! `natpilot serve` as a service manager stops it: SIGTERM makes it stop accepting, let
//! running jobs reach a recorded point, and exit 0 promptly, leaving a consistent database.
//! (That a job stops at a recorded point and resumes is tested in the engine's own tests.)

use std::time::Duration;

use natpilot::store::Store;

use crate::process::{self, Natpilot, START_BUDGET};

/// Jobs stop at their next recorded change and open connections get a few seconds; with no
/// run in progress the whole shutdown is quick even on a loaded machine.
const EXIT_BUDGET: Duration = Duration::from_secs(20);

#[tokio::test]
async fn sigterm_stops_serve_with_exit_code_zero_and_leaves_a_consistent_database() {
    let home = tempfile::tempdir().unwrap();
    let logs = tempfile::tempdir().unwrap();
    let serve = process::command(
        home.path(),
        &[],
        &[
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--database",
            "natpilot.db",
        ],
    );
    let mut portal = Natpilot::spawn(serve, logs.path());
    let url = portal.wait_for_line("natpilot portal:", START_BUDGET);
    let login = reqwest::get(format!("{url}login")).await.unwrap();
    assert!(login.status().is_success(), "{}", login.status());

    portal.terminate();
    let status = portal.exit_within(EXIT_BUDGET);
    assert!(
        status.is_some_and(|s| s.success()),
        "serve did not exit 0 within {EXIT_BUDGET:?} of SIGTERM ({status:?}):\n{}",
        portal.output()
    );
    assert!(
        portal.stdout().contains("SIGTERM: shutting down"),
        "{}",
        portal.output()
    );
    assert!(
        reqwest::get(format!("{url}login")).await.is_err(),
        "still answering after exit"
    );

    let store = Store::open(&home.path().join("natpilot.db")).await.unwrap();
    let check: String = natpilot::store::sql::query_scalar("PRAGMA integrity_check")
        .fetch_one(store.readers())
        .await
        .unwrap();
    assert_eq!(check, "ok");
}
