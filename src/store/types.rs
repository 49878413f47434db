//! Typed ids and enums shared by the store and the wizard, each mapped to its SQL text.
//! Parsing from SQL is strict: an unknown value is a corrupt row, reported as a decode error.

use std::{fmt, str::FromStr};

use chrono::{DateTime, TimeZone, Utc};
use serde::{Deserialize, Serialize};

/// A run's id. A uuid, so the `natpilot:run=<id>` cloud tag cannot collide between two
/// natpilot installations working on the same account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RunId(pub uuid::Uuid);

impl RunId {
    pub fn new() -> RunId {
        RunId(uuid::Uuid::new_v4())
    }

    /// The value of the `natpilot:run` tag put on resources this run creates.
    pub fn tag_value(&self) -> String {
        self.0.to_string()
    }
}

impl Default for RunId {
    fn default() -> Self {
        RunId::new()
    }
}

impl fmt::Display for RunId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl FromStr for RunId {
    type Err = uuid::Error;
    fn from_str(s: &str) -> Result<RunId, uuid::Error> {
        uuid::Uuid::parse_str(s).map(RunId)
    }
}

/// Error for a column holding a value outside its enum.
#[derive(Debug, thiserror::Error)]
#[error("unknown {what} {value:?} in the database")]
pub struct BadValue {
    pub what: &'static str,
    pub value: String,
}

macro_rules! sql_enum {
    ($(#[$m:meta])* $name:ident, $what:literal { $($(#[$vm:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($(#[$vm])* $variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            pub fn as_str(&self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = BadValue;
            fn from_str(s: &str) -> Result<$name, BadValue> {
                match s {
                    $($text => Ok($name::$variant),)+
                    _ => Err(BadValue { what: $what, value: s.to_owned() }),
                }
            }
        }
    };
}

sql_enum!(
    /// Where a run stands. The first four hold the VPC (see the unique index in 0002).
    RunStatus, "run status" {
        /// Waiting for the operator to plan/confirm the current step.
        Active = "active",
        /// A step is being applied by the engine.
        Applying = "applying",
        /// A step (or the rollback) failed; retry, rollback or abandon.
        Failed = "failed",
        RollingBack = "rolling_back",
        Completed = "completed",
        RolledBack = "rolled_back",
        Abandoned = "abandoned",
    }
);

impl RunStatus {
    /// Whether a run in this status holds its VPC.
    pub fn holds_vpc(&self) -> bool {
        matches!(
            self,
            RunStatus::Active | RunStatus::Applying | RunStatus::Failed | RunStatus::RollingBack
        )
    }
}

sql_enum!(StepState, "step state" {
    Planned = "planned",
    Applying = "applying",
    Applied = "applied",
    Failed = "failed",
    RolledBack = "rolled_back",
});

sql_enum!(EventLevel, "event level" { Info = "info", Warn = "warn", Error = "error" });

sql_enum!(
    /// Life of an undo record: written `Pending` before the call it undoes.
    UndoState, "undo state" {
        Pending = "pending",
        Done = "done",
        Undone = "undone",
        /// The call never took effect, so there is nothing to undo.
        NotNeeded = "not_needed",
        /// The change cannot be undone (a released address); rollback reports it.
        Irreversible = "irreversible",
        Failed = "failed",
    }
);

sql_enum!(
    /// Where a rehearsal stands (issue 13 item 7; its run's status says the rest).
    RehearsalPhase, "rehearsal phase" {
        /// A job of the owning process copies the real VPC, read-only, into the twin; the run
        /// waits before step 1's assessment. A rehearsal that ended in this phase never got
        /// its twin (the copy failed, or the process stopped).
        Copying = "copying",
        /// The twin is registered: the rollout goes on there.
        Rehearsing = "rehearsing",
    }
);

sql_enum!(EgressPhase, "egress phase" { Baseline = "baseline", After = "after" });

sql_enum!(EgressOutcome, "egress outcome" {
    Ip = "ip",
    Failed = "failed",
    /// Stopped instance or TAT agent offline: not a failure, just no evidence.
    Untestable = "untestable",
});

sql_enum!(ReportKind, "report kind" { Exposure = "exposure", Final = "final", Rollback = "rollback" });

/// The four wizard steps, numbered as in DESIGN.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    Assess = 1,
    Provision = 2,
    Route = 3,
    Verify = 4,
}

impl Step {
    pub const ALL: [Step; 4] = [Step::Assess, Step::Provision, Step::Route, Step::Verify];

    pub fn number(&self) -> i64 {
        *self as i64
    }

    pub fn from_number(n: i64) -> Result<Step, BadValue> {
        Step::ALL
            .into_iter()
            .find(|s| s.number() == n)
            .ok_or(BadValue {
                what: "step",
                value: n.to_string(),
            })
    }

    pub fn next(&self) -> Option<Step> {
        Step::from_number(self.number() + 1).ok()
    }

    pub fn title(&self) -> &'static str {
        match self {
            Step::Assess => "Assess exposure",
            Step::Provision => "Provision NAT gateway",
            Step::Route => "Route egress through the NAT",
            Step::Verify => "Verify and retire public IPs",
        }
    }
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.title())
    }
}

/// Milliseconds since the epoch, the storage form of every timestamp.
pub fn to_millis(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

pub fn from_millis(ms: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(ms).single().unwrap_or_default()
}

pub fn now_millis() -> i64 {
    to_millis(Utc::now())
}

/// Maps a parse failure of a stored value into sqlx's decode error.
pub(crate) fn decode<T, E: std::error::Error + Send + Sync + 'static>(
    r: Result<T, E>,
) -> sqlx::Result<T> {
    r.map_err(|e| sqlx::Error::Decode(Box::new(e)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_round_trips_through_its_sql_text() {
        for s in RunStatus::ALL {
            assert_eq!(s.as_str().parse::<RunStatus>().unwrap(), *s);
        }
        assert!("running".parse::<RunStatus>().is_err());
    }

    #[test]
    fn only_unfinished_statuses_hold_the_vpc() {
        let holding: Vec<_> = RunStatus::ALL.iter().filter(|s| s.holds_vpc()).collect();
        assert_eq!(holding.len(), 4);
        assert!(!RunStatus::Completed.holds_vpc());
    }

    #[test]
    fn steps_are_numbered_one_to_four_in_order() {
        assert_eq!(Step::from_number(3).unwrap(), Step::Route);
        assert_eq!(Step::Verify.next(), None);
        assert!(Step::from_number(5).is_err());
    }
}
