//! Who asks the engine for a change, and the audit entry each change writes in the same
//! transaction as the state change it records — so the audit log can never say something
//! happened that did not, or miss something that did.

use std::net::IpAddr;

use serde_json::Value;

use crate::store::{self, RunId};

/// The user behind a run action and where the request came from (none from the shell/tests).
#[derive(Debug, Clone, Copy)]
pub struct Actor<'a> {
    pub user: &'a str,
    pub ip: Option<IpAddr>,
}

impl<'a> From<&'a str> for Actor<'a> {
    fn from(user: &'a str) -> Actor<'a> {
        Actor { user, ip: None }
    }
}

impl<'a> From<&'a String> for Actor<'a> {
    fn from(user: &'a String) -> Actor<'a> {
        Actor { user, ip: None }
    }
}

impl Actor<'_> {
    /// Appends the audit entry of `action` on `run` through `conn` (the caller's write
    /// transaction, or the writer for a refusal that changes nothing).
    pub(super) async fn audit(
        &self,
        conn: impl sqlx::AnyExecutor<'_>,
        action: &str,
        run: RunId,
        details: &Value,
    ) -> sqlx::Result<()> {
        let ip = self.ip.map(|ip| ip.to_string()).unwrap_or_default();
        store::audit::record(conn, self.user, &ip, action, &run.to_string(), details).await?;
        Ok(())
    }
}
