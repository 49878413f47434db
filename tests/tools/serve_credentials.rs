//! `natpilot serve` falls back to the embedded simulator only when no credential source is
//! configured at all. A source that is configured but broken stops start-up with the message
//! `natpilot doctor` gives for it (issue 10, defect 9).

use std::path::Path;

use crate::process::{self, Natpilot, SERVE, START_BUDGET};

/// Runs `serve` and `doctor` with the same environment; asserts that `serve` refused to start,
/// never ran on the simulator, and printed what `doctor` prints about the credentials.
fn assert_serve_refuses_like_doctor(home: &Path, env: &[(&str, &str)], needle: &str) {
    let logs = tempfile::tempdir().unwrap();
    let (status, out, err) = process::run_to_end(process::command(home, env, &SERVE), logs.path());
    assert!(!status.success(), "serve started:\n{out}\n{err}");
    assert!(
        !out.contains("SIMULATED"),
        "serve fell back to the simulator:\n{out}"
    );
    assert!(err.contains(needle), "serve did not say {needle:?}:\n{err}");
    assert!(
        !home.join("natpilot.db").exists(),
        "serve created a database before refusing"
    );

    let logs = tempfile::tempdir().unwrap();
    let (status, doctor, _) =
        process::run_to_end(process::command(home, env, &["doctor"]), logs.path());
    assert!(!status.success(), "{doctor}");
    let problem: Vec<&str> = doctor.lines().skip(1).filter(|l| !l.is_empty()).collect();
    assert!(!problem.is_empty(), "doctor said nothing: {doctor}");
    for line in problem {
        assert!(
            err.contains(line),
            "serve's message lacks doctor's {line:?}:\n{err}"
        );
    }
}

#[test]
fn serve_refuses_to_start_with_a_secret_id_but_no_secret_key() {
    let home = tempfile::tempdir().unwrap();
    assert_serve_refuses_like_doctor(
        home.path(),
        &[(
            "TENCENTCLOUD_SECRET_ID",
            "AKIDhalfapair000000000000000000000",
        )],
        "TENCENTCLOUD_SECRET_KEY is not",
    );
}

#[test]
fn serve_refuses_to_start_with_a_tccli_profile_that_does_not_exist() {
    let home = tempfile::tempdir().unwrap();
    assert_serve_refuses_like_doctor(
        home.path(),
        &[("TCCLI_PROFILE", "prod")],
        "prod.credential does not exist",
    );
}

#[test]
fn serve_refuses_to_start_with_a_credentials_file_that_does_not_parse() {
    let home = tempfile::tempdir().unwrap();
    let dir = home.path().join(".tencentcloud");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("credentials"), "[default]\nsecret_id = AKIDini\n").unwrap();
    assert_serve_refuses_like_doctor(home.path(), &[], "[default] secret_key");
}

#[test]
fn serve_refuses_to_start_with_a_session_token_but_no_key_pair() {
    let home = tempfile::tempdir().unwrap();
    assert_serve_refuses_like_doctor(
        home.path(),
        &[("TENCENTCLOUD_TOKEN", "a-session-token")],
        "TENCENTCLOUD_TOKEN is set",
    );
}

/// The other side of the rule, so the refusals above mean something: with nothing configured
/// the portal starts on the simulated cloud and says so.
#[test]
fn serve_with_no_credential_source_at_all_runs_on_the_simulator_and_says_so() {
    let home = tempfile::tempdir().unwrap();
    let logs = tempfile::tempdir().unwrap();
    let mut serve = Natpilot::spawn(process::command(home.path(), &[], &SERVE), logs.path());
    serve.wait_for_line("natpilot portal:", START_BUDGET);
    assert!(
        serve.stdout().contains("SIMULATED cloud"),
        "{}",
        serve.output()
    );
}
