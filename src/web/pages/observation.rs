//! The step pages' "Cloud observed at HH:MM:SS · Refresh": step pages show the VPC from one
//! snapshot per step (engine `snapshots`), and Refresh observes it again
//! (Post/Redirect/Get back to the step page).

use axum::{
    extract::{Path, State},
    response::Redirect,
};

use crate::{
    app::AppState,
    store::RunStatus,
    web::{auth::session::CurrentUser, error::WebError},
};

use super::{run_actions::engine_error, wizard::prepare};

/// `POST /runs/{id}/step/{n}/refresh`: a new snapshot when the step is open; otherwise there
/// is none to renew and the page is simply shown again.
pub async fn refresh(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((raw, n)): Path<(String, i64)>,
) -> Result<Redirect, WebError> {
    let (run, step) = prepare(&state, &user, &raw, n).await?;
    if run.status == RunStatus::Active && run.current_step == step {
        state
            .engine
            .refresh_snapshot(run.id)
            .await
            .map_err(engine_error)?;
    }
    Ok(Redirect::to(&format!(
        "/runs/{}/step/{}",
        run.id,
        step.number()
    )))
}
