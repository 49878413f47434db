//! Campaign pages (issue 13 item 5): the list, the form that starts one from VPCs of the
//! estate's newest scans (`new_page`), and a campaign's page with each run's VPC, step and
//! state in words, the counts and the Stop button (`show_page`).

mod new_page;
mod show_page;

use super::routes::{Access, Routes};

pub fn routes() -> Routes {
    Routes::default()
        .get("/campaigns", Access::Viewer, show_page::list)
        .get("/campaigns/new", Access::Operator, new_page::form)
        .post("/campaigns", Access::Operator, new_page::start)
        .get("/campaigns/{id}", Access::Viewer, show_page::page)
        .post("/campaigns/{id}/stop", Access::Operator, show_page::stop)
}
