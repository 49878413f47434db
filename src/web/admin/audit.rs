//! `/admin/audit`: the append-only audit log, newest first, filtered by user, action and
//! date, 50 entries a page with keyset pagination (`before` = the last id shown).

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State};
use chrono::{NaiveDate, TimeZone, Utc};
use serde::Deserialize;

use super::audit_view::AuditLine;
use crate::{
    app::AppState,
    store::{
        audit::{self, AuditFilter},
        users,
    },
    web::{error::WebError, layout::Layout},
};

const PAGE: u32 = 50;

#[derive(Deserialize, Default)]
pub struct AuditQuery {
    #[serde(default)]
    actor: String,
    #[serde(default)]
    action: String,
    /// `YYYY-MM-DD`, inclusive.
    #[serde(default)]
    from: String,
    /// `YYYY-MM-DD`, inclusive.
    #[serde(default)]
    until: String,
    before: Option<i64>,
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/audit.html")]
pub struct AuditPage {
    layout: Layout,
    q: AuditQuery,
    entries: Vec<AuditLine>,
    error: Option<String>,
    next: Option<String>,
}

fn date(raw: &str, field: &str) -> Result<Option<NaiveDate>, String> {
    if raw.trim().is_empty() {
        return Ok(None);
    }
    NaiveDate::parse_from_str(raw.trim(), "%Y-%m-%d")
        .map(Some)
        .map_err(|_| format!("{field}: `{raw}` is not a date like 2026-11-28"))
}

fn filter(q: &AuditQuery) -> Result<AuditFilter, String> {
    let midnight = |d: NaiveDate| Utc.from_utc_datetime(&d.and_hms_opt(0, 0, 0).expect("midnight"));
    let opt = |s: &str| (!s.trim().is_empty()).then(|| s.trim().to_owned());
    Ok(AuditFilter {
        actor: opt(&q.actor),
        action: opt(&q.action),
        from: date(&q.from, "From")?.map(midnight),
        until: date(&q.until, "Until")?
            .and_then(|d| d.succ_opt())
            .map(midnight),
        before_id: q.before,
    })
}

pub async fn page(
    State(state): State<AppState>,
    layout: Layout,
    Query(q): Query<AuditQuery>,
) -> Result<AuditPage, WebError> {
    let (entries, error) = match filter(&q) {
        Ok(f) => (audit::list(state.store.readers(), &f, PAGE).await?, None),
        Err(e) => (Vec::new(), Some(e)),
    };
    let next = (entries.len() == PAGE as usize).then(|| {
        let last = entries.last().map_or(0, |e| e.id);
        let params = [
            ("actor", &q.actor),
            ("action", &q.action),
            ("from", &q.from),
            ("until", &q.until),
        ];
        let mut query = serde_urlencoded::to_string(params).unwrap_or_default();
        query.push_str(&format!("&before={last}"));
        format!("/admin/audit?{query}")
    });
    // Targets that name a user link to that user's entries.
    let names: Vec<String> = users::list(state.store.readers())
        .await?
        .into_iter()
        .map(|u| u.name)
        .collect();
    let entries = entries
        .into_iter()
        .map(|e| AuditLine::new(e, &names))
        .collect();
    Ok(AuditPage {
        layout,
        q,
        entries,
        error,
        next,
    })
}
