//! Store tests against a fresh SQLite file per test.

use chrono::Duration;
use serde_json::json;

use super::runs::{self, Cursor, InsertRunError, NewRun, RunFilter};
use super::*;

pub(crate) async fn temp_store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = crate::store::test_store::open(dir.path()).await.unwrap();
    (dir, store)
}

fn new_run<'a>(vpc: &'a str, user: &'a str) -> NewRun<'a> {
    NewRun {
        account: "acct",
        region: "ap-guangzhou",
        vpc_id: vpc,
        started_by: user,
    }
}

#[tokio::test]
async fn a_second_run_on_a_busy_vpc_is_refused_naming_the_holder() {
    let (_d, store) = temp_store().await;
    let first = runs::insert(&store, &new_run("vpc-1", "alice"))
        .await
        .unwrap();
    let err = runs::insert(&store, &new_run("vpc-1", "bob"))
        .await
        .unwrap_err();
    match err {
        InsertRunError::VpcBusy(h) => {
            assert_eq!(h.run, first.id);
            assert_eq!(h.started_by, "alice");
            assert_eq!(h.since, first.started_at);
        }
        other => panic!("expected VpcBusy, got {other}"),
    }
    // Another VPC is free.
    runs::insert(&store, &new_run("vpc-2", "bob"))
        .await
        .unwrap();
}

#[tokio::test]
async fn a_finished_run_frees_its_vpc() {
    let (_d, store) = temp_store().await;
    let first = runs::insert(&store, &new_run("vpc-1", "alice"))
        .await
        .unwrap();
    runs::set_status(
        store.writer(),
        first.id,
        RunStatus::Completed,
        Step::Verify,
        None,
        Some("alice"),
    )
    .await
    .unwrap();
    let done = runs::get(store.readers(), first.id).await.unwrap().unwrap();
    assert_eq!(done.status, RunStatus::Completed);
    assert!(done.finished_at.is_some());
    runs::insert(&store, &new_run("vpc-1", "bob"))
        .await
        .unwrap();
}

#[tokio::test]
async fn history_pages_walk_every_run_once_newest_first_with_filters() {
    let (_d, store) = temp_store().await;
    for i in 0..25 {
        let user = if i % 2 == 0 { "alice" } else { "bob" };
        let run = runs::insert(&store, &new_run(&format!("vpc-{i}"), user))
            .await
            .unwrap();
        if i % 5 == 0 {
            runs::set_status(
                store.writer(),
                run.id,
                RunStatus::Abandoned,
                Step::Assess,
                None,
                None,
            )
            .await
            .unwrap();
        }
    }
    let mut seen = Vec::new();
    let mut cursor: Option<Cursor> = None;
    loop {
        let page = runs::list(store.readers(), &RunFilter::default(), cursor.as_ref(), 10)
            .await
            .unwrap();
        seen.extend(page.runs.iter().map(|r| (r.started_at, r.id)));
        match page.next {
            Some(c) => cursor = Some(Cursor::decode(&c.encode()).unwrap()),
            None => break,
        }
    }
    assert_eq!(seen.len(), 25);
    let mut sorted = seen.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(seen, sorted);

    let bob = RunFilter {
        started_by: Some("bob".into()),
        ..Default::default()
    };
    assert_eq!(
        runs::list(store.readers(), &bob, None, 100)
            .await
            .unwrap()
            .runs
            .len(),
        12
    );
    let abandoned = RunFilter {
        status: Some(RunStatus::Abandoned),
        ..Default::default()
    };
    assert_eq!(
        runs::list(store.readers(), &abandoned, None, 100)
            .await
            .unwrap()
            .runs
            .len(),
        5
    );
    let future = RunFilter {
        from: Some(chrono::Utc::now() + Duration::hours(1)),
        ..Default::default()
    };
    assert!(
        runs::list(store.readers(), &future, None, 100)
            .await
            .unwrap()
            .runs
            .is_empty()
    );
}

#[tokio::test]
async fn events_and_audit_entries_cannot_be_changed_once_written() {
    let (_d, store) = temp_store().await;
    let run = runs::insert(&store, &new_run("vpc-1", "alice"))
        .await
        .unwrap();
    events::append(
        store.writer(),
        run.id,
        Some(Step::Assess),
        EventLevel::Info,
        "hello",
        &json!({}),
    )
    .await
    .unwrap();
    let upd = crate::store::sql::query("UPDATE run_events SET message = 'x'")
        .execute(store.writer())
        .await;
    assert!(upd.unwrap_err().to_string().contains("append-only"));
    audit::record(
        store.writer(),
        "alice",
        "127.0.0.1",
        "login",
        "",
        &json!({}),
    )
    .await
    .unwrap();
    let del = crate::store::sql::query("DELETE FROM audit_log")
        .execute(store.writer())
        .await;
    assert!(del.unwrap_err().to_string().contains("append-only"));
}

#[tokio::test]
async fn audit_list_filters_by_actor_and_action_newest_first() {
    let (_d, store) = temp_store().await;
    for (actor, action) in [("alice", "login"), ("bob", "login"), ("alice", "run.start")] {
        audit::record(
            store.writer(),
            actor,
            "10.0.0.1",
            action,
            "vpc-1",
            &json!({"k": 1}),
        )
        .await
        .unwrap();
    }
    let f = audit::AuditFilter {
        actor: Some("alice".into()),
        ..Default::default()
    };
    let alice = audit::list(store.readers(), &f, 50).await.unwrap();
    assert_eq!(
        alice.iter().map(|e| e.action.as_str()).collect::<Vec<_>>(),
        ["run.start", "login"]
    );
    let f = audit::AuditFilter {
        action: Some("login".into()),
        before_id: Some(alice[1].id + 1),
        ..Default::default()
    };
    let logins = audit::list(store.readers(), &f, 50).await.unwrap();
    assert_eq!(logins.len(), 1);
    assert_eq!(logins[0].details, json!({"k": 1}));
}

#[tokio::test]
async fn undo_records_keep_their_order_and_updated_action() {
    let (_d, store) = temp_store().await;
    let run = runs::insert(&store, &new_run("vpc-1", "alice"))
        .await
        .unwrap();
    let a = undo::insert_pending(store.writer(), run.id, Step::Provision, &json!({"a": 1}))
        .await
        .unwrap();
    let b = undo::insert_pending(store.writer(), run.id, Step::Route, &json!({"b": 2}))
        .await
        .unwrap();
    undo::set_state(
        store.writer(),
        a,
        UndoState::Done,
        Some(&json!({"a": "nat-1"})),
        None,
    )
    .await
    .unwrap();
    let all = undo::list(store.readers(), run.id).await.unwrap();
    assert_eq!(all.iter().map(|u| u.id).collect::<Vec<_>>(), [a, b]);
    assert_eq!(all[0].action, json!({"a": "nat-1"}));
    assert_eq!(all[0].state, UndoState::Done);
    assert_eq!(all[1].state, UndoState::Pending);
}

#[tokio::test]
async fn twenty_concurrent_writers_never_see_database_is_locked() {
    let (_d, store) = temp_store().await;
    let mut tasks = Vec::new();
    for i in 0..20 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let run = runs::insert(&store, &new_run(&format!("vpc-{i}"), "op"))
                .await
                .unwrap();
            for n in 0..20 {
                events::append(
                    store.writer(),
                    run.id,
                    None,
                    EventLevel::Info,
                    &format!("e{n}"),
                    &json!({}),
                )
                .await
                .unwrap();
                runs::get(store.readers(), run.id).await.unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let page = runs::list(store.readers(), &RunFilter::default(), None, 100)
        .await
        .unwrap();
    assert_eq!(page.runs.len(), 20);
}

#[tokio::test]
async fn every_committed_write_bumps_the_write_generation_and_reads_do_not() {
    let (_d, store) = temp_store().await;
    let before = store.write_generation();
    // `sessions` is WITHOUT ROWID, which SQLite's update hook would miss.
    sessions::insert(store.writer(), "h1", None, &Default::default())
        .await
        .unwrap();
    let after_insert = store.write_generation();
    assert!(after_insert > before, "insert: {before} -> {after_insert}");
    sessions::touch(store.writer(), "h1").await.unwrap();
    let after_touch = store.write_generation();
    assert!(
        after_touch > after_insert,
        "touch: {after_insert} -> {after_touch}"
    );
    sessions::find_live(store.readers(), "h1", 3600, 3600)
        .await
        .unwrap()
        .expect("the session is live");
    assert_eq!(
        store.write_generation(),
        after_touch,
        "a read is not a write"
    );
    sessions::delete(store.writer(), "h1").await.unwrap();
    assert!(store.write_generation() > after_touch, "delete");
}

#[tokio::test]
async fn the_history_page_reads_every_field_exactly_as_a_single_run_read_does() {
    let (_d, store) = temp_store().await;
    let failed = runs::insert(&store, &new_run("vpc-f", "alice"))
        .await
        .unwrap();
    let failure = runs::Failure {
        step: Step::Provision,
        phase: "apply".into(),
        code: "LimitExceeded.NatGatewayPerVpcLimitExceeded".into(),
        message: "quota \"3\" reached; it's full".into(),
        request_id: Some("req-1".into()),
    };
    runs::set_status(
        store.writer(),
        failed.id,
        RunStatus::Failed,
        Step::Provision,
        Some(&failure),
        None,
    )
    .await
    .unwrap();
    let done = runs::insert(&store, &new_run("vpc-d", "bob"))
        .await
        .unwrap();
    runs::set_status(
        store.writer(),
        done.id,
        RunStatus::Abandoned,
        Step::Route,
        None,
        Some("carol"),
    )
    .await
    .unwrap();
    let active = runs::insert(&store, &new_run("vpc-a", "dave"))
        .await
        .unwrap();

    let page = runs::list(store.readers(), &RunFilter::default(), None, 50)
        .await
        .unwrap();
    assert_eq!(page.runs.len(), 3);
    for id in [failed.id, done.id, active.id] {
        let listed = page.runs.iter().find(|r| r.id == id).unwrap();
        let single = runs::get(store.readers(), id).await.unwrap().unwrap();
        assert_eq!(listed, &single);
    }
    let listed_failure = page.runs.iter().find(|r| r.id == failed.id).unwrap();
    assert_eq!(listed_failure.last_error.as_ref(), Some(&failure));
}

#[tokio::test]
async fn a_cached_history_page_is_reused_until_this_process_commits_a_write() {
    let (_d, store) = temp_store().await;
    runs::insert(&store, &new_run("vpc-1", "alice"))
        .await
        .unwrap();
    let all = RunFilter::default();
    let first = runs::list_cached(&store, &all, None, 10).await.unwrap();
    let again = runs::list_cached(&store, &all, None, 10).await.unwrap();
    assert!(
        Arc::ptr_eq(&first, &again),
        "the second read is the cached page"
    );
    // Another filter is another page.
    let bob = RunFilter {
        started_by: Some("bob".into()),
        ..RunFilter::default()
    };
    assert!(
        runs::list_cached(&store, &bob, None, 10)
            .await
            .unwrap()
            .runs
            .is_empty()
    );

    let second = runs::insert(&store, &new_run("vpc-2", "bob"))
        .await
        .unwrap();
    let after = runs::list_cached(&store, &all, None, 10).await.unwrap();
    assert_eq!(after.runs.len(), 2, "a committed write is seen at once");
    assert_eq!(after.runs[0].id, second.id);
    let bobs = runs::list_cached(&store, &bob, None, 10).await.unwrap();
    assert_eq!(bobs.runs.len(), 1);
}

/// A write that holds the one writer connection for longer than the readers' budget is
/// ordinary work, not an unreachable store: the probe waits for it (up to the writer's own,
/// longer budget) and answers healthy once it commits.
#[tokio::test]
async fn the_health_probe_waits_for_a_long_write_instead_of_reporting_the_store_down() {
    let (_d, store) = temp_store().await;
    let tx = store.begin_write().await.unwrap();
    let probing = tokio::spawn({
        let store = store.clone();
        async move { store.ping().await }
    });
    // Held past the readers' budget: before the writer had its own, this probe failed here.
    tokio::time::sleep(health::PROBE_BUDGET + std::time::Duration::from_secs(1)).await;
    assert!(!probing.is_finished(), "the probe gave up on a busy writer");
    tx.commit().await.unwrap();
    assert_eq!(probing.await.unwrap(), Ok(()));
}

/// The PostgreSQL schema starts as one baseline of the SQLite migrations up to its number;
/// every later migration must come as a pair, or one database would lack a table.
#[test]
fn migrations_come_in_pairs() {
    let baseline = PG_MIGRATOR
        .iter()
        .map(|m| m.version)
        .min()
        .expect("a PostgreSQL baseline");
    let versions = |m: &sqlx::migrate::Migrator| {
        m.iter()
            .map(|m| m.version)
            .filter(|v| *v > baseline)
            .collect::<Vec<_>>()
    };
    assert_eq!(
        versions(&MIGRATOR),
        versions(&PG_MIGRATOR),
        "each SQLite migration after {baseline} needs a PostgreSQL one with the same number \
         in migrations/postgres/, and the other way round"
    );
    assert!(
        MIGRATOR.iter().any(|m| m.version == baseline),
        "the PostgreSQL baseline {baseline} must be the number of a SQLite migration"
    );
}
