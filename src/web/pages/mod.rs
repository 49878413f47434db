//! Pages every signed-in user reads (dashboard, history, a run's page) and the forms that
//! start and drive runs, plus the open health check.

pub(crate) mod call_outcome;
pub mod dashboard;
pub mod egress_words;
pub mod exports;
pub mod exposure;
pub mod exposure_view;
pub mod keep_egress;
pub mod new_run;
/// Counts and money in words, shared with the wizard's messages.
pub use crate::numbers;
pub mod observation;
pub mod plan_summary;
pub mod progress;
pub mod protection;
pub mod provision_step;
pub mod rehearse;
pub mod retire_exceptions;
pub mod route_flips;
pub mod route_step;
pub mod route_stored;
pub mod run_actions;
pub mod run_records;
pub mod runs;
pub mod step_details;
pub mod step_pace;
pub mod step_view;
pub mod verify_build;
pub mod verify_counts;
pub mod verify_edit;
pub mod verify_query;
pub mod verify_shown;
pub mod verify_step;
pub mod verify_step_form;
pub mod verify_stored;
pub mod wizard;
// The run page at scale (issue 11): live fragment, outcome, rollback offer, words.
pub(crate) mod rollback_view;
pub(crate) mod run_live;
pub(crate) mod run_outcome;
pub(crate) mod status_words;

use super::routes::{Access, Routes};

pub fn routes() -> Routes {
    Routes::default()
        .get("/healthz", Access::Open, healthz)
        .get("/", Access::Viewer, dashboard::page)
        .get("/runs", Access::Viewer, runs::history)
        .get("/runs/new", Access::Operator, new_run::form)
        .post("/runs", Access::Operator, new_run::start)
        .post("/rehearse", Access::Operator, rehearse::rehearse)
        .get("/runs/{id}", Access::Viewer, runs::detail)
        .get("/runs/{id}/report", Access::Viewer, runs::report_json)
        .get("/runs/{id}/calls", Access::Viewer, run_records::calls)
        .get("/runs/{id}/timeline", Access::Viewer, run_records::timeline)
        .get(
            "/runs/{id}/topology",
            Access::Viewer,
            exports::topology_page,
        )
        .post(
            "/runs/{id}/topology/refresh",
            Access::Operator,
            exports::refresh_topology,
        )
        .get(
            "/runs/{id}/terraform",
            Access::Viewer,
            exports::terraform_file,
        )
        .get("/runs/{id}/events", Access::Viewer, progress::stream)
        .get("/runs/{id}/progress", Access::Viewer, run_live::fragment)
        .get("/runs/{id}/undo", Access::Viewer, run_records::undo)
        .post("/runs/{id}/retry", Access::Operator, run_actions::retry)
        .post(
            "/runs/{id}/rollback",
            Access::Operator,
            run_actions::rollback,
        )
        .post("/runs/{id}/abandon", Access::Operator, run_actions::abandon)
        .post("/runs/{id}/protection", Access::Operator, protection::set)
        .post("/runs/{id}/keep-egress", Access::Operator, keep_egress::set)
        .post(
            "/runs/{id}/retire-exception",
            Access::Operator,
            retire_exceptions::set,
        )
        .post(
            "/runs/{id}/protection/rules",
            Access::Operator,
            protection::add_rule,
        )
        .post(
            "/runs/{id}/protection/rules/{rule}/remove",
            Access::Operator,
            protection::remove_rule,
        )
        .get("/runs/{id}/step/{n}", Access::Viewer, wizard::show)
        .get("/runs/{id}/flips", Access::Viewer, route_flips::list)
        .post(
            "/runs/{id}/step/{n}/refresh",
            Access::Operator,
            observation::refresh,
        )
        .post(
            "/runs/{id}/step/{n}/plan",
            Access::Operator,
            wizard::preview,
        )
        .post(
            "/runs/{id}/step/{n}/confirm",
            Access::Operator,
            wizard::confirm,
        )
}

/// For load balancers: answers without a session, from the store's last health probe
/// (`store::health`, every 2 s), so the check itself costs no database round trip. 503 with
/// the reason (on the portal's error page) while the database does not answer.
async fn healthz(
    axum::extract::State(store): axum::extract::State<crate::store::Store>,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    match store.health().problem() {
        None => "ok".into_response(),
        Some(problem) => {
            let mut response = axum::http::StatusCode::SERVICE_UNAVAILABLE.into_response();
            response
                .extensions_mut()
                .insert(crate::web::error::ErrorInfo {
                    title: "Store unreachable",
                    detail: format!("store unreachable: {problem}"),
                });
            response
        }
    }
}
