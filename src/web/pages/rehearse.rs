//! `POST /rehearse` (issue 13 item 7): rehearse the rollout of one real VPC on a simulated
//! twin. The form is checked here, then the engine starts the rehearsal's run at once and
//! copies the VPC read-only through its account's ordinary client in the background (the
//! run page shows the copy, then the assessment on the twin). Refusals re-render the new-run
//! page with what was typed and what is wrong.

use axum::{
    Form,
    extract::{ConnectInfo, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};

use super::new_run::{StartForm, account_or_default, render};
use crate::{
    app::AppState,
    rehearsal::{TwinCopy, TwinLabel},
    store::rehearsals::RehearsalOf,
    tencent::Region,
    web::{auth::session::CurrentUser, error::WebError, layout::Layout, tls::ClientAddr},
    wizard::engine::{Actor, StartError},
};

pub async fn rehearse(
    State(state): State<AppState>,
    ConnectInfo(ClientAddr(peer)): ConnectInfo<ClientAddr>,
    user: CurrentUser,
    layout: Layout,
    Form(form): Form<StartForm>,
) -> Result<Response, WebError> {
    let account = account_or_default(&state, Some(&form.account));
    let vpc = form.vpc_id.trim().to_owned();
    let typed_region = form.region.trim().to_owned();
    let refuse = async |message: String| -> Result<Response, WebError> {
        let page = render(
            &state,
            layout,
            account.clone(),
            typed_region.clone(),
            vpc.clone(),
            Some(message),
        )
        .await;
        Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
    };
    let region = match Region::parse(&typed_region) {
        Ok(region) => region,
        Err(e) => return refuse(format!("Region: {e}.")).await,
    };
    if !vpc.starts_with("vpc-") || vpc.len() < 5 {
        return refuse(
            "Rehearse: choose the VPC to rehearse (a VPC id looks like vpc-xxxxxxxx).".into(),
        )
        .await;
    }
    // Only a configured, usable account is snapshotted; a twin's label is none of them.
    let real = match state.accounts.client(&account) {
        Ok(client) => client,
        Err(e) => return refuse(format!("Account {account} cannot be used: {e}")).await,
    };
    if let Err(e) = state.twins.make_room(&state.store).await {
        return refuse(format!("Cannot rehearse {vpc}: {e}")).await;
    }
    let copy = TwinCopy {
        label: TwinLabel::new(&account),
        of: RehearsalOf {
            account: account.clone(),
            region: region.to_string(),
            vpc_id: vpc.clone(),
        },
        real,
        twins: state.twins.clone(),
        async_delay: state.settings.rehearsal_async_delay,
    };
    let actor = Actor {
        user: &user.name,
        ip: Some(peer.ip()),
    };
    // The run is recorded (audited by the engine as `rehearsal.start`, in the transaction
    // that starts it) and its copy of the VPC goes on in the background: the run page shows it.
    match state.engine.start_rehearsal(copy, actor).await {
        Ok(id) => Ok(Redirect::to(&format!("/runs/{id}")).into_response()),
        Err(StartError::Db(e)) => Err(WebError::Internal(e.into())),
        Err(e) => refuse(format!("Cannot rehearse {vpc}: {e}")).await,
    }
}
