//! The twin registry keeps memory bounded: an ended rehearsal's twin makes room for a new
//! one, an unfinished one never does.

use super::{TwinLabel, Twins, twin::Twin};
use crate::sim::{SimConfig, spawn};
use crate::store::{self, RunStatus, Step, Store, runs::NewRun};

async fn twin_with_run(store: &Store, twins: &Twins, vpc: &str, ended: bool) -> TwinLabel {
    let sim = spawn(SimConfig::for_tests()).await.unwrap();
    let twin = Twin::on(sim, vpc);
    let label = TwinLabel::new("prod");
    let account = label.to_string();
    let new = NewRun {
        account: &account,
        region: &twin.region,
        vpc_id: vpc,
        started_by: "olga",
    };
    let run = store::runs::insert(store, &new).await.unwrap().id;
    if ended {
        let from = [RunStatus::Active];
        let w = store.writer();
        store::runs::transition(w, run, &from, RunStatus::Abandoned, Step::Assess, None)
            .await
            .unwrap();
    }
    twins.insert(&label, twin);
    label
}

#[tokio::test]
async fn an_ended_rehearsals_twin_makes_room_and_an_unfinished_one_never_does() {
    let dir = tempfile::tempdir().unwrap();
    let store = crate::store::test_store::open(dir.path()).await.unwrap();
    let twins = Twins::with_max(2);
    let ended = twin_with_run(&store, &twins, "vpc-tut0rial", true).await;
    let going = twin_with_run(&store, &twins, "vpc-tut0rial", false).await;
    twins.make_room(&store).await.unwrap();
    assert!(
        twins.get(&ended.to_string()).is_none(),
        "the ended twin retired"
    );
    assert!(twins.get(&going.to_string()).is_some());
    assert_eq!(twins.len(), 1);
    let also = twin_with_run(&store, &twins, "vpc-tut0rial", false).await;
    let refused = twins.make_room(&store).await.unwrap_err();
    assert!(refused.contains("2 rehearsals are unfinished"), "{refused}");
    assert!(twins.get(&also.to_string()).is_some());
    assert_eq!(twins.len(), 2);
    let gone = twins.client(&ended.to_string()).unwrap_err();
    assert!(gone.contains("no longer in memory"), "{gone}");
}
