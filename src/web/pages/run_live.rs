//! The live part of a run's page (`#run-progress`): status in words, the steps, the applying
//! step's progress as counts and a bar (done, failed, under way, remaining, pace, time
//! left), the newest problems and events, and the one next action. The run page renders it
//! in place; `/runs/{id}/progress` serves it alone and the event stream sends it whole,
//! coalesced, so a browser swaps one small fragment instead of re-fetching the page.
//! Every figure comes from SQL counts: the fragment is the same size at 10 or 50,000
//! instances.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};

use crate::{
    app::AppState,
    store::{
        self, RunId, RunStatus, Step, StepState, UndoState,
        events::Event,
        run_views::{self, StepSummary, UndoCounts},
        runs::Run,
    },
    tencent::{Action as _, models::vpc::DisassociateAddress},
    web::{auth::session::CurrentUser, error::WebError, layout::Layout},
    wizard::engine::Driver,
};

use super::rollback_view::{self, RollbackOffer};
use super::runs::{load_run, may_drive, run_id};
use super::status_words::InWords as _;
use super::step_pace;

/// Newest events and problems shown in the fragment (the timeline page has all).
const RECENT: u32 = 12;
const PROBLEMS: u32 = 5;

pub struct StepLine {
    pub number: i64,
    pub title: &'static str,
    /// Machine value (`data-state`) and words.
    pub state: &'static str,
    pub words: &'static str,
    pub current: bool,
}

/// How far the applying (or last applied) step is, from its undo records: each change
/// writes one before its call and moves it on after.
pub struct Progress {
    pub step: i64,
    pub total: i64,
    pub done: i64,
    pub failed: i64,
    pub under_way: i64,
    pub remaining: i64,
    pub percent: i64,
    /// Changes per second so far, in words ("4.2 changes a second").
    pub pace: Option<String>,
    pub time_left: Option<String>,
}

/// A rollback under way, over every step's undo records: the step's "changes made" would
/// stand still (or read as if the step were re-applied) while the changes are taken back.
pub struct RollbackProgress {
    pub total: i64,
    /// Records the rollback needs to do nothing more about: undone, not needed, or found
    /// impossible to undo.
    pub handled: i64,
    pub undone: i64,
    pub not_needed: i64,
    pub cannot: i64,
    /// Changes still to undo (made, under way or failed).
    pub to_go: i64,
    pub percent: i64,
}

impl RollbackProgress {
    pub fn of(c: &UndoCounts) -> RollbackProgress {
        let undone = c.get(UndoState::Undone);
        let not_needed = c.get(UndoState::NotNeeded);
        let cannot = c.get(UndoState::Irreversible);
        let to_go = c.get(UndoState::Done) + c.get(UndoState::Pending) + c.get(UndoState::Failed);
        let handled = undone + not_needed + cannot;
        let total = handled + to_go;
        RollbackProgress {
            total,
            handled,
            undone,
            not_needed,
            cannot,
            to_go,
            percent: if total > 0 { handled * 100 / total } else { 0 },
        }
    }
}

/// A rehearsal still copying its real VPC into the twin: what it lists, how many so far.
pub struct Copying {
    /// The real VPC, `account / region / vpc`.
    pub of: String,
    pub now: Option<store::rehearsals::CopyProgress>,
}

/// The one next action, shown as the primary button.
pub enum Next {
    /// A link: (href, label).
    Open(String, String),
    Retry,
    None,
}

#[derive(Template, WebTemplate)]
#[template(path = "runs/live.html")]
pub struct LiveView {
    pub layout: Layout,
    pub run: Run,
    pub status: &'static str,
    pub status_words: &'static str,
    pub steps: Vec<StepLine>,
    pub progress: Option<Progress>,
    pub rolling_back: Option<RollbackProgress>,
    pub problems: Vec<Event>,
    pub recent: Vec<Event>,
    pub events_total: i64,
    pub next: Next,
    pub can_drive: bool,
    pub rollback: Option<RollbackOffer>,
    pub driver: Option<Driver>,
    /// Whether the page follows the run (it holds its VPC); false ends "Live: …".
    pub live: bool,
    /// While a rehearsal copies its real VPC (before step 1's assessment).
    pub copying: Option<Copying>,
}

impl LiveView {
    /// A count as the page shows it ("1,983").
    fn n(&self, v: &i64) -> String {
        super::numbers::signed(*v)
    }

    pub fn last_event_id(&self) -> i64 {
        self.recent.last().map_or(0, |e| e.id)
    }

    fn more_events(&self) -> bool {
        self.events_total > self.recent.len() as i64
    }
}

pub async fn fragment(
    State(state): State<AppState>,
    layout: Layout,
    user: CurrentUser,
    Path(raw): Path<String>,
) -> Result<LiveView, WebError> {
    let id = run_id(&raw)?;
    let run = load_run(&state, id).await?;
    let can_drive = may_drive(&user, &run);
    build(&state, layout, run, can_drive).await
}

/// Reads everything the fragment shows, a few small queries whatever the run's size.
pub async fn build(
    state: &AppState,
    layout: Layout,
    run: Run,
    can_drive: bool,
) -> Result<LiveView, WebError> {
    let db = state.store.readers();
    let id = run.id;
    let summaries = run_views::step_summaries(db, id).await?;
    let copying = copying(state, &run).await?;
    // Step 1 waits for its assessment (a rehearsal's for its copy first) before it can be
    // reviewed: say which it is.
    let first = if copying.is_some() {
        FirstStep::Copying
    } else if run.current_step == Step::Assess
        && run.status == RunStatus::Active
        && store::exposure::has_report(db, id).await?
    {
        FirstStep::Assessed
    } else {
        FirstStep::Assessing
    };
    let steps = step_lines(&run, &summaries, first);
    let (progress, rolling_back) = if run.status == RunStatus::RollingBack {
        let counts = run_views::undo_counts(db, id, None).await?;
        (None, Some(RollbackProgress::of(&counts)))
    } else {
        (progress_of(state, &run, &summaries).await?, None)
    };
    let problems = run_views::latest_problems(db, id, PROBLEMS).await?;
    let recent = store::events::latest(db, id, RECENT).await?;
    let events_total = store::events::count(db, id).await?;
    let rollback = if can_drive && rollback_view::may_offer(run.status) {
        rollback_view::offer(state, id).await?
    } else {
        None
    };
    let driver = state.engine.driver(id).await?;
    let (status, status_words) = match copying {
        Some(_) => ("copying", "copying the VPC"),
        None => (run.status.as_str(), run.status.words()),
    };
    // A step held for a second person's approval (issue 14, item 2) says so, and leads there.
    let waiting = crate::web::approvals::waiting(state, &run).await?;
    let (status, status_words, next) = match waiting {
        Some(a) => (
            "awaiting_approval",
            "waiting for approval",
            Next::Open(
                format!("/approvals/{a}"),
                format!("See approval request {a}"),
            ),
        ),
        None => (status, status_words, next_action(&run, can_drive)),
    };
    Ok(LiveView {
        next,
        live: run.status.holds_vpc(),
        layout,
        status,
        status_words,
        steps,
        progress,
        rolling_back,
        problems,
        recent,
        events_total,
        can_drive,
        rollback,
        driver,
        copying,
        run,
    })
}

/// The copy of a rehearsal still copying its real VPC, with its progress.
async fn copying(state: &AppState, run: &Run) -> Result<Option<Copying>, WebError> {
    if !run.is_rehearsal() || !run.status.holds_vpc() {
        return Ok(None);
    }
    let rehearsal = store::rehearsals::get(state.store.readers(), run.id).await?;
    Ok(rehearsal
        .filter(|h| h.phase == store::rehearsals::RehearsalPhase::Copying)
        .map(|h| Copying {
            of: h.of.to_string(),
            now: h.copy,
        }))
}

/// Where step 1 stands before it is confirmed.
#[derive(Clone, Copy, PartialEq, Eq)]
enum FirstStep {
    /// A rehearsal copies its real VPC first.
    Copying,
    Assessing,
    Assessed,
}

fn step_lines(run: &Run, summaries: &[StepSummary], first: FirstStep) -> Vec<StepLine> {
    Step::ALL
        .into_iter()
        .map(|step| {
            let state = summaries.iter().find(|s| s.step == step).map(|s| s.state);
            let current = step == run.current_step;
            // A step with no plan yet is either the one waiting for the operator or one
            // still ahead; "not started" for the step the run stands at reads as if it were
            // stuck.
            let (machine, words) = match state {
                Some(s) => (s.as_str(), s.words()),
                None if current => match (run.status, step) {
                    (RunStatus::Active, Step::Assess) if first == FirstStep::Assessed => {
                        ("review", "assessed — to review")
                    }
                    // Step 1 has no plan: its assessment runs as the run "applies" it.
                    (RunStatus::Applying, Step::Assess) if first == FirstStep::Copying => {
                        ("assessing", "waits for the copy of the real VPC")
                    }
                    (RunStatus::Active | RunStatus::Applying, Step::Assess) => {
                        ("assessing", "assessing")
                    }
                    (RunStatus::Active, _) => ("open", "open — to plan and confirm"),
                    (RunStatus::Failed, _) => ("failed", "failed"),
                    _ => ("pending", "not started"),
                },
                None => ("pending", "not started"),
            };
            StepLine {
                number: step.number(),
                title: step.title(),
                state: machine,
                words,
                current,
            }
        })
        .collect()
}

/// The current step's progress, once it was confirmed with changes to make.
async fn progress_of(
    state: &AppState,
    run: &Run,
    summaries: &[StepSummary],
) -> Result<Option<Progress>, WebError> {
    // A finished run's page opens with its outcome instead.
    if !run.status.holds_vpc() {
        return Ok(None);
    }
    let Some(summary) = summaries
        .iter()
        .find(|s| s.step == run.current_step && s.changes > 0)
    else {
        return Ok(None);
    };
    let db = state.store.readers();
    let counts = run_views::undo_counts(db, run.id, Some(summary.step)).await?;
    let applying = summary.state == StepState::Applying && run.status == RunStatus::Applying;
    let floor = match summary.confirmed_at {
        Some(at) if applying => {
            step_pace::floor(db, run.id, summary.step, at.timestamp_millis()).await?
        }
        _ => None,
    };
    Ok(Some(progress(
        summary.step,
        summary.changes,
        &counts,
        applying,
        floor.as_ref(),
    )))
}

/// Counts from the undo records: a pending record is a change under way while the step
/// applies, and a change that did not complete once it has stopped. Time left: at the pace so
/// far, unless the slowest kind of change left (`floor`, from the cloud's rate limits) needs
/// longer — the pace so far cannot see a slower kind coming.
pub fn progress(
    step: Step,
    total: i64,
    c: &UndoCounts,
    applying: bool,
    floor: Option<&step_pace::Floor>,
) -> Progress {
    let done = c.get(UndoState::Done)
        + c.get(UndoState::NotNeeded)
        + c.get(UndoState::Irreversible)
        + c.get(UndoState::Undone);
    let pending = c.get(UndoState::Pending);
    let (under_way, failed) = if applying {
        (pending, c.get(UndoState::Failed))
    } else {
        (0, pending + c.get(UndoState::Failed))
    };
    let remaining = (total - done - failed - under_way).max(0);
    let percent = if total > 0 {
        (done * 100 / total).min(100)
    } else {
        0
    };
    let seconds = match (c.first_at, c.last_at) {
        (Some(f), Some(l)) => (l - f).num_milliseconds() as f64 / 1000.0,
        _ => 0.0,
    };
    let observed = (seconds > 0.5 && done > 0).then(|| done as f64 / seconds);
    // Retirements are held to the cloud's rate for unbinding EIPs; no pace beats it.
    let ceiling = f64::from(DisassociateAddress::RATE_LIMIT_PER_SECOND);
    let pace = observed.map(|p| format!("{:.1} changes a second", p));
    let left = remaining + under_way;
    let time_left = (applying && left > 0).then(|| {
        let by_pace = observed.map(|p| left as f64 / p.min(ceiling));
        match floor.filter(|f| by_pace.is_none_or(|t| f.seconds >= t)) {
            Some(f) => format!("about {} at best ({})", duration_words(f.seconds), f.words),
            None => match by_pace {
                Some(t) => format!("about {} at the pace so far", duration_words(t)),
                None => format!(
                    "about {} at best, at the cloud's limit of 10 unbinds a second",
                    duration_words(left as f64 / ceiling)
                ),
            },
        }
    });
    Progress {
        step: step.number(),
        total,
        done,
        failed,
        under_way,
        remaining,
        percent,
        pace,
        time_left,
    }
}

fn duration_words(seconds: f64) -> String {
    let s = seconds.ceil() as i64;
    match s {
        0..=59 => format!("{s} s"),
        60..=3599 => format!("{} min {} s", s / 60, s % 60),
        _ => format!("{} h {} min", s / 3600, (s % 3600) / 60),
    }
}

/// Each state's one next action.
fn next_action(run: &Run, can_drive: bool) -> Next {
    let id = run.id;
    match run.status {
        RunStatus::Active => {
            let n = run.current_step.number();
            let label = if run.current_step == Step::Assess {
                "Review step 1".to_owned()
            } else {
                format!("Open step {n}")
            };
            Next::Open(format!("/runs/{id}/step/{n}"), label)
        }
        RunStatus::Failed if can_drive => Next::Retry,
        RunStatus::Completed => Next::Open(
            format!("/runs/{id}/topology"),
            "See what changed".to_owned(),
        ),
        RunStatus::RolledBack | RunStatus::Abandoned if can_drive => {
            Next::Open("/runs/new".to_owned(), "Start a new run".to_owned())
        }
        _ => Next::None,
    }
}

/// For the stream: the fragment of run `id` for a viewer who may or may not drive it.
pub async fn for_stream(
    state: &AppState,
    layout: Layout,
    id: RunId,
    can_drive: bool,
) -> Result<LiveView, WebError> {
    let run = load_run(state, id).await?;
    build(state, layout, run, can_drive).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(pairs: &[(UndoState, i64)]) -> UndoCounts {
        UndoCounts {
            by_state: pairs.to_vec(),
            first_at: None,
            last_at: None,
        }
    }

    #[test]
    fn a_rollback_counts_every_record_by_what_it_made_of_it() {
        let c = counts(&[
            (UndoState::Undone, 40),
            (UndoState::NotNeeded, 5),
            (UndoState::Irreversible, 3),
            (UndoState::Done, 50),
            (UndoState::Pending, 1),
            (UndoState::Failed, 1),
        ]);
        let p = RollbackProgress::of(&c);
        assert_eq!(
            (
                p.total,
                p.handled,
                p.undone,
                p.not_needed,
                p.cannot,
                p.to_go,
                p.percent
            ),
            (100, 48, 40, 5, 3, 52, 48)
        );
        assert_eq!(RollbackProgress::of(&counts(&[])).percent, 0);
    }

    #[test]
    fn a_stopped_step_counts_its_unfinished_changes_as_failed() {
        let c = counts(&[(UndoState::Done, 60), (UndoState::Pending, 4)]);
        let live = progress(Step::Verify, 100, &c, true, None);
        assert_eq!((live.done, live.under_way, live.failed), (60, 4, 0));
        assert_eq!(live.remaining, 36);
        let stopped = progress(Step::Verify, 100, &c, false, None);
        assert_eq!(
            (stopped.under_way, stopped.failed, stopped.remaining),
            (0, 4, 36)
        );
        assert_eq!(stopped.percent, 60);
    }

    #[test]
    fn time_left_follows_the_slowest_kind_once_the_pace_so_far_cannot_keep_up() {
        let mut c = counts(&[(UndoState::Done, 100), (UndoState::Pending, 4)]);
        c.first_at = Some(chrono::Utc::now() - chrono::Duration::seconds(10));
        c.last_at = Some(chrono::Utc::now());
        let slow = step_pace::Floor {
            seconds: 400.0,
            words: "800 ordinary IPs to return at the cloud's limit of 2 a second".into(),
        };
        // 10 a second so far: 900 left would take 90 s, the returns alone 400 s.
        let p = progress(Step::Verify, 1000, &c, true, Some(&slow));
        assert_eq!(
            p.time_left.as_deref(),
            Some(
                "about 6 min 40 s at best (800 ordinary IPs to return at the cloud's limit of 2 a second)"
            )
        );
        let quick = step_pace::Floor {
            seconds: 20.0,
            words: String::new(),
        };
        let p = progress(Step::Verify, 1000, &c, true, Some(&quick));
        assert_eq!(
            p.time_left.as_deref(),
            Some("about 1 min 30 s at the pace so far")
        );
    }

    #[test]
    fn time_left_is_bounded_by_the_cloud_rate_limit() {
        let c = counts(&[(UndoState::Pending, 1)]);
        let p = progress(Step::Verify, 1001, &c, true, None);
        assert_eq!(
            p.time_left.as_deref(),
            Some("about 1 min 41 s at best, at the cloud's limit of 10 unbinds a second")
        );
    }
}
