//! The typed notification events and their one writer. The payload is what every format is
//! rendered from; it names the run and what happened, never a secret.

use serde::{Deserialize, Serialize};

use crate::store::{self, RunId, runs::Run};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum EventKind {
    #[serde(rename = "step.failed")]
    StepFailed,
    #[serde(rename = "run.completed")]
    RunCompleted,
    #[serde(rename = "run.rolled_back")]
    RunRolledBack,
    #[serde(rename = "approval.requested")]
    ApprovalRequested,
    #[serde(rename = "approval.decided")]
    ApprovalDecided,
    /// An estate scan found a VPC drifting from its completed run (issue 13 item 4).
    #[serde(rename = "drift.found")]
    DriftFound,
}

impl EventKind {
    pub const ALL: [EventKind; 6] = [
        EventKind::StepFailed,
        EventKind::RunCompleted,
        EventKind::RunRolledBack,
        EventKind::ApprovalRequested,
        EventKind::ApprovalDecided,
        EventKind::DriftFound,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::StepFailed => "step.failed",
            EventKind::RunCompleted => "run.completed",
            EventKind::RunRolledBack => "run.rolled_back",
            EventKind::ApprovalRequested => "approval.requested",
            EventKind::ApprovalDecided => "approval.decided",
            EventKind::DriftFound => "drift.found",
        }
    }

    pub fn parse(s: &str) -> Option<EventKind> {
        EventKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// One notification, as stored and as sent (the generic JSON format is this object).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Notification {
    pub event: EventKind,
    pub run_id: String,
    pub account: String,
    pub region: String,
    pub vpc_id: String,
    /// The step it concerns (1–4), if any.
    pub step: Option<i64>,
    /// One line for a chat title: "natpilot: run on vpc-… completed".
    pub title: String,
    /// What happened and what to do next, in words.
    pub text: String,
    /// Tencent's error code and RequestId when a cloud call failed.
    pub error_code: Option<String>,
    pub request_id: Option<String>,
    /// The run page, relative to the portal (`/runs/<id>`).
    pub path: String,
}

impl Notification {
    fn for_run(run: &Run, event: EventKind, title: String, text: String) -> Notification {
        // A rehearsal's news is about a simulated twin: said first, so no reader of a chat
        // line takes it for a change to the real VPC (issue 13 item 7).
        let title = match run.rehearsal_of() {
            Some(of) => format!("[rehearsal on a simulated twin of {of}] {title}"),
            None => title,
        };
        Notification {
            event,
            run_id: run.id.to_string(),
            account: run.account.clone(),
            region: run.region.clone(),
            vpc_id: run.vpc_id.clone(),
            step: None,
            title,
            text,
            error_code: None,
            request_id: None,
            path: format!("/runs/{}", run.id),
        }
    }

    pub fn run_completed(run: &Run) -> Notification {
        Notification::for_run(
            run,
            EventKind::RunCompleted,
            format!("natpilot: run on {} completed", run.vpc_id),
            format!(
                "{} ({}) now leaves through its NAT gateway; all four steps are done.",
                run.vpc_id, run.region
            ),
        )
    }

    pub fn run_rolled_back(run: &Run) -> Notification {
        Notification::for_run(
            run,
            EventKind::RunRolledBack,
            format!("natpilot: run on {} rolled back", run.vpc_id),
            format!(
                "Every change of the run on {} ({}) was undone.",
                run.vpc_id, run.region
            ),
        )
    }

    pub fn step_failed(
        run: &Run,
        step: store::Step,
        phase: &str,
        code: &str,
        message: &str,
        request_id: Option<&str>,
    ) -> Notification {
        let mut n = Notification::for_run(
            run,
            EventKind::StepFailed,
            format!("natpilot: step {} on {} failed", step.number(), run.vpc_id),
            format!(
                "{} failed during {phase} on {} ({}): {code} — {message} (RequestId {}). \
                 Next: retry, roll back or abandon on the run page.",
                step.title(),
                run.vpc_id,
                run.region,
                request_id.unwrap_or("none")
            ),
        );
        n.step = Some(step.number());
        n.error_code = Some(code.to_owned());
        n.request_id = request_id.map(str::to_owned);
        n
    }

    /// A rollback that releases the NAT gateway's EIPs waits for an admin: request `id`.
    pub fn rollback_approval_requested(
        run: &Run,
        id: i64,
        requested_by: &str,
        eips: usize,
    ) -> Notification {
        Notification::for_run(
            run,
            EventKind::ApprovalRequested,
            format!(
                "natpilot: rollback of {} releasing EIPs waits for approval",
                run.vpc_id
            ),
            format!(
                "{requested_by} asks to roll back the run on {} ({}) and release the NAT \
                 gateway's {eips} EIP(s), which cannot be undone. Another admin reviews it and \
                 approves or rejects it on the approval page (request {id}).",
                run.vpc_id, run.region
            ),
        )
    }

    /// A confirmation waits for a second person: request `id`, deciders with `needs` or above.
    pub fn approval_requested(
        run: &Run,
        step: store::Step,
        id: i64,
        requested_by: &str,
        needs: &str,
        changes: usize,
    ) -> Notification {
        let mut n = Notification::for_run(
            run,
            EventKind::ApprovalRequested,
            format!(
                "natpilot: step {} on {} waits for approval",
                step.number(),
                run.vpc_id
            ),
            format!(
                "{requested_by} asks for approval of {} on {} ({}): {changes} change(s). \
                 Another {needs} reviews the exact plan and approves or rejects it on the \
                 approval page.",
                step.title(),
                run.vpc_id,
                run.region
            ),
        );
        n.step = Some(step.number());
        n.path = format!("/approvals/{id}");
        n
    }

    /// Request `id` was decided: `decision` in words (approved, rejected, void, expired), by
    /// whom, and the comment or the reason.
    pub fn approval_decided(
        run: &Run,
        step: store::Step,
        id: i64,
        decision: &str,
        by: &str,
        why: &str,
    ) -> Notification {
        let mut n = Notification::for_run(
            run,
            EventKind::ApprovalDecided,
            format!(
                "natpilot: approval of step {} on {} {decision}",
                step.number(),
                run.vpc_id
            ),
            format!(
                "Request {id} for {} on {} ({}) is {decision} ({by}){}",
                step.title(),
                run.vpc_id,
                run.region,
                if why.is_empty() {
                    ".".to_owned()
                } else {
                    format!(": {why}")
                }
            ),
        );
        n.step = Some(step.number());
        n.path = format!("/approvals/{id}");
        n
    }

    /// A scan found `what` in a VPC whose run `run_id` completed: finding `finding` on the
    /// estate page, open until a new run fixes it or an operator accepts it.
    pub fn drift_found(
        at: &crate::estate::drift::VpcKey,
        run_id: &str,
        finding: i64,
        what: &crate::estate::drift::DriftKind,
    ) -> Notification {
        Notification {
            event: EventKind::DriftFound,
            run_id: run_id.to_owned(),
            account: at.account.clone(),
            region: at.region.clone(),
            vpc_id: at.vpc_id.clone(),
            step: None,
            title: format!("natpilot: drift on {}: {}", at.vpc_id, what.title()),
            text: format!(
                "{} ({}, account {}) was closed by run {run_id}, and a scan now finds {}. \
                 Fix it with a new run, or accept it with a reason on the estate page \
                 (finding {finding}).",
                at.vpc_id,
                at.region,
                at.account,
                what.words()
            ),
            error_code: None,
            request_id: None,
            path: "/estate#drift".to_owned(),
        }
    }

    /// Decodes a stored payload strictly: a payload that does not decode is not sent.
    pub fn decode(kind: &str, payload: &str) -> Result<Notification, String> {
        let n: Notification = serde_json::from_str(payload)
            .map_err(|e| format!("stored notification does not decode: {e}"))?;
        if n.event.as_str() != kind {
            return Err(format!(
                "stored notification says {} but is filed as {kind}",
                n.event.as_str()
            ));
        }
        Ok(n)
    }
}

/// Stores `n` in the caller's transaction (the one that makes the change it announces).
pub async fn record(conn: &mut sqlx::AnyConnection, n: &Notification) -> sqlx::Result<i64> {
    let run: Option<RunId> = n.run_id.parse().ok();
    let payload = serde_json::to_value(n).map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
    store::notifications::append(conn, n.event.as_str(), run, &payload).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{RunStatus, Step};

    fn run(account: &str) -> Run {
        let now = chrono::Utc::now();
        Run {
            id: RunId::new(),
            account: account.to_owned(),
            region: "ap-guangzhou".into(),
            vpc_id: "vpc-tut0rial".into(),
            started_by: "olga".into(),
            status: RunStatus::Completed,
            current_step: Step::Verify,
            last_error: None,
            started_at: now,
            updated_at: now,
            finished_at: Some(now),
            finished_by: None,
        }
    }

    #[test]
    fn a_rehearsals_notification_says_first_that_it_is_a_rehearsal() {
        let twin = crate::rehearsal::TwinLabel::new("prod").to_string();
        let n = Notification::run_completed(&run(&twin));
        assert!(
            n.title.starts_with(
                "[rehearsal on a simulated twin of prod / ap-guangzhou / vpc-tut0rial] natpilot:"
            ),
            "{}",
            n.title
        );
        let real = Notification::run_completed(&run("prod"));
        assert!(real.title.starts_with("natpilot: run on"), "{}", real.title);
    }
}
