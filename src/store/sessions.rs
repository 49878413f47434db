//! Server-side portal sessions. Rows are keyed by the SHA-256 of the session id; the raw id
//! exists only in the browser's cookie and in memory while a request is served (issue 6:
//! no session token in the database).

use sqlx::{AnyExecutor, FromRow};

use super::users::{Role, now};

/// A live session as found by its id hash, with its user (if logged in).
#[derive(Clone, Debug, PartialEq, Eq, FromRow)]
pub struct SessionRow {
    pub id_hash: String,
    pub created_at: i64,
    pub last_seen_at: i64,
    pub user_id: Option<i64>,
    pub user_name: Option<String>,
    pub user_role: Option<String>,
}

impl SessionRow {
    pub fn role(&self) -> Option<Role> {
        self.user_role.as_deref().and_then(|r| r.parse().ok())
    }
}

/// Where a session was started from, shown to its user in their list of sessions.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClientInfo {
    pub ip: String,
    /// The browser's `User-Agent`, shortened to [`USER_AGENT_MAX`] characters.
    pub user_agent: String,
}

/// Longest user agent kept (they are only shown, never parsed).
pub const USER_AGENT_MAX: usize = 256;

impl ClientInfo {
    pub fn new(ip: impl Into<String>, user_agent: &str) -> ClientInfo {
        ClientInfo {
            ip: ip.into(),
            user_agent: user_agent
                .chars()
                .filter(|c| !c.is_control())
                .take(USER_AGENT_MAX)
                .collect(),
        }
    }
}

pub async fn insert(
    db: impl AnyExecutor<'_>,
    id_hash: &str,
    user_id: Option<i64>,
    client: &ClientInfo,
) -> sqlx::Result<()> {
    let now = now();
    crate::store::sql::query(
        "INSERT INTO sessions (id_hash, user_id, created_at, last_seen_at, client_ip, user_agent)
         VALUES (?, ?, ?, ?, ?, ?)",
    )
    .bind(id_hash)
    .bind(user_id)
    .bind(now)
    .bind(now)
    .bind(&client.ip)
    .bind(&client.user_agent)
    .execute(db)
    .await?;
    Ok(())
}

/// One of a user's live sessions as their account page lists it. `id_hash` is for
/// comparing with the current session and for ending one; it is never rendered.
#[derive(Clone, Debug, PartialEq, Eq, FromRow)]
pub struct SessionInfo {
    pub id_hash: String,
    pub created_at: i64,
    pub last_seen_at: i64,
    pub client_ip: String,
    pub user_agent: String,
}

/// A user's sessions that are still within both timeouts, most recently used first.
pub async fn list_for_user(
    db: impl AnyExecutor<'_>,
    user_id: i64,
    idle_secs: i64,
    absolute_secs: i64,
) -> sqlx::Result<Vec<SessionInfo>> {
    let now = now();
    crate::store::sql::query_as(
        "SELECT id_hash, created_at, last_seen_at, client_ip, user_agent FROM sessions
         WHERE user_id = ? AND last_seen_at > ? AND created_at > ?
         ORDER BY last_seen_at DESC, created_at DESC",
    )
    .bind(user_id)
    .bind(now - idle_secs)
    .bind(now - absolute_secs)
    .fetch_all(db)
    .await
}

/// Ends every session of `user_id` but `keep` (the one changing the password).
pub async fn delete_for_user_except(
    db: impl AnyExecutor<'_>,
    user_id: i64,
    keep: &str,
) -> sqlx::Result<u64> {
    let done = crate::store::sql::query("DELETE FROM sessions WHERE user_id = ? AND id_hash != ?")
        .bind(user_id)
        .bind(keep)
        .execute(db)
        .await?;
    Ok(done.rows_affected())
}

/// Finds a session that is still within both timeouts. A session of a disabled user is not
/// found: disabling a user ends their sessions at once, even before the rows are deleted.
pub async fn find_live(
    db: impl AnyExecutor<'_>,
    id_hash: &str,
    idle_secs: i64,
    absolute_secs: i64,
) -> sqlx::Result<Option<SessionRow>> {
    let now = now();
    crate::store::sql::query_as(
        "SELECT s.id_hash, s.created_at, s.last_seen_at, s.user_id,
                u.name AS user_name, u.role AS user_role
         FROM sessions s LEFT JOIN users u ON u.id = s.user_id
         WHERE s.id_hash = ?
           AND s.last_seen_at > ? AND s.created_at > ?
           AND (s.user_id IS NULL OR u.disabled = 0)",
    )
    .bind(id_hash)
    .bind(now - idle_secs)
    .bind(now - absolute_secs)
    .fetch_optional(db)
    .await
}

pub async fn touch(db: impl AnyExecutor<'_>, id_hash: &str) -> sqlx::Result<()> {
    crate::store::sql::query("UPDATE sessions SET last_seen_at = ? WHERE id_hash = ?")
        .bind(now())
        .bind(id_hash)
        .execute(db)
        .await?;
    Ok(())
}

pub async fn delete(db: impl AnyExecutor<'_>, id_hash: &str) -> sqlx::Result<()> {
    crate::store::sql::query("DELETE FROM sessions WHERE id_hash = ?")
        .bind(id_hash)
        .execute(db)
        .await?;
    Ok(())
}

pub async fn delete_for_user(db: impl AnyExecutor<'_>, user_id: i64) -> sqlx::Result<u64> {
    let done = crate::store::sql::query("DELETE FROM sessions WHERE user_id = ?")
        .bind(user_id)
        .execute(db)
        .await?;
    Ok(done.rows_affected())
}

/// Removes sessions past either timeout (run now and then; lookups ignore them anyway).
pub async fn delete_expired(
    db: impl AnyExecutor<'_>,
    idle_secs: i64,
    absolute_secs: i64,
) -> sqlx::Result<u64> {
    let now = now();
    let done =
        crate::store::sql::query("DELETE FROM sessions WHERE last_seen_at <= ? OR created_at <= ?")
            .bind(now - idle_secs)
            .bind(now - absolute_secs)
            .execute(db)
            .await?;
    Ok(done.rows_affected())
}
