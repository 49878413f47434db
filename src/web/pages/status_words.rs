//! Machine states in words for pages: "rolled back", not `rolled_back`. Pages keep the
//! machine value in a `data-status` attribute (tests and scripts read that) and show these.

use crate::store::{RunStatus, StepState, UndoState};

/// A state as an operator reads it.
pub(crate) trait InWords {
    fn words(&self) -> &'static str;
}

impl InWords for RunStatus {
    fn words(&self) -> &'static str {
        match self {
            RunStatus::Active => "active",
            RunStatus::Applying => "applying",
            RunStatus::Failed => "failed",
            RunStatus::RollingBack => "rolling back",
            RunStatus::Completed => "completed",
            RunStatus::RolledBack => "rolled back",
            RunStatus::Abandoned => "abandoned",
        }
    }
}

impl InWords for StepState {
    fn words(&self) -> &'static str {
        match self {
            StepState::Planned => "planned",
            StepState::Applying => "applying",
            StepState::Applied => "applied",
            StepState::Failed => "failed",
            StepState::RolledBack => "rolled back",
        }
    }
}

/// Undo records say what the change and its undo are at: "done" alone would read as if the
/// undo had run.
impl InWords for UndoState {
    fn words(&self) -> &'static str {
        match self {
            UndoState::Pending => "change under way — undo ready if it was made",
            UndoState::Done => "change made — undo ready",
            UndoState::Undone => "undone",
            UndoState::NotNeeded => "nothing to undo",
            UndoState::Irreversible => "change made — cannot be undone",
            UndoState::Failed => "undo failed",
        }
    }
}

/// Short forms for counts ("12 undone, 3 ready").
pub(crate) fn undo_short(state: UndoState) -> &'static str {
    match state {
        UndoState::Pending => "under way",
        UndoState::Done => "undo ready",
        UndoState::Undone => "undone",
        UndoState::NotNeeded => "nothing to undo",
        UndoState::Irreversible => "cannot be undone",
        UndoState::Failed => "undo failed",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_state_is_shown_as_its_machine_value_with_an_underscore() {
        for s in RunStatus::ALL {
            assert!(!s.words().contains('_'), "{s}");
        }
        assert_eq!(RunStatus::RolledBack.words(), "rolled back");
        assert_eq!(StepState::RolledBack.words(), "rolled back");
    }

    #[test]
    fn a_made_change_does_not_read_as_a_finished_undo() {
        assert_eq!(UndoState::Done.words(), "change made — undo ready");
        assert!(!UndoState::Done.words().starts_with("done"));
    }
}
