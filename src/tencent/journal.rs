//! The write-ahead hook of a call: a [`CallJournal`] hears of every attempt *before* it is
//! sent and may refuse it, then hears how it ended. The run ledger hangs off this, so a call
//! that reached the cloud has its record even when the process dies while it is in flight;
//! the lease check (fencing) refuses a mutating call of a run this process no longer drives.
//!
//! Observers (`observer`) stay for what may be lost on a crash, such as metrics.

use std::{future::Future, pin::Pin};

use serde_json::Value;

use super::Service;
use super::observer::CallRecord;

pub type JournalFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// One attempt about to leave.
#[derive(Debug, Clone)]
pub struct Attempt<'a> {
    pub service: Service,
    pub action: &'static str,
    pub region: &'a str,
    /// 1 for the first attempt.
    pub attempt: u32,
    /// Whether the action changes the cloud (`Action::MUTATES`); fencing applies to these.
    pub mutates: bool,
    /// The request body with secrets redacted (`observer::redact`).
    pub parameters: &'a Value,
}

/// Why an attempt was not sent. The client returns it as `TencentError::Refused`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// A pseudo-code for the ledger and the operator, e.g. `natpilot.LeaseNotHeld`.
    pub code: String,
    /// What was wrong and what to do, for the operator.
    pub reason: String,
}

/// Opaque id of a journal entry (the ledger row id).
pub type EntryId = i64;

pub trait CallJournal: Send + Sync {
    /// Records the attempt durably; the client sends it only once this returns `Ok`. An
    /// error (a lease not held, a database that cannot be written) refuses the attempt.
    fn before_send<'a>(
        &'a self,
        attempt: &'a Attempt<'a>,
    ) -> JournalFuture<'a, Result<EntryId, Refusal>>;

    /// Completes the entry with the attempt's outcome, RequestId and duration. A failure here
    /// leaves the entry as "sent" (outcome unknown), which is what a crash would leave too.
    fn after_answer<'a>(&'a self, entry: EntryId, record: &'a CallRecord) -> JournalFuture<'a, ()>;
}
