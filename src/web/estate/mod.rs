//! Estate pages (issue 13): the cloud accounts the portal works in.

mod accounts_page;

use super::routes::{Access, Routes};

pub fn routes() -> Routes {
    Routes::default().get("/accounts", Access::Viewer, accounts_page::page)
}
