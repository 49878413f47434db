//! Make, change or drop one instance's exception to step 4's retire rules from the table
//! (`POST /runs/{id}/retire-exception`). Recorded at once through the engine (audited), so
//! paging, sorting and filtering the table, which are plain links, never lose it; the
//! operator lands back on the same view with the same rules (Post/Redirect/Get), whose stored
//! rows the save moved with it (`verify_edit`).

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
    wizard::input::{FieldErrors, RetireException},
};

use super::{run_actions::engine_error, verify_step::VerifyQuery, wizard::prepare};

#[derive(Deserialize)]
pub struct ExceptionForm {
    /// `<instance id>=<keep|reversible|irreversible|rule>`: one button per choice in a row.
    set: String,
    /// The table's query string (`verdict=…&eip=…`) to return to.
    #[serde(default)]
    back: String,
    /// The rules as chosen in the step form when the button was pressed (the buttons submit
    /// that form), previewed or not: the view returned to shows them, so none is lost.
    #[serde(default)]
    eip_rule: Option<String>,
    #[serde(default)]
    ordinary_rule: Option<String>,
    /// The VPC id typed in the step form, kept for the view returned to when it is the run's.
    #[serde(default)]
    confirm_vpc: Option<String>,
}

pub async fn set(
    State(state): State<AppState>,
    ConnectInfo(ClientAddr(peer)): ConnectInfo<ClientAddr>,
    user: CurrentUser,
    Path(raw): Path<String>,
    Form(form): Form<ExceptionForm>,
) -> Result<Response, WebError> {
    let (run, _) = prepare(&state, &user, &raw, 4).await?;
    let (instance, choice) = parse(&form.set).map_err(|e| engine_error(e.into()))?;
    // Rebuilt from known values only: the redirect never carries what the form sent.
    let mut back: VerifyQuery =
        serde_urlencoded::from_str(form.back.trim_start_matches('?')).unwrap_or_default();
    if let Some(rule) = form.eip_rule {
        back.eip = rule;
    }
    if let Some(rule) = form.ordinary_rule {
        back.ordinary = rule;
    }
    back.vpc = form
        .confirm_vpc
        .filter(|typed| typed.trim() == run.vpc_id)
        .map(|_| run.vpc_id.clone())
        .unwrap_or_default();
    let back = back.cleaned();
    // The page returned to has these rules: its stored rows follow the edit, in its
    // transaction, so that view is a stored read and not a rebuild.
    let edit = super::verify_edit::prepare(&state, &run, instance, choice, &back).await?;
    let actor = RunActor {
        user: &user.name,
        ip: Some(peer.ip()),
    };
    state
        .engine
        .set_retire_exception_with(
            run.id,
            instance,
            choice,
            actor,
            async move |conn, before| match edit {
                Some(edit) => edit.apply(conn, before).await,
                None => Ok(()),
            },
        )
        .await
        .map_err(engine_error)?;
    let anchor = if instance
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-')
    {
        format!("#verify-{instance}")
    } else {
        String::new()
    };
    let to = format!("/runs/{}/step/4{}{anchor}", run.id, back.to_query_string());
    Ok(Redirect::to(&to).into_response())
}

/// `ins-1=keep` → (`ins-1`, keep); `=rule` drops the exception.
fn parse(set: &str) -> Result<(&str, Option<RetireException>), FieldErrors> {
    let parsed = set.trim().rsplit_once('=').and_then(|(id, c)| {
        let choice = match c {
            "rule" => Some(None),
            other => RetireException::parse(other).map(Some),
        };
        choice.filter(|_| !id.is_empty()).map(|c| (id, c))
    });
    parsed.ok_or_else(|| {
        let mut errs = FieldErrors::default();
        errs.0.insert(
            "set".into(),
            "pick keep, the other choice, or the rule for one instance of the table".into(),
        );
        errs
    })
}
