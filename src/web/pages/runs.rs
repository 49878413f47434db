//! Run history (`/runs`, filters + keyset pagination), a run's page (`/runs/{id}`: timeline,
//! inputs, ledger, undo records, reports) and its JSON report download.

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
        self, ReportKind, RunId, RunStatus, Step,
        events::Event,
        ledger::{ActionTotals, ApiCall},
        runs::{Cursor, Run, RunFilter},
        undo::UndoRecord,
    },
    web::{auth::session::CurrentUser, error::WebError, layout::Layout},
    wizard::{
        engine::{self, Disposition, Driver, UndoEntry},
        input::StepInput,
    },
};

use super::call_outcome::CallOutcomeView as _;
use super::step_view::{describe_input, describe_undo};

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
    Ok(HistoryPage {
        layout,
        q,
        statuses: RunStatus::ALL,
        runs,
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

pub struct StepView {
    pub number: i64,
    pub title: &'static str,
    pub state: String,
    pub current: bool,
    /// The confirmed input in words, and as stored.
    pub input: Option<(String, String)>,
}

#[derive(Template, WebTemplate)]
#[template(path = "runs/detail.html")]
pub struct RunPage {
    layout: Layout,
    run: Run,
    steps: Vec<StepView>,
    /// The newest events (older ones on the run's timeline page) out of `events_total`.
    events: Vec<Event>,
    events_total: i64,
    /// The newest calls (all of them on the run's ledger page), and per-action totals.
    calls: Vec<ApiCall>,
    calls_total: i64,
    call_totals: Vec<ActionTotals>,
    undo: Vec<UndoLine>,
    /// What a rollback would do now, in the order it would do it.
    rollback_preview: Vec<String>,
    final_report: Option<String>,
    can_drive: bool,
    last_event_id: i64,
    /// Another natpilot process holds the run's lease (this one serves the page only).
    driver: Option<Driver>,
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

/// An undo record as the run page shows it: what undoing does, in words, next to the record.
pub struct UndoLine {
    pub record: UndoRecord,
    pub what: String,
}

impl From<UndoRecord> for UndoLine {
    fn from(record: UndoRecord) -> UndoLine {
        let what = serde_json::from_value::<UndoEntry>(record.action.clone())
            .map(|e| describe_undo(&e.undo))
            .unwrap_or_else(|_| record.action.to_string());
        UndoLine { record, what }
    }
}

/// What rolling back would do, in the engine's own order and with its own skips.
fn rollback_preview(records: &[UndoRecord]) -> Vec<String> {
    engine::rollback_preview(records)
        .into_iter()
        .filter_map(|d| match d {
            Disposition::Undo {
                entry,
                maybe_not_made: true,
            } => Some(format!(
                "{} (if the change was made)",
                describe_undo(&entry.undo)
            )),
            Disposition::Undo { entry, .. } | Disposition::Irreversible(entry) => {
                Some(describe_undo(&entry.undo))
            }
            Disposition::Unreadable { record, detail } => Some(format!(
                "Undo record {record} cannot be read ({detail}): the rollback stops before \
                 undoing anything"
            )),
            Disposition::Skip => None,
        })
        .collect()
}

/// Events and calls shown on the run page itself: the newest, since a run on a large VPC
/// has tens of thousands of each. All of them are on the timeline and ledger pages.
const RECENT_ROWS: u32 = 100;

pub async fn detail(
    State(state): State<AppState>,
    layout: Layout,
    user: CurrentUser,
    Path(raw): Path<String>,
) -> Result<RunPage, WebError> {
    let id = run_id(&raw)?;
    let run = load_run(&state, id).await?;
    let db = state.store.readers();
    let mut steps = Vec::new();
    for step in Step::ALL {
        let row = store::steps::get(db, id, step).await?;
        steps.push(StepView {
            number: step.number(),
            title: step.title(),
            state: row
                .as_ref()
                .map_or_else(|| "pending".to_owned(), |r| r.state.to_string()),
            current: step == run.current_step,
            input: row.map(|r| {
                let words = serde_json::from_value::<StepInput>(r.input.clone())
                    .map(|i| describe_input(&i))
                    .unwrap_or_else(|e| format!("The stored input does not decode ({e})."));
                (words, r.input.to_string())
            }),
        });
    }
    let events = store::events::latest(db, id, RECENT_ROWS).await?;
    let events_total = store::events::count(db, id).await?;
    let calls = store::ledger::latest(db, id, RECENT_ROWS).await?;
    let call_totals = store::ledger::totals(db, id).await?;
    let calls_total = call_totals.iter().map(|t| t.calls).sum();
    let records = store::undo::list(db, id).await?;
    let rollback_preview = rollback_preview(&records);
    let undo = records.into_iter().map(UndoLine::from).collect();
    let final_report = store::results::get_report(db, id, ReportKind::Final)
        .await?
        .map(|v| serde_json::to_string_pretty(&v).unwrap_or_default());
    let can_drive = may_drive(&user, &run);
    let last_event_id = events.last().map_or(0, |e| e.id);
    let driver = state.engine.driver(id).await?;
    Ok(RunPage {
        driver,
        last_event_id,
        layout,
        run,
        steps,
        events,
        events_total,
        calls,
        calls_total,
        call_totals,
        undo,
        rollback_preview,
        final_report,
        can_drive,
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
