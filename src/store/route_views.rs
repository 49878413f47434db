//! Step 3's stored page view (migration 0340): the open step's plan in words and its
//! per-route-table breakdown as the page shows them, with the basis and stored-inputs
//! version they were made from (`web::pages::route_stored` decides what they mean).

use sqlx::{AnyExecutor, Row};

use super::RunId;

/// The stored view of a run's step 3.
pub struct RouteView {
    pub version: i64,
    pub basis: String,
    pub body: String,
}

pub async fn get(conn: impl AnyExecutor<'_>, run: RunId) -> sqlx::Result<Option<RouteView>> {
    let row =
        crate::store::sql::query("SELECT version, basis, body FROM route_views WHERE run_id = ?")
            .bind(run.to_string())
            .fetch_optional(conn)
            .await?;
    row.map(|r| {
        Ok(RouteView {
            version: r.try_get("version")?,
            basis: r.try_get("basis")?,
            body: r.try_get("body")?,
        })
    })
    .transpose()
}

/// Stores (or replaces) the run's view.
pub async fn put(conn: impl AnyExecutor<'_>, run: RunId, view: &RouteView) -> sqlx::Result<()> {
    crate::store::sql::query(
        "INSERT INTO route_views (run_id, version, basis, body, at) VALUES (?, ?, ?, ?, ?) \
         ON CONFLICT (run_id) DO UPDATE SET version = excluded.version, \
         basis = excluded.basis, body = excluded.body, at = excluded.at",
    )
    .bind(run.to_string())
    .bind(view.version)
    .bind(&view.basis)
    .bind(&view.body)
    .bind(super::types::now_millis())
    .execute(conn)
    .await?;
    Ok(())
}
