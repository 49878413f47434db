//! `GET /campaigns/new`: the VPCs of the estate's newest scans to tick, and the shared inputs
//! (NAT gateway spec, retire rules, concurrency, on-failure and step-1 choices).
//! `POST /campaigns` parses the form into a `NewCampaignRequest` and starts it; a bad field
//! or a busy VPC shows the form again with the reason and everything as typed.

use askama::Template;
use askama_web::WebTemplate;
use axum::{
    extract::{ConnectInfo, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};

use crate::{
    app::AppState,
    store,
    web::{auth::session::CurrentUser, error::WebError, layout::Layout, tls::ClientAddr},
    wizard::{
        campaign::{CampaignError, CampaignInputs, InputsForm, NewCampaignRequest},
        engine::Actor,
        input::{BANDWIDTHS_MBPS, FieldErrors, MAX_CONNECTIONS, ProvisionForm},
    },
};

/// One VPC to tick: its key (`account/region/vpc-id`) and what the scan saw.
pub struct VpcChoice {
    pub key: String,
    pub account: String,
    pub region: String,
    pub vpc_id: String,
    pub vpc_name: String,
    pub public_hosts: i64,
    /// The run holding it now, if any (a campaign refuses to start with it selected).
    pub busy: Option<String>,
}

/// The form's fields as typed (kept on an error).
pub struct Typed {
    pub name: String,
    /// The ticked VPC keys, in the page's order (the order their runs start).
    pub selected: Vec<String>,
    pub concurrency: String,
    pub keep_going: bool,
    pub confirm_assessed: bool,
    pub nat_name: String,
    pub bandwidth_mbps: String,
    pub max_connections: String,
    pub new_eips: String,
    pub zone: String,
    pub eip_rule: String,
    pub ordinary_rule: String,
}

impl Default for Typed {
    fn default() -> Self {
        Typed {
            name: format!("campaign {}", chrono::Utc::now().format("%Y-%m-%d")),
            selected: Vec::new(),
            concurrency: "2".into(),
            keep_going: false,
            confirm_assessed: false,
            nat_name: "natpilot-egress".into(),
            bandwidth_mbps: "100".into(),
            max_connections: "1000000".into(),
            new_eips: "1".into(),
            zone: String::new(),
            eip_rule: "unbind".into(),
            ordinary_rule: "convert".into(),
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "campaigns/new.html")]
pub struct NewCampaignPage {
    layout: Layout,
    vpcs: Vec<VpcChoice>,
    typed: Typed,
    errors: FieldErrors,
    /// The whole-form refusal (busy VPCs), in words.
    refused: Option<String>,
    bandwidths: &'static [u32],
    connections: &'static [u32],
}

impl NewCampaignPage {
    fn error(&self, field: &str) -> Option<&String> {
        self.errors.0.get(field)
    }
}

pub async fn form(
    State(state): State<AppState>,
    layout: Layout,
) -> Result<NewCampaignPage, WebError> {
    page(
        &state,
        layout,
        Typed::default(),
        FieldErrors::default(),
        None,
    )
    .await
}

async fn page(
    state: &AppState,
    layout: Layout,
    typed: Typed,
    errors: FieldErrors,
    refused: Option<String>,
) -> Result<NewCampaignPage, WebError> {
    let db = state.store.readers();
    let mut vpcs = Vec::new();
    for s in store::estate::latest_scans(db).await? {
        for v in store::estate::vpcs_of(db, s.id).await? {
            let busy = store::runs::active_holder(db, &s.account, &v.region, &v.vpc_id)
                .await?
                .map(|h| format!("run {} by {}", h.run, h.started_by));
            vpcs.push(VpcChoice {
                key: format!("{}/{}/{}", s.account, v.region, v.vpc_id),
                account: s.account.clone(),
                region: v.region,
                vpc_id: v.vpc_id,
                vpc_name: v.vpc_name,
                public_hosts: v.eip_hosts + v.ordinary_hosts,
                busy,
            });
        }
    }
    Ok(NewCampaignPage {
        layout,
        vpcs,
        typed,
        errors,
        refused,
        bandwidths: &BANDWIDTHS_MBPS,
        connections: &MAX_CONNECTIONS,
    })
}

fn field<'a>(fields: &'a [(String, String)], name: &str) -> &'a str {
    fields
        .iter()
        .find(|(k, _)| k == name)
        .map_or("", |(_, v)| v.as_str())
}

fn typed(fields: &[(String, String)]) -> Typed {
    Typed {
        name: field(fields, "name").to_owned(),
        selected: fields
            .iter()
            .filter(|(k, _)| k == "vpc")
            .map(|(_, v)| v.clone())
            .collect(),
        concurrency: field(fields, "concurrency").to_owned(),
        keep_going: !field(fields, "keep_going").is_empty(),
        confirm_assessed: !field(fields, "confirm_assessed").is_empty(),
        nat_name: field(fields, "nat_name").to_owned(),
        bandwidth_mbps: field(fields, "bandwidth_mbps").to_owned(),
        max_connections: field(fields, "max_connections").to_owned(),
        new_eips: field(fields, "new_eips").to_owned(),
        zone: field(fields, "zone").to_owned(),
        eip_rule: field(fields, "eip_rule").to_owned(),
        ordinary_rule: field(fields, "ordinary_rule").to_owned(),
    }
}

/// The form into a request, one message per bad field. A VPC key is
/// `account/region/vpc-id`; the account label is what is left of the last two parts.
fn request(state: &AppState, t: &Typed) -> Result<NewCampaignRequest, FieldErrors> {
    let mut errs = FieldErrors::default();
    let mut vpcs = Vec::new();
    for key in &t.selected {
        let mut parts = key.rsplitn(3, '/');
        match (parts.next(), parts.next(), parts.next()) {
            (Some(vpc), Some(region), Some(account)) if state.accounts.get(account).is_some() => {
                vpcs.push((account.to_owned(), region.to_owned(), vpc.to_owned()));
            }
            _ => {
                errs.0.insert(
                    "vpcs".into(),
                    format!("{key} is not a VPC of a configured account; reload the page"),
                );
            }
        }
    }
    let concurrency = t.concurrency.trim().parse::<u32>().unwrap_or(0);
    let inputs = CampaignInputs::parse(&InputsForm {
        nat: ProvisionForm {
            name: t.nat_name.clone(),
            bandwidth_mbps: t.bandwidth_mbps.clone(),
            max_connections: t.max_connections.clone(),
            new_eips: t.new_eips.clone(),
            zone: t.zone.clone(),
            ..Default::default()
        },
        eip_rule: t.eip_rule.clone(),
        ordinary_rule: t.ordinary_rule.clone(),
    });
    let inputs = match inputs {
        Ok(i) => Some(i),
        Err(e) => {
            errs.0.extend(e.0);
            None
        }
    };
    match inputs {
        Some(inputs) if errs.0.is_empty() => Ok(NewCampaignRequest {
            name: t.name.trim().to_owned(),
            vpcs,
            concurrency,
            keep_going: t.keep_going,
            confirm_assessed: t.confirm_assessed,
            inputs,
        }),
        _ => Err(errs),
    }
}

pub async fn start(
    State(state): State<AppState>,
    ConnectInfo(ClientAddr(peer)): ConnectInfo<ClientAddr>,
    user: CurrentUser,
    layout: Layout,
    axum::Form(fields): axum::Form<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let t = typed(&fields);
    let refusal = |errors: FieldErrors, refused: Option<String>, t: Typed| {
        let state = state.clone();
        async move {
            let page = page(&state, layout, t, errors, refused).await?;
            Ok::<_, WebError>((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
    };
    let req = match request(&state, &t) {
        Ok(r) => r,
        Err(errors) => return refusal(errors, None, t).await,
    };
    let actor = Actor {
        user: &user.name,
        ip: Some(peer.ip()),
    };
    match state.campaigns.start(&req, actor).await {
        Ok(id) => Ok(Redirect::to(&format!("/campaigns/{id}")).into_response()),
        Err(CampaignError::Invalid(errors)) => refusal(errors, None, t).await,
        Err(e @ CampaignError::Busy(_)) => {
            refusal(FieldErrors::default(), Some(e.to_string()), t).await
        }
        Err(CampaignError::Db(e)) => Err(e.into()),
        Err(e) => Err(WebError::Conflict(e.to_string())),
    }
}
