//! Step 4's pages besides the open step's view read the stored rows too (issue 11). A
//! previewed plan and a refused confirm (409: the page again with its plan, tables and
//! choices, what was typed kept) show the engine's fresh plan for the typed input above the
//! rows stored for the same rules and exceptions — current ones only, rebuilt outside the
//! request when they are not (`verify_build`). A confirmed step 4 (applying, done) shows the
//! rows stored for exactly the plan that was confirmed (the same digest), "as confirmed".
//! `None`: no such rows; the caller builds the table as before.

use crate::{
    app::AppState,
    store::{RunStatus, Step, runs::Run},
    web::error::WebError,
    wizard::{input::VerifyInput, plan::Plan},
};

use super::{step_details::StepDetails, verify_step::VerifyQuery, verify_stored};

/// The table under a fresh plan of the open step made with `input`.
pub async fn previewed(
    state: &AppState,
    run: &Run,
    input: &VerifyInput,
    query: &VerifyQuery,
) -> Result<Option<StepDetails>, WebError> {
    if !(run.status == RunStatus::Active && run.current_step == Step::Verify) {
        return Ok(None);
    }
    let rows = verify_stored::open_rows(state, run, input, query).await?;
    Ok(rows.map(|s| s.details))
}

/// The table of the confirmed `plan`, from the rows stored for it.
pub async fn confirmed(
    state: &AppState,
    run: &Run,
    plan: &Plan,
    query: &VerifyQuery,
) -> Result<Option<StepDetails>, WebError> {
    let rows = verify_stored::read_confirmed(state, run.id, &plan.digest().0, query).await?;
    Ok(rows.map(|s| s.details))
}
