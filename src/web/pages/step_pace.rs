//! The least time a step's remaining retirements can take at the cloud's rate limits: per
//! kind of change (unbind, convert, release, return) the changes not yet made over the
//! action's documented calls a second, the slowest kind deciding (the chains run at once,
//! each action on its own budget). The pace observed so far cannot see it coming: a step
//! that unbinds 500 EIPs at 10 a second and returns 1,500 ordinary IPs at 2 a second starts
//! fast and ends at 2 a second.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use crate::store::{RunId, Step, run_views};
use crate::tencent::{
    Action,
    models::vpc::{DisassociateAddress, ReleaseAddresses, ReturnNormalAddresses, TransformAddress},
};

use super::numbers::signed;

/// One kind of retirement: its `change.kind` in a plan, how its undo record's key starts, its
/// action's rate, and its name in words.
struct Kind {
    plan: &'static str,
    key: &'static str,
    per_second: u32,
    words: &'static str,
}

const KINDS: [Kind; 4] = [
    Kind {
        plan: "disassociate_eip",
        key: "disassociate:",
        per_second: DisassociateAddress::RATE_LIMIT_PER_SECOND,
        words: "EIPs to unbind",
    },
    Kind {
        plan: "transform_address",
        key: "transform:",
        per_second: TransformAddress::RATE_LIMIT_PER_SECOND,
        words: "ordinary IPs to convert",
    },
    Kind {
        plan: "release_eip",
        key: "release:",
        per_second: ReleaseAddresses::RATE_LIMIT_PER_SECOND,
        words: "EIPs to release",
    },
    Kind {
        plan: "return_normal_address",
        key: "return:",
        per_second: ReturnNormalAddresses::RATE_LIMIT_PER_SECOND,
        words: "ordinary IPs to return",
    },
];

/// The slowest kind's least time, and what it is in words.
#[derive(Debug, Clone, PartialEq)]
pub struct Floor {
    pub seconds: f64,
    /// "1,420 ordinary IPs to return at the cloud's limit of 2 a second".
    pub words: String,
}

/// The planned count of each kind of a confirmed plan, by (run, step, confirmed at): a
/// confirmed plan does not change, and reading it means reading all of it, so a page that
/// follows a 10,000-change step reads it once, not every fragment.
type Planned = HashMap<(RunId, i64, i64), [i64; KINDS.len()]>;

fn planned_cache() -> &'static Mutex<Planned> {
    static CACHE: OnceLock<Mutex<Planned>> = OnceLock::new();
    CACHE.get_or_init(Default::default)
}

/// How many confirmed plans the cache keeps (a few bytes each); past it, it starts afresh.
const CACHED_PLANS: usize = 1024;

async fn planned(
    db: &sqlx::AnyPool,
    run: RunId,
    step: Step,
    confirmed_at: i64,
) -> sqlx::Result<[i64; KINDS.len()]> {
    let key = (run, step.number(), confirmed_at);
    if let Some(p) = planned_cache()
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .get(&key)
    {
        return Ok(*p);
    }
    let kinds = run_views::plan_kinds(db, run, step).await?;
    let counts = KINDS.map(|k| {
        kinds
            .iter()
            .find(|(kind, _)| kind == k.plan)
            .map_or(0, |(_, n)| *n)
    });
    let mut cache = planned_cache().lock().unwrap_or_else(|p| p.into_inner());
    if cache.len() >= CACHED_PLANS {
        cache.clear();
    }
    cache.insert(key, counts);
    Ok(counts)
}

/// The least time step `step` of `run` (confirmed at `confirmed_at`) still needs; None when
/// it has no retirement left.
pub async fn floor(
    db: &sqlx::AnyPool,
    run: RunId,
    step: Step,
    confirmed_at: i64,
) -> sqlx::Result<Option<Floor>> {
    let planned = planned(db, run, step, confirmed_at).await?;
    if planned.iter().all(|n| *n == 0) {
        return Ok(None);
    }
    let keys = KINDS.map(|k| k.key);
    let finished = run_views::finished_by_key(db, run, step, &keys).await?;
    Ok(slowest(&planned, &finished))
}

/// The slowest kind, from planned and finished counts in the order of `KINDS`.
fn slowest(planned: &[i64], finished: &[i64]) -> Option<Floor> {
    KINDS
        .iter()
        .zip(planned.iter().zip(finished))
        .filter_map(|(k, (p, f))| {
            let left = (p - f).max(0);
            (left > 0).then(|| Floor {
                seconds: left as f64 / f64::from(k.per_second),
                words: format!(
                    "{} {} at the cloud's limit of {} a second",
                    signed(left),
                    k.words,
                    k.per_second
                ),
            })
        })
        .max_by(|a, b| a.seconds.total_cmp(&b.seconds))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_slowest_kind_decides_not_the_largest() {
        // 1,500 unbinds at 10 a second take 150 s; 400 returns at 2 a second take 200 s.
        let f = slowest(&[1500, 0, 0, 420], &[0, 0, 0, 20]).unwrap();
        assert_eq!(f.seconds, 200.0);
        assert_eq!(
            f.words,
            "400 ordinary IPs to return at the cloud's limit of 2 a second"
        );
        let f = slowest(&[1500, 0, 0, 420], &[1000, 0, 0, 400]).unwrap();
        assert_eq!(f.seconds, 50.0);
        assert!(f.words.starts_with("500 EIPs to unbind"), "{}", f.words);
        assert_eq!(slowest(&[10, 0, 0, 0], &[10, 0, 0, 0]), None);
    }
}
