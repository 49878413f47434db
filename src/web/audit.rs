//! The portal's door to the audit log: logins, user and role changes, every run action,
//! with who, when and from where. Entries never contain passwords or session ids.

use std::net::IpAddr;

use crate::{app::AppState, store};

/// One audit entry about to be written.
pub struct Entry<'a> {
    pub actor: &'a str,
    pub ip: Option<IpAddr>,
    pub action: &'a str,
    pub target: &'a str,
    pub details: serde_json::Value,
}

/// Appends an entry. Failing to audit fails the request: an unrecorded change must not
/// look like a recorded one.
pub async fn record(state: &AppState, entry: Entry<'_>) -> anyhow::Result<()> {
    let ip = entry.ip.map(|ip| ip.to_string()).unwrap_or_default();
    store::audit::record(
        state.store.writer(),
        entry.actor,
        &ip,
        entry.action,
        entry.target,
        &entry.details,
    )
    .await?;
    Ok(())
}
