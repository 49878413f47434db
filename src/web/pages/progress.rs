//! Live progress of a run over Server-Sent Events (`/runs/{id}/events`), consumed by the htmx
//! SSE extension on the run page. Each `progress` message is the whole live fragment
//! (`run_live`: status, steps, counts, actions, newest events), so a message never depends on
//! an earlier one: the first message after a (re)connect is the run as it stands, and a lost
//! message is made good by the next. Messages are coalesced: engine events only wake the
//! stream, which renders at most once per [`COALESCE`] and skips a fragment identical to the
//! last; a [`STATUS_CHECK`] tick re-reads the run as well, so a status change that no event
//! follows still arrives; on PostgreSQL a change notice from another replica
//! (`store::change_notices`) is such a tick at once, so a run driven elsewhere is followed as
//! closely as one driven here. Once the run no longer holds its VPC the stream sends the final
//! fragment, then `done` (the page closes the stream on it), and ends.
//! The records below the live part (API calls, undo records, inputs used) grow with the run,
//! so they are not in the fragment: when the run moves to another status or step (a step
//! applied, a rollback started or stopped) the stream sends `records` after the fragment,
//! and the page fetches them once; a run that waits at step 3 shows step 2's calls and undo
//! records without a reload, and a burst of events never re-fetches them.
//! A stream lives only as long as the session that opened it: it checks the session every
//! [`SESSION_CHECK`] and ends once the session has (sign-out, disabled user, password reset,
//! timeouts), issue 10 defect 6.

use std::{convert::Infallible, time::Duration};

use askama::Template;
use axum::{
    extract::{Path, State},
    response::sse::{Event as SseEvent, KeepAlive, Sse},
};
use futures_util::stream::{self, Stream, StreamExt};
use tokio::sync::broadcast::{self, error::TryRecvError};
use tokio::time::Instant;

use crate::{
    app::AppState,
    store::{
        RunId, RunStatus, Step, change_notices,
        events::Event,
        runs::{self, RunMark},
    },
    web::{
        auth::session::{CurrentUser, MaybeSession},
        error::WebError,
        layout::Layout,
    },
};

/// How often an open stream re-checks its session: the stream ends at most this long (plus
/// one database read) after the session does.
pub const SESSION_CHECK: Duration = Duration::from_secs(2);

/// At most one fragment per this long: a burst of a thousand events is one DOM update.
pub const COALESCE: Duration = Duration::from_millis(400);

/// How often the stream looks at the run without being woken by an event.
pub const STATUS_CHECK: Duration = Duration::from_secs(1);

use super::run_live;
use super::runs::{load_run, may_drive, run_id};

/// Where a stream stands.
enum Phase {
    /// Nothing sent yet: send the run as it stands at once.
    First,
    Live,
    /// The final fragment went out; `done` follows.
    Ending,
    Over,
}

struct Feed {
    state: AppState,
    layout: Layout,
    id: RunId,
    can_drive: bool,
    rx: broadcast::Receiver<Event>,
    /// Changes to runs made by other replicas (PostgreSQL's change notices).
    elsewhere: tokio::sync::watch::Receiver<u64>,
    phase: Phase,
    last_html: String,
    last_sent: Instant,
    /// The run as it stood when `last_html` was rendered; see [`Feed::unchanged`].
    last_mark: Option<RunMark>,
    /// Status and step of the last fragment sent; a change makes `records_due`.
    stage: Option<(RunStatus, Step)>,
    /// A `records` message goes out before the next fragment.
    records_due: bool,
}

impl Feed {
    /// Waits for an engine event or the status tick, then for the coalescing window, and
    /// takes every event queued meanwhile (they are all in the fragment about to render).
    /// Answers whether an event woke it (else the tick did).
    async fn wake(&mut self) -> bool {
        let by_event = tokio::select! {
            _ = self.rx.recv() => true,
            // Some run changed on another replica: a tick now, which renders only when this
            // run's mark moved.
            () = change_notices::changed(&mut self.elsewhere) => false,
            _ = tokio::time::sleep(STATUS_CHECK) => false,
        };
        tokio::time::sleep_until(self.last_sent + COALESCE).await;
        while let Ok(_) | Err(TryRecvError::Lagged(_)) = self.rx.try_recv() {}
        by_event
    }

    /// The run's mark now; None when it cannot be read (then the fragment is rendered, which
    /// reads the store too and ends the stream if that fails).
    async fn mark(&self) -> Option<RunMark> {
        runs::mark(self.state.store.readers(), self.id)
            .await
            .ok()
            .flatten()
    }

    /// Whether a tick found nothing to render: the run is not being applied (its fragment has
    /// no figure that moves with time, such as a rate) and its status, last update and newest
    /// event are those of the fragment last sent. One indexed read instead of a whole render
    /// every second for every open page of a waiting run; a run driven by another process
    /// changes its mark, so it is still followed.
    fn unchanged(&self, mark: Option<RunMark>) -> bool {
        let moving = matches!(
            mark.map(|m| m.status),
            Some(RunStatus::Applying | RunStatus::RollingBack)
        );
        mark.is_some() && mark == self.last_mark && !moving
    }

    /// The next message, or None once the stream is over.
    async fn next(&mut self) -> Option<SseEvent> {
        if std::mem::take(&mut self.records_due) {
            return Some(SseEvent::default().event("records").data("records"));
        }
        loop {
            match self.phase {
                Phase::Over => return None,
                Phase::Ending => {
                    self.phase = Phase::Over;
                    return Some(SseEvent::default().event("done").data("done"));
                }
                Phase::First => {
                    self.phase = Phase::Live;
                    self.last_mark = self.mark().await;
                }
                Phase::Live => {
                    let by_event = self.wake().await;
                    // Read before the render, so a change between the two is seen by the
                    // next tick rather than lost.
                    let mark = self.mark().await;
                    if !by_event && self.unchanged(mark) {
                        continue;
                    }
                    self.last_mark = mark;
                }
            }
            let view = match run_live::for_stream(
                &self.state,
                self.layout.clone(),
                self.id,
                self.can_drive,
            )
            .await
            {
                Ok(v) => v,
                Err(e) => {
                    // Fail closed: end the stream; the browser reconnects and starts afresh.
                    tracing::warn!(run = %self.id, error = ?e, "could not render a run's progress; ending its stream");
                    return None;
                }
            };
            let html = view.render().unwrap_or_default();
            let stage = Some((view.run.status, view.run.current_step));
            if !view.live {
                // `done` makes the page fetch the records.
                self.phase = Phase::Ending;
            } else if html == self.last_html {
                continue;
            } else {
                // Not on the first message: the page that opened the stream has just
                // rendered its records.
                self.records_due = self.stage.is_some() && self.stage != stage;
            }
            self.stage = stage;
            self.last_sent = Instant::now();
            let message = SseEvent::default()
                .event("progress")
                .id(view.last_event_id().to_string())
                .data(html.clone());
            self.last_html = html;
            return Some(message);
        }
    }
}

pub async fn stream(
    State(state): State<AppState>,
    MaybeSession(ctx): MaybeSession,
    user: CurrentUser,
    layout: Layout,
    Path(raw): Path<String>,
) -> Result<Sse<impl Stream<Item = Result<SseEvent, Infallible>>>, WebError> {
    // The route needs a signed-in viewer, so the access check has put the session here.
    let session = ctx
        .map(|c| c.id_hash)
        .ok_or_else(|| WebError::SignInRequired {
            next: format!("/runs/{raw}"),
        })?;
    let id = run_id(&raw)?;
    let run = load_run(&state, id).await?;
    let feed = Feed {
        rx: state.engine.subscribe(id),
        elsewhere: state.store.change_notices().runs(),
        state: state.clone(),
        layout,
        id,
        can_drive: may_drive(&user, &run),
        phase: Phase::First,
        last_html: String::new(),
        last_sent: Instant::now() - COALESCE,
        last_mark: None,
        stage: None,
        records_due: false,
    };
    let messages = stream::unfold(feed, |mut feed| async move {
        let message = feed.next().await?;
        Some((Ok(message), feed))
    });
    let events = messages.take_until(Box::pin(session_ended(state, session)));
    Ok(Sse::new(events).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}

/// Resolves once the session `id_hash` no longer stands. Read from the database, not the
/// session cache: a sign-out by another process (`natpilot user disable`) counts too. A
/// failed read ends the stream as well (fail closed; the browser reconnects and is asked
/// to sign in if need be).
async fn session_ended(state: AppState, id_hash: String) {
    let mut tick = tokio::time::interval(SESSION_CHECK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        match crate::web::auth::session::still_live(&state, &id_hash).await {
            Ok(true) => continue,
            Ok(false) => return,
            Err(e) => {
                tracing::warn!(error = %e, "could not re-check the session of an event stream; ending it");
                return;
            }
        }
    }
}
