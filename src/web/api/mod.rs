//! The JSON API under `/api/v1` (issue 14, item 4), for pipelines and scripts. Requests
//! authenticate with an API token (`Authorization: Bearer np_…`, see `account::tokens`); the
//! browser session cookie is ignored here, so CSRF does not apply. Errors are JSON
//! `{"code": "...", "message": "..."}`. The OpenAPI document, generated from these handlers
//! by `utoipa`, is served at `/api/v1/openapi.json`.

mod approvals;
mod auth;
mod doc;
mod error;
mod estate;
mod runs;

use axum::{
    Router, middleware,
    routing::{get, post},
};

use crate::app::AppState;

pub use auth::ApiCaller;
pub use error::ApiError;

/// The API's routes: all but the OpenAPI document need a token.
pub fn router(state: AppState) -> Router<AppState> {
    Router::new()
        .route("/api/v1/vpcs", get(runs::vpcs))
        .route("/api/v1/runs", get(runs::list).post(runs::start))
        .route("/api/v1/runs/{id}", get(runs::status))
        .route("/api/v1/runs/{id}/report", get(runs::report))
        .route("/api/v1/runs/{id}/steps/{n}", get(runs::step))
        .route("/api/v1/runs/{id}/steps/{n}/plan", post(runs::plan))
        .route("/api/v1/runs/{id}/steps/{n}/confirm", post(runs::confirm))
        .route("/api/v1/approvals", get(approvals::list))
        .route("/api/v1/approvals/{id}", get(approvals::get))
        .route("/api/v1/approvals/{id}/approve", post(approvals::approve))
        .route("/api/v1/approvals/{id}/reject", post(approvals::reject))
        .route("/api/v1/estate", get(estate::estate))
        .route("/api/v1/drift", get(estate::drift))
        .route_layer(middleware::from_fn_with_state(state, auth::authenticate))
        .route("/api/v1/openapi.json", get(doc::openapi))
}
