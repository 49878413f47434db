//! Scenario files: built-ins, the documented example, JSON and TOML round trips.

use natpilot::sim::{Scenario, ScenarioSource, SimConfig};
use natpilot::tencent::models::vpc::*;

use crate::harness::*;

#[tokio::test]
async fn a_scenario_written_to_json_or_toml_loads_back_unchanged_and_serves() {
    let dir = std::env::temp_dir().join(format!("natpilot-sim-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let original = ScenarioSource::Conflict.load().unwrap();
    for name in ["twin.json", "twin.toml"] {
        let path = dir.join(name);
        original.to_file(&path).unwrap();
        assert_eq!(Scenario::from_file(&path).unwrap(), original, "{name}");
    }
    let env =
        start(SimConfig::for_tests().with_scenario(ScenarioSource::File(dir.join("twin.toml"))))
            .await;
    let tables = env
        .client
        .call::<DescribeRouteTables>(REGION, &DescribeRouteTablesRequest::default())
        .await
        .unwrap();
    assert_eq!(tables.total_count, 2);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn the_documented_example_scenario_file_is_valid() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/scenario.toml");
    let scenario = Scenario::from_file(&path).unwrap();
    assert_eq!(scenario.vpcs.len(), 1);
}

#[test]
fn a_scenario_with_a_dangling_reference_is_refused_with_the_culprit_named() {
    let mut scenario = ScenarioSource::Tutorial.load().unwrap();
    scenario.instances[0].subnet_id = "subnet-gone0000".into();
    let error = scenario.validate().unwrap_err();
    assert!(
        error.contains("ins-fr0ntend") && error.contains("subnet-gone0000"),
        "{error}"
    );
}

#[test]
fn the_tutorial_frontend_eip_is_what_the_apex_record_points_at() {
    let scenario = ScenarioSource::Tutorial.load().unwrap();
    let eip = scenario
        .addresses
        .iter()
        .find(|a| a.instance_id.as_deref() == Some("ins-fr0ntend"))
        .unwrap();
    let apex = &scenario.domains[0]
        .records
        .iter()
        .find(|r| r.name == "@" && r.record_type == "A")
        .unwrap();
    assert_eq!(apex.value, eip.ip);
}
