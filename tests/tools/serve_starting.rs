//! `natpilot serve` is not ready while it opens and migrates its database, and says so on its
//! own address (issue 15, "readiness while migrating"): `/healthz` and every page answer 503
//! "natpilot is starting" until the store is ready, then the portal answers on the same
//! address. PostgreSQL only: the test holds the migrations table locked, so the migration
//! waits for it exactly as a replica waits for another replica's migration; a SQLite file
//! would make the portal give up after its busy timeout instead (then it does not start).

use reqwest::StatusCode;

use crate::process::{self, Natpilot, START_BUDGET};

#[tokio::test]
async fn serve_answers_503_starting_while_its_migration_waits_and_ok_once_ready() {
    if !natpilot::store::test_store::postgres() {
        eprintln!("skipped: needs NATPILOT_TEST_POSTGRES (the PostgreSQL pass of .ci/run)");
        return;
    }
    let home = tempfile::tempdir().unwrap();
    let database = natpilot::store::test_store::database(home.path())
        .await
        .unwrap();
    let natpilot::store::Database::Postgres(url) = &database else {
        unreachable!("the PostgreSQL pass");
    };
    // Migrated once, then its migrations table is held by a transaction of the test's own.
    let store = natpilot::store::Store::connect(&database).await.unwrap();
    let mut holding = store.writer().begin().await.unwrap();
    natpilot::store::sql::query("LOCK TABLE _sqlx_migrations IN ACCESS EXCLUSIVE MODE")
        .execute(&mut *holding)
        .await
        .unwrap();

    let logs = tempfile::tempdir().unwrap();
    let serve = process::command(
        home.path(),
        &[("NATPILOT_SERVER__DATABASE", url.expose())],
        &["serve", "--listen", "127.0.0.1:0"],
    );
    let mut portal = Natpilot::spawn(serve, logs.path());
    let starting = portal.wait_for_line("natpilot starting on ", START_BUDGET);
    let base = starting.split(": opening").next().unwrap().to_owned();
    assert!(
        starting.contains("the database postgres://natpilot@127.0.0.1:"),
        "{starting}"
    );
    for path in ["healthz", "login"] {
        let resp = reqwest::get(format!("{base}{path}")).await.unwrap();
        assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE, "{path}");
        assert_eq!(
            resp.headers()
                .get("retry-after")
                .map(|v| v.to_str().unwrap()),
            Some("2")
        );
        let body = resp.text().await.unwrap();
        assert!(
            body.starts_with("natpilot is starting: opening and migrating the database"),
            "{path}: {body}"
        );
    }
    assert!(
        !portal.stdout().contains("natpilot portal:"),
        "the portal cannot be ready while its migration waits:\n{}",
        portal.output()
    );

    holding.rollback().await.unwrap();
    let ready = portal.wait_for_line("natpilot portal:", START_BUDGET);
    assert_eq!(
        ready, base,
        "the portal answers on the address it started on"
    );
    let health = reqwest::get(format!("{base}healthz")).await.unwrap();
    assert_eq!(health.status(), StatusCode::OK);
    assert_eq!(health.text().await.unwrap(), "ok");
}
