//! Step 4's page at scale (issue 11): the per-instance rows of the open step's preview are
//! stored (`store::verify_rows`) with what they were built from — the snapshot, the run's
//! state, the step input (rules and exceptions) and the version of the stored inputs that
//! triggers bump (egress results, protected hosts, exceptions) — and a view whose inputs are
//! the same reads one page of them in SQL instead of planning the VPC and sorting every row.
//! Anything else (another snapshot, an edit) builds them again from a fresh preview.
//!
//! Display only: the confirm re-plans in the engine and carries the digest of the plan the
//! page showed, so rows that were somehow stale could never be what is applied.

use std::sync::atomic::{AtomicI64, Ordering};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::{
    app::AppState,
    store::{
        RunId, RunStatus, Step,
        runs::Run,
        types::decode,
        verify_rows::{self, Filter, Header, Order, VerifyRecord},
    },
    web::error::WebError,
    wizard::{
        engine::EngineError,
        input::{RetireException, StepInput, VerifyInput},
    },
};

use super::{
    step_details::{self, StepDetails},
    step_view::{PlanView, plan_view},
    verify_query::{PAGE_SIZE, VerifyCounts, VerifyQuery, VerifyTable, sort_key},
    verify_step::EgressLine,
};

/// What a view shows from the stored rows: the plan in words and the table around it.
pub struct Stored {
    pub plan: PlanView,
    pub details: StepDetails,
}

/// The header's body: what the page shows besides the rows.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Body {
    counts: VerifyCounts,
    plan: PlanView,
    nat_ips: Vec<String>,
}

/// What the rows were built from besides the stored inputs' version: the snapshot, the run's
/// state (a transition moves `updated_at`: NAT gateway, step 3's routes) and the whole input.
fn basis(run: &Run, taken_at: DateTime<Utc>, input: &VerifyInput) -> String {
    let input = serde_json::to_vec(input).unwrap_or_default();
    format!(
        "snapshot={} run={} {}/{} input={}",
        taken_at.to_rfc3339(),
        run.updated_at.to_rfc3339(),
        run.status.as_str(),
        run.current_step.number(),
        hex::encode(Sha256::digest(&input))
    )
}

/// Step 4's page for an open step with its default input, from stored rows when they are
/// the current ones, else from a fresh preview whose rows are stored for the next views.
/// `None`: not that case, or the preview was refused; the caller shows the page as before.
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
    if let Some(taken_at) = state.engine.observed_at(run, Step::Verify) {
        let basis = basis(run, taken_at, input);
        if let Some(stored) = read(state, run.id, &basis, query).await? {
            return Ok(Some(stored));
        }
    }
    // Read before planning: an input written while the rows are built bumps it past them.
    let version = verify_rows::inputs_version(state.store.readers(), run.id).await?;
    let wrapped = StepInput::Verify(input.clone());
    let (plan, inventory, taken_at) = match state.engine.preview_step_seen(run.id, &wrapped).await {
        Ok((plan, inventory, Some(taken_at))) => (plan, inventory, taken_at),
        Ok(_) => return Ok(None),
        Err(EngineError::Db(e)) => return Err(e.into()),
        Err(_) => return Ok(None),
    };
    let view = plan_view(&plan, inventory.as_deref());
    let Some(inventory) = inventory else {
        return Ok(None);
    };
    let (lines, nat_ips) =
        step_details::verify_lines(state, run, &inventory, Some(&plan), input).await?;
    let basis = basis(run, taken_at, input);
    let body = Body {
        counts: VerifyCounts::of(&lines),
        plan: view,
        nat_ips: nat_ips.into_iter().collect(),
    };
    let header = Header {
        generation: next_gen(),
        version,
        basis: basis.clone(),
        body: serde_json::to_string(&body).map_err(|e| WebError::Internal(e.into()))?,
    };
    let records: Vec<VerifyRecord> = lines.iter().map(record_of).collect();
    verify_rows::write(&state.store, run.id, header.generation, &header, &records).await?;
    if let Some(stored) = read(state, run.id, &basis, query).await? {
        return Ok(Some(stored));
    }
    // Another view's newer rows, or an edit since: this view still shows what it planned.
    Ok(Some(Stored {
        plan: body.plan,
        details: StepDetails {
            verify: VerifyTable::select(lines, query.clone()),
            nat_ips: body.nat_ips,
            plan_source: "preview",
            ..StepDetails::default()
        },
    }))
}

/// A new generation number, larger than any this process gave before (and, being time
/// based, than an earlier process's).
fn next_gen() -> i64 {
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
    let mut tx = state.store.readers().begin().await?;
    let Some(header) = verify_rows::header(&mut *tx, run).await? else {
        return Ok(None);
    };
    let version = verify_rows::inputs_version(&mut *tx, run).await?;
    if header.basis != basis || header.version != version {
        return Ok(None);
    }
    // Written by this program: one that does not decode is an error, not a guess.
    let body: Body = decode(serde_json::from_str(&header.body))?;
    let verify = table(&mut tx, run, header.generation, body.counts, query).await?;
    tx.commit().await?;
    Ok(Some(Stored {
        plan: body.plan,
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
    conn: &mut sqlx::SqliteConnection,
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

fn record_of(l: &EgressLine) -> VerifyRecord {
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

fn line_of(r: &VerifyRecord) -> Result<EgressLine, sqlx::Error> {
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
