//! A run's whole record, page by page: every API call (`/runs/{id}/calls`, with parameters,
//! filtered by action or failure), every event (`/runs/{id}/timeline`) and every undo record
//! (`/runs/{id}/undo`, by state, with counts per state). The run page shows only the newest
//! (or first) of each, since a run on a large VPC makes tens of thousands.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use serde::Deserialize;

use crate::{
    app::AppState,
    store::{
        self, RunId, UndoState,
        events::Event,
        ledger::{ApiCall, CallFilter},
        run_views,
        runs::Run,
        undo::UndoRecord,
    },
    web::{error::WebError, layout::Layout},
    wizard::{
        engine::{Released, UndoEntry},
        plan::Undo,
    },
};

use super::call_outcome::CallOutcomeView as _;
use super::runs::{load_run, run_id};
use super::status_words::{InWords as _, undo_short};
use super::step_view::describe_undo;

/// Rows per page of either record.
const PAGE: u32 = 200;

/// The `after` cursor of a page link: a row id (empty or absent for the first page).
fn cursor(raw: Option<&str>) -> Result<i64, WebError> {
    match raw.map(str::trim).filter(|r| !r.is_empty()) {
        None => Ok(0),
        Some(r) => r.parse::<i64>().map(|n| n.max(0)).map_err(|_| {
            WebError::BadRequest(format!(
                "`after={r}` is not a position in this list; it takes the id of the last row \
                 of the previous page. Leave it out to start from the first page."
            ))
        }),
    }
}

/// A page of rows out of `PAGE + 1` fetched, and whether there are more after it.
fn one_page<T>(mut rows: Vec<T>) -> (Vec<T>, bool) {
    let more = rows.len() > PAGE as usize;
    rows.truncate(PAGE as usize);
    (rows, more)
}

#[derive(Debug, Default, Deserialize)]
pub struct CallsQuery {
    /// Keyset cursor: the last call id of the previous page.
    #[serde(default)]
    after: Option<String>,
    #[serde(default)]
    action: Option<String>,
    #[serde(default)]
    failed: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "runs/calls.html")]
pub struct CallsPage {
    layout: Layout,
    run: Run,
    calls: Vec<ApiCall>,
    /// Every action the run called, for the filter.
    actions: Vec<String>,
    action: String,
    failed_only: bool,
    /// Whether this is a later page (a link back to the first).
    paged: bool,
    /// The next page's URL, when there is one.
    next: Option<String>,
}

impl CallsPage {
    /// The row partial shows the (redacted) parameters here, not on the run page.
    pub fn show_params(&self) -> bool {
        true
    }

    /// This page's filter as a query string, without the cursor.
    fn filter_query(&self) -> String {
        let failed = if self.failed_only { "1" } else { "" };
        let pairs = [("action", self.action.as_str()), ("failed", failed)];
        let set: Vec<_> = pairs.iter().filter(|(_, v)| !v.is_empty()).collect();
        serde_urlencoded::to_string(set).unwrap_or_default()
    }
}

pub async fn calls(
    State(state): State<AppState>,
    layout: Layout,
    Path(raw): Path<String>,
    Query(q): Query<CallsQuery>,
) -> Result<CallsPage, WebError> {
    let id = run_id(&raw)?;
    let run = load_run(&state, id).await?;
    let db = state.store.readers();
    let filter = CallFilter {
        action: q.action.clone().filter(|a| !a.trim().is_empty()),
        failed_only: q.failed.as_deref().is_some_and(|f| !f.is_empty()),
    };
    let after = cursor(q.after.as_deref())?;
    let (calls, more) = one_page(store::ledger::page(db, id, &filter, after, PAGE + 1).await?);
    let actions = store::ledger::totals(db, id)
        .await?
        .into_iter()
        .map(|t| t.action)
        .collect();
    let mut page = CallsPage {
        layout,
        calls,
        actions,
        action: filter.action.unwrap_or_default(),
        failed_only: filter.failed_only,
        paged: after > 0,
        next: None,
        run,
    };
    if more && let Some(last) = page.calls.last() {
        let filter = page.filter_query();
        page.next = Some(format!("/runs/{id}/calls?after={}&{filter}", last.id));
    }
    Ok(page)
}

#[derive(Debug, Default, Deserialize)]
pub struct TimelineQuery {
    /// Keyset cursor: the last event id of the previous page.
    #[serde(default)]
    after: Option<String>,
    /// Warnings and errors only.
    #[serde(default)]
    problems: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "runs/timeline.html")]
pub struct TimelinePage {
    layout: Layout,
    run: Run,
    events: Vec<Event>,
    problems_only: bool,
    paged: bool,
    next: Option<String>,
}

pub async fn timeline(
    State(state): State<AppState>,
    layout: Layout,
    Path(raw): Path<String>,
    Query(q): Query<TimelineQuery>,
) -> Result<TimelinePage, WebError> {
    let id = run_id(&raw)?;
    let run = load_run(&state, id).await?;
    let problems_only = q.problems.as_deref().is_some_and(|p| !p.is_empty());
    let after = cursor(q.after.as_deref())?;
    let db = state.store.readers();
    let (events, more) =
        one_page(store::events::page(db, id, problems_only, after, PAGE + 1).await?);
    let next = match events.last() {
        Some(last) if more => {
            let filter = if problems_only { "&problems=1" } else { "" };
            Some(format!("/runs/{id}/timeline?after={}{filter}", last.id))
        }
        _ => None,
    };
    Ok(TimelinePage {
        layout,
        run,
        events,
        problems_only,
        paged: after > 0,
        next,
    })
}

/// Undo records on the run page: counts per state and the first page.
const UNDO_ON_RUN_PAGE: u32 = 50;

/// An undo record as pages show it: what undoing does, in words, and its state in words.
pub struct UndoLine {
    pub record: UndoRecord,
    pub what: String,
    pub state_words: &'static str,
}

impl UndoLine {
    /// `released`: the EIPs this run released, so that unbinding one reads as what it is — a
    /// change whose undo (binding it back) cannot run, not "undo ready".
    fn new(record: UndoRecord, released: &Released) -> UndoLine {
        let entry = serde_json::from_value::<UndoEntry>(record.action.clone());
        let what = match &entry {
            Ok(e) => describe_undo(&e.undo),
            Err(e) => format!("This undo record does not decode ({e})."),
        };
        // A made change whose undo cannot run reads as such, never "undo ready".
        let made = record.state == UndoState::Done;
        let state_words = match &entry {
            Ok(e) if made && released.was_released(&e.undo) => {
                "change made — cannot be undone: the EIP was released"
            }
            Ok(UndoEntry {
                undo: Undo::CannotUndo { .. },
                ..
            }) if made => "change made — cannot be undone",
            _ => record.state.words(),
        };
        UndoLine {
            record,
            what,
            state_words,
        }
    }

    /// The lines of one page of records of `run`.
    async fn page(
        db: &sqlx::AnyPool,
        run: RunId,
        records: Vec<UndoRecord>,
    ) -> Result<Vec<UndoLine>, WebError> {
        let rebinds = records.iter().any(|r| {
            r.state == UndoState::Done
                && r.action.pointer("/undo/kind").and_then(|k| k.as_str())
                    == Some("reassociate_eip")
        });
        // Only a page that shows an unbind needs to know what was released.
        let released = if rebinds {
            Released::from_records(&run_views::release_records(db, run).await?)
        } else {
            Released::default()
        };
        Ok(records
            .into_iter()
            .map(|r| UndoLine::new(r, &released))
            .collect())
    }
}

/// Counts per state (in words, with the state for the filter link) and the first rows.
pub struct UndoSummary {
    pub counts: Vec<(&'static str, &'static str, i64)>,
    pub total: i64,
    pub first: Vec<UndoLine>,
}

impl UndoSummary {
    pub fn more(&self) -> bool {
        self.total > self.first.len() as i64
    }
}

async fn undo_counts(
    db: &sqlx::AnyPool,
    id: RunId,
) -> Result<(Vec<(&'static str, &'static str, i64)>, i64), WebError> {
    let c = run_views::undo_counts(db, id, None).await?;
    let counts = UndoState::ALL
        .iter()
        .map(|s| (s.as_str(), undo_short(*s), c.get(*s)))
        .filter(|(_, _, n)| *n > 0)
        .collect();
    Ok((counts, c.total()))
}

pub async fn undo_summary(state: &AppState, id: RunId) -> Result<UndoSummary, WebError> {
    let db = state.store.readers();
    let (counts, total) = undo_counts(db, id).await?;
    let first = UndoLine::page(
        db,
        id,
        run_views::undo_page(db, id, None, 0, UNDO_ON_RUN_PAGE).await?,
    )
    .await?;
    Ok(UndoSummary {
        counts,
        total,
        first,
    })
}

#[derive(Debug, Default, Deserialize)]
pub struct UndoQuery {
    #[serde(default)]
    after: Option<String>,
    /// Only records in this state (its machine value).
    #[serde(default)]
    state: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "runs/undo.html")]
pub struct UndoPage {
    layout: Layout,
    run: Run,
    counts: Vec<(&'static str, &'static str, i64)>,
    total: i64,
    state: String,
    rows: Vec<UndoLine>,
    paged: bool,
    next: Option<String>,
}

/// Every undo record of a run, page by page (keyset on the record id), by state.
pub async fn undo(
    State(state): State<AppState>,
    layout: Layout,
    Path(raw): Path<String>,
    Query(q): Query<UndoQuery>,
) -> Result<UndoPage, WebError> {
    let id = run_id(&raw)?;
    let run = load_run(&state, id).await?;
    let db = state.store.readers();
    let wanted = match q.state.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => None,
        Some(s) => Some(s.parse::<UndoState>().map_err(|_| {
            let known: Vec<&str> = UndoState::ALL.iter().map(|s| s.as_str()).collect();
            WebError::BadRequest(format!(
                "`state={s}` is not a state of an undo record; use one of {}, or leave it out.",
                known.join(", ")
            ))
        })?),
    };
    let after = cursor(q.after.as_deref())?;
    let (rows, more) = one_page(run_views::undo_page(db, id, wanted, after, PAGE + 1).await?);
    let (counts, total) = undo_counts(db, id).await?;
    let state_param = wanted.map(|s| s.as_str()).unwrap_or_default();
    let next = match rows.last() {
        Some(last) if more => Some(format!(
            "/runs/{id}/undo?after={}&state={state_param}",
            last.id
        )),
        _ => None,
    };
    Ok(UndoPage {
        layout,
        run,
        counts,
        total,
        state: state_param.to_owned(),
        rows: UndoLine::page(db, id, rows).await?,
        paged: after > 0,
        next,
    })
}
