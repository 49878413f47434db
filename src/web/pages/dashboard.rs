//! The dashboard: active runs (VPC, step, who, since when), recent runs, and the way to
//! start a rollout.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;

use crate::{
    app::AppState,
    store::{
        self, RunStatus,
        runs::{Run, RunFilter},
    },
    web::{error::WebError, layout::Layout},
};

// Templates show statuses in words.
use super::status_words::InWords as _;

#[derive(Template, WebTemplate)]
#[template(path = "pages/dashboard.html")]
pub struct DashboardPage {
    layout: Layout,
    active: Vec<Run>,
    recent: Vec<Run>,
    /// Which of them wait for an approval (their status reads so).
    awaiting: crate::web::approvals::Awaiting,
}

pub async fn page(
    State(state): State<AppState>,
    layout: Layout,
) -> Result<DashboardPage, WebError> {
    let db = state.store.readers();
    let mut active = Vec::new();
    for status in RunStatus::ALL.iter().filter(|s| s.holds_vpc()) {
        let f = RunFilter {
            status: Some(*status),
            ..Default::default()
        };
        active.extend(store::runs::list(db, &f, None, 50).await?.runs);
    }
    active.sort_by_key(|r| std::cmp::Reverse(r.started_at));
    let recent = store::runs::list(db, &RunFilter::default(), None, 10)
        .await?
        .runs;
    let awaiting = crate::web::approvals::Awaiting::of(&state, &active).await?;
    Ok(DashboardPage {
        layout,
        active,
        recent,
        awaiting,
    })
}
