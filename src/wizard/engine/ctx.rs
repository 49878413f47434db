//! What a background job of one run carries: the store, the run, its cloud (with the
//! write-ahead ledger that records every call in `api_calls` before it is sent, fenced by the
//! run's lease), the live-event channel and the crash hook.

use std::sync::Arc;

use serde_json::Value;
use tokio::sync::broadcast;

use crate::store::{
    self, EventLevel, RunId, Step, Store,
    events::Event,
    ledger::{Answer, SentCall},
    runs::Run,
};
use crate::tencent::Refusal;
use crate::wizard::cloud::{
    CallScope, Cloud, CloudError, LedgerAnswer, LedgerCall, LedgerFuture, LedgerSink,
};

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
    /// The process is shutting down and the job reached a persisted point: leave the run as
    /// it is (applying / rolling back), the next start resumes it. A crash, but deliberate.
    #[error("stopped for shutdown at {0:?}")]
    ShuttingDown(CrashPoint),
}

impl From<super::records::RecordError> for JobError {
    fn from(e: super::records::RecordError) -> JobError {
        match e {
            super::records::RecordError::Db(db) => JobError::Db(db),
            other => JobError::Record(other),
        }
    }
}

/// The pseudo-code of a call refused because this process does not hold the run's lease.
pub const LEASE_NOT_HELD: &str = "natpilot.LeaseNotHeld";

/// The run's write-ahead ledger: each attempt's row is inserted (and awaited) before it is
/// sent and completed after its answer, on the store's writer — one small INSERT and one
/// UPDATE per attempt, no transaction held across the call. A mutating attempt gets its row
/// only while this process holds the run's lease (checked in the INSERT itself); otherwise it
/// is refused, naming who holds the lease.
pub struct LedgerWriter {
    store: Store,
    run: RunId,
    /// `None`: a rehearsal's calls to the real account while it copies the VPC, before step 1.
    step: Option<Step>,
    holder: Arc<str>,
}

/// The pseudo-code of a mutating call refused because its ledger takes describe calls only.
pub const READ_ONLY: &str = "natpilot.ReadOnly";

impl LedgerWriter {
    pub fn new(store: Store, scope: CallScope, holder: Arc<str>) -> LedgerWriter {
        LedgerWriter {
            store,
            run: scope.run,
            step: Some(scope.step),
            holder,
        }
    }

    /// The ledger of a rehearsal's copy of its real VPC: the calls to the real account, with
    /// no step (they come before step 1, and not to the twin). Read-only: it refuses to let
    /// a mutating call leave (fail closed), so it needs no lease.
    pub fn copy_of_real_vpc(store: Store, run: RunId, holder: Arc<str>) -> LedgerWriter {
        LedgerWriter {
            store,
            run,
            step: None,
            holder,
        }
    }

    /// Why a mutating call of the run may not be sent by this process.
    async fn not_held(&self, action: &str) -> Refusal {
        let run = self.run;
        let now = chrono::Utc::now();
        let reason = match store::lease::get(self.store.readers(), run).await {
            Ok(Some(l)) if l.holder != *self.holder && l.is_live(now) => format!(
                "lease for run {run} is held by process {} until {}; not sending {action}",
                l.holder,
                l.expires_at.to_rfc3339()
            ),
            Ok(Some(l)) => format!(
                "lease for run {run} (held by process {}) expired at {}; not sending {action}",
                l.holder,
                l.expires_at.to_rfc3339()
            ),
            Ok(None) => format!(
                "process {} does not hold the lease for run {run}; not sending {action}",
                self.holder
            ),
            Err(e) => format!(
                "lease for run {run} is not held by this process (and could not be read: {e}); not sending {action}"
            ),
        };
        Refusal {
            code: LEASE_NOT_HELD.to_owned(),
            reason,
        }
    }
}

impl LedgerSink for LedgerWriter {
    fn sent<'a>(&'a self, call: LedgerCall<'a>) -> LedgerFuture<'a, Result<i64, Refusal>> {
        Box::pin(async move {
            if self.step.is_none() && call.mutates {
                return Err(Refusal {
                    code: READ_ONLY.to_owned(),
                    reason: format!(
                        "the copy of a rehearsal's real VPC makes describe calls only; not sending {}",
                        call.action
                    ),
                });
            }
            let row = SentCall {
                run_id: self.run,
                step: self.step,
                service: call.service,
                action: call.action,
                region: call.region,
                attempt: i64::from(call.attempt),
                params: call.params,
                holder: &self.holder,
            };
            match store::ledger::begin(self.store.writer(), &row, call.mutates).await {
                Ok(Some(id)) => Ok(id),
                Ok(None) => Err(self.not_held(call.action).await),
                // Fail closed: a call that cannot be recorded is not made.
                Err(e) => Err(Refusal {
                    code: "natpilot.LedgerUnavailable".to_owned(),
                    reason: format!(
                        "could not write the ledger row of {} before sending it ({e}); not sending it. \
                         Check that the database is writable and has space, then retry",
                        call.action
                    ),
                }),
            }
        })
    }

    fn answered(&self, entry: i64, answer: LedgerAnswer) -> LedgerFuture<'_, ()> {
        Box::pin(async move {
            let answer = Answer {
                request_id: answer.request_id,
                duration_ms: answer.duration_ms,
                error_code: answer.error_code,
            };
            if let Err(e) = store::ledger::complete(self.store.writer(), entry, &answer).await {
                // The row stays `sent` (outcome unknown), as after a crash; the next call's
                // write-ahead insert meets the same database and stops the job if it is broken.
                tracing::error!(error = %e, entry, "could not complete an API call's ledger row");
            }
        })
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
