//! A signed-in user's own account: change their password, see their sessions and sign out
//! everywhere (ASVS 5.0 V6.2.2/V3.3/V3.7). Every change is audited; the session id is never
//! shown, only when and from where each session was used.

pub mod password;
pub mod sessions;
pub mod tokens;

use super::routes::{Access, Routes};

pub fn routes() -> Routes {
    Routes::default()
        .get("/account/password", Access::Viewer, password::form)
        .post("/account/password", Access::Viewer, password::submit)
        .get("/account/sessions", Access::Viewer, sessions::list)
        .post("/account/sessions/end", Access::Viewer, sessions::end_all)
        .get("/account/tokens", Access::Viewer, tokens::list)
        .post("/account/tokens", Access::Viewer, tokens::create)
        .post(
            "/account/tokens/{id}/revoke",
            Access::Viewer,
            tokens::revoke,
        )
}
