//! Errors the engine returns to its callers (the web handlers), each saying what was wrong
//! and what the operator can do next.

use chrono::{DateTime, Utc};

use crate::store::{RunId, RunStatus, Step, runs::InsertRunError};
use crate::wizard::cloud::CloudError;
use crate::wizard::input::FieldErrors;
use crate::wizard::plan::Conflict;

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(
        "VPC {vpc_id} is busy: run {holder} started by {started_by} at {since} is still active; wait for it, or ask an admin to abandon it"
    )]
    VpcBusy {
        vpc_id: String,
        holder: RunId,
        started_by: String,
        since: DateTime<Utc>,
    },
    #[error(transparent)]
    Invalid(#[from] FieldErrors),
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
}

impl From<InsertRunError> for StartError {
    fn from(e: InsertRunError) -> StartError {
        match e {
            InsertRunError::VpcBusy(h) => StartError::VpcBusy {
                vpc_id: String::new(),
                holder: h.run,
                started_by: h.started_by,
                since: h.since,
            },
            InsertRunError::Db(e) => StartError::Db(e),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("run {0} does not exist")]
    NotFound(RunId),
    #[error("run is {status} at step {step}; {wanted}")]
    WrongState {
        status: RunStatus,
        step: Step,
        wanted: String,
    },
    #[error(transparent)]
    Invalid(#[from] FieldErrors),
    #[error("the plan is blocked: {}", .0.iter().map(|c| c.message.as_str()).collect::<Vec<_>>().join("; "))]
    Blocked(Vec<Conflict>),
    #[error(
        "the plan is not the one previewed: the form or the cloud changed since the preview; review the plan as it is now and confirm again"
    )]
    PlanChanged,
    #[error(
        "VPC is held by run {holder} started by {started_by} at {since}; finish or abandon it first"
    )]
    VpcBusy {
        holder: RunId,
        started_by: String,
        since: DateTime<Utc>,
    },
    #[error("{0}")]
    Cloud(#[from] CloudError),
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
    /// An approval request could not be made or decided (issue 14, item 2).
    #[error("{0}")]
    Approval(#[from] super::approvals::ApprovalError),
    /// A stored record did not decode (names the record and what to do).
    #[error("{0}")]
    Record(super::records::RecordError),
}

impl From<super::records::RecordError> for EngineError {
    fn from(e: super::records::RecordError) -> EngineError {
        match e {
            super::records::RecordError::Db(db) => EngineError::Db(db),
            other => EngineError::Record(other),
        }
    }
}

impl EngineError {
    pub(crate) fn wrong(status: RunStatus, step: Step, wanted: impl Into<String>) -> EngineError {
        EngineError::WrongState {
            status,
            step,
            wanted: wanted.into(),
        }
    }
}
