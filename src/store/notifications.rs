//! The notification outbox (migration 0090): append a typed event in the caller's
//! transaction, fan it out into one delivery per subscribed webhook, claim due deliveries and
//! record each attempt. The payload is JSON of `notify::Notification`, decoded strictly by its
//! reader; nothing here holds a webhook URL or secret.

use chrono::{DateTime, Utc};
use sqlx::{AnyExecutor, Row};

use super::types::{RunId, from_millis, now_millis};

/// Appends a notification; returns its id.
pub async fn append(
    conn: impl AnyExecutor<'_>,
    kind: &str,
    run: Option<RunId>,
    payload: &serde_json::Value,
) -> sqlx::Result<i64> {
    crate::store::sql::query_scalar(
        "INSERT INTO notifications (at, kind, run_id, payload) VALUES (?, ?, ?, ?) RETURNING id",
    )
    .bind(now_millis())
    .bind(kind)
    .bind(run.map(|r| r.to_string()))
    .bind(payload.to_string())
    .fetch_one(conn)
    .await
}

/// A stored notification, its payload still raw (the reader decodes it strictly).
#[derive(Debug, Clone)]
pub struct StoredNotification {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub kind: String,
    pub payload: String,
}

/// Notifications after the webhook's cursor (the first time: none, the cursor is set to the
/// newest), oldest first, and moves the cursor past them. Run inside a write transaction so
/// two fan-outs cannot both take the same rows.
pub async fn take_after_cursor(
    tx: &mut sqlx::AnyConnection,
    webhook: &str,
    limit: u32,
) -> sqlx::Result<Vec<StoredNotification>> {
    let cursor: Option<i64> = crate::store::sql::query_scalar(
        "SELECT last_notification_id FROM webhook_cursors WHERE webhook = ?",
    )
    .bind(webhook)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(cursor) = cursor else {
        crate::store::sql::query(
            "INSERT INTO webhook_cursors (webhook, last_notification_id) \
             SELECT ?, COALESCE(MAX(id), 0) FROM notifications",
        )
        .bind(webhook)
        .execute(&mut *tx)
        .await?;
        return Ok(Vec::new());
    };
    let rows = crate::store::sql::query(
        "SELECT id, at, kind, payload FROM notifications WHERE id > ? ORDER BY id LIMIT ?",
    )
    .bind(cursor)
    .bind(i64::from(limit))
    .fetch_all(&mut *tx)
    .await?;
    let taken: Vec<StoredNotification> = rows
        .into_iter()
        .map(|r| {
            Ok(StoredNotification {
                id: r.try_get("id")?,
                at: from_millis(r.try_get("at")?),
                kind: r.try_get("kind")?,
                payload: r.try_get("payload")?,
            })
        })
        .collect::<sqlx::Result<_>>()?;
    if let Some(last) = taken.last() {
        crate::store::sql::query(
            "UPDATE webhook_cursors SET last_notification_id = ? WHERE webhook = ?",
        )
        .bind(last.id)
        .bind(webhook)
        .execute(&mut *tx)
        .await?;
    }
    Ok(taken)
}

/// Queues one delivery (idempotent per notification and webhook).
pub async fn enqueue(
    conn: impl AnyExecutor<'_>,
    notification: i64,
    webhook: &str,
) -> sqlx::Result<()> {
    crate::store::sql::query(
        "INSERT INTO webhook_deliveries (notification_id, webhook, state, next_attempt_at) \
         VALUES (?, ?, 'pending', ?) ON CONFLICT DO NOTHING",
    )
    .bind(notification)
    .bind(webhook)
    .bind(now_millis())
    .execute(conn)
    .await?;
    Ok(())
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    pub id: i64,
    pub notification_id: i64,
    pub webhook: String,
    /// `pending`, `delivered` or `dead`.
    pub state: String,
    pub attempts: i64,
    pub next_attempt_at: DateTime<Utc>,
    pub last_status: Option<i64>,
    pub last_error: Option<String>,
    pub delivered_at: Option<DateTime<Utc>>,
    pub kind: String,
    pub payload: String,
}

/// A static query over deliveries joined with their notification, `$tail` appended.
macro_rules! deliveries_where {
    ($tail:literal) => {
        concat!(
            "SELECT d.id, d.notification_id, d.webhook, d.state, d.attempts, d.next_attempt_at, \
             d.last_status, d.last_error, d.delivered_at, n.kind, n.payload \
             FROM webhook_deliveries d JOIN notifications n ON n.id = d.notification_id ",
            $tail
        )
    };
}

fn delivery(r: sqlx::any::AnyRow) -> sqlx::Result<Delivery> {
    Ok(Delivery {
        id: r.try_get("id")?,
        notification_id: r.try_get("notification_id")?,
        webhook: r.try_get("webhook")?,
        state: r.try_get("state")?,
        attempts: r.try_get("attempts")?,
        next_attempt_at: from_millis(r.try_get("next_attempt_at")?),
        last_status: r.try_get("last_status")?,
        last_error: r.try_get("last_error")?,
        delivered_at: r
            .try_get::<Option<i64>, _>("delivered_at")?
            .map(from_millis),
        kind: r.try_get("kind")?,
        payload: r.try_get("payload")?,
    })
}

/// Pending deliveries whose next attempt is due, oldest first.
pub async fn due(conn: impl AnyExecutor<'_>, limit: u32) -> sqlx::Result<Vec<Delivery>> {
    crate::store::sql::query(deliveries_where!(
        "WHERE d.state = 'pending' AND d.next_attempt_at <= ? ORDER BY d.id LIMIT ?"
    ))
    .bind(now_millis())
    .bind(i64::from(limit))
    .fetch_all(conn)
    .await?
    .into_iter()
    .map(delivery)
    .collect()
}

/// The newest deliveries, for the admin page.
pub async fn recent(conn: impl AnyExecutor<'_>, limit: u32) -> sqlx::Result<Vec<Delivery>> {
    crate::store::sql::query(deliveries_where!("ORDER BY d.id DESC LIMIT ?"))
        .bind(i64::from(limit))
        .fetch_all(conn)
        .await?
        .into_iter()
        .map(delivery)
        .collect()
}

/// Claims a due delivery until `until` (its next attempt pushed past the send), so another
/// process does not send it at the same time; false when someone else claimed it first.
pub async fn claim(
    conn: impl AnyExecutor<'_>,
    d: &Delivery,
    until: DateTime<Utc>,
) -> sqlx::Result<bool> {
    let claimed = crate::store::sql::query(
        "UPDATE webhook_deliveries SET next_attempt_at = ? \
         WHERE id = ? AND state = 'pending' AND next_attempt_at = ?",
    )
    .bind(until.timestamp_millis())
    .bind(d.id)
    .bind(d.next_attempt_at.timestamp_millis())
    .execute(conn)
    .await?;
    Ok(claimed.rows_affected() == 1)
}

/// Records a successful attempt.
pub async fn delivered(conn: impl AnyExecutor<'_>, id: i64, status: u16) -> sqlx::Result<()> {
    crate::store::sql::query(
        "UPDATE webhook_deliveries SET state = 'delivered', attempts = attempts + 1, \
         last_status = ?, last_error = NULL, delivered_at = ? WHERE id = ? AND state = 'pending'",
    )
    .bind(i64::from(status))
    .bind(now_millis())
    .bind(id)
    .execute(conn)
    .await?;
    Ok(())
}

/// Records a failed attempt: retried at `retry_at`, or dead when `retry_at` is `None`.
pub async fn failed(
    conn: impl AnyExecutor<'_>,
    id: i64,
    status: Option<u16>,
    error: &str,
    retry_at: Option<DateTime<Utc>>,
) -> sqlx::Result<()> {
    let (state, next) = match retry_at {
        Some(t) => ("pending", t.timestamp_millis()),
        None => ("dead", now_millis()),
    };
    crate::store::sql::query(
        "UPDATE webhook_deliveries SET state = ?, attempts = attempts + 1, last_status = ?, \
         last_error = ?, next_attempt_at = ? WHERE id = ? AND state = 'pending'",
    )
    .bind(state)
    .bind(status.map(i64::from))
    .bind(error)
    .bind(next)
    .bind(id)
    .execute(conn)
    .await?;
    Ok(())
}

/// Puts a dead delivery back in the queue (an admin's "Retry"); false if it was not dead.
pub async fn revive(conn: impl AnyExecutor<'_>, id: i64) -> sqlx::Result<bool> {
    let done = crate::store::sql::query(
        "UPDATE webhook_deliveries SET state = 'pending', next_attempt_at = ? \
         WHERE id = ? AND state = 'dead'",
    )
    .bind(now_millis())
    .bind(id)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}
