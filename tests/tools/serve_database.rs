//! `natpilot serve` refuses a database it cannot write at start-up, naming the file and the
//! cause, instead of starting and answering 500 on every page at the first write (issue 10,
//! defect 10).

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

use natpilot::store::Store;

use crate::process;

/// Runs as root ignore file modes, so as root the portal is started as `nobody` (setpriv,
/// util-linux): the test then sees the same read-only file an ordinary user would. `nobody`
/// may not reach the build directory (e.g. under /root), so it runs a copy of the binary
/// placed in `dir`.
fn as_unprivileged(cmd: Command, dir: &Path) -> Command {
    let uid = Command::new("id").arg("-u").output().unwrap();
    if String::from_utf8_lossy(&uid.stdout).trim() != "0" {
        return cmd;
    }
    let binary = dir.join("natpilot");
    std::fs::copy(cmd.get_program(), &binary).unwrap();
    std::fs::set_permissions(&binary, std::fs::Permissions::from_mode(0o755)).unwrap();
    let mut wrapped = Command::new("setpriv");
    wrapped
        .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
        .arg(&binary)
        .args(cmd.get_args())
        .env_clear()
        .envs(cmd.get_envs().filter_map(|(k, v)| Some((k, v?))));
    if let Some(dir) = cmd.get_current_dir() {
        wrapped.current_dir(dir);
    }
    wrapped
}

#[tokio::test]
async fn serve_refuses_a_read_only_database_at_start_up_naming_the_file_and_the_cause() {
    let home = tempfile::tempdir().unwrap();
    std::fs::set_permissions(home.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
    let db = home.path().join("natpilot.db");
    // A database with every migration applied whose file the portal may read but not write
    // (its -wal and -shm files are still there and writable, as after a portal was stopped
    // and the file was made read-only).
    let store = Store::open(&db).await.unwrap();
    natpilot::store::sessions::delete_expired(store.writer(), 1, 1)
        .await
        .unwrap();
    std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o444)).unwrap();
    for suffix in ["-wal", "-shm"] {
        let file = home.path().join(format!("natpilot.db{suffix}"));
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o666)).unwrap();
    }

    let db_arg = db.display().to_string();
    let serve = process::command(
        home.path(),
        &[],
        &["serve", "--listen", "127.0.0.1:0", "--database", &db_arg],
    );
    let logs = tempfile::tempdir().unwrap();
    let bin = tempfile::tempdir().unwrap();
    std::fs::set_permissions(bin.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let serve = as_unprivileged(serve, bin.path());
    let (status, out, err) = process::run_to_end(serve, logs.path());
    assert!(!status.success(), "serve started:\n{out}\n{err}");
    assert!(!out.contains("natpilot portal:"), "serve listened:\n{out}");
    assert!(
        err.contains(&db_arg),
        "the message does not name the file:\n{err}"
    );
    assert!(
        err.contains("cannot be written") && err.contains("readonly"),
        "the message does not give the cause:\n{err}"
    );
}
