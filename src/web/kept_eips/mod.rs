//! The Kept EIPs page (issue 13 item 6): `GET /kept-eips` lists every EIP a run kept, with
//! its account/region, run, address id and IP, age and idle charge (viewers see the list);
//! operators release one after the soak period or re-bind it to an instance, each with a typed
//! confirmation (`POST /kept-eips/{run}/{address}/release|rebind`). The decision and the cloud
//! calls are the engine's (`wizard::engine::kept_action`); a refusal renders the page again
//! with the message at the row's form and what was typed.

mod lines;
mod page;

use super::routes::{Access, Routes};

pub use lines::{KeptSummary, summary};

pub fn routes() -> Routes {
    Routes::default()
        .get("/kept-eips", Access::Viewer, page::page)
        .post(
            "/kept-eips/{run}/{address}/release",
            Access::Operator,
            page::release,
        )
        .post(
            "/kept-eips/{run}/{address}/rebind",
            Access::Operator,
            page::rebind,
        )
}
