//! Step 3's page at scale (issue 11): the open step's preview with its default input — the
//! plan in words and the per-route-table breakdown — is stored (`store::route_views`) with
//! what it was made from: the snapshot's picture (a digest of what it saw, so a fresh
//! observation of an unchanged VPC keeps it current), the run's state, the step input, and
//! the version of the stored inputs that triggers bump (egress results, protected hosts, keep
//! marks). A view whose inputs are the same reads it instead of planning the whole VPC; any
//! other view plans afresh and stores what it shows. A stored view that does not decode is
//! never guessed at: the page plans afresh and says so.
//!
//! Display only: a confirm re-plans from a fresh observation in the engine and carries the
//! digest of the plan the page showed, so a stored view could never be what is applied.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::{
    app::AppState,
    store::{
        RunStatus, Step,
        route_views::{self, RouteView},
        runs::Run,
        verify_rows,
    },
    web::error::WebError,
    wizard::{
        engine::EngineError,
        input::{RouteInput, StepInput},
    },
};

use super::{
    route_step::RouteStepView,
    step_details::{self, Shown, StepDetails},
    step_view::{PlanView, plan_view},
};

/// What is stored: exactly what the page shows besides the form.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Body {
    plan: PlanView,
    tables: RouteStepView,
}

/// [`Body`] as written, borrowing what the page shows.
#[derive(Serialize)]
struct BodyOut<'a> {
    plan: &'a PlanView,
    tables: &'a RouteStepView,
}

/// What a view shows: the plan in words and the breakdown, and a notice when a stored view
/// could not be read (the plan was then made afresh).
pub struct Visit {
    pub plan: PlanView,
    pub details: StepDetails,
    pub notice: Option<String>,
}

/// What the view was made from besides the stored inputs' version.
fn basis(run: &Run, picture: &str, input: &RouteInput) -> String {
    let input = serde_json::to_vec(input).unwrap_or_default();
    format!(
        "snapshot={picture} run={} {}/{} input={}",
        run.updated_at.to_rfc3339(),
        run.status.as_str(),
        run.current_step.number(),
        hex::encode(Sha256::digest(&input))
    )
}

fn details(tables: RouteStepView) -> StepDetails {
    StepDetails {
        route_tables: tables,
        plan_source: "preview",
        ..StepDetails::default()
    }
}

/// Step 3's page for the open step with `input`: the stored view when it is current, else a
/// fresh plan (stored for the next view). `None`: not that case, or the engine did not plan
/// (the caller shows the page as before, with the reason).
pub async fn visit(
    state: &AppState,
    run: &Run,
    input: Option<&StepInput>,
) -> Result<Option<Visit>, WebError> {
    let Some(input @ StepInput::Route(route)) = input else {
        return Ok(None);
    };
    if !(run.status == RunStatus::Active && run.current_step == Step::Route) {
        return Ok(None);
    }
    let notice = match current(state, run, route).await? {
        Ok(Some(body)) => {
            return Ok(Some(Visit {
                plan: body.plan,
                details: details(body.tables),
                notice: None,
            }));
        }
        Ok(None) => None,
        Err(e) => {
            tracing::warn!(run = %run.id, error = %e, "stored step 3 view does not decode; planning afresh");
            Some(format!(
                "The stored preview of this step could not be read ({e}); the plan below was \
                 made afresh."
            ))
        }
    };
    // Read before planning: an input written meanwhile leaves what is stored stale.
    let version = verify_rows::inputs_version(state.store.readers(), run.id).await?;
    let (plan, inventory, taken_at) = match state.engine.preview_step_seen(run.id, input).await {
        Ok(planned) => planned,
        Err(EngineError::Db(e)) => return Err(e.into()),
        Err(_) => return Ok(None),
    };
    let shown_plan = plan_view(&plan, inventory.as_deref());
    let loaded =
        step_details::load(state, run, Step::Route, Shown::preview(plan, inventory)).await?;
    // Stored only when the snapshot planned from is still the step's: its picture names it.
    if let Some(snapshot) = state.engine.kept_snapshot(run, Step::Route)
        && Some(snapshot.taken_at) == taken_at
    {
        let picture = state.verify_builds.picture(run.id, &snapshot);
        let body = BodyOut {
            plan: &shown_plan,
            tables: &loaded.route_tables,
        };
        let view = RouteView {
            version,
            basis: basis(run, &picture, route),
            body: serde_json::to_string(&body).map_err(|e| WebError::Internal(e.into()))?,
        };
        route_views::put(state.store.writer(), run.id, &view).await?;
    }
    Ok(Some(Visit {
        plan: shown_plan,
        details: details(loaded.route_tables),
        notice,
    }))
}

/// The stored view if it was made from what is current now; `Err` when it does not decode.
async fn current(
    state: &AppState,
    run: &Run,
    input: &RouteInput,
) -> Result<Result<Option<Body>, serde_json::Error>, WebError> {
    let Some(snapshot) = state.engine.kept_snapshot(run, Step::Route) else {
        return Ok(Ok(None));
    };
    let picture = state.verify_builds.picture(run.id, &snapshot);
    let basis = basis(run, &picture, input);
    // The view and the inputs' version from one read transaction (one snapshot).
    let mut tx = state.store.readers().begin().await?;
    let stored = route_views::get(&mut *tx, run.id).await?;
    let version = verify_rows::inputs_version(&mut *tx, run.id).await?;
    tx.commit().await?;
    let Some(stored) = stored.filter(|s| s.basis == basis && s.version == version) else {
        return Ok(Ok(None));
    };
    Ok(serde_json::from_str(&stored.body).map(Some))
}
