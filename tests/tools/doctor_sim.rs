//! `natpilot doctor` against the built-in simulator, which verifies TC3 signatures the way
//! Tencent Cloud does: proves the client's wire format end to end, in-process.

use natpilot::config::{Config, Overrides};
use natpilot::doctor::{self, Report};
use natpilot::sim::{self, SimConfig};
use natpilot::tencent::CredentialChain;

fn config(endpoint: &str) -> Config {
    let mut overrides = Overrides::default();
    overrides
        .set("tencent.endpoint", Some(endpoint))
        .set("tencent.region", Some("ap-guangzhou"));
    Config::load_from(None, [], &overrides).unwrap()
}

fn chain(secret_id: &str, secret_key: &str) -> CredentialChain {
    CredentialChain {
        explicit_secret_id: Some(secret_id.to_owned()),
        explicit_secret_key: Some(secret_key.to_owned().into()),
        ..CredentialChain::default()
    }
}

/// Every doctor call is signed, answered and parsed: the simulator serves all five actions,
/// so the whole report must pass, as it must against Tencent Cloud with valid credentials.
#[tokio::test]
async fn doctor_passes_every_check_against_the_simulator() {
    let running = sim::spawn(SimConfig::for_tests()).await.unwrap();
    let report = doctor::run_with_chain(
        &config(&running.endpoint()),
        chain(sim::DEFAULT_SECRET_ID, sim::DEFAULT_SECRET_KEY),
    )
    .await;
    let Report::Ran { checks, .. } = &report else {
        panic!("{report}");
    };
    assert_eq!(checks.len(), 5);
    for check in checks {
        assert!(check.result.is_ok(), "{}: {report}", check.action);
    }
    assert!(report.ok(), "{report}");
}

#[tokio::test]
async fn doctor_reports_a_wrong_secret_key_as_a_signature_failure_with_a_hint() {
    let running = sim::spawn(SimConfig::for_tests()).await.unwrap();
    let report = doctor::run_with_chain(
        &config(&running.endpoint()),
        chain(sim::DEFAULT_SECRET_ID, "not-the-right-key"),
    )
    .await;
    let text = report.to_string();
    assert!(!report.ok());
    assert!(matches!(report, Report::Ran { .. }), "{text}");
    assert!(text.contains("AuthFailure.SignatureFailure"), "{text}");
    assert!(text.contains("SecretKey does not belong"), "{text}");
    assert!(!text.contains("not-the-right-key"), "{text}");
}
