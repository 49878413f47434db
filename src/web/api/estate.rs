//! The estate in the JSON API (issue 13 items 3 and 4), for dashboards and alerting scripts:
//! `GET /api/v1/estate`, the newest scan of each account with its VPC rows and refusing
//! regions, the same figures as the estate page; `GET /api/v1/drift`, the open drift findings
//! (typed: kind, subject, the run whose result they depart from). Read-only, any token.

use axum::{Json, extract::State};
use chrono::DateTime;
use serde::Serialize;
use utoipa::ToSchema;

use super::{ApiCaller, ApiError};
use crate::{app::AppState, store};

#[derive(Serialize, ToSchema)]
pub struct EstateView {
    /// The newest finished scan of each account.
    pub scans: Vec<ScanView>,
    /// Every VPC those scans saw, by account, region and VPC id.
    pub vpcs: Vec<EstateVpcView>,
    /// Regions that refused a scan's call, with Tencent's code and RequestId.
    pub refused_regions: Vec<RefusedRegionView>,
}

#[derive(Serialize, ToSchema)]
pub struct ScanView {
    pub id: i64,
    pub account: String,
    /// `completed` or `failed`.
    pub state: String,
    /// Why it failed (the regions could not be listed), if it did.
    pub error: Option<String>,
    pub started_by: String,
    /// RFC 3339.
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct EstateVpcView {
    pub account: String,
    pub region: String,
    pub vpc_id: String,
    pub vpc_name: String,
    pub instances: i64,
    /// Servers whose public IP is an EIP.
    pub eip_hosts: i64,
    /// Servers with an ordinary public IP.
    pub ordinary_hosts: i64,
    /// Protected servers (tag or the VPC's newest run); null when the scan predates the count.
    pub protected_hosts: Option<i64>,
    pub nat_gateways: i64,
    pub route_tables: i64,
    /// Route tables whose `0.0.0.0/0` goes to a NAT gateway.
    pub nat_routed_tables: i64,
    pub scan_id: i64,
    /// The newest run on this VPC, if any.
    pub last_run: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct RefusedRegionView {
    pub account: String,
    pub region: String,
    pub code: String,
    pub message: String,
    pub request_id: Option<String>,
}

/// RFC 3339 from stored milliseconds.
fn at(ms: i64) -> Option<String> {
    DateTime::from_timestamp_millis(ms).map(|t| t.to_rfc3339())
}

/// The estate as the newest scans saw it.
#[utoipa::path(get, path = "/api/v1/estate", security(("token" = [])),
    responses((status = 200, body = EstateView)))]
pub async fn estate(
    State(state): State<AppState>,
    _caller: ApiCaller,
) -> Result<Json<EstateView>, ApiError> {
    let db = state.store.readers();
    let mut view = EstateView {
        scans: Vec::new(),
        vpcs: Vec::new(),
        refused_regions: Vec::new(),
    };
    for s in store::estate::latest_scans(db).await? {
        for r in store::estate::regions_of(db, s.id).await? {
            if let Some((code, message, request_id)) = r.refused {
                view.refused_regions.push(RefusedRegionView {
                    account: s.account.clone(),
                    region: r.region,
                    code,
                    message,
                    request_id,
                });
            }
        }
        for v in store::estate::vpcs_of(db, s.id).await? {
            let last_run = store::estate::last_run(db, &s.account, &v.region, &v.vpc_id).await?;
            view.vpcs.push(EstateVpcView {
                account: s.account.clone(),
                region: v.region,
                vpc_id: v.vpc_id,
                vpc_name: v.vpc_name,
                instances: v.instances,
                eip_hosts: v.eip_hosts,
                ordinary_hosts: v.ordinary_hosts,
                protected_hosts: (v.protected_hosts >= 0).then_some(v.protected_hosts),
                nat_gateways: v.nat_gateways,
                route_tables: v.route_tables,
                nat_routed_tables: v.nat_routed_tables,
                scan_id: s.id,
                last_run,
            });
        }
        view.scans.push(ScanView {
            id: s.id,
            account: s.account,
            state: s.state,
            error: s.error,
            started_by: s.started_by,
            started_at: at(s.started_at),
            finished_at: s.finished_at.and_then(at),
        });
    }
    Ok(Json(view))
}

#[derive(Serialize, ToSchema)]
pub struct DriftList {
    pub findings: Vec<DriftView>,
}

#[derive(Serialize, ToSchema)]
pub struct DriftView {
    pub id: i64,
    pub account: String,
    pub region: String,
    pub vpc_id: String,
    /// `new_public_ip`, `eip_bound_again` or `default_route_changed`.
    pub kind: String,
    /// The instance, EIP or route table it is about.
    pub subject: String,
    /// The finding in words, as the estate page shows it.
    pub what: String,
    /// The completed run whose result this departs from.
    pub run: String,
    /// RFC 3339.
    pub first_seen: String,
    pub last_seen: String,
    /// The newest scan that saw it.
    pub last_scan: i64,
}

/// Open drift findings, newest first.
#[utoipa::path(get, path = "/api/v1/drift", security(("token" = [])),
    responses((status = 200, body = DriftList)))]
pub async fn drift(
    State(state): State<AppState>,
    _caller: ApiCaller,
) -> Result<Json<DriftList>, ApiError> {
    let findings = store::drift::open(state.store.readers())
        .await?
        .into_iter()
        .map(|f| DriftView {
            id: f.id,
            account: f.at.account,
            region: f.at.region,
            vpc_id: f.at.vpc_id,
            kind: f.finding.kind().to_owned(),
            subject: f.finding.subject().to_owned(),
            what: f.finding.words(),
            run: f.run.to_string(),
            first_seen: f.first_seen.to_rfc3339(),
            last_seen: f.last_seen.to_rfc3339(),
            last_scan: f.last_scan,
        })
        .collect();
    Ok(Json(DriftList { findings }))
}
