//! The API's handlers: VPCs of a region, runs (start, list, status, report), and a step's
//! default input, plan and confirmation. They call the same engine as the pages; the engine
//! audits every run action under the token's actor.

use axum::{
    Json,
    extract::{Path, Query, State},
    http::StatusCode,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{ApiCaller, ApiError};
use crate::{
    app::AppState,
    store::{self, RunId, Step, runs::Run, users::Role},
    tencent::{
        models::vpc::{DescribeVpcs, DescribeVpcsRequest},
        region::Region,
    },
    web::pages::step_view::{describe_change, describe_undo},
    wizard::{
        engine::{Actor, Confirmation},
        input::{EipChoice, NewNat, ProvisionInput, StepInput},
        plan::{Plan, PlanDigest},
    },
};

#[derive(Deserialize, IntoParams)]
pub struct RegionQuery {
    /// A region name, e.g. `ap-guangzhou`.
    region: String,
}

#[derive(Serialize, ToSchema)]
pub struct VpcView {
    pub vpc_id: String,
    pub name: String,
    pub cidr: String,
    /// The unfinished run that holds the VPC, if any.
    pub held_by_run: Option<String>,
}

fn region(raw: &str) -> Result<Region, ApiError> {
    Region::parse(raw).map_err(|e| ApiError::invalid(e.to_string()))
}

/// The VPCs of a region, each with the run that holds it.
#[utoipa::path(get, path = "/api/v1/vpcs", params(RegionQuery), security(("token" = [])),
    responses((status = 200, body = [VpcView]), (status = 401, body = super::error::ErrorBody)))]
pub async fn vpcs(
    State(state): State<AppState>,
    _caller: ApiCaller,
    Query(q): Query<RegionQuery>,
) -> Result<Json<Vec<VpcView>>, ApiError> {
    let region = region(&q.region)?;
    let listed = state
        .cloud
        .fetch_all::<DescribeVpcs>(region.as_str(), &DescribeVpcsRequest::default())
        .await
        .map_err(|e| {
            ApiError::new(
                StatusCode::BAD_GATEWAY,
                "cloud_error",
                format!("listing VPCs: {e}"),
            )
        })?;
    let account = state.settings.cloud.account();
    let mut out = Vec::with_capacity(listed.len());
    for v in listed {
        let holder =
            store::runs::active_holder(state.store.readers(), account, region.as_str(), &v.vpc_id)
                .await?;
        out.push(VpcView {
            vpc_id: v.vpc_id,
            name: v.vpc_name,
            cidr: v.cidr_block,
            held_by_run: holder.map(|h| h.run.to_string()),
        });
    }
    Ok(Json(out))
}

#[derive(Serialize, ToSchema)]
pub struct FailureView {
    pub code: String,
    pub message: String,
    pub request_id: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct StepStateView {
    pub number: i64,
    pub title: String,
    /// `pending`, `confirmed`, `applying`, `applied`, `failed`, `rolled_back`.
    pub state: String,
    pub confirmed_by: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct RunView {
    pub id: String,
    pub account: String,
    pub region: String,
    pub vpc_id: String,
    /// `active` (waiting for the current step's confirmation), `applying`, `failed`,
    /// `completed`, `rolling_back`, `rolled_back`, `abandoned`.
    pub status: String,
    pub current_step: i64,
    pub started_by: String,
    pub started_at: String,
    pub finished_at: Option<String>,
    pub last_error: Option<FailureView>,
    pub steps: Vec<StepStateView>,
    /// The approval request the current step waits for, if any ("waiting for approval").
    pub waiting_for_approval: Option<i64>,
    /// For a rehearsal on a simulated twin: the real `account / region / VPC` it copies (its
    /// `account` is then the twin's label). `null` for a run on a real account.
    pub rehearsal_of: Option<String>,
}

async fn run_view(state: &AppState, r: Run) -> Result<RunView, ApiError> {
    let steps = store::steps::list(state.store.readers(), r.id)
        .await?
        .into_iter()
        .map(|s| StepStateView {
            number: s.step.number(),
            title: s.step.title().to_owned(),
            state: s.state.as_str().to_owned(),
            confirmed_by: s.confirmed_by,
        })
        .collect();
    let waiting = store::approvals::pending_for(state.store.readers(), r.id, r.current_step)
        .await?
        .filter(|a| !a.is_expired_at(chrono::Utc::now()) && r.status == store::RunStatus::Active)
        .map(|a| a.id);
    Ok(RunView {
        rehearsal_of: r.rehearsal_of().map(|of| of.to_string()),
        waiting_for_approval: waiting,
        id: r.id.to_string(),
        account: r.account,
        region: r.region,
        vpc_id: r.vpc_id,
        status: r.status.as_str().to_owned(),
        current_step: r.current_step.number(),
        started_by: r.started_by,
        started_at: r.started_at.to_rfc3339(),
        finished_at: r.finished_at.map(|t| t.to_rfc3339()),
        last_error: r.last_error.map(|f| FailureView {
            code: f.code,
            message: f.message,
            request_id: f.request_id,
        }),
        steps,
    })
}

async fn load(state: &AppState, raw: &str) -> Result<Run, ApiError> {
    let id: RunId = raw
        .parse()
        .map_err(|_| ApiError::not_found(format!("`{raw}` is not a run id")))?;
    store::runs::get(state.store.readers(), id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("run {id} does not exist")))
}

#[derive(Deserialize, ToSchema)]
pub struct StartRun {
    pub region: String,
    pub vpc_id: String,
}

/// Starts a run (and its read-only assessment) on a VPC. Needs the operator role.
#[utoipa::path(post, path = "/api/v1/runs", request_body = StartRun, security(("token" = [])),
    responses((status = 201, body = RunView), (status = 409, body = super::error::ErrorBody),
        (status = 403, body = super::error::ErrorBody)))]
pub async fn start(
    State(state): State<AppState>,
    caller: ApiCaller,
    Json(req): Json<StartRun>,
) -> Result<(StatusCode, Json<RunView>), ApiError> {
    caller
        .require(&state, Role::Operator, "starting a run")
        .await?;
    let region = region(&req.region)?;
    let actor = Actor {
        user: &caller.actor,
        ip: None,
    };
    let account = state.settings.cloud.account();
    let id = state
        .engine
        .start_run(account, region.as_str(), req.vpc_id.trim(), actor)
        .await?;
    let run = load(&state, &id.to_string()).await?;
    Ok((StatusCode::CREATED, Json(run_view(&state, run).await?)))
}

#[derive(Deserialize, IntoParams)]
pub struct ListQuery {
    /// At most this many runs (1–100, default 20).
    limit: Option<u32>,
    /// The `next` cursor of the previous page.
    after: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct RunList {
    pub runs: Vec<RunView>,
    /// Pass as `after` for the next (older) page.
    pub next: Option<String>,
}

/// Run history, newest first.
#[utoipa::path(get, path = "/api/v1/runs", params(ListQuery), security(("token" = [])),
    responses((status = 200, body = RunList)))]
pub async fn list(
    State(state): State<AppState>,
    _caller: ApiCaller,
    Query(q): Query<ListQuery>,
) -> Result<Json<RunList>, ApiError> {
    let after = match q.after.as_deref() {
        Some(raw) => Some(
            store::runs::Cursor::decode(raw)
                .ok_or_else(|| ApiError::invalid("`after` is not a cursor this API returned"))?,
        ),
        None => None,
    };
    let limit = q.limit.unwrap_or(20).clamp(1, 100);
    let page = store::runs::list(
        state.store.readers(),
        &store::runs::RunFilter::default(),
        after.as_ref(),
        limit,
    )
    .await?;
    let mut runs = Vec::with_capacity(page.runs.len());
    for r in page.runs {
        runs.push(run_view(&state, r).await?);
    }
    Ok(Json(RunList {
        runs,
        next: page.next.map(|c| c.encode()),
    }))
}

/// A run's status, steps and last error.
#[utoipa::path(get, path = "/api/v1/runs/{id}", security(("token" = [])),
    params(("id" = String, Path, description = "run id")),
    responses((status = 200, body = RunView), (status = 404, body = super::error::ErrorBody)))]
pub async fn status(
    State(state): State<AppState>,
    _caller: ApiCaller,
    Path(id): Path<String>,
) -> Result<Json<RunView>, ApiError> {
    let run = load(&state, &id).await?;
    Ok(Json(run_view(&state, run).await?))
}

/// The whole record of a run (events, cloud calls, undo records, reports), as the run page's
/// JSON download.
#[utoipa::path(get, path = "/api/v1/runs/{id}/report", security(("token" = [])),
    params(("id" = String, Path, description = "run id")),
    responses((status = 200, description = "the run's full record", body = Object)))]
pub async fn report(
    State(state): State<AppState>,
    _caller: ApiCaller,
    Path(id): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let run = load(&state, &id).await?;
    let db = state.store.readers();
    let mut reports = serde_json::Map::new();
    for kind in [
        store::ReportKind::Exposure,
        store::ReportKind::Final,
        store::ReportKind::Rollback,
    ] {
        if let Some(v) = store::results::get_report(db, run.id, kind).await? {
            reports.insert(kind.to_string(), v);
        }
    }
    Ok(Json(serde_json::json!({
        "run": run,
        "events": store::events::list(db, run.id, 0, u32::MAX).await?,
        "api_calls": store::ledger::list(db, run.id, 0, u32::MAX).await?,
        "undo_records": store::undo::list(db, run.id).await?,
        "reports": reports,
    })))
}

fn step_of(n: i64) -> Result<Step, ApiError> {
    Step::from_number(n).map_err(|_| ApiError::not_found("steps are numbered 1 to 4"))
}

#[derive(Serialize, ToSchema)]
pub struct StepInfo {
    pub number: i64,
    pub title: String,
    /// The step's input with natpilot's defaults (reversible choices only): send it, changed
    /// as needed, to `plan` and `confirm`. Its shape is the engine's `StepInput`, tagged by
    /// `step`.
    #[schema(value_type = Object)]
    pub default_input: StepInput,
}

fn default_input(run: &Run, step: Step) -> StepInput {
    match step {
        Step::Assess => StepInput::Assess(Default::default()),
        Step::Provision => StepInput::Provision(ProvisionInput::Create(NewNat {
            name: format!("natpilot-{}", run.vpc_id),
            bandwidth_mbps: 100,
            max_connections: 1_000_000,
            eips: EipChoice::New(1),
            zone: None,
        })),
        Step::Route => StepInput::Route(Default::default()),
        Step::Verify => StepInput::Verify(Default::default()),
    }
}

/// A step's default input.
#[utoipa::path(get, path = "/api/v1/runs/{id}/steps/{n}", security(("token" = [])),
    params(("id" = String, Path), ("n" = i64, Path, description = "1 to 4")),
    responses((status = 200, body = StepInfo)))]
pub async fn step(
    State(state): State<AppState>,
    _caller: ApiCaller,
    Path((id, n)): Path<(String, i64)>,
) -> Result<Json<StepInfo>, ApiError> {
    let run = load(&state, &id).await?;
    let step = step_of(n)?;
    Ok(Json(StepInfo {
        number: step.number(),
        title: step.title().to_owned(),
        default_input: default_input(&run, step),
    }))
}

#[derive(Deserialize, ToSchema)]
pub struct PlanRequest {
    #[schema(value_type = Object)]
    pub input: StepInput,
}

#[derive(Serialize, ToSchema)]
pub struct ChangeView {
    pub text: String,
    pub irreversible: bool,
    pub undo: String,
}

#[derive(Serialize, ToSchema)]
pub struct PlanView {
    /// Send back with `confirm`: only this exact plan is applied.
    pub digest: String,
    /// A blocked plan cannot be confirmed; `conflicts` say why and what to do.
    pub blocked: bool,
    pub conflicts: Vec<String>,
    pub warnings: Vec<String>,
    pub changes: Vec<ChangeView>,
}

pub(super) fn plan_view(plan: &Plan) -> PlanView {
    PlanView {
        digest: plan.digest().0,
        blocked: plan.is_blocked(),
        conflicts: plan
            .conflicts
            .iter()
            .map(|c| format!("{}: {}", c.subject, c.message))
            .collect(),
        warnings: plan.warnings.clone(),
        changes: plan
            .items
            .iter()
            .map(|i| ChangeView {
                text: describe_change(&i.change),
                irreversible: i.change.irreversible(),
                undo: describe_undo(&i.undo),
            })
            .collect(),
    }
}

fn input_for(step: Step, input: StepInput) -> Result<StepInput, ApiError> {
    if input.step() != step {
        return Err(ApiError::invalid(format!(
            "the input is for step {}, not step {}",
            input.step().number(),
            step.number()
        )));
    }
    Ok(input)
}

/// Plans the run's current step with this input (changes nothing in the cloud).
#[utoipa::path(post, path = "/api/v1/runs/{id}/steps/{n}/plan", request_body = PlanRequest,
    security(("token" = [])), params(("id" = String, Path), ("n" = i64, Path)),
    responses((status = 200, body = PlanView), (status = 409, body = super::error::ErrorBody)))]
pub async fn plan(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path((id, n)): Path<(String, i64)>,
    Json(req): Json<PlanRequest>,
) -> Result<Json<PlanView>, ApiError> {
    caller
        .require(&state, Role::Operator, "planning a step")
        .await?;
    let run = load(&state, &id).await?;
    let input = input_for(step_of(n)?, req.input)?;
    let plan = state.engine.plan_step(run.id, &input).await?;
    Ok(Json(plan_view(&plan)))
}

#[derive(Deserialize, ToSchema)]
pub struct ConfirmRequest {
    #[schema(value_type = Object)]
    pub input: StepInput,
    /// The `digest` of the plan you reviewed.
    pub plan_digest: String,
}

#[derive(Serialize, ToSchema)]
pub struct ConfirmView {
    /// `applying`, or `approval_requested` when the approval policy holds the step for a
    /// second person (nothing is applied until someone approves request `approval_id`).
    pub outcome: String,
    pub approval_id: Option<i64>,
    /// What happens next, in words.
    pub message: String,
    /// The run as it now stands.
    pub run: RunView,
}

/// Confirms the plan you reviewed and starts applying it — or, when the approval policy holds
/// the step, files an approval request bound to that exact plan (`outcome`
/// `approval_requested` with its `approval_id`). Refused with `plan_changed` when the input or
/// the cloud changed since (plan again and review), with `plan_blocked` while a blocker
/// stands, with `approval_pending` while a request for the step waits. Operators drive the
/// runs they started; admins any run.
#[utoipa::path(post, path = "/api/v1/runs/{id}/steps/{n}/confirm", request_body = ConfirmRequest,
    security(("token" = [])), params(("id" = String, Path), ("n" = i64, Path)),
    responses((status = 202, body = ConfirmView), (status = 409, body = super::error::ErrorBody)))]
pub async fn confirm(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path((id, n)): Path<(String, i64)>,
    Json(req): Json<ConfirmRequest>,
) -> Result<(StatusCode, Json<ConfirmView>), ApiError> {
    caller
        .require(&state, Role::Operator, "confirming a step")
        .await?;
    let run = load(&state, &id).await?;
    if caller.role != Role::Admin && caller.actor != run.started_by {
        return Err(ApiError::forbidden(format!(
            "run {} was started by {}; operators drive the runs they started",
            run.id, run.started_by
        )));
    }
    let input = input_for(step_of(n)?, req.input)?;
    let actor = Actor {
        user: &caller.actor,
        ip: None,
    };
    let done = state
        .engine
        .confirm_previewed(run.id, input, &PlanDigest(req.plan_digest), actor)
        .await?;
    let (outcome, approval_id, message) = match done {
        Confirmation::Applying(_) => ("applying", None, "the plan is being applied".to_owned()),
        Confirmation::ApprovalRequested { id, needs, .. } => (
            "approval_requested",
            Some(id),
            format!(
                "approval requested: request {id} waits for another {needs} to approve this \
                 exact plan (POST /api/v1/approvals/{id}/approve); nothing was applied"
            ),
        ),
    };
    let run = load(&state, &id).await?;
    let view = ConfirmView {
        outcome: outcome.to_owned(),
        approval_id,
        message,
        run: run_view(&state, run).await?,
    };
    Ok((StatusCode::ACCEPTED, Json(view)))
}
