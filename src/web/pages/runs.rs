//! Run history (`/runs`, filters + keyset pagination), a run's page (`/runs/{id}`: the live
//! part from `run_live`, the outcome of a finished run, then inputs, the newest events and
//! calls, undo-record counts and their first page) and its JSON report download.

use askama::Template;
use askama_web::WebTemplate;
use axum::{
    Json,
    extract::{Path, Query, State},
    http::header,
    response::{IntoResponse, Response},
};
use chrono::{NaiveDate, TimeZone, Utc};
use serde::Deserialize;

use crate::{
    app::AppState,
    store::{
        self, ReportKind, RunId, RunStatus,
        events::Event,
        ledger::{ActionTotals, ApiCall},
        runs::{Cursor, Run, RunFilter},
    },
    web::{auth::session::CurrentUser, error::WebError, layout::Layout},
    wizard::input::StepInput,
};

use super::call_outcome::CallOutcomeView as _;
use super::run_live;
use super::run_outcome::{self, Outcome};
use super::run_records::{self, UndoSummary};
use super::status_words::InWords as _;
use super::step_view::describe_input;

pub const PAGE: u32 = 50;

#[derive(Deserialize, Default)]
pub struct HistoryQuery {
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub vpc: String,
    #[serde(default)]
    pub operator: String,
    #[serde(default)]
    pub from: String,
    #[serde(default)]
    pub until: String,
    pub after: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "runs/history.html")]
pub struct HistoryPage {
    layout: Layout,
    q: HistoryQuery,
    statuses: &'static [RunStatus],
    runs: Vec<Run>,
    /// Which of them wait for an approval (their status reads so).
    awaiting: crate::web::approvals::Awaiting,
    errors: Vec<String>,
    next: Option<String>,
}

fn parse_date(raw: &str, field: &str, errors: &mut Vec<String>) -> Option<NaiveDate> {
    let raw = raw.trim();
    if raw.is_empty() {
        return None;
    }
    let parsed = NaiveDate::parse_from_str(raw, "%Y-%m-%d");
    if parsed.is_err() {
        errors.push(format!("{field}: `{raw}` is not a date like 2026-11-28."));
    }
    parsed.ok()
}

fn filter(q: &HistoryQuery) -> (RunFilter, Vec<String>) {
    let mut errors = Vec::new();
    let status = match q.status.trim() {
        "" => None,
        s => s
            .parse()
            .map_err(|_| errors.push(format!("Status: unknown status `{s}`.")))
            .ok(),
    };
    let midnight = |d: NaiveDate| Utc.from_utc_datetime(&d.and_hms_opt(0, 0, 0).expect("valid"));
    let opt = |s: &str| (!s.trim().is_empty()).then(|| s.trim().to_owned());
    let from = parse_date(&q.from, "From", &mut errors).map(midnight);
    let until = parse_date(&q.until, "Until", &mut errors)
        .and_then(|d| d.succ_opt())
        .map(midnight);
    let f = RunFilter {
        status,
        vpc_id: opt(&q.vpc),
        started_by: opt(&q.operator),
        from,
        until,
    };
    (f, errors)
}

pub async fn history(
    State(state): State<AppState>,
    layout: Layout,
    Query(q): Query<HistoryQuery>,
) -> Result<HistoryPage, WebError> {
    let (f, errors) = filter(&q);
    let after = q.after.as_deref().and_then(Cursor::decode);
    let (runs, next) = if errors.is_empty() {
        let page = store::runs::list_cached(&state.store, &f, after.as_ref(), PAGE).await?;
        let next = page.next.as_ref().map(|c| {
            let params = [
                ("status", &q.status),
                ("vpc", &q.vpc),
                ("operator", &q.operator),
                ("from", &q.from),
                ("until", &q.until),
            ];
            let query = serde_urlencoded::to_string(params).unwrap_or_default();
            format!("/runs?{query}&after={}", c.encode())
        });
        (page.runs.clone(), next)
    } else {
        (Vec::new(), None)
    };
    let awaiting = crate::web::approvals::Awaiting::of(&state, &runs).await?;
    Ok(HistoryPage {
        layout,
        q,
        statuses: RunStatus::ALL,
        runs,
        awaiting,
        errors,
        next,
    })
}

/// Parses a run id from the URL; a malformed one is simply "not found".
pub fn run_id(raw: &str) -> Result<RunId, WebError> {
    raw.parse()
        .map_err(|_| WebError::NotFound(format!("There is no run `{raw}`.")))
}

pub async fn load_run(state: &AppState, id: RunId) -> Result<Run, WebError> {
    store::runs::get(state.store.readers(), id)
        .await?
        .ok_or_else(|| WebError::NotFound(format!("There is no run {id}.")))
}

/// Whether this user may drive the run: the operator who started it, or any admin.
pub fn may_drive(user: &CurrentUser, run: &Run) -> bool {
    user.role == crate::store::users::Role::Admin
        || (user.role == crate::store::users::Role::Operator && user.name == run.started_by)
}

/// A confirmed step's input, in words and as stored (the run page's "Inputs used").
pub struct InputLine {
    pub number: i64,
    pub title: &'static str,
    pub state: &'static str,
    pub words: String,
    pub raw: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "runs/detail.html")]
pub struct RunPage {
    layout: Layout,
    run: Run,
    /// The live part (status, steps, progress, actions), rendered by `run_live`.
    live_html: String,
    live: bool,
    last_event_id: i64,
    outcome: Option<Outcome>,
    inputs: Vec<InputLine>,
    /// The newest events of a finished run (while it runs, the live part shows them).
    events: Vec<Event>,
    events_total: i64,
    /// The newest calls (all of them on the run's ledger page), and per-action totals.
    calls: Vec<ApiCall>,
    calls_total: i64,
    call_totals: Vec<ActionTotals>,
    undo: UndoSummary,
    /// The typed rehearsal record (what it copies, snapshot warnings, why it ended).
    rehearsal: Option<store::rehearsals::Rehearsal>,
}

impl RunPage {
    pub fn more_events(&self) -> bool {
        self.events_total > self.events.len() as i64
    }

    pub fn more_calls(&self) -> bool {
        self.calls_total > self.calls.len() as i64
    }

    pub fn failed_calls(&self) -> i64 {
        self.call_totals.iter().map(|t| t.failed).sum()
    }

    /// The call-row partial leaves parameters to the ledger page.
    pub fn show_params(&self) -> bool {
        false
    }
}

/// Events and calls shown on the run page itself: the newest, since a run on a large VPC
/// has tens of thousands of each. All of them are on the timeline and ledger pages.
const RECENT_EVENTS: u32 = 50;
const RECENT_CALLS: u32 = 25;

pub async fn detail(
    State(state): State<AppState>,
    layout: Layout,
    user: CurrentUser,
    Path(raw): Path<String>,
) -> Result<RunPage, WebError> {
    let id = run_id(&raw)?;
    let run = load_run(&state, id).await?;
    let db = state.store.readers();
    let can_drive = may_drive(&user, &run);
    let live_view = run_live::build(&state, layout.clone(), run.clone(), can_drive).await?;
    let live_html = live_view
        .render()
        .map_err(|e| WebError::Internal(e.into()))?;
    let last_event_id = store::run_views::last_event_id(db, id).await?;
    let inputs = store::run_views::step_summaries(db, id)
        .await?
        .into_iter()
        .map(|s| InputLine {
            number: s.step.number(),
            title: s.step.title(),
            state: s.state.words(),
            words: serde_json::from_value::<StepInput>(s.input.clone())
                .map(|i| describe_input(&i))
                .unwrap_or_else(|e| format!("The stored input does not decode ({e}).")),
            raw: s.input.to_string(),
        })
        .collect();
    let live = run.status.holds_vpc();
    let events = if live {
        Vec::new()
    } else {
        store::events::latest(db, id, RECENT_EVENTS).await?
    };
    let events_total = store::events::count(db, id).await?;
    let calls = store::ledger::latest(db, id, RECENT_CALLS).await?;
    let call_totals = store::ledger::totals(db, id).await?;
    let calls_total = call_totals.iter().map(|t| t.calls).sum();
    let undo = run_records::undo_summary(&state, id).await?;
    let outcome = run_outcome::outcome(&state, &run).await?;
    let rehearsal = store::rehearsals::get(db, id).await?;
    Ok(RunPage {
        rehearsal,
        live_html,
        live,
        last_event_id,
        outcome,
        layout,
        run,
        inputs,
        events,
        events_total,
        calls,
        calls_total,
        call_totals,
        undo,
    })
}

/// The whole record of a run as one JSON document, for attaching to a change ticket.
pub async fn report_json(
    State(state): State<AppState>,
    Path(raw): Path<String>,
) -> Result<Response, WebError> {
    let id = run_id(raw.trim_end_matches(".json"))?;
    let run = load_run(&state, id).await?;
    let db = state.store.readers();
    let mut reports = serde_json::Map::new();
    for kind in [
        ReportKind::Exposure,
        ReportKind::Final,
        ReportKind::Rollback,
    ] {
        if let Some(v) = store::results::get_report(db, id, kind).await? {
            reports.insert(kind.to_string(), v);
        }
    }
    let body = serde_json::json!({
        "run": run,
        "rehearsal": store::rehearsals::get(db, id).await?,
        // Everything, however large: this is the record a change ticket keeps.
        "events": store::events::list(db, id, 0, u32::MAX).await?,
        "api_calls": store::ledger::list(db, id, 0, u32::MAX).await?,
        "undo_records": store::undo::list(db, id).await?,
        "protected_hosts": store::results::list_protected(db, id).await?,
        "reports": reports,
    });
    let disposition = format!("attachment; filename=\"natpilot-run-{id}.json\"");
    Ok(([(header::CONTENT_DISPOSITION, disposition)], Json(body)).into_response())
}
