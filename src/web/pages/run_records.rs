//! A run's whole record, page by page: every API call (`/runs/{id}/calls`, with parameters,
//! filtered by action or failure) and every event (`/runs/{id}/timeline`). The run page shows
//! only the newest of each, since a run on a large VPC makes tens of thousands.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use serde::Deserialize;

use crate::{
    app::AppState,
    store::{
        self,
        events::Event,
        ledger::{ApiCall, CallFilter},
        runs::Run,
    },
    web::{error::WebError, layout::Layout},
};

use super::call_outcome::CallOutcomeView as _;
use super::runs::{load_run, run_id};

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
