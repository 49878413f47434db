//! Driving a run from its page: retry, roll back, abandon. Only the run's operator or an
//! admin may (the route table already refuses viewers); each action is audited and ends in
//! a redirect back to the run (Post/Redirect/Get). The engine does the work.

use crate::wizard::engine::Actor as RunActor;
use axum::{
    Form,
    extract::{ConnectInfo, Path, State},
    response::{IntoResponse, Redirect, Response},
};
use serde::Deserialize;

use crate::{
    app::AppState,
    store::{self, users::Role},
    web::{auth::session::CurrentUser, error::WebError, tls::ClientAddr},
    wizard::engine::{EngineError, RollbackStart},
};

use super::runs::{load_run, may_drive, run_id};

/// Engine refusals become pages that say what to do; database trouble stays internal.
pub fn engine_error(e: EngineError) -> WebError {
    match e {
        EngineError::NotFound(id) => WebError::NotFound(format!("There is no run {id}.")),
        EngineError::Db(e) => WebError::Internal(e.into()),
        EngineError::Invalid(errs) => WebError::BadRequest(format!(
            "{}.",
            errs.0.into_values().collect::<Vec<_>>().join("; ")
        )),
        other => WebError::Conflict(format!("{other}.")),
    }
}

#[derive(Deserialize, Default)]
pub struct RollbackForm {
    /// Also release the EIPs allocated for the NAT gateway (irreversible).
    #[serde(default)]
    release_nat_eips: Option<String>,
}

pub async fn retry(
    state: State<AppState>,
    peer: ConnectInfo<ClientAddr>,
    user: CurrentUser,
    Path(raw): Path<String>,
) -> Result<Response, WebError> {
    drive(state, peer, user, raw, Action::Retry).await
}

pub async fn rollback(
    state: State<AppState>,
    peer: ConnectInfo<ClientAddr>,
    user: CurrentUser,
    Path(raw): Path<String>,
    Form(form): Form<RollbackForm>,
) -> Result<Response, WebError> {
    let release = form.release_nat_eips.is_some();
    if release {
        // The page offers the option only once the run has a NAT gateway; a request that
        // asks for it before then is refused rather than quietly ignored.
        let id = run_id(&raw)?;
        if store::nat_gateways::get(state.store.readers(), id)
            .await?
            .is_none()
        {
            return Err(WebError::Conflict(
                "This run has no NAT gateway, so there are no NAT gateway EIPs to release. \
                 Roll back without that option."
                    .into(),
            ));
        }
    }
    drive(state, peer, user, raw, Action::Rollback { release }).await
}

pub async fn abandon(
    state: State<AppState>,
    peer: ConnectInfo<ClientAddr>,
    user: CurrentUser,
    Path(raw): Path<String>,
) -> Result<Response, WebError> {
    drive(state, peer, user, raw, Action::Abandon).await
}

enum Action {
    Retry,
    Rollback { release: bool },
    Abandon,
}

async fn drive(
    State(state): State<AppState>,
    ConnectInfo(ClientAddr(peer)): ConnectInfo<ClientAddr>,
    user: CurrentUser,
    raw: String,
    action: Action,
) -> Result<Response, WebError> {
    let id = run_id(&raw)?;
    let run = load_run(&state, id).await?;
    // Abandoning someone else's run is the admin's way to free a VPC (issue 6).
    let allowed = match action {
        Action::Abandon => user.role == Role::Admin || may_drive(&user, &run),
        _ => may_drive(&user, &run),
    };
    if !allowed {
        return Err(WebError::Forbidden(format!(
            "Only {} (who started this run) or an admin may drive it.",
            run.started_by
        )));
    }
    let engine = &state.engine;
    // The engine audits each action in the transaction that makes it.
    let actor = RunActor {
        user: &user.name,
        ip: Some(peer.ip()),
    };
    let to = match action {
        Action::Retry => engine.retry(id, actor).await.map(|()| None),
        Action::Rollback { release } => {
            engine.rollback(id, actor, release).await.map(|s| match s {
                RollbackStart::Started => None,
                // Releasing EIPs waits for another admin: the request page says so.
                RollbackStart::ApprovalRequested { id } => Some(format!("/approvals/{id}")),
            })
        }
        Action::Abandon => engine.abandon(id, actor).await.map(|()| None),
    }
    .map_err(engine_error)?;
    Ok(Redirect::to(&to.unwrap_or_else(|| format!("/runs/{id}"))).into_response())
}
