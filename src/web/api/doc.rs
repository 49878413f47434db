//! The OpenAPI document of `/api/v1`, generated from the handlers' annotations.

use axum::Json;
use utoipa::{
    Modify, OpenApi,
    openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme},
};

use super::{approvals, error, estate, runs};

struct BearerToken;

impl Modify for BearerToken {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "token",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("An API token from /account/tokens (np_…)"))
                    .build(),
            ),
        );
    }
}

#[derive(OpenApi)]
#[openapi(
    info(title = "natpilot API", description = "Drive NAT gateway rollouts: list VPCs, start a run, plan and confirm each step, approve another person's step, follow it, fetch its record; read the estate and its open drift findings."),
    paths(runs::vpcs, runs::start, runs::list, runs::status, runs::report, runs::step, runs::plan, runs::confirm,
        approvals::list, approvals::get, approvals::approve, approvals::reject,
        estate::estate, estate::drift),
    components(schemas(error::ErrorBody, runs::VpcView, runs::RunView, runs::RunList, runs::StepStateView,
        runs::FailureView, runs::StartRun, runs::StepInfo, runs::PlanRequest, runs::PlanView,
        runs::ChangeView, runs::ConfirmRequest, runs::ConfirmView, approvals::ApprovalView,
        approvals::DecisionRequest, estate::EstateView, estate::ScanView, estate::EstateVpcView,
        estate::RefusedRegionView, estate::DriftList, estate::DriftView)),
    modifiers(&BearerToken)
)]
pub struct ApiDoc;

pub async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
