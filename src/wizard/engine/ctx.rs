//! What a background job of one run carries: the store, the run, its cloud (with a ledger
//! that writes every call to `api_calls`), the live-event channel and the crash hook.

use std::sync::Arc;

use serde_json::Value;
use tokio::sync::{broadcast, mpsc};

use crate::store::{
    self, EventLevel, RunId, Step, Store, events::Event, ledger::ApiCall, runs::Run,
};
use crate::wizard::cloud::{Cloud, CloudError, LedgerSink};

/// Points between which a test can make the engine "crash" (the job stops dead, leaving the
/// database as a real crash would). Checked around every mutating cloud call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CrashPoint {
    /// The undo record is written; the call has not been sent.
    UndoWritten,
    /// The call went through; its result is not recorded yet.
    CallSent,
    /// The result is recorded; the next change has not started.
    ResultRecorded,
}

/// Decides whether to crash at a point; gets the change key (e.g. `create_nat`,
/// `route:rtb-1`, `disassociate:ins-1`).
pub type CrashHook = Arc<dyn Fn(CrashPoint, &str) -> bool + Send + Sync>;

/// Why a job stopped early.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    #[error("{0}")]
    Cloud(#[from] CloudError),
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
    /// A test's crash hook fired: leave everything as it is.
    #[error("crashed at {0:?} (test hook)")]
    Crashed(CrashPoint),
    /// The process is shutting down and the job reached a persisted point: leave the run as
    /// it is (applying / rolling back), the next start resumes it. A crash, but deliberate.
    #[error("stopped for shutdown at {0:?}")]
    ShuttingDown(CrashPoint),
}

/// Writes ledger entries in call order from a sync observer callback.
pub struct LedgerWriter {
    tx: mpsc::UnboundedSender<ApiCall>,
    done: tokio::task::JoinHandle<()>,
}

struct ChannelSink(mpsc::UnboundedSender<ApiCall>);

impl LedgerSink for ChannelSink {
    fn record(&self, entry: ApiCall) {
        // The receiver lives until `finish`; a send after that would only lose a ledger line
        // of a call made after the job ended, which cannot happen.
        let _ = self.0.send(entry);
    }
}

impl LedgerWriter {
    pub fn start(store: Store) -> (LedgerWriter, Arc<dyn LedgerSink>) {
        let (tx, mut rx) = mpsc::unbounded_channel::<ApiCall>();
        let done = tokio::spawn(async move {
            while let Some(call) = rx.recv().await {
                if let Err(e) = store::ledger::record(store.writer(), &call).await {
                    tracing::error!(error = %e, "could not record an API call in the ledger");
                }
            }
        });
        (
            LedgerWriter {
                tx: tx.clone(),
                done,
            },
            Arc::new(ChannelSink(tx)),
        )
    }

    /// Waits until every entry sent so far is stored.
    pub async fn finish(self) {
        drop(self.tx);
        let _ = self.done.await;
    }
}

pub struct Ctx {
    pub store: Store,
    pub run: Run,
    pub cloud: Arc<dyn Cloud>,
    pub events: broadcast::Sender<Event>,
    pub crash: Option<CrashHook>,
    /// Turns true when the process begins to shut down (`Engine::begin_shutdown`).
    pub shutdown: tokio::sync::watch::Receiver<bool>,
    pub poll: crate::wizard::poll::Poll,
    /// How many retirements run at once (`EngineOptions::concurrency`).
    pub concurrency: usize,
}

impl Ctx {
    pub fn id(&self) -> RunId {
        self.run.id
    }

    /// Persists an event, then tells live viewers (persist first: a viewer that reconnects
    /// must find in the database everything it was shown).
    pub async fn event(
        &self,
        step: Option<Step>,
        level: EventLevel,
        message: &str,
        data: Value,
    ) -> Result<(), JobError> {
        let ev = store::events::append(self.store.writer(), self.id(), step, level, message, &data)
            .await?;
        let _ = self.events.send(ev);
        Ok(())
    }

    pub async fn info(&self, step: Step, message: &str) -> Result<(), JobError> {
        self.event(Some(step), EventLevel::Info, message, Value::Null)
            .await
    }

    /// A point between changes: a test's crash hook may stop the job dead here, and a
    /// shutdown stops it here. Shutdown stops only where everything so far is recorded — the
    /// undo record of the next change written and its call not sent, or a change's result
    /// recorded — never between a call and its record (`CallSent`).
    pub fn crash_at(&self, point: CrashPoint, key: &str) -> Result<(), JobError> {
        if let Some(hook) = &self.crash
            && hook(point, key)
        {
            return Err(JobError::Crashed(point));
        }
        if point != CrashPoint::CallSent && *self.shutdown.borrow() {
            return Err(JobError::ShuttingDown(point));
        }
        Ok(())
    }
}
