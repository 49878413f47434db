//! Protect or unprotect one instance from the exposure table (`POST /runs/{id}/protection`).
//! The decision is recorded at once through the engine (so sorting and filtering the table,
//! which are plain links, never lose it), audited, and the operator lands back on the same
//! sorted and filtered view (Post/Redirect/Get).

use crate::wizard::engine::Actor as RunActor;
use axum::{
    Form,
    extract::{ConnectInfo, Path, State},
    response::{IntoResponse, Redirect, Response},
};
use serde::Deserialize;

use crate::{
    app::AppState,
    web::{auth::session::CurrentUser, error::WebError, tls::ClientAddr},
};

use super::{exposure::ExposureQuery, run_actions::engine_error, wizard::prepare};

#[derive(Deserialize)]
pub struct ProtectionForm {
    instance_id: String,
    /// `1` protects, anything else unprotects.
    #[serde(default)]
    protect: String,
    /// The table's query string (`sort=…&q=…`) to return to.
    #[serde(default)]
    back: String,
}

pub async fn set(
    State(state): State<AppState>,
    ConnectInfo(ClientAddr(peer)): ConnectInfo<ClientAddr>,
    user: CurrentUser,
    Path(raw): Path<String>,
    Form(form): Form<ProtectionForm>,
) -> Result<Response, WebError> {
    let (run, _) = prepare(&state, &user, &raw, 1).await?;
    let instance = form.instance_id.trim();
    let protect = form.protect == "1";
    // Audited by the engine, in the transaction that records the decision.
    let actor = RunActor {
        user: &user.name,
        ip: Some(peer.ip()),
    };
    state
        .engine
        .set_protected(run.id, instance, protect, actor)
        .await
        .map_err(engine_error)?;
    // Rebuilt from known values only: the redirect never carries what the form sent.
    let back: ExposureQuery =
        serde_urlencoded::from_str(form.back.trim_start_matches('?')).unwrap_or_default();
    let anchor = if instance
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-')
    {
        format!("#row-{instance}")
    } else {
        String::new()
    };
    let to = format!(
        "/runs/{}/step/1{}{anchor}",
        run.id,
        back.cleaned().to_query_string()
    );
    Ok(Redirect::to(&to).into_response())
}
