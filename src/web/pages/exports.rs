//! A run's VPC before and now: the topology pictures (`/runs/{id}/topology`: the inventory
//! recorded at the Assess step next to a fresh one) and the resources the run left behind as
//! Terraform (`/runs/{id}/terraform`). Fresh inventories come through the engine (read-only;
//! the calls are not the run's and stay out of its ledger) and are rendered by the pure
//! functions of `export`.

use std::collections::BTreeSet;

use askama::Template;
use askama_web::WebTemplate;
use axum::{
    extract::{Path, State},
    http::header,
    response::{IntoResponse, Redirect, Response},
};
use chrono::{DateTime, Utc};

use crate::{
    app::AppState,
    export::{terraform, topology},
    store::{self, runs::Run},
    web::{error::WebError, layout::Layout},
};

use super::run_actions::engine_error;
use super::runs::{load_run, run_id};

#[derive(Template, WebTemplate)]
#[template(path = "runs/topology.html")]
pub struct TopologyPage {
    layout: Layout,
    run: Run,
    /// Trusted markup: `topology::render` escapes every cloud-provided string itself.
    /// `None` when the run has no recorded assessment (it never finished one).
    before: Option<String>,
    before_at: String,
    now: String,
    /// When the "now" picture was observed (shared by views for a few minutes).
    now_at: DateTime<Utc>,
    changes: Vec<String>,
    protected: usize,
}

pub async fn topology_page(
    State(state): State<AppState>,
    layout: Layout,
    Path(raw): Path<String>,
) -> Result<TopologyPage, WebError> {
    let id = run_id(&raw)?;
    let run = load_run(&state, id).await?;
    let observed = state.engine.view_observed(id).await.map_err(engine_error)?;
    let now = &*observed.inventory;
    let before = state
        .engine
        .inventory_before(id)
        .await
        .map_err(engine_error)?;
    let protected: BTreeSet<String> = store::results::list_protected(state.store.readers(), id)
        .await?
        .into_iter()
        .filter(|p| p.protected)
        .map(|p| p.instance_id)
        .collect();
    let vpc = &run.vpc_id;
    Ok(TopologyPage {
        layout,
        before: before
            .as_ref()
            .map(|(inv, _)| topology::render(inv, &protected, &format!("VPC {vpc} before"))),
        before_at: before
            .as_ref()
            .map(|(_, at)| at.format("%Y-%m-%d %H:%M UTC").to_string())
            .unwrap_or_default(),
        changes: before
            .as_ref()
            .map(|(inv, _)| topology::changes(inv, now))
            .unwrap_or_default(),
        now: topology::render(now, &protected, &format!("VPC {vpc} now")),
        now_at: observed.taken_at,
        protected: protected.len(),
        run,
    })
}

/// `POST /runs/{id}/topology/refresh` (operators, like a step's Refresh: it spends the
/// account's Describe budget): observe the VPC again for the topology (read-only), then show
/// it (Post/Redirect/Get).
pub async fn refresh_topology(
    State(state): State<AppState>,
    Path(raw): Path<String>,
) -> Result<Redirect, WebError> {
    let id = run_id(&raw)?;
    load_run(&state, id).await?;
    state.engine.refresh_view(id);
    Ok(Redirect::to(&format!("/runs/{id}/topology")))
}

pub async fn terraform_file(
    State(state): State<AppState>,
    Path(raw): Path<String>,
) -> Result<Response, WebError> {
    let id = run_id(&raw)?;
    load_run(&state, id).await?;
    let observed = state.engine.view_observed(id).await.map_err(engine_error)?;
    let body = terraform::render(&terraform::from_inventory(
        &id.to_string(),
        &observed.inventory,
    ));
    let disposition = format!("attachment; filename=\"natpilot-run-{id}.tf\"");
    Ok((
        [
            (
                header::CONTENT_TYPE,
                "text/plain; charset=utf-8".to_string(),
            ),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        body,
    )
        .into_response())
}
