//! Step 4's page at scale (issue 11): the per-instance rows of the open step's preview are
//! stored (`store::verify_rows`) with what they were built from — the snapshot, the run's
//! state, the step input (rules and exceptions) and the version of the stored inputs that
//! triggers bump (egress results, protected hosts, exceptions) — and a view whose inputs are
//! the same reads one page of them in SQL instead of planning the VPC and sorting every row.
//! An exception saved moves its row and the header with it (`verify_edit`); anything else
//! (another rule, snapshot, egress result, protection) has them rebuilt outside the request
//! (`verify_build`), and no row is shown until they are current. The pages of a refused
//! confirm and of a confirmed step 4 read the same rows (`verify_shown`).
//!
//! Display only: the confirm re-plans in the engine and carries the digest of the plan the
//! page showed, so rows that were somehow stale could never be what is applied.

use std::sync::atomic::{AtomicI64, Ordering};

use chrono::Utc;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::{
    app::AppState,
    store::{
        RunId, RunStatus, Step,
        runs::Run,
        types::decode,
        verify_rows::{self, Filter, Order, VerifyRecord},
    },
    web::error::WebError,
    wizard::input::{RetireException, StepInput, VerifyInput},
};

use super::{
    step_details::{Rebuilding, StepDetails},
    step_view::PlanView,
    verify_build::{self, Progress},
    verify_query::{PAGE_SIZE, VerifyCounts, VerifyQuery, VerifyTable, sort_key},
    verify_step::EgressLine,
};

/// What a view shows from the stored rows: the plan in words and the table around it (no
/// plan while a rebuild has not planned yet).
pub struct Stored {
    pub plan: Option<PlanView>,
    pub details: StepDetails,
}

/// The header's body: what the page shows besides the rows.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Body {
    pub(super) counts: VerifyCounts,
    pub(super) plan: PlanView,
    pub(super) nat_ips: Vec<String>,
}

/// What the rows were built from besides the stored inputs' version: the snapshot's picture
/// (`verify_build::Builds::picture`), the run's state (a transition moves `updated_at`: NAT
/// gateway, step 3's routes) and the input — all of it but the typed VPC id, which decides
/// only whether an irreversible plan may run (a conflict), never a row (so a refused confirm
/// with it typed shows the same rows).
pub(super) fn basis(run: &Run, picture: &str, input: &VerifyInput) -> String {
    let rows_of = VerifyInput {
        confirm_irreversible: false,
        ..input.clone()
    };
    let input = serde_json::to_vec(&rows_of).unwrap_or_default();
    format!(
        "snapshot={picture} run={} {}/{} input={}",
        run.updated_at.to_rfc3339(),
        run.status.as_str(),
        run.current_step.number(),
        hex::encode(Sha256::digest(&input))
    )
}

/// Step 4's page for an open step with its default input, from stored rows when they are
/// the current ones; else they are rebuilt outside the request (`verify_build`) and, if that
/// takes more than a moment, the page says so (with the fresh plan and counts once planned)
/// and shows no rows. `None`: not that case, or the engine did not plan; the caller shows the
/// page as before (with the reason).
pub async fn visit(
    state: &AppState,
    run: &Run,
    input: Option<&StepInput>,
    query: &VerifyQuery,
) -> Result<Option<Stored>, WebError> {
    let Some(StepInput::Verify(input)) = input else {
        return Ok(None);
    };
    if !(run.status == RunStatus::Active && run.current_step == Step::Verify) {
        return Ok(None);
    }
    open_rows(state, run, input, query).await
}

/// The open step's rows for `input` (its typed VPC id aside): the stored ones when current,
/// else rebuilt outside the request — the table when that is done within a moment, else the
/// page without rows (see `verify_build`). `None`: the engine did not plan.
pub async fn open_rows(
    state: &AppState,
    run: &Run,
    input: &VerifyInput,
    query: &VerifyQuery,
) -> Result<Option<Stored>, WebError> {
    // A rebuild that finished but is already stale (an input moved while it ran) is
    // started once more before the page says it is being rebuilt.
    for _ in 0..2 {
        if let Some(stored) = current(state, run, input, query).await? {
            return Ok(Some(stored));
        }
        match verify_build::rebuild(state, run, input).await? {
            Progress::Done => {}
            Progress::Refused => return Ok(None),
            Progress::Failed(e) => return Err(WebError::Internal(anyhow::anyhow!(e))),
            under_way => return Ok(Some(rebuilding(under_way, query))),
        }
    }
    Ok(Some(rebuilding(Progress::Planning, query)))
}

/// The page's table from the stored rows, if they are the current ones for `input` (its
/// typed VPC id aside).
pub async fn current(
    state: &AppState,
    run: &Run,
    input: &VerifyInput,
    query: &VerifyQuery,
) -> Result<Option<Stored>, WebError> {
    let Some(snapshot) = state.engine.kept_snapshot(run, Step::Verify) else {
        return Ok(None);
    };
    let picture = state.verify_builds.picture(run.id, &snapshot);
    read(state, run.id, &basis(run, &picture, input), query).await
}

/// A page without rows while they are rebuilt: the notice, and the fresh plan and counts
/// once the engine has planned.
pub fn rebuilding(progress: Progress, query: &VerifyQuery) -> Stored {
    let (plan, counts, nat_ips, notice) = match progress {
        Progress::Storing {
            stored,
            total,
            plan,
            counts,
            nat_ips,
        } => (Some(*plan), counts, nat_ips, Rebuilding { stored, total }),
        _ => (
            None,
            VerifyCounts::default(),
            Vec::new(),
            Rebuilding::default(),
        ),
    };
    Stored {
        plan,
        details: StepDetails {
            verify: VerifyTable {
                counts,
                query: query.clone(),
                ..VerifyTable::default()
            },
            nat_ips,
            plan_source: "preview",
            rebuilding: Some(notice),
            ..StepDetails::default()
        },
    }
}

/// A new generation number, larger than any this process gave before (and, being time
/// based, than an earlier process's).
pub(super) fn next_gen() -> i64 {
    static LAST: AtomicI64 = AtomicI64::new(0);
    let now = Utc::now().timestamp_micros();
    let prev = LAST.fetch_max(now, Ordering::SeqCst);
    if prev >= now {
        LAST.fetch_add(1, Ordering::SeqCst) + 1
    } else {
        now
    }
}

/// The page from the stored rows, if they were built from `basis` and the stored inputs have
/// not changed since. Header and rows are read in one read transaction (one snapshot).
async fn read(
    state: &AppState,
    run: RunId,
    basis: &str,
    query: &VerifyQuery,
) -> Result<Option<Stored>, WebError> {
    let current =
        |header: &verify_rows::Header, version| header.basis == basis && header.version == version;
    read_if(state, run, query, current, |_| true).await
}

/// The stored rows of the plan with `digest`, whatever has changed since (a confirmed step
/// 4's table, "as confirmed": the rows of exactly the plan that was confirmed).
pub async fn read_confirmed(
    state: &AppState,
    run: RunId,
    digest: &str,
    query: &VerifyQuery,
) -> Result<Option<Stored>, WebError> {
    let of_plan = |body: &Body| body.plan.digest == digest;
    let stored = read_if(state, run, query, |_, _| true, of_plan).await?;
    Ok(stored.map(|mut s| {
        s.details.plan_source = "confirmed";
        s
    }))
}

/// The page from the stored rows if `header_ok` takes their header (with the stored inputs'
/// version now) and `body_ok` its body. Header and rows are read in one read transaction
/// (one snapshot).
async fn read_if(
    state: &AppState,
    run: RunId,
    query: &VerifyQuery,
    header_ok: impl FnOnce(&verify_rows::Header, i64) -> bool,
    body_ok: impl FnOnce(&Body) -> bool,
) -> Result<Option<Stored>, WebError> {
    let mut tx = state.store.readers().begin().await?;
    let Some(header) = verify_rows::header(&mut *tx, run).await? else {
        return Ok(None);
    };
    let version = verify_rows::inputs_version(&mut *tx, run).await?;
    if !header_ok(&header, version) {
        return Ok(None);
    }
    // Written by this program: one that does not decode is an error, not a guess.
    let body: Body = decode(serde_json::from_str(&header.body))?;
    if !body_ok(&body) {
        return Ok(None);
    }
    let verify = table(&mut tx, run, header.generation, body.counts, query).await?;
    tx.commit().await?;
    Ok(Some(Stored {
        plan: Some(body.plan),
        details: StepDetails {
            verify,
            nat_ips: body.nat_ips,
            plan_source: "preview",
            ..StepDetails::default()
        },
    }))
}

fn filter_of(q: &VerifyQuery) -> Filter {
    let yes_no = |v: &str| match v {
        "yes" => Some(true),
        "no" => Some(false),
        _ => None,
    };
    Filter {
        verdict: match q.verdict.as_str() {
            "untested" => "not tested".into(),
            v => v.to_owned(),
        },
        kind: match q.kind.as_str() {
            "eip" => "EIP".into(),
            k => k.to_owned(),
        },
        protected: yes_no(&q.protected),
        exception: yes_no(&q.exception),
        text: q.q.to_lowercase(),
    }
}

/// One page of the view, as [`VerifyTable::select`] cuts it from all the lines: the same
/// order, cursor and links, read through the sort column's index.
async fn table(
    conn: &mut sqlx::AnyConnection,
    run: RunId,
    generation: i64,
    counts: VerifyCounts,
    query: &VerifyQuery,
) -> Result<VerifyTable, WebError> {
    let filter = filter_of(query);
    let order = Order {
        sort: query.sort_key(),
        descending: query.descending(),
        backwards: false,
    };
    let matching = if query.is_filtered() {
        verify_rows::count(&mut *conn, run, generation, &filter).await?
    } else {
        counts.instances
    };
    let cursor = query.after.split_once(',');
    let (start, prev) = match cursor {
        None => (0, None),
        Some(c) => {
            let start =
                verify_rows::count_through(&mut *conn, run, generation, &filter, &order, c).await?;
            let back = Order {
                backwards: true,
                ..order.clone()
            };
            // The previous page starts PAGE_SIZE rows earlier: its cursor is the row just
            // before that, or none at all when it is the first page.
            let before = verify_rows::page(
                &mut *conn,
                run,
                generation,
                &filter,
                &back,
                Some(c),
                PAGE_SIZE + 1,
            )
            .await?;
            let prev = (start > 0).then(|| match before.get(PAGE_SIZE) {
                Some(r) => {
                    let cursor = format!("{},{}", key_of(r, order.sort), r.instance_id);
                    query.with(|q| q.after = cursor)
                }
                None => query.with(|q| q.after.clear()),
            });
            (start, prev)
        }
    };
    let records = verify_rows::page(
        &mut *conn,
        run,
        generation,
        &filter,
        &order,
        cursor,
        PAGE_SIZE + 1,
    )
    .await?;
    let mut rows = records
        .iter()
        .map(line_of)
        .collect::<Result<Vec<EgressLine>, sqlx::Error>>()?;
    let next = (rows.len() > PAGE_SIZE).then(|| {
        rows.truncate(PAGE_SIZE);
        let last = &records[PAGE_SIZE - 1];
        let cursor = format!("{},{}", key_of(last, order.sort), last.instance_id);
        query.with(|q| q.after = cursor)
    });
    Ok(VerifyTable {
        rows,
        counts,
        query: query.clone(),
        matching,
        next,
        prev,
        start,
    })
}

fn key_of<'a>(r: &'a VerifyRecord, sort: &str) -> &'a str {
    match sort {
        "public_ip" => &r.key_public_ip,
        "kind" => &r.key_kind,
        "verdict" => &r.key_verdict,
        "plan" => &r.key_plan,
        _ => "",
    }
}

pub(super) fn record_of(l: &EgressLine) -> VerifyRecord {
    VerifyRecord {
        instance_id: l.instance_id.clone(),
        name: l.name.clone(),
        public_ip: l.public_ip.clone(),
        kind: l.kind.to_owned(),
        before: l.before.clone(),
        after: l.after.clone(),
        verdict: l.verdict.to_owned(),
        reason: l.reason.clone(),
        protected: l.protected,
        actions: serde_json::to_string(&l.actions).unwrap_or_else(|_| "[]".into()),
        action: l.action.to_owned(),
        kept: l.kept.clone(),
        exception: l.exception_str().to_owned(),
        choosable: l.choosable,
        key_public_ip: sort_key(l, "public_ip"),
        key_kind: sort_key(l, "kind"),
        key_verdict: sort_key(l, "verdict"),
        key_plan: sort_key(l, "plan"),
    }
}

/// A stored value among `allowed`, or a decode error (never a guess).
fn one_of(v: &str, allowed: &[&'static str], what: &str) -> Result<&'static str, sqlx::Error> {
    allowed
        .iter()
        .find(|a| **a == v)
        .copied()
        .ok_or_else(|| sqlx::Error::Decode(format!("stored step 4 row: {what} {v:?}").into()))
}

pub(super) fn line_of(r: &VerifyRecord) -> Result<EgressLine, sqlx::Error> {
    let exception = match r.exception.as_str() {
        "" => None,
        e => Some(RetireException::parse(e).ok_or_else(|| {
            sqlx::Error::Decode(format!("stored step 4 row: exception {e:?}").into())
        })?),
    };
    Ok(EgressLine {
        instance_id: r.instance_id.clone(),
        name: r.name.clone(),
        public_ip: r.public_ip.clone(),
        kind: one_of(&r.kind, &["EIP", "ordinary", "none"], "kind")?,
        before: r.before.clone(),
        after: r.after.clone(),
        verdict: one_of(
            &r.verdict,
            &["pass", "fail", "untestable", "not tested"],
            "verdict",
        )?,
        reason: r.reason.clone(),
        protected: r.protected,
        actions: decode(serde_json::from_str(&r.actions))?,
        action: one_of(
            &r.action,
            &["", "unbind", "release", "convert", "return"],
            "action",
        )?,
        kept: r.kept.clone(),
        exception,
        choosable: r.choosable,
    })
}

#[cfg(test)]
mod tests;
