//! The approval pages (issue 14, item 2): `/approvals` lists the requests waiting for me, the
//! ones I asked for and the decided ones; `/approvals/{id}` shows one request with the exact
//! plan it would apply, who asked, until when, the digest, and the approve / reject forms.
//! Deciding is the engine's (`Engine::approve`, `Engine::reject`): it checks the role, that
//! the decider is not the requester, the expiry, and audits.

use askama::Template;
use askama_web::WebTemplate;
use axum::{
    Form,
    extract::{ConnectInfo, Path, Query, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};
use chrono::{DateTime, Utc};
use serde::Deserialize;

use crate::{
    app::AppState,
    store::{
        self,
        approvals::{ApprovalKind, ApprovalRow, ApprovalState, Listing},
        runs::Run,
    },
    web::{
        auth::session::CurrentUser,
        error::WebError,
        layout::Layout,
        pages::{
            rollback_view::RollbackOffer,
            run_actions::engine_error,
            step_view::{PlanView, plan_view},
        },
        routes::{Access, Routes},
        tls::ClientAddr,
    },
    wizard::engine::{Actor, ApprovalError, Decision, EngineError, RollbackRequest},
};

pub fn routes() -> Routes {
    Routes::default()
        .get("/approvals", Access::Viewer, list)
        .get("/approvals/{id}", Access::Viewer, show)
        .post("/approvals/{id}/approve", Access::Operator, approve)
        .post("/approvals/{id}/reject", Access::Operator, reject)
        .post("/approvals/{id}/withdraw", Access::Operator, withdraw)
}

/// The request the run's current step waits for, if any (not expired): the run page says
/// "waiting for approval" and links to it.
/// A rollback that releases EIPs may wait on a failed or completed run too.
pub async fn waiting(state: &AppState, run: &Run) -> Result<Option<i64>, WebError> {
    if !run.status.holds_vpc() && run.status != store::RunStatus::Completed {
        return Ok(None);
    }
    let a = store::approvals::pending_for(state.store.readers(), run.id, run.current_step).await?;
    Ok(a.filter(|a| {
        !a.is_expired_at(Utc::now())
            && (a.kind == ApprovalKind::Rollback || run.status == store::RunStatus::Active)
    })
    .map(|a| a.id))
}

/// The runs of a list (history, dashboard) that wait for an approval now, so their rows say
/// "waiting for approval" rather than "active".
#[derive(Debug, Default)]
pub struct Awaiting(std::collections::HashSet<store::RunId>);

impl Awaiting {
    /// Reads the pending requests only when a listed run is active (no other run can wait).
    pub async fn of(state: &AppState, runs: &[Run]) -> Result<Awaiting, WebError> {
        if !runs.iter().any(|r| r.status == store::RunStatus::Active) {
            return Ok(Awaiting::default());
        }
        let db = state.store.readers();
        Ok(Awaiting(
            store::approvals::runs_waiting(db, Utc::now()).await?,
        ))
    }

    pub fn has(&self, run: &Run) -> bool {
        run.status == store::RunStatus::Active && self.0.contains(&run.id)
    }
}

/// One row of a list.
pub struct Line {
    pub id: i64,
    pub run_id: String,
    pub step: i64,
    /// A rollback request (asked while the run was at `step`).
    pub rollback: bool,
    pub title: &'static str,
    pub requested_by: String,
    pub requested_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub needs: &'static str,
    pub irreversible: bool,
    pub state: &'static str,
    pub state_words: &'static str,
    pub decided_by: Option<String>,
}

fn line(a: ApprovalRow, now: DateTime<Utc>) -> Line {
    let st = a.state_at(now);
    Line {
        id: a.id,
        run_id: a.run_id.to_string(),
        step: a.step.number(),
        rollback: a.kind == ApprovalKind::Rollback,
        title: a.subject(),
        requested_by: a.requested_by,
        requested_at: a.requested_at,
        expires_at: a.expires_at,
        needs: a.needs_role.as_str(),
        irreversible: a.irreversible,
        state: st.as_str(),
        state_words: st.words(),
        decided_by: a.decided_by,
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "approvals/list.html")]
pub struct ListPage {
    layout: Layout,
    for_me: Vec<Line>,
    mine: Vec<Line>,
    decided: Vec<Line>,
    policy: String,
}

/// How many of each list a page shows.
const LISTED: u32 = 50;

pub async fn list(
    State(state): State<AppState>,
    layout: Layout,
    user: CurrentUser,
) -> Result<ListPage, WebError> {
    let db = state.store.readers();
    let now = Utc::now();
    let me = Listing::ForMe {
        user: &user.name,
        role: user.role,
    };
    let lines = |rows: Vec<ApprovalRow>| rows.into_iter().map(|a| line(a, now)).collect();
    let for_me = lines(store::approvals::list(db, me, LISTED).await?);
    let mine = lines(store::approvals::list(db, Listing::Mine(&user.name), LISTED).await?);
    let decided = lines(store::approvals::list(db, Listing::Decided, LISTED).await?);
    Ok(ListPage {
        layout,
        for_me,
        mine,
        decided,
        policy: policy_words(&state),
    })
}

/// The policy in force, in words.
fn policy_words(state: &AppState) -> String {
    let p = state.engine.approval_policy();
    if p.is_off() {
        return "No step waits for approval on this portal ([approvals] in natpilot.toml; off \
                on the simulator unless `simulator = true`)."
            .into();
    }
    let steps: Vec<_> = p.steps.iter().map(|s| s.number().to_string()).collect();
    let mut words = if steps.is_empty() {
        "No step needs an operator's approval".to_owned()
    } else {
        format!(
            "Step{} {} need{} another operator's approval",
            if steps.len() > 1 { "s" } else { "" },
            steps.join(", "),
            if steps.len() > 1 { "" } else { "s" }
        )
    };
    if p.irreversible_needs_admin {
        words.push_str("; a plan that releases addresses (irreversible) needs an admin's");
    }
    format!(
        "{words}. Requests expire after {} minutes.",
        p.expiry.as_secs() / 60
    )
}

#[derive(Template, WebTemplate)]
#[template(path = "approvals/show.html")]
pub struct ShowPage {
    layout: Layout,
    a: ApprovalRow,
    run: Run,
    state: ApprovalState,
    /// For the plan partial (`runs/plan.html`).
    plan: Option<PlanView>,
    /// A rollback request: what it would release, and what the rollback would undo now.
    rollback: Option<(RollbackRequest, Option<RollbackOffer>)>,
    step: i64,
    blockers_above: bool,
    /// Whether this user may decide it now, or why not.
    may_decide: bool,
    why_not: Option<String>,
    /// The requester may take a pending request back.
    may_withdraw: bool,
    errors: Vec<String>,
    notice: Option<String>,
    comment: String,
}

#[derive(Deserialize, Default)]
pub struct Done {
    done: Option<String>,
}

fn approval_id(raw: &str) -> Result<i64, WebError> {
    raw.parse()
        .map_err(|_| WebError::NotFound(format!("`{raw}` is not an approval request.")))
}

async fn page(
    state: &AppState,
    layout: Layout,
    user: &CurrentUser,
    id: i64,
) -> Result<ShowPage, WebError> {
    let a = state.engine.approval(id).await.map_err(approval_error)?;
    let run = super::pages::runs::load_run(state, a.run_id).await?;
    // A step's request shows its plan; a rollback's what it would undo and release.
    let (plan, rollback) = match a.kind {
        ApprovalKind::Step => {
            let plan = state.engine.approval_plan(&a).map_err(engine_error)?;
            (Some(plan_view(&plan, None)), None)
        }
        ApprovalKind::Rollback => {
            let request = state.engine.rollback_request(&a).map_err(engine_error)?;
            let offer = super::pages::rollback_view::offer(state, a.run_id).await?;
            (None, Some((request, offer)))
        }
    };
    let now = Utc::now();
    let st = a.state_at(now);
    let why_not = if st != ApprovalState::Pending {
        Some(format!("This request is {}.", st.words()))
    } else if user.name == a.requested_by {
        Some("You asked for this approval: another person must decide it.".into())
    } else if user.role < a.needs_role {
        Some(format!(
            "This request needs {}'s approval{}.",
            if a.needs_role == store::users::Role::Admin {
                "an admin"
            } else {
                "an operator"
            },
            if a.irreversible {
                " (its plan releases addresses, which cannot be undone)"
            } else {
                ""
            }
        ))
    } else {
        None
    };
    let may_withdraw = st == ApprovalState::Pending && user.name == a.requested_by;
    Ok(ShowPage {
        layout,
        may_withdraw,
        plan,
        rollback,
        step: a.step.number(),
        blockers_above: false,
        may_decide: why_not.is_none(),
        why_not,
        errors: Vec::new(),
        notice: None,
        comment: String::new(),
        state: st,
        run,
        a,
    })
}

fn approval_error(e: EngineError) -> WebError {
    match e {
        EngineError::Approval(ApprovalError::NotFound(id)) => {
            WebError::NotFound(format!("There is no approval request {id}."))
        }
        other => engine_error(other),
    }
}

pub async fn show(
    State(state): State<AppState>,
    layout: Layout,
    user: CurrentUser,
    Path(raw): Path<String>,
    Query(done): Query<Done>,
) -> Result<ShowPage, WebError> {
    let mut p = page(&state, layout, &user, approval_id(&raw)?).await?;
    p.notice = match done.done.as_deref() {
        Some("approved") => Some("Approved: the plan was unchanged and is being applied.".into()),
        Some("rejected") => Some("Rejected: the step waits to be previewed again.".into()),
        Some("withdrawn") => Some(
            "Withdrawn: nothing was applied; the step waits to be previewed and confirmed again."
                .into(),
        ),
        Some("void") => Some(
            "The plan had changed, so the request is void and nothing was applied (the reason \
             is below)."
                .into(),
        ),
        _ => None,
    };
    Ok(p)
}

#[derive(Deserialize, Default)]
pub struct DecisionForm {
    #[serde(default)]
    comment: String,
}

enum Verb {
    Approve,
    Reject,
    Withdraw,
}

async fn decide(
    state: AppState,
    peer: std::net::SocketAddr,
    layout: Layout,
    user: CurrentUser,
    raw: String,
    form: DecisionForm,
    verb: Verb,
) -> Result<Response, WebError> {
    let id = approval_id(&raw)?;
    let actor = Actor {
        user: &user.name,
        ip: Some(peer.ip()),
    };
    let outcome = match verb {
        Verb::Approve => state
            .engine
            .approve(id, actor, user.role, &form.comment)
            .await
            .map(|d| match d {
                Decision::Applying => "approved",
                Decision::Void(_) => "void",
            }),
        Verb::Reject => state
            .engine
            .reject(id, actor, user.role, &form.comment)
            .await
            .map(|()| "rejected"),
        Verb::Withdraw => state.engine.withdraw(id, actor).await.map(|()| "withdrawn"),
    };
    match outcome {
        Ok(done) => Ok(Redirect::to(&format!("/approvals/{id}?done={done}")).into_response()),
        Err(EngineError::Db(e)) => Err(WebError::Internal(e.into())),
        Err(e) => {
            let status = match &e {
                EngineError::Approval(ApprovalError::OwnRequest)
                | EngineError::Approval(ApprovalError::NeedsRole { .. })
                | EngineError::Approval(ApprovalError::NotRequester { .. }) => {
                    StatusCode::FORBIDDEN
                }
                EngineError::Approval(ApprovalError::CommentRequired) => {
                    StatusCode::UNPROCESSABLE_ENTITY
                }
                EngineError::Approval(ApprovalError::NotFound(_)) => StatusCode::NOT_FOUND,
                _ => StatusCode::CONFLICT,
            };
            let mut p = page(&state, layout, &user, id).await?;
            p.errors = vec![format!("{e}.")];
            p.comment = form.comment;
            Ok((status, p).into_response())
        }
    }
}

pub async fn approve(
    State(state): State<AppState>,
    ConnectInfo(ClientAddr(peer)): ConnectInfo<ClientAddr>,
    layout: Layout,
    user: CurrentUser,
    Path(raw): Path<String>,
    Form(form): Form<DecisionForm>,
) -> Result<Response, WebError> {
    decide(state, peer, layout, user, raw, form, Verb::Approve).await
}

pub async fn reject(
    State(state): State<AppState>,
    ConnectInfo(ClientAddr(peer)): ConnectInfo<ClientAddr>,
    layout: Layout,
    user: CurrentUser,
    Path(raw): Path<String>,
    Form(form): Form<DecisionForm>,
) -> Result<Response, WebError> {
    decide(state, peer, layout, user, raw, form, Verb::Reject).await
}

pub async fn withdraw(
    State(state): State<AppState>,
    ConnectInfo(ClientAddr(peer)): ConnectInfo<ClientAddr>,
    layout: Layout,
    user: CurrentUser,
    Path(raw): Path<String>,
    Form(form): Form<DecisionForm>,
) -> Result<Response, WebError> {
    decide(state, peer, layout, user, raw, form, Verb::Withdraw).await
}
