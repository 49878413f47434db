//! Admin pages: users and roles, the audit log.

pub mod users;

use super::routes::{Access, Routes};

pub fn routes() -> Routes {
    Routes::default().get("/admin/users", Access::Admin, users::list)
}
