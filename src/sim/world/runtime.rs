//! Runtime-only state of the world: TAT invocations, EIP tasks and the timers that drive
//! asynchronous transitions. None of this is part of a scenario file.

use std::time::Duration;

use serde::Serialize;

/// One TAT invocation (`inv-…`) with one task (`invt-…`) per instance (reference §4.26–4.28).
#[derive(Debug, Clone, Serialize)]
pub struct Invocation {
    pub id: String,
    pub command_id: String,
    pub command_name: String,
    pub description: String,
    /// Base64 script as the caller sent it.
    pub content: String,
    pub command_type: String,
    pub timeout: u64,
    pub working_directory: String,
    pub username: String,
    pub status: String,
    pub created_time: String,
    pub updated_time: String,
    pub tasks: Vec<InvocationTask>,
}

#[derive(Debug, Clone, Serialize)]
pub struct InvocationTask {
    pub id: String,
    pub instance_id: String,
    pub status: String,
    pub exit_code: Option<i64>,
    /// Base64 of the command's output.
    pub output: String,
    pub error_info: String,
    pub start_time: Option<String>,
    pub end_time: Option<String>,
}

/// What an EIP task (`TaskId`) does when it finishes.
#[derive(Debug, Clone, Serialize)]
pub enum TaskEffect {
    Allocate(Vec<String>),
    Associate { address: String },
    Disassociate { address: String, reallocate: bool },
    Release(Vec<String>),
    Transform { address: String },
}

#[derive(Debug, Clone, Serialize)]
pub struct EipTask {
    pub id: u64,
    /// `RUNNING`, `SUCCESS` or `FAILED` (DescribeTaskResult).
    pub result: String,
    pub effect: TaskEffect,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TimerKind {
    NatReady(String),
    NatGone(String),
    EipTask(u64),
    TatStart(String),
    TatFinish(String),
}

#[derive(Debug, Clone)]
pub struct Timer {
    pub due: Duration,
    pub seq: u64,
    pub kind: TimerKind,
}
