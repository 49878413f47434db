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
    /// A stored record did not decode: stop, never guess.
    #[error("{0}")]
    Record(super::records::RecordError),
    /// A test's crash hook fired: leave everything as it is.
    #[error("crashed at {0:?} (test hook)")]
    Crashed(CrashPoint),
}

/// Writes ledger entries in call order from a sync observer callback.
impl From<super::records::RecordError> for JobError {
    fn from(e: super::records::RecordError) -> JobError {
        match e {
            super::records::RecordError::Db(db) => JobError::Db(db),
            other => JobError::Record(other),
        }
    }
}

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

    pub fn crash_at(&self, point: CrashPoint, key: &str) -> Result<(), JobError> {
        match &self.crash {
            Some(hook) if hook(point, key) => Err(JobError::Crashed(point)),
            _ => Ok(()),
        }
    }
}
