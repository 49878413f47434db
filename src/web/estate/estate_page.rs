//! `/estate`: the newest scan of each account, grouped account → region → VPC with subtotals
//! (`groups`; a refusing region with its code and RequestId): public IPs by kind, protected
//! hosts, kept EIPs, NAT gateways, whether the default routes go through a NAT, the last run
//! and "Start a rollout" or "Rehearse"; totals on top; the newest rehearsals below.
//! `POST /estate/scan` starts a scan of every account in the background (audited).

use askama::Template;
use askama_web::WebTemplate;
use axum::{
    extract::{ConnectInfo, Query, State},
    response::{IntoResponse, Redirect, Response},
};
use serde::Deserialize;

use crate::web::pages::status_words::InWords as _;
use crate::{
    app::AppState,
    store,
    web::{auth::session::CurrentUser, error::WebError, layout::Layout, tls::ClientAddr},
};

pub struct VpcLine {
    pub account: String,
    pub region: String,
    pub vpc: store::estate::VpcRow,
    pub last_run: Option<String>,
    pub scanned: String,
    /// EIPs its runs kept (unbound after a retirement, or left by a rollback).
    pub kept_eips: usize,
}

impl VpcLine {
    pub fn public_hosts(&self) -> i64 {
        self.vpc.eip_hosts + self.vpc.ordinary_hosts
    }

    /// The count, or "not counted" for a row of a scan from before they were counted.
    pub fn protected_words(&self) -> String {
        match self.vpc.protected_hosts {
            n if n >= 0 => n.to_string(),
            _ => "not counted".into(),
        }
    }

    /// "all", "none" or "2 of 3" route tables send 0.0.0.0/0 through a NAT gateway.
    pub fn nat_words(&self) -> String {
        match (self.vpc.nat_routed_tables, self.vpc.route_tables) {
            (n, t) if n == t && t > 0 => "routed through NAT".into(),
            (0, _) => "not routed through NAT".into(),
            (n, t) => format!("{n} of {t} route tables through NAT"),
        }
    }
}

pub struct RegionLine {
    pub account: String,
    pub region: String,
    pub code: String,
    pub message: String,
    pub request_id: String,
}

#[derive(Default)]
pub struct Totals {
    pub vpcs: i64,
    pub instances: i64,
    pub eip_hosts: i64,
    pub ordinary_hosts: i64,
    pub unbound_eips: i64,
    pub nat_routed_vpcs: i64,
    pub protected_hosts: i64,
    /// VPCs whose newest scan predates the protected-host count.
    pub protected_uncounted: i64,
}

#[derive(Template, WebTemplate)]
#[template(path = "estate/estate.html")]
pub struct EstatePage {
    layout: Layout,
    notice: Option<String>,
    groups: Vec<super::groups::AccountGroup>,
    by_name: bool,
    refused: Vec<RegionLine>,
    failed: Vec<(String, String)>,
    totals: Totals,
    scans: usize,
    /// The estate's exposure after each of the newest scans (issue 13 item 3).
    trend: super::trend::Trend,
    /// Open drift findings (issue 13 item 4) and a refused accept, if that is what this is.
    drift: Vec<super::drift_section::DriftLine>,
    drift_refused: Option<super::drift_section::AcceptRefusal>,
    /// Kept EIPs and what they cost per month (issue 13 item 6).
    kept: crate::web::kept_eips::KeptSummary,
    /// The newest rehearsals on simulated twins (issue 13 item 7); never in the totals.
    rehearsals: Vec<store::rehearsals::Rehearsal>,
}

/// How many rehearsals the page lists (each links to its run; the history has them all).
const RECENT_REHEARSALS: i64 = 20;

#[derive(Deserialize, Default)]
pub struct EstateQuery {
    done: Option<String>,
    sort: Option<String>,
}

pub async fn page(
    State(state): State<AppState>,
    layout: Layout,
    Query(q): Query<EstateQuery>,
) -> Result<EstatePage, WebError> {
    build(&state, layout, q, None).await
}

/// The page; with `drift_refused` when an accept was refused (shown at its finding's form).
pub(super) async fn build(
    state: &AppState,
    layout: Layout,
    q: EstateQuery,
    drift_refused: Option<super::drift_section::AcceptRefusal>,
) -> Result<EstatePage, WebError> {
    let db = state.store.readers();
    let scans = store::estate::latest_scans(db).await?;
    let kept = crate::web::kept_eips::summary(state).await?;
    let (mut vpcs, mut refused, mut failed, mut totals) =
        (Vec::new(), Vec::new(), Vec::new(), Totals::default());
    for s in &scans {
        if let Some(e) = &s.error {
            failed.push((s.account.clone(), e.clone()));
        }
        let scanned =
            chrono::DateTime::from_timestamp_millis(s.finished_at.unwrap_or(s.started_at))
                .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
                .unwrap_or_default();
        for r in store::estate::regions_of(db, s.id).await? {
            totals.unbound_eips += r.unbound_eips;
            if let Some((code, message, request_id)) = r.refused {
                refused.push(RegionLine {
                    account: s.account.clone(),
                    region: r.region,
                    code,
                    message,
                    request_id: request_id.unwrap_or_default(),
                });
            }
        }
        for v in store::estate::vpcs_of(db, s.id).await? {
            totals.vpcs += 1;
            totals.instances += v.instances;
            totals.eip_hosts += v.eip_hosts;
            totals.ordinary_hosts += v.ordinary_hosts;
            if v.route_tables > 0 && v.nat_routed_tables == v.route_tables {
                totals.nat_routed_vpcs += 1;
            }
            match v.protected_hosts {
                n if n >= 0 => totals.protected_hosts += n,
                _ => totals.protected_uncounted += 1,
            }
            let last_run = store::estate::last_run(db, &s.account, &v.region, &v.vpc_id).await?;
            let key = (s.account.clone(), v.region.clone(), v.vpc_id.clone());
            vpcs.push(VpcLine {
                kept_eips: kept.per_vpc.get(&key).copied().unwrap_or(0),
                account: s.account.clone(),
                region: v.region.clone(),
                vpc: v,
                last_run,
                scanned: scanned.clone(),
            });
        }
    }
    // Sortable at every level: most exposed first by default, or by name.
    let order = super::groups::Order::from_query(q.sort.as_deref());
    let groups = super::groups::group(vpcs, order);
    let notice = match q.done.as_deref() {
        Some("scan") => Some(
            "Scan started: every account and region is being read; reload for the result."
                .to_owned(),
        ),
        Some("accept") => Some("The drift finding is accepted and closed.".to_owned()),
        _ => None,
    };
    Ok(EstatePage {
        layout,
        notice,
        groups,
        by_name: order == super::groups::Order::Name,
        refused,
        failed,
        totals,
        scans: scans.len(),
        trend: super::trend::Trend::load(db).await?,
        drift: super::drift_section::open_lines(state).await?,
        drift_refused,
        kept,
        rehearsals: store::rehearsals::recent(db, RECENT_REHEARSALS).await?,
    })
}

/// Starts a scan of every account (read-only), audited as `estate.scan`.
pub async fn scan(
    State(state): State<AppState>,
    ConnectInfo(ClientAddr(peer)): ConnectInfo<ClientAddr>,
    user: CurrentUser,
) -> Result<Response, WebError> {
    let details = serde_json::json!({"accounts": state.accounts.labels()});
    store::audit::record(
        state.store.writer(),
        &user.name,
        &peer.to_string(),
        "estate.scan",
        "estate",
        &details,
    )
    .await?;
    let (store, accounts, who) = (
        state.store.clone(),
        state.accounts.clone(),
        user.name.clone(),
    );
    tokio::spawn(async move {
        if let Err(e) = crate::estate::scan::scan_all(&store, &accounts, &who).await {
            tracing::warn!(error = %e, "estate scan did not run");
        }
    });
    Ok(Redirect::to("/estate?done=scan").into_response())
}
