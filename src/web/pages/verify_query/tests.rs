//! Paging, filters and counts of the step 4 table.
use super::*;

fn line(id: &str, ip: &str, verdict: &'static str) -> EgressLine {
    EgressLine {
        instance_id: id.into(),
        name: String::new(),
        public_ip: ip.into(),
        kind: if ip.is_empty() { "none" } else { "EIP" },
        before: String::new(),
        after: String::new(),
        verdict,
        reason: String::new(),
        protected: false,
        actions: Vec::new(),
        action: if verdict == "pass" { "unbind" } else { "" },
        kept: String::new(),
        exception: None,
        choosable: true,
    }
}

fn many(n: usize) -> Vec<EgressLine> {
    (0..n)
        .map(|k| {
            let verdict = if k % 7 == 0 { "untestable" } else { "pass" };
            line(
                &format!("ins-{k:05}"),
                &format!("10.0.{}.{}", k / 256, k % 256),
                verdict,
            )
        })
        .collect()
}

fn ids(t: &VerifyTable) -> Vec<String> {
    t.rows.iter().map(|l| l.instance_id.clone()).collect()
}

fn after(link: &str) -> VerifyQuery {
    serde_urlencoded::from_str::<VerifyQuery>(link.trim_start_matches('?'))
        .unwrap()
        .cleaned()
}

#[test]
fn pages_follow_each_other_without_gaps_or_repeats_in_either_direction() {
    for dir in ["asc", "desc"] {
        for sort in ["instance", "public_ip", "verdict"] {
            let mut q = VerifyQuery {
                sort: sort.into(),
                dir: dir.into(),
                ..VerifyQuery::default()
            };
            let mut seen = Vec::new();
            loop {
                let t = VerifyTable::select(many(173), q.clone());
                assert!(t.rows.len() <= PAGE_SIZE);
                seen.extend(ids(&t));
                match t.next {
                    Some(link) => q = after(&link),
                    None => break,
                }
            }
            let mut unique = seen.clone();
            unique.sort();
            unique.dedup();
            assert_eq!((seen.len(), unique.len()), (173, 173), "{sort} {dir}");
        }
    }
}

#[test]
fn filters_select_rows_and_counts_stay_over_the_whole_vpc() {
    let q = VerifyQuery {
        verdict: "untestable".into(),
        ..VerifyQuery::default()
    };
    let t = VerifyTable::select(many(100), q);
    assert_eq!(t.matching, 15);
    assert!(t.rows.iter().all(|l| l.verdict == "untestable"));
    assert_eq!((t.counts.unbind, t.counts.untestable), (85, 15));
    assert_eq!(t.counts.items()[0].0, "85 EIPs to unbind (kept)");
}

#[test]
fn unknown_query_values_are_dropped() {
    let q = VerifyQuery {
        verdict: "maybe".into(),
        sort: "drop table".into(),
        eip: "burn".into(),
        ordinary: "return".into(),
        ..VerifyQuery::default()
    }
    .cleaned();
    assert_eq!(q.to_query_string(), "?ordinary=return");
}

#[test]
fn thousands_are_separated() {
    assert_eq!(thousands(0), "0");
    assert_eq!(thousands(999), "999");
    assert_eq!(thousands(1190), "1,190");
    assert_eq!(thousands(50_000), "50,000");
    assert_eq!(thousands(1_234_567), "1,234,567");
}

#[test]
fn previous_links_walk_back_to_the_first_page_through_the_same_pages() {
    let mut q = VerifyQuery {
        sort: "public_ip".into(),
        dir: "desc".into(),
        ..VerifyQuery::default()
    };
    let mut forward = Vec::new();
    loop {
        let t = VerifyTable::select(many(173), q.clone());
        forward.push((ids(&t), t.position()));
        match t.next {
            Some(n) => q = after(&n),
            None => break,
        }
    }
    assert_eq!(forward.len(), 4);
    assert_eq!(forward[3].1, "Rows 151–173 of 173");
    // From the last page, "Previous" must give back exactly the pages seen going forward.
    let mut back = Vec::new();
    loop {
        let t = VerifyTable::select(many(173), q.clone());
        back.push((ids(&t), t.position()));
        match t.prev {
            Some(p) => q = after(&p),
            None => break,
        }
    }
    back.reverse();
    assert_eq!(back, forward);
    assert!(q.after.is_empty(), "the first page carries no cursor");
}
