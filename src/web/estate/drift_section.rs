//! The estate page's drift findings (issue 13 item 4): every open finding with its kind,
//! subject and first/last seen, and `POST /estate/drift/{id}/accept` (operators), which
//! closes one with a typed reason, audited as `drift.accept` with who and when. A refused
//! accept renders the estate page again with the message and the reason as typed.

use axum::{
    extract::{ConnectInfo, Path, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};
use serde::Deserialize;

use super::estate_page::{self, EstateQuery};
use crate::{
    app::AppState,
    store::{self, drift::Finding},
    web::{auth::session::CurrentUser, error::WebError, layout::Layout, tls::ClientAddr},
};

/// One open finding as the page shows it.
pub struct DriftLine {
    pub id: i64,
    pub account: String,
    pub region: String,
    pub vpc_id: String,
    pub run: String,
    pub kind: &'static str,
    pub title: &'static str,
    pub subject: String,
    pub words: String,
    pub first_seen: String,
    pub last_seen: String,
}

fn when(t: chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S UTC").to_string()
}

impl From<Finding> for DriftLine {
    fn from(f: Finding) -> DriftLine {
        DriftLine {
            id: f.id,
            account: f.at.account,
            region: f.at.region,
            vpc_id: f.at.vpc_id,
            run: f.run.to_string(),
            kind: f.finding.kind(),
            title: f.finding.title(),
            subject: f.finding.subject().to_owned(),
            words: f.finding.words(),
            first_seen: when(f.first_seen),
            last_seen: when(f.last_seen),
        }
    }
}

/// Every open finding; one that does not decode fails the page (never left out).
pub async fn open_lines(state: &AppState) -> Result<Vec<DriftLine>, WebError> {
    let open = store::drift::open(state.store.readers()).await?;
    Ok(open.into_iter().map(DriftLine::from).collect())
}

/// Why an accept was refused, shown next to the finding's form with what was typed.
pub struct AcceptRefusal {
    pub finding: i64,
    pub message: String,
    pub reason: String,
}

/// The operator's reason for accepting a finding: said in words, within one paragraph.
pub struct AcceptReason(String);

impl AcceptReason {
    const MAX: usize = 500;

    pub fn parse(s: &str) -> Result<AcceptReason, String> {
        let s = s.trim();
        if s.is_empty() {
            return Err(
                "Say why this finding is accepted (e.g. \"bastion host, approved in \
                        CHG-1234\"): the reason is kept in the audit log."
                    .into(),
            );
        }
        if s.chars().count() > Self::MAX {
            return Err(format!(
                "Keep the reason to {} characters or fewer.",
                Self::MAX
            ));
        }
        Ok(AcceptReason(s.to_owned()))
    }
}

#[derive(Deserialize)]
pub struct AcceptForm {
    #[serde(default)]
    reason: String,
}

pub async fn accept(
    State(state): State<AppState>,
    ConnectInfo(ClientAddr(peer)): ConnectInfo<ClientAddr>,
    user: CurrentUser,
    layout: Layout,
    Path(id): Path<i64>,
    axum::Form(form): axum::Form<AcceptForm>,
) -> Result<Response, WebError> {
    let reason = match AcceptReason::parse(&form.reason) {
        Ok(r) => r,
        Err(message) => {
            let refusal = AcceptRefusal {
                finding: id,
                message,
                reason: form.reason,
            };
            let page =
                estate_page::build(&state, layout, EstateQuery::default(), Some(refusal)).await?;
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
        }
    };
    let mut tx = state.store.begin_write().await?;
    let Some(f) = store::drift::get(&mut *tx, id).await? else {
        return Err(WebError::NotFound(format!("drift finding {id}")));
    };
    if !store::drift::accept(&mut *tx, id, &user.name, &reason.0).await? {
        return Err(WebError::Conflict(format!(
            "drift finding {id} is not open any more (accepted or closed already)"
        )));
    }
    let details = serde_json::json!({
        "finding": id,
        "account": f.at.account,
        "region": f.at.region,
        "vpc_id": f.at.vpc_id,
        "kind": f.finding.kind(),
        "subject": f.finding.subject(),
        "reason": reason.0,
    });
    store::audit::record(
        &mut *tx,
        &user.name,
        &peer.to_string(),
        "drift.accept",
        &f.at.vpc_id,
        &details,
    )
    .await?;
    tx.commit().await?;
    Ok(Redirect::to("/estate?done=accept#drift").into_response())
}
