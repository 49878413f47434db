//! The `natpilot` binary as a child process with a clean environment: a temporary HOME (and
//! working directory) so no credential file, `natpilot.toml` or `NATPILOT_*` variable of the
//! machine running the tests leaks in. The child is killed when the guard drops, however the
//! test ends.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// How long start-up (or a refusal to start) may take on a loaded 2-core machine.
pub const START_BUDGET: Duration = Duration::from_secs(30);

/// `natpilot serve` on a free port with `natpilot.db` in the home folder.
pub const SERVE: [&str; 5] = [
    "serve",
    "--listen",
    "127.0.0.1:0",
    "--database",
    "natpilot.db",
];

pub struct Natpilot {
    child: Child,
    out: PathBuf,
    err: PathBuf,
}

/// `natpilot <args>` with HOME and the working directory at `home` and only `env` set.
pub fn command(home: &Path, env: &[(&str, &str)], args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_natpilot"));
    cmd.env_clear()
        .env("HOME", home)
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("RUST_LOG", "info")
        .current_dir(home)
        .args(args)
        .envs(env.iter().copied());
    cmd
}

impl Natpilot {
    /// Starts `cmd` with stdout and stderr going to files in `logs` (a pipe nobody reads
    /// could fill and block the child).
    pub fn spawn(cmd: Command, logs: &Path) -> Natpilot {
        Natpilot::spawn_with_stdin(cmd, logs, Stdio::null())
    }

    /// Like [`Natpilot::spawn`], with `input` as the whole of stdin (e.g. `--password-stdin`).
    pub fn spawn_with_input(cmd: Command, logs: &Path, input: &str) -> Natpilot {
        let path = logs.join("stdin.txt");
        std::fs::write(&path, input).unwrap();
        Natpilot::spawn_with_stdin(cmd, logs, std::fs::File::open(path).unwrap().into())
    }

    fn spawn_with_stdin(mut cmd: Command, logs: &Path, stdin: Stdio) -> Natpilot {
        let out = logs.join("stdout.txt");
        let err = logs.join("stderr.txt");
        let child = cmd
            .stdin(stdin)
            .stdout(std::fs::File::create(&out).unwrap())
            .stderr(std::fs::File::create(&err).unwrap())
            .spawn()
            .expect("the natpilot binary starts");
        Natpilot { child, out, err }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn stdout(&self) -> String {
        std::fs::read_to_string(&self.out).unwrap_or_default()
    }

    pub fn stderr(&self) -> String {
        std::fs::read_to_string(&self.err).unwrap_or_default()
    }

    /// Waits for the process to end within `budget`; `None` if it is still running.
    pub fn exit_within(&mut self, budget: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + budget;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return Some(status);
            }
            if Instant::now() > deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Waits until stdout has a line starting with `prefix` and returns the rest of it; panics
    /// if the process ends first or the budget passes.
    pub fn wait_for_line(&mut self, prefix: &str, budget: Duration) -> String {
        let deadline = Instant::now() + budget;
        loop {
            if let Some(rest) = self.stdout().lines().find_map(|l| l.strip_prefix(prefix)) {
                return rest.trim().to_owned();
            }
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!(
                    "natpilot ended ({status}) before printing {prefix:?}:\n{}",
                    self.output()
                );
            }
            assert!(
                Instant::now() < deadline,
                "natpilot never printed {prefix:?}:\n{}",
                self.output()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Sends SIGTERM (through `kill(1)`: the crate forbids `unsafe`, so no libc call here).
    pub fn terminate(&self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.pid().to_string()])
            .status()
            .unwrap();
        assert!(status.success(), "kill -TERM failed");
    }

    /// `kill -9`: the process ends where it stands (std's `Child::kill` sends SIGKILL on
    /// Unix) and releases nothing; returns once it is reaped.
    pub fn kill9(&mut self) {
        self.child.kill().expect("SIGKILL is delivered");
        let status = self.child.wait().unwrap();
        assert!(!status.success(), "natpilot exited on its own: {status}");
    }

    pub fn output(&self) -> String {
        format!("--- stdout\n{}--- stderr\n{}", self.stdout(), self.stderr())
    }
}

impl Drop for Natpilot {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs `cmd` to its end (within [`START_BUDGET`]) and returns its status, stdout, stderr.
pub fn run_to_end(cmd: Command, logs: &Path) -> (ExitStatus, String, String) {
    let mut p = Natpilot::spawn(cmd, logs);
    match p.exit_within(START_BUDGET) {
        Some(status) => (status, p.stdout(), p.stderr()),
        None => panic!(
            "natpilot was still running after {START_BUDGET:?} (it should have refused to start):\n{}",
            p.output()
        ),
    }
}
