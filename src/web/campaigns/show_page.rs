//! `GET /campaigns/{id}`: the campaign's state, counts, why it stopped starting runs, each
//! VPC with its run, step and state in words, and its timeline; `POST /campaigns/{id}/stop`
//! (the one who started it, or an admin; audited `campaign.stop`). `GET /campaigns` lists them.

use askama::Template;
use askama_web::WebTemplate;
use axum::{
    extract::{ConnectInfo, Path, State},
    response::{IntoResponse, Redirect, Response},
};

use crate::{
    app::AppState,
    store::{
        self,
        campaigns::{Campaign, CampaignId, CampaignState, MemberState},
        users::Role,
    },
    web::{
        auth::session::CurrentUser, error::WebError, layout::Layout, pages::status_words::InWords,
        tls::ClientAddr,
    },
    wizard::{
        campaign::{CampaignError, CampaignInputs},
        engine::Actor,
        input::{EipChoice, EipRule, OrdinaryRule, ProvisionInput},
    },
};

fn when(t: chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S UTC").to_string()
}

/// A member's state as an operator reads it.
pub fn member_words(s: MemberState) -> &'static str {
    match s {
        MemberState::Waiting => "waiting to start",
        MemberState::Driving => "in progress",
        MemberState::NeedsYou => "needs you",
        MemberState::Approval => "waiting for approval",
        MemberState::Done => "completed",
        MemberState::Failed => "failed",
        MemberState::Refused => "refused",
        MemberState::Skipped => "not started",
    }
}

fn campaign_words(c: &Campaign) -> String {
    match c.state {
        CampaignState::Running if c.halted_by_failure.is_some() => {
            "running: finishing the runs under way, starting no new ones".into()
        }
        CampaignState::Running => "running".into(),
        CampaignState::Stopped => format!(
            "stopped by {}{}",
            c.stopped_by.as_deref().unwrap_or("someone"),
            c.stopped_at
                .map(|t| format!(" at {}", when(t)))
                .unwrap_or_default()
        ),
        CampaignState::Finished => "finished".into(),
    }
}

/// One VPC of the campaign.
pub struct MemberLine {
    pub account: String,
    pub region: String,
    pub vpc_id: String,
    pub run: Option<String>,
    pub state: &'static str,
    pub state_words: &'static str,
    /// The run's step and status in words ("step 2 · Provision NAT gateway — applying").
    pub step: String,
    pub detail: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "campaigns/show.html")]
pub struct CampaignPage {
    layout: Layout,
    id: String,
    name: String,
    started_by: String,
    started_at: String,
    state: &'static str,
    state_words: String,
    running: bool,
    may_stop: bool,
    halted: Option<String>,
    settings: Vec<(&'static str, String)>,
    counts: Vec<(&'static str, &'static str, usize)>,
    members: Vec<MemberLine>,
    events: Vec<(String, String)>,
}

fn settings_words(c: &Campaign) -> Vec<(&'static str, String)> {
    let mut out = vec![
        ("At most at once", format!("{} run(s)", c.concurrency)),
        (
            "On failure",
            if c.keep_going {
                "keep going".into()
            } else {
                "stop starting new runs".into()
            },
        ),
        (
            "Step 1",
            if c.confirm_assessed {
                "confirmed as assessed (the suggested protections plus each run's own)".into()
            } else {
                "reviewed per run by a person".into()
            },
        ),
    ];
    match CampaignInputs::decode(&c.inputs) {
        Ok(i) => {
            if let ProvisionInput::Create(n) = &i.provision {
                let eips = match &n.eips {
                    EipChoice::New(k) => format!("{k} new EIP(s)"),
                    EipChoice::Existing(ips) => ips.join(", "),
                };
                out.push((
                    "NAT gateway",
                    format!(
                        "{}: {} Mbps, {} connections, {eips}",
                        n.name, n.bandwidth_mbps, n.max_connections
                    ),
                ));
            }
            let eip = match i.eip_rule {
                EipRule::UnbindKeep => "unbind and keep (reversible)",
                EipRule::Release => "release (irreversible: typed per VPC on its run page)",
            };
            let ordinary = match i.ordinary_rule {
                OrdinaryRule::ConvertKeep => "convert to EIP and keep (reversible)",
                OrdinaryRule::Return => "return (irreversible: typed per VPC on its run page)",
            };
            out.push(("EIPs of servers", eip.into()));
            out.push(("Ordinary public IPs", ordinary.into()));
        }
        Err(e) => out.push(("Inputs", e)),
    }
    out
}

fn campaign_id(raw: &str) -> Result<CampaignId, WebError> {
    raw.parse()
        .map_err(|_| WebError::NotFound(format!("campaign {raw}")))
}

fn may_stop(user: Option<&crate::web::auth::session::CurrentUser>, c: &Campaign) -> bool {
    user.is_some_and(|u| {
        u.role == Role::Admin || (u.role == Role::Operator && u.name == c.started_by)
    })
}

pub async fn page(
    State(state): State<AppState>,
    layout: Layout,
    Path(raw): Path<String>,
) -> Result<CampaignPage, WebError> {
    let id = campaign_id(&raw)?;
    let db = state.store.readers();
    let c = store::campaigns::get(db, id)
        .await?
        .ok_or_else(|| WebError::NotFound(format!("campaign {id}")))?;
    let members = store::campaigns::members(db, id).await?;
    let mut lines = Vec::new();
    for m in &members {
        let run = match m.run_id {
            Some(r) => store::runs::get(db, r).await?,
            None => None,
        };
        let step = run.as_ref().map_or_else(
            || "not started".to_owned(),
            |r| {
                format!(
                    "step {} · {} — {}",
                    r.current_step.number(),
                    r.current_step.title(),
                    r.status.words()
                )
            },
        );
        lines.push(MemberLine {
            account: m.account.clone(),
            region: m.region.clone(),
            vpc_id: m.vpc_id.clone(),
            run: m.run_id.map(|r| r.to_string()),
            state: m.state.as_str(),
            state_words: member_words(m.state),
            step,
            detail: m.detail.clone(),
        });
    }
    let counts = MemberState::ALL
        .iter()
        .map(|s| {
            let n = members.iter().filter(|m| m.state == *s).count();
            (s.as_str(), member_words(*s), n)
        })
        .collect();
    let events = store::campaigns::events(db, id)
        .await?
        .into_iter()
        .map(|(_, at, msg)| (when(at), msg))
        .collect();
    Ok(CampaignPage {
        may_stop: may_stop(layout.user.as_ref(), &c),
        id: id.to_string(),
        name: c.name.clone(),
        started_by: c.started_by.clone(),
        started_at: when(c.started_at),
        state: c.state.as_str(),
        state_words: campaign_words(&c),
        running: c.state == CampaignState::Running,
        halted: c.halted_by_failure.clone(),
        settings: settings_words(&c),
        counts,
        members: lines,
        events,
        layout,
    })
}

pub async fn stop(
    State(state): State<AppState>,
    ConnectInfo(ClientAddr(peer)): ConnectInfo<ClientAddr>,
    user: CurrentUser,
    Path(raw): Path<String>,
) -> Result<Response, WebError> {
    let id = campaign_id(&raw)?;
    let c = store::campaigns::get(state.store.readers(), id)
        .await?
        .ok_or_else(|| WebError::NotFound(format!("campaign {id}")))?;
    if !may_stop(Some(&user), &c) {
        return Err(WebError::Forbidden(format!(
            "Only {} (who started this campaign) or an admin may stop it.",
            c.started_by
        )));
    }
    let actor = Actor {
        user: &user.name,
        ip: Some(peer.ip()),
    };
    match state.campaigns.stop(id, actor).await {
        Ok(()) => Ok(Redirect::to(&format!("/campaigns/{id}")).into_response()),
        Err(CampaignError::Db(e)) => Err(e.into()),
        Err(e) => Err(WebError::Conflict(e.to_string())),
    }
}

/// One campaign in the list.
pub struct ListLine {
    pub id: String,
    pub name: String,
    pub started_by: String,
    pub started_at: String,
    pub state: &'static str,
    pub state_words: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "campaigns/list.html")]
pub struct CampaignList {
    layout: Layout,
    campaigns: Vec<ListLine>,
}

pub async fn list(State(state): State<AppState>, layout: Layout) -> Result<CampaignList, WebError> {
    let campaigns = store::campaigns::list(state.store.readers(), 200)
        .await?
        .into_iter()
        .map(|c| ListLine {
            id: c.id.to_string(),
            name: c.name.clone(),
            started_by: c.started_by.clone(),
            started_at: when(c.started_at),
            state: c.state.as_str(),
            state_words: campaign_words(&c),
        })
        .collect();
    Ok(CampaignList { layout, campaigns })
}
