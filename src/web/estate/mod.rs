//! Estate pages (issue 13): the cloud accounts the portal works in, and the estate's
//! exposure from the newest scans.

mod accounts_page;
mod drift_section;
mod estate_page;
mod groups;
mod trend;

use super::routes::{Access, Routes};

pub fn routes() -> Routes {
    Routes::default()
        .get("/accounts", Access::Viewer, accounts_page::page)
        .get("/estate", Access::Viewer, estate_page::page)
        .post("/estate/scan", Access::Operator, estate_page::scan)
        .post(
            "/estate/drift/{id}/accept",
            Access::Operator,
            drift_section::accept,
        )
}
