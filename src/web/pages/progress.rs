//! Live progress of a run over Server-Sent Events (`/runs/{id}/events?after=N`), consumed by
//! the htmx SSE extension on the run page. Each message is one rendered timeline row.
//! Subscribe first, then replay stored events after `after`, then forward live ones, skipping
//! ids already sent — so nothing falls between the replay and the live feed.
//! A stream lives only as long as the session that opened it: it checks the session every
//! [`SESSION_CHECK`] and ends once the session has (sign-out, disabled user, password reset,
//! timeouts), issue 10 defect 6.

use std::{convert::Infallible, time::Duration};

use askama::Template;
use axum::{
    extract::{Path, Query, State},
    response::sse::{Event as SseEvent, KeepAlive, Sse},
};
use futures_util::stream::{self, Stream, StreamExt};
use serde::Deserialize;
use tokio::sync::broadcast::error::RecvError;

use crate::{
    app::AppState,
    store::{self, events::Event},
    web::{auth::session::MaybeSession, error::WebError},
};

/// How often an open stream re-checks its session: the stream ends at most this long (plus
/// one database read) after the session does.
pub const SESSION_CHECK: Duration = Duration::from_secs(2);

use super::runs::{load_run, run_id};

#[derive(Template)]
#[template(path = "partials/event_row.html")]
pub struct EventRow<'a> {
    pub e: &'a Event,
}

#[derive(Deserialize)]
pub struct After {
    #[serde(default)]
    after: i64,
}

fn message(e: &Event) -> SseEvent {
    let html = EventRow { e }.render().unwrap_or_default();
    SseEvent::default()
        .event("event")
        .id(e.id.to_string())
        .data(html)
}

pub async fn stream(
    State(state): State<AppState>,
    MaybeSession(ctx): MaybeSession,
    Path(raw): Path<String>,
    Query(q): Query<After>,
) -> Result<Sse<impl Stream<Item = Result<SseEvent, Infallible>>>, WebError> {
    // The route needs a signed-in viewer, so the access check has put the session here.
    let session = ctx
        .map(|c| c.id_hash)
        .ok_or_else(|| WebError::SignInRequired {
            next: format!("/runs/{raw}"),
        })?;
    let id = run_id(&raw)?;
    load_run(&state, id).await?;
    let live = state.engine.subscribe(id);
    let stored = store::events::list(state.store.readers(), id, q.after, 10_000).await?;
    let last = stored.last().map_or(q.after, |e| e.id);
    let replay = stream::iter(stored.into_iter().map(|e| Ok(message(&e))));
    let live = stream::unfold((live, last), |(mut rx, last)| async move {
        loop {
            match rx.recv().await {
                Ok(e) if e.id > last => {
                    let next = e.id;
                    return Some((Ok(message(&e)), (rx, next)));
                }
                Ok(_) | Err(RecvError::Lagged(_)) => continue,
                Err(RecvError::Closed) => return None,
            }
        }
    });
    let events = replay
        .chain(live)
        .take_until(Box::pin(session_ended(state, session)));
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
