//! The API's approvals (issue 14, item 2): list requests, read one with its exact plan,
//! approve or reject it. Deciding needs a person's token with the operator role (an admin's
//! for irreversible plans), never the requester's; service tokens do not decide (four eyes
//! means two people). The engine checks and audits every decision.

use axum::{
    Json,
    extract::{Path, Query, State},
    http::StatusCode,
};
use chrono::Utc;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::runs::{ChangeView, plan_view};
use super::{ApiCaller, ApiError};
use crate::{
    app::AppState,
    store::{
        self,
        approvals::{ApprovalKind, ApprovalRow, Listing},
        users::Role,
    },
    wizard::engine::{ApprovalError, Decision},
};

/// The status and code for an approval refusal.
pub(super) fn error_code(e: &ApprovalError) -> (StatusCode, String) {
    let (status, code) = match e {
        ApprovalError::Pending { .. } => (StatusCode::CONFLICT, "approval_pending"),
        ApprovalError::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
        ApprovalError::OwnRequest => (StatusCode::FORBIDDEN, "own_request"),
        ApprovalError::NeedsRole { .. } => (StatusCode::FORBIDDEN, "forbidden"),
        ApprovalError::Decided { .. } => (StatusCode::CONFLICT, "approval_decided"),
        ApprovalError::Expired { .. } => (StatusCode::CONFLICT, "approval_expired"),
        ApprovalError::CommentRequired => (StatusCode::UNPROCESSABLE_ENTITY, "invalid_input"),
        ApprovalError::NotRequester { .. } => (StatusCode::FORBIDDEN, "forbidden"),
    };
    (status, code.to_owned())
}

#[derive(Serialize, ToSchema)]
pub struct ApprovalView {
    pub id: i64,
    /// `step` (a step's plan) or `rollback` (a rollback that releases the NAT gateway's EIPs).
    pub kind: String,
    pub run_id: String,
    /// The step the run was at when the request was made.
    pub step: i64,
    /// `pending`, `approved`, `rejected`, `void` or `expired`.
    pub state: String,
    /// The state in words ("waiting for approval", …).
    pub state_words: String,
    pub requested_by: String,
    pub requested_at: String,
    pub expires_at: String,
    /// `operator`, or `admin` when the plan is irreversible.
    pub needs_role: String,
    pub irreversible: bool,
    /// The digest of the plan that approving applies (and only it).
    pub plan_digest: String,
    /// SHA-256 of the cloud observation the plan was made from.
    pub observed_digest: String,
    pub decided_by: Option<String>,
    pub decided_at: Option<String>,
    pub comment: Option<String>,
    /// Why the request was voided or expired.
    pub outcome: Option<String>,
    /// The plan's changes, in the order they are applied.
    pub changes: Vec<ChangeView>,
    pub warnings: Vec<String>,
    /// A rollback request's EIPs to release (`address_id`), exactly these.
    pub release: Vec<String>,
}

fn view(state: &AppState, a: ApprovalRow) -> Result<ApprovalView, ApiError> {
    let (changes, warnings, release) = match a.kind {
        ApprovalKind::Step => {
            let plan = plan_view(&state.engine.approval_plan(&a)?);
            (plan.changes, plan.warnings, Vec::new())
        }
        ApprovalKind::Rollback => {
            let r = state.engine.rollback_request(&a)?;
            let release = r.release.into_iter().map(|e| e.address_id).collect();
            (Vec::new(), Vec::new(), release)
        }
    };
    let st = a.state_at(Utc::now());
    Ok(ApprovalView {
        id: a.id,
        kind: a.kind.as_str().to_owned(),
        run_id: a.run_id.to_string(),
        step: a.step.number(),
        state: st.as_str().to_owned(),
        state_words: st.words().to_owned(),
        requested_by: a.requested_by,
        requested_at: a.requested_at.to_rfc3339(),
        expires_at: a.expires_at.to_rfc3339(),
        needs_role: a.needs_role.as_str().to_owned(),
        irreversible: a.irreversible,
        plan_digest: a.plan_digest,
        observed_digest: a.observed_digest,
        decided_by: a.decided_by,
        decided_at: a.decided_at.map(|t| t.to_rfc3339()),
        comment: a.comment,
        outcome: a.outcome,
        changes,
        warnings,
        release,
    })
}

#[derive(Deserialize, IntoParams)]
pub struct ListQuery {
    /// `for_me` (default: pending requests this token's user may decide), `mine` (requested
    /// by this user), `decided`, or `all`.
    show: Option<String>,
}

/// Approval requests, newest first (at most 100).
#[utoipa::path(get, path = "/api/v1/approvals", params(ListQuery), security(("token" = [])),
    responses((status = 200, body = [ApprovalView]), (status = 422, body = super::error::ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    caller: ApiCaller,
    Query(q): Query<ListQuery>,
) -> Result<Json<Vec<ApprovalView>>, ApiError> {
    let which = match q.show.as_deref().unwrap_or("for_me") {
        "for_me" => Listing::ForMe {
            user: &caller.actor,
            role: caller.role,
        },
        "mine" => Listing::Mine(&caller.actor),
        "decided" => Listing::Decided,
        "all" => Listing::All,
        other => {
            return Err(ApiError::invalid(format!(
                "show={other} is not a listing; use for_me, mine, decided or all"
            )));
        }
    };
    let rows = store::approvals::list(state.store.readers(), which, 100).await?;
    let views: Result<Vec<_>, _> = rows.into_iter().map(|a| view(&state, a)).collect();
    Ok(Json(views?))
}

fn approval_id(raw: &str) -> Result<i64, ApiError> {
    raw.parse()
        .map_err(|_| ApiError::not_found(format!("`{raw}` is not an approval request id")))
}

/// One request with its exact plan.
#[utoipa::path(get, path = "/api/v1/approvals/{id}", security(("token" = [])),
    params(("id" = i64, Path, description = "approval request id")),
    responses((status = 200, body = ApprovalView), (status = 404, body = super::error::ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    _caller: ApiCaller,
    Path(raw): Path<String>,
) -> Result<Json<ApprovalView>, ApiError> {
    let a = state.engine.approval(approval_id(&raw)?).await?;
    Ok(Json(view(&state, a)?))
}

#[derive(Deserialize, ToSchema)]
pub struct DecisionRequest {
    /// Why (required to reject; optional to approve).
    #[serde(default)]
    pub comment: String,
}

/// Refuses tokens that may not decide: below operator (audited) or a service token.
async fn decider(state: &AppState, caller: &ApiCaller, what: &str) -> Result<(), ApiError> {
    caller.require(state, Role::Operator, what).await?;
    if caller.actor.starts_with("svc:") {
        return Err(ApiError::forbidden(format!(
            "{what} needs a person: {} is a service token. Use a personal token of another \
             operator",
            caller.actor
        )));
    }
    Ok(())
}

/// Approves a request: natpilot observes the cloud again, plans again and applies only an
/// unchanged plan (202). A changed plan voids the request: `approval_void` (409) says what
/// changed, and nothing is applied. Refused to the requester, to viewers, to service tokens,
/// to operators when the plan is irreversible (admins only), and once expired.
#[utoipa::path(post, path = "/api/v1/approvals/{id}/approve", request_body = DecisionRequest,
    security(("token" = [])), params(("id" = i64, Path)),
    responses((status = 202, body = ApprovalView), (status = 409, body = super::error::ErrorBody),
        (status = 403, body = super::error::ErrorBody)))]
pub async fn approve(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(raw): Path<String>,
    Json(req): Json<DecisionRequest>,
) -> Result<(StatusCode, Json<ApprovalView>), ApiError> {
    decider(&state, &caller, "approving a step").await?;
    let id = approval_id(&raw)?;
    let actor = crate::wizard::engine::Actor {
        user: &caller.actor,
        ip: None,
    };
    let decision = state
        .engine
        .approve(id, actor, caller.role, &req.comment)
        .await?;
    if let Decision::Void(why) = decision {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "approval_void",
            format!(
                "request {id} is void and nothing was applied: {why}. Plan and confirm the step again"
            ),
        ));
    }
    let a = state.engine.approval(id).await?;
    Ok((StatusCode::ACCEPTED, Json(view(&state, a)?)))
}

/// Rejects a request with a comment: nothing is applied; the step can be planned and
/// confirmed again.
#[utoipa::path(post, path = "/api/v1/approvals/{id}/reject", request_body = DecisionRequest,
    security(("token" = [])), params(("id" = i64, Path)),
    responses((status = 200, body = ApprovalView), (status = 403, body = super::error::ErrorBody)))]
pub async fn reject(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(raw): Path<String>,
    Json(req): Json<DecisionRequest>,
) -> Result<Json<ApprovalView>, ApiError> {
    decider(&state, &caller, "rejecting a step").await?;
    let id = approval_id(&raw)?;
    let actor = crate::wizard::engine::Actor {
        user: &caller.actor,
        ip: None,
    };
    state
        .engine
        .reject(id, actor, caller.role, &req.comment)
        .await?;
    let a = state.engine.approval(id).await?;
    Ok(Json(view(&state, a)?))
}
