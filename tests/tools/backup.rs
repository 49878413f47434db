//! `natpilot backup --to FILE` (issue 15 "Operations"): a consistent copy of the SQLite
//! database while `serve` runs on it, private (0600), integrity-checked, never overwriting.

use std::os::unix::fs::PermissionsExt;

use crate::process::{self, Natpilot, SERVE, START_BUDGET};

#[test]
fn a_backup_taken_while_serve_runs_holds_the_users_and_never_overwrites() {
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    let logs = tempfile::tempdir().unwrap();
    let mut serve = Natpilot::spawn(process::command(h, &[], &SERVE), logs.path());
    serve.wait_for_line("natpilot portal:", START_BUDGET);

    // A user written while the portal runs (another process, the same database).
    let add_logs = tempfile::tempdir().unwrap();
    let db = [("NATPILOT_SERVER__DATABASE", "natpilot.db")];
    let mut add = Natpilot::spawn_with_input(
        process::command(
            h,
            &db,
            &["user", "add", "olga", "--role", "admin", "--password-stdin"],
        ),
        add_logs.path(),
        "a long passphrase for olga 7431\n",
    );
    assert!(
        add.exit_within(START_BUDGET).unwrap().success(),
        "{}",
        add.output()
    );

    let backup_logs = tempfile::tempdir().unwrap();
    let backup = ["backup", "--database", "natpilot.db", "--to", "copy.db"];
    let (status, out, err) =
        process::run_to_end(process::command(h, &[], &backup), backup_logs.path());
    assert!(status.success(), "{out}\n{err}");
    assert!(out.contains("integrity check ok"), "{out}");
    let mode = std::fs::metadata(h.join("copy.db"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600, "the copy is private");

    // The copy is a database natpilot opens, with the user in it.
    let list_logs = tempfile::tempdir().unwrap();
    let copy = [("NATPILOT_SERVER__DATABASE", "copy.db")];
    let (status, listed, err) = process::run_to_end(
        process::command(h, &copy, &["user", "list"]),
        list_logs.path(),
    );
    assert!(status.success(), "{err}");
    assert!(
        listed.contains("olga") && listed.contains("admin"),
        "{listed}"
    );

    // A second backup to the same name is refused and leaves the first one as it was.
    let before = std::fs::read(h.join("copy.db")).unwrap();
    let again_logs = tempfile::tempdir().unwrap();
    let (status, _, err) =
        process::run_to_end(process::command(h, &[], &backup), again_logs.path());
    assert!(!status.success());
    assert!(err.contains("never overwrites a backup"), "{err}");
    assert_eq!(std::fs::read(h.join("copy.db")).unwrap(), before);
    serve.terminate();
}

/// On a PostgreSQL database `natpilot backup` says it copies SQLite files only and names
/// pg_dump, without connecting and without repeating the URL's password.
#[test]
fn backup_of_a_postgres_database_names_pg_dump_and_never_the_password() {
    let home = tempfile::tempdir().unwrap();
    let logs = tempfile::tempdir().unwrap();
    let db = [(
        "NATPILOT_SERVER__DATABASE",
        "postgres://natpilot:hunter2@127.0.0.1:1/natpilot",
    )];
    let backup = ["backup", "--to", "copy.db"];
    let (status, out, err) =
        process::run_to_end(process::command(home.path(), &db, &backup), logs.path());
    assert!(!status.success(), "{out}\n{err}");
    assert!(
        err.contains("pg_dump") && err.contains("postgres://natpilot@127.0.0.1:1/natpilot"),
        "{err}"
    );
    assert!(!format!("{out}{err}").contains("hunter2"), "{out}\n{err}");
    assert!(!home.path().join("copy.db").exists());
}
