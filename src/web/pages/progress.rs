//! Live progress of a run over Server-Sent Events (`/runs/{id}/events?after=N`), consumed by
//! the htmx SSE extension on the run page. Each message is one rendered timeline row.
//! Subscribe first, then replay stored events after `after`, then forward live ones, skipping
//! ids already sent — so nothing falls between the replay and the live feed.

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
    web::error::WebError,
};

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
    Path(raw): Path<String>,
    Query(q): Query<After>,
) -> Result<Sse<impl Stream<Item = Result<SseEvent, Infallible>>>, WebError> {
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
    Ok(Sse::new(replay.chain(live)).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}
