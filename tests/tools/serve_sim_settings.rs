//! `[sim]` shapes the embedded simulated cloud of `natpilot serve` (issue 13 item 7): a
//! scenario by name or file, its size, its asynchronous delay. A scenario that does not load
//! stops start-up with the reason instead of falling back to the tutorial.

use crate::process::{self, Natpilot, SERVE, START_BUDGET};

#[test]
fn serve_runs_the_embedded_simulator_on_the_configured_scenario() {
    let home = tempfile::tempdir().unwrap();
    let logs = tempfile::tempdir().unwrap();
    let env = [
        ("NATPILOT_SIM__SCENARIO", "large"),
        ("NATPILOT_SIM__INSTANCES", "300"),
        ("NATPILOT_SIM__ASYNC_DELAY", "100ms"),
    ];
    let mut serve = Natpilot::spawn(process::command(home.path(), &env, &SERVE), logs.path());
    serve.wait_for_line("natpilot portal:", START_BUDGET);
    assert!(
        serve
            .stdout()
            .contains("SIMULATED cloud at http://127.0.0.1:"),
        "{}",
        serve.output()
    );
    assert!(
        serve.stdout().contains("(large scenario, 300 instances"),
        "{}",
        serve.output()
    );
}

#[test]
fn serve_refuses_a_scenario_file_that_does_not_load() {
    let home = tempfile::tempdir().unwrap();
    let logs = tempfile::tempdir().unwrap();
    std::fs::write(home.path().join("shape.json"), "{\"vpcs\": [").unwrap();
    let env = [("NATPILOT_SIM__SCENARIO", "shape.json")];
    let (status, out, err) =
        process::run_to_end(process::command(home.path(), &env, &SERVE), logs.path());
    assert!(!status.success(), "serve started:\n{out}\n{err}");
    assert!(!out.contains("SIMULATED cloud at"), "{out}");
    assert!(
        err.contains("[sim] scenario = \"shape.json\" does not load")
            && err.contains("not a valid JSON scenario"),
        "{err}"
    );
}

#[test]
fn serve_refuses_a_size_out_of_range() {
    let home = tempfile::tempdir().unwrap();
    let logs = tempfile::tempdir().unwrap();
    let env = [
        ("NATPILOT_SIM__SCENARIO", "large"),
        ("NATPILOT_SIM__INSTANCES", "70000"),
    ];
    let (status, out, err) =
        process::run_to_end(process::command(home.path(), &env, &SERVE), logs.path());
    assert!(!status.success(), "serve started:\n{out}\n{err}");
    assert!(err.contains("[sim] instances = 70000"), "{err}");
}
