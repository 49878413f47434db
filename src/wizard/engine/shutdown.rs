//! Graceful shutdown of the engine: every running job stops at its next persisted point
//! (`Ctx::crash_at`), leaving its run `applying` / `rolling_back` for the next start to resume,
//! exactly as after a crash but on purpose and logged. Waiting is bounded: a job inside a long
//! cloud wait (a NAT gateway becoming AVAILABLE) is left to the process exit, which is safe for
//! the same reason a crash is (undo records first, reconcile before every create).

use std::time::Duration;

use super::Engine;

/// How long [`Engine::shutdown`] waits for jobs by default: a change's call and its record
/// take well under this on Tencent Cloud; a service manager's stop timeout is usually longer.
pub const SHUTDOWN_BOUND: Duration = Duration::from_secs(30);

impl Engine {
    /// Tells every job to stop at its next persisted point and refuses new jobs. Returns at
    /// once; [`Engine::shutdown`] also waits.
    pub fn begin_shutdown(&self) {
        self.inner.shutdown.send_replace(true);
    }

    pub fn is_shutting_down(&self) -> bool {
        *self.inner.shutdown.borrow()
    }

    pub(super) fn shutdown_signal(&self) -> tokio::sync::watch::Receiver<bool> {
        self.inner.shutdown.subscribe()
    }

    /// Begins the shutdown and waits up to `bound` for the running jobs to stop. Returns how
    /// many were still running when the bound passed (they stop with the process).
    pub async fn shutdown(&self, bound: Duration) -> usize {
        self.begin_shutdown();
        let handles: Vec<_> = self
            .inner
            .tasks
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .drain()
            .map(|(_, h)| h)
            .filter(|h| !h.is_finished())
            .collect();
        let running = handles.len();
        if running > 0 {
            tracing::info!(
                jobs = running,
                "shutting down: waiting for jobs to reach a persisted point"
            );
        }
        let deadline = tokio::time::Instant::now() + bound;
        let mut left = 0;
        for mut handle in handles {
            if tokio::time::timeout_at(deadline, &mut handle)
                .await
                .is_err()
            {
                left += 1;
            }
        }
        if let Err(e) = self.give_up_rehearsals().await {
            tracing::warn!(error = %e, "could not give up this process's rehearsal twins");
        }
        if left > 0 {
            tracing::warn!(
                jobs = left,
                bound_secs = bound.as_secs(),
                "shutting down: jobs still inside a cloud call or wait; they resume at the next start"
            );
        }
        left
    }
}
