//! The dashboard: active runs, recent runs, and the way to start a rollout.

use askama::Template;
use askama_web::WebTemplate;

use crate::web::{error::WebError, layout::Layout};

#[derive(Template, WebTemplate)]
#[template(path = "pages/dashboard.html")]
pub struct DashboardPage {
    layout: Layout,
}

pub async fn page(layout: Layout) -> Result<DashboardPage, WebError> {
    Ok(DashboardPage { layout })
}
