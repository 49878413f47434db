//! `natpilot snapshot` end to end: the ordinary client describes a VPC of an in-process
//! simulator, and the scenario it writes loads back into a simulator that looks the same.

use natpilot::sim::{Scenario, ScenarioSource, SimConfig, spawn};
use natpilot::snapshot;
use natpilot::tencent::Client;

const VPC: &str = "vpc-tut0rial";

async fn snapshot_of(source: ScenarioSource) -> (Scenario, Scenario) {
    let sim = spawn(SimConfig {
        scenario: source,
        ..SimConfig::for_tests()
    })
    .await
    .expect("simulator starts");
    let client = Client::for_endpoint(&sim.endpoint(), sim.secret_id(), sim.secret_key())
        .expect("client for the simulator");
    let taken = snapshot::take(&client, &sim.region(), VPC)
        .await
        .expect("snapshot of the tutorial VPC");
    assert!(taken.warnings.is_empty(), "{:?}", taken.warnings);
    let world = sim.with_world(|w| w.to_scenario());
    sim.shutdown().await;
    (taken.scenario, world)
}

#[tokio::test]
async fn a_snapshot_of_the_tutorial_vpc_holds_its_whole_network() {
    let (snap, world) = snapshot_of(ScenarioSource::Tutorial).await;
    assert_eq!(snap.region, world.region);
    assert_eq!(snap.vpcs, world.vpcs);
    assert_eq!(snap.subnets, world.subnets);
    assert_eq!(snap.route_tables, world.route_tables);
    // CVM prints CreatedTime in ISO 8601 (reference §4.24); the snapshot keeps what the API
    // said, the tutorial writes it VPC-style. Both load; compare everything else.
    let timeless = |s: &Scenario| {
        let mut instances = s.instances.clone();
        instances.iter_mut().for_each(|i| i.created_time.clear());
        instances
    };
    assert_eq!(timeless(&snap), timeless(&world));
    assert_eq!(snap.instances[0].created_time, "2024-01-01T00:00:00Z");
    assert_eq!(snap.addresses, world.addresses);
    assert_eq!(snap.nat_gateways, world.nat_gateways);
    assert_eq!(snap.quotas, world.quotas);
    // Only the records that point at the VPC's public IPs (and CNAMEs to them) are kept.
    let kept: Vec<(&str, &str)> = snap.domains[0]
        .records
        .iter()
        .map(|r| (r.name.as_str(), r.record_type.as_str()))
        .collect();
    assert!(
        kept.contains(&("@", "A")) && kept.contains(&("www", "CNAME")),
        "{kept:?}"
    );
}

#[tokio::test]
async fn a_snapshot_loaded_into_a_new_simulator_snapshots_the_same_again() {
    let (first, _) = snapshot_of(ScenarioSource::Tutorial).await;
    let path = std::env::temp_dir().join(format!("natpilot-snapshot-{}.json", std::process::id()));
    first.to_file(&path).expect("scenario file written");
    let (second, _) = snapshot_of(ScenarioSource::File(path.clone())).await;
    std::fs::remove_file(&path).ok();
    assert_eq!(first, second);
}

#[tokio::test]
async fn a_snapshot_of_a_vpc_that_does_not_exist_says_so() {
    let sim = spawn(SimConfig::for_tests())
        .await
        .expect("simulator starts");
    let client = Client::for_endpoint(&sim.endpoint(), sim.secret_id(), sim.secret_key()).unwrap();
    let err = snapshot::take(&client, &sim.region(), "vpc-n0there0")
        .await
        .expect_err("no such VPC");
    let text = format!("{err:#}");
    assert!(text.contains("vpc-n0there0"), "{text}");
    sim.shutdown().await;
}
