//! Step 1's protections as they are edited: one instance protected or unprotected from the
//! exposure table (`POST /runs/{id}/protection`), and rules added or removed
//! (`…/protection/rules`, `…/rules/{rule}/remove`). Each is recorded at once through the
//! engine (so sorting, filtering and paging, which are plain links, never lose it), audited,
//! and the operator lands back on the same view (Post/Redirect/Get). A bad rule shows the
//! page again with the reason and what was typed.

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

use super::{
    exposure::ExposureQuery,
    run_actions::engine_error,
    wizard::{prepare, refused_rule},
};
use crate::web::layout::Layout;
use crate::wizard::engine::EngineError;
use crate::wizard::protection::Rule;

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
    let back = back_to(&form.back);
    let anchor = if instance
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-')
    {
        format!("#row-{instance}")
    } else {
        String::new()
    };
    let to = format!("/runs/{}/step/1{}{anchor}", run.id, back.to_query_string());
    Ok(Redirect::to(&to).into_response())
}

/// The view to return to, rebuilt from known values only: a redirect never carries what the
/// form sent.
fn back_to(raw: &str) -> ExposureQuery {
    serde_urlencoded::from_str::<ExposureQuery>(raw.trim_start_matches('?'))
        .unwrap_or_default()
        .cleaned()
}

#[derive(Deserialize)]
pub struct RuleForm {
    #[serde(default)]
    rule_kind: String,
    #[serde(default)]
    rule_value: String,
    #[serde(default)]
    back: String,
}

pub async fn add_rule(
    State(state): State<AppState>,
    ConnectInfo(ClientAddr(peer)): ConnectInfo<ClientAddr>,
    layout: Layout,
    user: CurrentUser,
    Path(raw): Path<String>,
    Form(form): Form<RuleForm>,
) -> Result<Response, WebError> {
    let (run, _) = prepare(&state, &user, &raw, 1).await?;
    let back = back_to(&form.back);
    let typed = vec![
        ("rule_kind".to_owned(), form.rule_kind.clone()),
        ("rule_value".to_owned(), form.rule_value.clone()),
    ];
    let refuse =
        |msg: String| refused_rule(&state, layout, &user, run.clone(), typed, back.clone(), msg);
    let rule = match Rule::parse(&form.rule_kind, &form.rule_value) {
        Ok(rule) => rule,
        Err(msg) => return refuse(format!("The rule was not added: {msg}.")).await,
    };
    let actor = RunActor {
        user: &user.name,
        ip: Some(peer.ip()),
    };
    match state.engine.add_protection_rule(run.id, rule, actor).await {
        Ok(()) => {}
        Err(EngineError::Invalid(errs)) => {
            let msg = errs.0.into_values().collect::<Vec<_>>().join("; ");
            return refuse(format!("The rule was not added: {msg}.")).await;
        }
        Err(e) => return Err(engine_error(e)),
    }
    let to = format!(
        "/runs/{}/step/1{}#protection",
        run.id,
        back.to_query_string()
    );
    Ok(Redirect::to(&to).into_response())
}

pub async fn remove_rule(
    State(state): State<AppState>,
    ConnectInfo(ClientAddr(peer)): ConnectInfo<ClientAddr>,
    user: CurrentUser,
    Path((raw, rule)): Path<(String, i64)>,
    Form(form): Form<ProtectionBack>,
) -> Result<Response, WebError> {
    let (run, _) = prepare(&state, &user, &raw, 1).await?;
    let actor = RunActor {
        user: &user.name,
        ip: Some(peer.ip()),
    };
    state
        .engine
        .remove_protection_rule(run.id, rule, actor)
        .await
        .map_err(engine_error)?;
    let back = back_to(&form.back);
    let to = format!(
        "/runs/{}/step/1{}#protection",
        run.id,
        back.to_query_string()
    );
    Ok(Redirect::to(&to).into_response())
}

#[derive(Deserialize)]
pub struct ProtectionBack {
    #[serde(default)]
    back: String,
}
