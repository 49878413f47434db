//! `GET /kept-eips` and the two forms of each row.

use askama::Template;
use askama_web::WebTemplate;
use axum::{
    extract::{ConnectInfo, Path, Query, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};
use chrono::Utc;
use serde::Deserialize;

use super::lines::{KeptLine, KeptSummary, line, summarise};
use crate::{
    app::AppState,
    store::{self, RunId},
    web::{
        auth::session::CurrentUser, error::WebError, layout::Layout, pages::numbers::grouped,
        tls::ClientAddr,
    },
    wizard::engine::{InstanceId, KeptAction, KeptRefusal, KeptRequest},
};

/// A done or failed release / re-bind, newest first.
pub struct ActionLine {
    pub run: String,
    pub ip: String,
    pub address_id: String,
    pub what: String,
    pub done: bool,
    pub actor: String,
    pub at: String,
    pub detail: String,
    pub code: String,
    pub request_id: String,
}

/// A refused form, shown at its row with what was typed.
pub struct Refused {
    pub run: String,
    pub address_id: String,
    /// `release` or `rebind`.
    pub form: &'static str,
    pub message: String,
    pub code: String,
    pub request_id: String,
    pub confirm: String,
    pub instance_id: String,
}

impl Refused {
    pub fn at(&self, l: &KeptLine, form: &str) -> bool {
        self.run == l.run && self.address_id == l.address_id && self.form == form
    }
}

/// Rows a page shows: a run that kept thousands of EIPs must not make a megabyte page.
const PAGE: usize = 50;
/// Newest releases and re-binds shown; every one is also in its run's ledger and audit log.
const ACTIONS_SHOWN: usize = 50;

/// Where this page sits in the list, with links to the others (`?page=N`, from 1).
pub struct Pager {
    /// "rows 51–100 of 497".
    pub range: String,
    pub first: Option<String>,
    pub prev: Option<String>,
    pub next: Option<String>,
    pub last: Option<String>,
}

impl Pager {
    fn new(total: usize, page: usize, run: Option<&str>) -> Pager {
        let pages = total.div_ceil(PAGE).max(1);
        let page = page.clamp(1, pages);
        let link = |n: usize| {
            let run = run.map(|r| format!("run={r}&")).unwrap_or_default();
            format!("/kept-eips?{run}page={n}")
        };
        let from = ((page - 1) * PAGE + 1).min(total);
        let to = (page * PAGE).min(total);
        Pager {
            range: format!(
                "rows {}–{} of {}",
                grouped(from),
                grouped(to),
                grouped(total)
            ),
            first: (page > 1).then(|| link(1)),
            prev: (page > 1).then(|| link(page - 1)),
            next: (page < pages).then(|| link(page + 1)),
            last: (page < pages).then(|| link(pages)),
        }
    }

    pub fn paged(&self) -> bool {
        self.prev.is_some() || self.next.is_some()
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "kept/list.html")]
pub struct KeptPage {
    layout: Layout,
    notice: Option<String>,
    /// Only this run's (`?run=`), when given.
    run: Option<String>,
    /// This page's rows; the totals count every row.
    lines: Vec<KeptLine>,
    pager: Pager,
    actions_total: usize,
    actions: Vec<ActionLine>,
    totals: KeptSummary,
    soak: String,
    refused: Option<Refused>,
}

impl KeptPage {
    /// Whether `refused` belongs to this row's `form`.
    fn refused_at(&self, l: &KeptLine, form: &str) -> bool {
        self.refused.as_ref().is_some_and(|r| r.at(l, form))
    }
}

#[derive(Deserialize, Default)]
pub struct KeptQuery {
    run: Option<String>,
    page: Option<usize>,
    done: Option<String>,
    ip: Option<String>,
}

fn run_filter(run: Option<&str>) -> Result<Option<RunId>, WebError> {
    match run.map(str::trim).filter(|r| !r.is_empty()) {
        None => Ok(None),
        Some(r) => r
            .parse()
            .map(Some)
            .map_err(|_| WebError::BadRequest(format!("{r:?} is not a run id"))),
    }
}

/// "7 days", "36 hours", "0 seconds": the soak as the page says it.
fn soak_words(d: std::time::Duration) -> String {
    let s = d.as_secs();
    match s {
        s if s > 0 && s % 86_400 == 0 => format!("{} day(s)", s / 86_400),
        s if s > 0 && s % 3600 == 0 => format!("{} hour(s)", s / 3600),
        s if s > 0 && s % 60 == 0 => format!("{} minute(s)", s / 60),
        s => format!("{s} second(s)"),
    }
}

pub async fn page(
    State(state): State<AppState>,
    layout: Layout,
    Query(q): Query<KeptQuery>,
) -> Result<KeptPage, WebError> {
    let notice = match (q.done.as_deref(), q.ip.as_deref()) {
        (Some("release"), Some(ip)) => Some(format!("EIP {ip} was released.")),
        (Some("rebind"), Some(ip)) => Some(format!("EIP {ip} was bound to the instance.")),
        _ => None,
    };
    build(
        &state,
        layout,
        q.run.as_deref(),
        notice,
        None,
        q.page.unwrap_or(1),
    )
    .await
}

async fn build(
    state: &AppState,
    layout: Layout,
    run: Option<&str>,
    notice: Option<String>,
    refused: Option<Refused>,
    page: usize,
) -> Result<KeptPage, WebError> {
    let filter = run_filter(run)?;
    let s = &state.settings.kept_eips;
    let now = Utc::now();
    let kept = state
        .engine
        .kept_eips(filter)
        .await
        .map_err(|e| WebError::Internal(e.into()))?;
    let mut lines: Vec<KeptLine> = kept.iter().map(|k| line(k, s, now)).collect();
    let totals = summarise(&lines, s);
    // A refused form is shown on the page that holds its row, with what was typed.
    let page = refused
        .as_ref()
        .and_then(|r| {
            lines
                .iter()
                .position(|l| r.run == l.run && r.address_id == l.address_id)
        })
        .map_or(page, |i| i / PAGE + 1);
    let run_text = filter.map(|r| r.to_string());
    let pager = Pager::new(lines.len(), page, run_text.as_deref());
    let start = (page.clamp(1, lines.len().div_ceil(PAGE).max(1)) - 1) * PAGE;
    lines = lines.into_iter().skip(start).take(PAGE).collect();
    // Newest first from the store.
    let all_actions = store::kept_eips::list(state.store.readers(), filter).await?;
    let actions_total = all_actions.len();
    let actions = all_actions
        .into_iter()
        .take(ACTIONS_SHOWN)
        .map(|a| ActionLine {
            run: a.run.to_string(),
            what: match &a.instance_id {
                Some(i) => format!("re-bind to {i}"),
                None => "release".into(),
            },
            ip: a.ip,
            address_id: a.address_id,
            done: a.done,
            actor: a.actor,
            at: a.at.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
            detail: a.detail,
            code: a.code.unwrap_or_default(),
            request_id: a.request_id.unwrap_or_default(),
        })
        .collect();
    Ok(KeptPage {
        layout,
        notice,
        run: run_text,
        totals,
        lines,
        pager,
        actions_total,
        actions,
        soak: soak_words(s.soak),
        refused,
    })
}

#[derive(Deserialize)]
pub struct ReleaseForm {
    #[serde(default)]
    confirm: String,
}

#[derive(Deserialize)]
pub struct RebindForm {
    #[serde(default)]
    confirm: String,
    #[serde(default)]
    instance_id: String,
}

pub async fn release(
    State(state): State<AppState>,
    ConnectInfo(ClientAddr(peer)): ConnectInfo<ClientAddr>,
    user: CurrentUser,
    layout: Layout,
    Path((run, address)): Path<(String, String)>,
    axum::Form(form): axum::Form<ReleaseForm>,
) -> Result<Response, WebError> {
    let refused = |message: String| Refused {
        run: run.clone(),
        address_id: address.clone(),
        form: "release",
        message,
        code: String::new(),
        request_id: String::new(),
        confirm: form.confirm.clone(),
        instance_id: String::new(),
    };
    act(
        &state,
        layout,
        &run,
        &address,
        &form.confirm,
        Ok(KeptAction::Release),
        &user.name,
        &peer.to_string(),
        refused,
    )
    .await
}

pub async fn rebind(
    State(state): State<AppState>,
    ConnectInfo(ClientAddr(peer)): ConnectInfo<ClientAddr>,
    user: CurrentUser,
    layout: Layout,
    Path((run, address)): Path<(String, String)>,
    axum::Form(form): axum::Form<RebindForm>,
) -> Result<Response, WebError> {
    let refused = |message: String| Refused {
        run: run.clone(),
        address_id: address.clone(),
        form: "rebind",
        message,
        code: String::new(),
        request_id: String::new(),
        confirm: form.confirm.clone(),
        instance_id: form.instance_id.clone(),
    };
    let action = InstanceId::parse(&form.instance_id).map(KeptAction::Rebind);
    act(
        &state,
        layout,
        &run,
        &address,
        &form.confirm,
        action,
        &user.name,
        &peer.to_string(),
        refused,
    )
    .await
}

#[allow(clippy::too_many_arguments)]
async fn act(
    state: &AppState,
    layout: Layout,
    run: &str,
    address: &str,
    confirm: &str,
    action: Result<KeptAction, String>,
    actor: &str,
    client_ip: &str,
    refused: impl Fn(String) -> Refused,
) -> Result<Response, WebError> {
    let run_id: RunId = run
        .parse()
        .map_err(|_| WebError::NotFound(format!("run {run}")))?;
    let outcome = match action {
        Err(message) => Err(KeptRefusal {
            message,
            code: None,
            request_id: None,
        }),
        Ok(action) => {
            let req = KeptRequest {
                run: run_id,
                address_id: address,
                typed: confirm,
                action,
                actor,
                client_ip,
                soak: state.settings.kept_eips.soak,
            };
            let how = match req.action {
                KeptAction::Release => "release",
                KeptAction::Rebind(_) => "rebind",
            };
            state.engine.act_on_kept_eip(&req).await.map(|_| how)
        }
    };
    match outcome {
        Ok(how) => {
            // The typed confirmation is the EIP's IP or id: either names it in the notice.
            let to = format!("/kept-eips?done={how}&ip={}", url_escape(confirm.trim()));
            Ok(Redirect::to(&to).into_response())
        }
        Err(r) => {
            let mut shown = refused(r.message);
            shown.code = r.code.unwrap_or_default();
            shown.request_id = r.request_id.unwrap_or_default();
            let page = build(state, layout, None, None, Some(shown), 1).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
    }
}

/// Percent-encodes a query value (an IP or an id; anything else is encoded byte by byte).
fn url_escape(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'.' | b'-' | b'_' => (b as char).to_string(),
            other => format!("%{other:02X}"),
        })
        .collect()
}
