//! Readiness while `natpilot serve` starts (issue 15, "Operations"): the portal's address is
//! bound first and, until the store is open and migrated, answers every request — `/healthz`
//! included — with `503 natpilot is starting: …` and `Retry-After`, so a load balancer sees a
//! replica that is not ready yet (instead of one that refuses connections or hangs), and an
//! operator's browser is told why. Migrations of one database run one replica at a time
//! (sqlx takes a lock), so a replica waiting for another's migration says so too.
//!
//! The listening socket is shared between the starting answer and the portal (a duplicate of
//! the same socket), so no connection is refused in between: one that arrives after the
//! starting answer stopped waits in the socket's backlog for the portal.

use axum::{
    Router,
    http::{StatusCode, header},
    response::IntoResponse,
};
use tokio::{net::TcpListener, sync::oneshot, task::JoinHandle};

/// The starting answer, serving until [`Starting::finish`].
pub(super) struct Starting {
    stop: oneshot::Sender<()>,
    task: JoinHandle<()>,
    socket: std::net::TcpListener,
}

/// Answers `503 natpilot is starting: {phase}` on `listener` until `finish`.
pub(super) fn answer_while_starting(
    listener: TcpListener,
    phase: &'static str,
) -> std::io::Result<Starting> {
    let socket = listener.into_std()?;
    let serving = TcpListener::from_std(socket.try_clone()?)?;
    let router = Router::new().fallback(move || async move {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            [
                (header::RETRY_AFTER, "2"),
                (header::CACHE_CONTROL, "no-store"),
                // No keep-alive: the portal, not this answer, serves the next request.
                (header::CONNECTION, "close"),
            ],
            format!("natpilot is starting: {phase}; try again in a moment\n"),
        )
            .into_response()
    });
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let serve = axum::serve(serving, router).with_graceful_shutdown(async {
            let _ = stopped.await;
        });
        if let Err(e) = serve.await {
            tracing::warn!(error = %e, "the starting answer stopped");
        }
    });
    Ok(Starting { stop, task, socket })
}

impl Starting {
    /// Stops the starting answer (its open requests end first) and gives the socket back for
    /// the portal.
    pub(super) async fn finish(self) -> std::io::Result<TcpListener> {
        let _ = self.stop.send(());
        let _ = self.task.await;
        self.socket.set_nonblocking(true)?;
        TcpListener::from_std(self.socket)
    }
}
