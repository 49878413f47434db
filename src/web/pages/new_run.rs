//! Starting a rollout: pick a region and one of its VPCs (listed live with DescribeVpcs; the
//! only VPC of a region is preselected), then the engine starts the run and its read-only
//! assessment. A busy VPC names its holder and links to that run, before and after "Start".
//! With `[[accounts]]` configured the page first picks the account (issue 13): the VPCs are
//! listed with that account's client and the run is started in it; the one-active-run rule
//! is per (account, region, VPC).

use crate::wizard::engine::Actor as RunActor;
use askama::Template;
use askama_web::WebTemplate;
use axum::{
    Form,
    extract::{ConnectInfo, Query, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};
use serde::Deserialize;

use crate::{
    app::AppState,
    store,
    tencent::{
        Region,
        models::vpc::{DescribeVpcs, DescribeVpcsRequest},
    },
    web::{auth::session::CurrentUser, error::WebError, layout::Layout, tls::ClientAddr},
    wizard::engine::StartError,
};

/// One VPC offered on the page.
pub struct VpcChoice {
    pub id: String,
    pub name: String,
    pub cidr: String,
    /// "run … by olga since …" when another run holds the VPC.
    pub holder: Option<String>,
    /// The id of that run, for the link to it.
    pub holder_run: Option<String>,
}

/// "Start" was refused because another run holds the VPC: who, since when, and which run.
pub struct Busy {
    pub vpc_id: String,
    pub run: String,
    pub started_by: String,
    pub since: String,
}

/// An account offered in the account picker.
pub struct AccountChoice {
    pub label: String,
    /// `uin 1000…` once STS said so, else empty.
    pub uin: String,
    /// Why it cannot be used, for a broken entry.
    pub problem: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "runs/new.html")]
pub struct NewRunPage {
    layout: Layout,
    /// The account the VPCs are listed in and the run starts in.
    account: String,
    accounts: Vec<AccountChoice>,
    region: String,
    vpcs: Vec<VpcChoice>,
    selected: String,
    error: Option<String>,
    busy: Option<Busy>,
}

#[derive(Deserialize, Default)]
pub struct RegionQuery {
    region: Option<String>,
    account: Option<String>,
}

/// The accounts of the picker (only shown when there is more than one).
fn account_choices(state: &AppState) -> Vec<AccountChoice> {
    state
        .accounts
        .all()
        .iter()
        .map(|a| AccountChoice {
            label: a.label.clone(),
            uin: a.uin().map(|u| format!("uin {u}")).unwrap_or_default(),
            problem: a.client.as_ref().err().cloned(),
        })
        .collect()
}

/// Lists the VPCs of a region through the account's client (read-only; not part of any run).
async fn list_vpcs(
    state: &AppState,
    account: &str,
    region: &Region,
) -> Result<Vec<VpcChoice>, String> {
    let region = region.as_str();
    let request = DescribeVpcsRequest::default();
    let client = state
        .accounts
        .client(account)
        .map_err(|e| format!("Account {account} cannot be used: {e}"))?;
    let vpcs = client
        .fetch_all::<DescribeVpcs>(region, &request)
        .await
        .map_err(|e| format!("Could not list the VPCs of {region} in account {account}: {e}"))?;
    let mut choices = Vec::with_capacity(vpcs.len());
    for v in vpcs {
        let held = store::runs::active_holder(state.store.readers(), account, region, &v.vpc_id)
            .await
            .map_err(|e| format!("Could not read the run history: {e}"))?;
        let holder = held.as_ref().map(|h| {
            format!(
                "held by {} since {}",
                h.started_by,
                h.since.format("%Y-%m-%d %H:%M UTC"),
            )
        });
        choices.push(VpcChoice {
            id: v.vpc_id,
            name: v.vpc_name,
            cidr: v.cidr_block,
            holder,
            holder_run: held.map(|h| h.run.to_string()),
        });
    }
    Ok(choices)
}

/// The page for the region as typed: its VPCs when it is a region name, else the text kept
/// in the field with what is wrong with it (and no cloud call at all).
pub(super) async fn render(
    state: &AppState,
    layout: Layout,
    account: String,
    region: String,
    selected: String,
    error: Option<String>,
) -> NewRunPage {
    let listed = match Region::parse(&region) {
        Ok(parsed) => list_vpcs(state, &account, &parsed).await,
        Err(e) => Err(format!("Region: {e}.")),
    };
    let (vpcs, list_error) = match listed {
        Ok(v) => (v, None),
        Err(e) => (Vec::new(), Some(e)),
    };
    // A region with one VPC leaves nothing to choose: it is preselected.
    let selected = match vpcs.as_slice() {
        [only] if selected.is_empty() => only.id.clone(),
        _ => selected,
    };
    NewRunPage {
        layout,
        accounts: account_choices(state),
        account,
        region,
        vpcs,
        selected,
        error: error.or(list_error),
        busy: None,
    }
}

pub async fn form(
    State(state): State<AppState>,
    layout: Layout,
    Query(q): Query<RegionQuery>,
) -> NewRunPage {
    let account = account_or_default(&state, q.account.as_deref());
    let region = q.region.filter(|r| !r.trim().is_empty());
    // An account's own default region, else the portal's.
    let region = region.unwrap_or_else(|| match state.accounts.get(&account) {
        Some(a) => a.default_region.clone(),
        None => state.settings.cloud.region().to_owned(),
    });
    render(&state, layout, account, region, String::new(), None).await
}

/// The account named in the form or query, else the default account (whose label is what
/// runs were recorded under before there were several accounts).
pub(super) fn account_or_default(state: &AppState, raw: Option<&str>) -> String {
    match raw.map(str::trim).filter(|a| !a.is_empty()) {
        Some(a) => a.to_owned(),
        None => state.accounts.default_account().label.clone(),
    }
}

#[derive(Deserialize)]
pub struct StartForm {
    #[serde(default)]
    pub(super) account: String,
    pub(super) region: String,
    #[serde(default)]
    pub(super) vpc_id: String,
}

pub async fn start(
    State(state): State<AppState>,
    ConnectInfo(ClientAddr(peer)): ConnectInfo<ClientAddr>,
    user: CurrentUser,
    layout: Layout,
    Form(form): Form<StartForm>,
) -> Result<Response, WebError> {
    let account = account_or_default(&state, Some(&form.account));
    let vpc = form.vpc_id.trim().to_owned();
    let region = match Region::parse(form.region.trim()) {
        Ok(region) => region,
        Err(e) => {
            let message = format!("Region: {e}.");
            let page = render(&state, layout, account, form.region, vpc, Some(message)).await;
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
        }
    };
    // A run may only start in an account that is configured and usable.
    if let Err(e) = state.accounts.client(&account) {
        let message = format!("Account {account} cannot be used: {e}");
        let page = render(
            &state,
            layout,
            account,
            region.to_string(),
            vpc,
            Some(message),
        )
        .await;
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
    }
    let actor = RunActor {
        user: &user.name,
        ip: Some(peer.ip()),
    };
    match state
        .engine
        .start_run(&account, region.as_str(), &vpc, actor)
        .await
    {
        // Audited by the engine, in the transaction that starts the run.
        Ok(id) => Ok(Redirect::to(&format!("/runs/{id}")).into_response()),
        Err(StartError::Db(e)) => Err(WebError::Internal(e.into())),
        Err(StartError::VpcBusy {
            vpc_id,
            holder,
            started_by,
            since,
        }) => {
            let mut page = render(&state, layout, account, region.to_string(), vpc, None).await;
            page.busy = Some(Busy {
                vpc_id,
                run: holder.to_string(),
                started_by,
                since: since.format("%Y-%m-%d %H:%M UTC").to_string(),
            });
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Err(e) => {
            let message = match &e {
                StartError::Invalid(fields) => {
                    fields.0.values().cloned().collect::<Vec<_>>().join("; ")
                }
                other => other.to_string(),
            };
            let page = render(
                &state,
                layout,
                account,
                region.to_string(),
                vpc,
                Some(message),
            )
            .await;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
    }
}
