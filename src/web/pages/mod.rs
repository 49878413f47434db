//! Pages every signed-in user reads: the dashboard (and later history and run pages), plus
//! the open health check.

pub mod dashboard;

use super::routes::{Access, Routes};

pub fn routes() -> Routes {
    Routes::default()
        .get("/healthz", Access::Open, healthz)
        .get("/", Access::Viewer, dashboard::page)
}

/// For load balancers: answers without a session and without touching the database.
async fn healthz() -> &'static str {
    "ok"
}
