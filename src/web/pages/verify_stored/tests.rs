//! The stored rows page exactly like the in-memory table they replace: same rows, order,
//! cursors, previous/next links, positions and matching counts, for every sort, direction
//! and filter, walking every page both ways.

use super::*;
use crate::store::{
    runs::{self, NewRun},
    verify_rows::Header,
};
use crate::web::pages::verify_query::SORTS;

fn lines() -> Vec<EgressLine> {
    (0..173)
        .map(|k| {
            let verdict = ["pass", "fail", "untestable", "not tested"][k % 4];
            let (kind, public_ip) = match k % 5 {
                0 => ("none", String::new()),
                1 => ("ordinary", format!("10.0.{}.{}", k / 200, 250 - k % 200)),
                _ => ("EIP", format!("10.{}.0.{}", k % 3, k)),
            };
            let action = ["", "unbind", "release", "convert", "return"][k % 5];
            EgressLine {
                instance_id: format!("ins-{:05}", (k * 37) % 173),
                name: if k % 6 == 0 {
                    format!("Web-{k}")
                } else {
                    format!("db-{k}")
                },
                public_ip,
                kind,
                before: format!("before {k}"),
                after: format!("after {k}"),
                verdict,
                reason: if verdict == "pass" {
                    String::new()
                } else {
                    "why".into()
                },
                protected: k % 9 == 0,
                actions: vec![(format!("change {k}"), k % 2 == 0)],
                action,
                kept: String::new(),
                exception: match k % 8 {
                    0 => Some(RetireException::Keep),
                    3 => Some(RetireException::Irreversible),
                    _ => None,
                },
                choosable: k % 3 == 0,
            }
        })
        .collect()
}

fn query_of(link: &str) -> VerifyQuery {
    serde_urlencoded::from_str::<VerifyQuery>(link.trim_start_matches('?'))
        .unwrap()
        .cleaned()
}

fn summary(t: &VerifyTable) -> (Vec<String>, usize, usize, Option<String>, Option<String>) {
    let rows = t
        .rows
        .iter()
        .map(|l| {
            format!(
                "{}|{}|{}|{}|{}|{}|{}|{:?}|{}|{}|{:?}|{}",
                l.instance_id,
                l.name,
                l.public_ip,
                l.kind,
                l.before,
                l.after,
                l.verdict,
                l.actions,
                l.action,
                l.protected,
                l.exception,
                l.choosable
            )
        })
        .collect();
    (rows, t.matching, t.start, t.next.clone(), t.prev.clone())
}

#[tokio::test]
async fn stored_rows_page_filter_and_sort_exactly_like_the_table_in_memory() {
    let dir = tempfile::tempdir().unwrap();
    let store = crate::store::test_store::open(dir.path()).await.unwrap();
    let new = NewRun {
        account: "acct",
        region: "ap-guangzhou",
        vpc_id: "vpc-1",
        started_by: "olga",
    };
    let run = runs::insert(&store, &new).await.unwrap().id;
    let all = lines();
    let header = Header {
        generation: 7,
        version: 0,
        basis: "b".into(),
        body: String::new(),
    };
    let records: Vec<VerifyRecord> = all.iter().map(record_of).collect();
    verify_rows::write(&store, run, 7, &header, &records)
        .await
        .unwrap();
    let filters = [
        VerifyQuery::default(),
        VerifyQuery {
            verdict: "untested".into(),
            ..VerifyQuery::default()
        },
        VerifyQuery {
            kind: "eip".into(),
            protected: "no".into(),
            ..VerifyQuery::default()
        },
        VerifyQuery {
            exception: "yes".into(),
            ..VerifyQuery::default()
        },
        VerifyQuery {
            q: "WEB".into(),
            ..VerifyQuery::default()
        },
        VerifyQuery {
            q: "10.1.".into(),
            kind: "eip".into(),
            ..VerifyQuery::default()
        },
    ];
    let mut pages = 0;
    for filter in &filters {
        for (sort, _) in SORTS {
            for dir in ["asc", "desc"] {
                let mut q = VerifyQuery {
                    sort: sort.into(),
                    dir: dir.into(),
                    ..filter.clone()
                }
                .cleaned();
                let mut links = Vec::new();
                loop {
                    let memory = VerifyTable::select(lines(), q.clone());
                    let mut conn = store.readers().acquire().await.unwrap();
                    let counts = VerifyCounts::of(&all);
                    let stored = table(&mut conn, run, 7, counts, &q).await.unwrap();
                    assert_eq!(summary(&stored), summary(&memory), "{q:?}");
                    assert_eq!(stored.counts, memory.counts);
                    pages += 1;
                    links.extend(memory.prev.clone());
                    match memory.next {
                        Some(next) => q = query_of(&next),
                        None => break,
                    }
                }
                // The previous-page links and a cursor between rows page the same way too.
                links.push(q.with(|q| q.after = "~~,ins-00050".into()));
                links.push(q.with(|q| q.after = ",ins-00050x".into()));
                for link in links {
                    let q = query_of(&link);
                    let memory = VerifyTable::select(lines(), q.clone());
                    let mut conn = store.readers().acquire().await.unwrap();
                    let stored = table(&mut conn, run, 7, VerifyCounts::of(&all), &q)
                        .await
                        .unwrap();
                    assert_eq!(summary(&stored), summary(&memory), "{q:?}");
                }
            }
        }
    }
    assert!(pages > 60, "{pages} pages compared");
}
