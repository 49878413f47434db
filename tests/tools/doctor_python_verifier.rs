//! `natpilot doctor` against an independent TC3 verifier written in Python (standard library
//! only; `tests/fixtures/tc3_verifier.py`): every call must pass, so the client's signature,
//! Host header and headers are what a correct third-party implementation expects.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use natpilot::config::{Config, Overrides};
use natpilot::doctor;
use natpilot::tencent::CredentialChain;

/// Kills the verifier when the test ends, however it ends.
struct Verifier(Child);

impl Drop for Verifier {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts the verifier and waits for the port it prints once it is listening.
fn start_verifier() -> (Verifier, u16) {
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/tc3_verifier.py"
    );
    let mut child = Command::new("python3")
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3 is needed for this test");
    let stdout = child.stdout.take().unwrap();
    let verifier = Verifier(child);
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).unwrap();
    let port = line.trim().parse().expect("verifier prints its port");
    (verifier, port)
}

fn run(secret_key: &str, port: u16) -> doctor::Report {
    let mut overrides = Overrides::default();
    overrides
        .set("tencent.endpoint", Some(format!("http://127.0.0.1:{port}")))
        .set("tencent.region", Some("ap-guangzhou"));
    let config = Config::load_from(None, [], &overrides).unwrap();
    let chain = CredentialChain {
        explicit_secret_id: Some("AKIDLOCALTEST0000000000000000000000".into()),
        explicit_secret_key: Some(secret_key.to_owned().into()),
        ..CredentialChain::default()
    };
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(doctor::run_with_chain(&config, chain))
}

#[test]
fn doctor_passes_every_call_against_an_independent_python_tc3_verifier() {
    let (_verifier, port) = start_verifier();
    let report = run("LocalTestSecretKey00000000000000", port);
    assert!(report.ok(), "{report}");
}

#[test]
fn the_python_verifier_rejects_a_wrong_key_so_the_passing_test_means_something() {
    let (_verifier, port) = start_verifier();
    let report = run("WrongSecretKey", port);
    let doctor::Report::Ran { checks, .. } = &report else {
        panic!("{report}");
    };
    for check in checks {
        let code = check.result.as_ref().err().and_then(|e| e.code());
        assert_eq!(code, Some("AuthFailure.SignatureFailure"), "{report}");
    }
}
