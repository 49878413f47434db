//! Admin pages: users and roles, the audit log, the webhook outbox.

pub mod audit;
mod audit_view;
pub mod users;
pub mod webhooks;

use super::routes::{Access, Routes};

pub fn routes() -> Routes {
    Routes::default()
        .get("/admin/users", Access::Admin, users::list)
        .post("/admin/users", Access::Admin, users::add)
        .post("/admin/users/{id}/role", Access::Admin, users::set_role)
        .post(
            "/admin/users/{id}/password",
            Access::Admin,
            users::reset_password,
        )
        .post("/admin/users/{id}/disable", Access::Admin, users::disable)
        .post("/admin/users/{id}/enable", Access::Admin, users::enable)
        .get("/admin/audit", Access::Admin, audit::page)
        .get("/admin/webhooks", Access::Admin, webhooks::page)
        .post(
            "/admin/webhooks/deliveries/{id}/retry",
            Access::Admin,
            webhooks::retry,
        )
}
