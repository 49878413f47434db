//! API tokens (migration 0091). Only the SHA-256 of a token is stored; a token row decodes
//! strictly (an unknown kind or role is an error, never a default).

use chrono::{DateTime, Utc};
use sqlx::{AnyExecutor, Row};

use super::types::{from_millis, now_millis};
use super::users::Role;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    /// Acts as its user, never above the user's current role.
    Personal,
    /// Acts as `svc:<name>` with the role an admin gave it.
    Service,
}

impl TokenKind {
    pub fn as_str(self) -> &'static str {
        match self {
            TokenKind::Personal => "personal",
            TokenKind::Service => "service",
        }
    }
}

#[derive(Debug, Clone)]
pub struct ApiToken {
    pub id: i64,
    pub kind: TokenKind,
    pub name: String,
    pub user_id: i64,
    /// The owner's (personal) or creator's (service) name, and whether that user is disabled.
    pub user_name: String,
    pub user_role: Role,
    pub user_disabled: bool,
    pub role: Role,
    pub prefix: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl ApiToken {
    /// Usable now: not revoked, not expired, and (personal) its user still active.
    pub fn usable(&self, now: DateTime<Utc>) -> Result<(), &'static str> {
        if self.revoked_at.is_some() {
            Err("the token was revoked")
        } else if self.expires_at <= now {
            Err("the token has expired")
        } else if self.kind == TokenKind::Personal && self.user_disabled {
            Err("the token's user is disabled")
        } else {
            Ok(())
        }
    }

    /// The role requests with this token act with.
    pub fn effective_role(&self) -> Role {
        match self.kind {
            TokenKind::Personal => self.role.min(self.user_role),
            TokenKind::Service => self.role,
        }
    }

    /// Who the audit log and run records name.
    pub fn actor(&self) -> String {
        match self.kind {
            TokenKind::Personal => self.user_name.clone(),
            TokenKind::Service => format!("svc:{}", self.name),
        }
    }
}

/// A static query over tokens joined with their user, `$tail` appended.
macro_rules! tokens_where {
    ($tail:literal) => {
        concat!(
            "SELECT t.id, t.kind, t.name, t.user_id, u.name AS user_name, u.role AS user_role, \
             u.disabled AS user_disabled, t.role, t.prefix, t.created_at, t.expires_at, \
             t.last_used_at, t.revoked_at FROM api_tokens t JOIN users u ON u.id = t.user_id ",
            $tail
        )
    };
}

fn corrupt(what: String) -> sqlx::Error {
    sqlx::Error::Decode(what.into())
}

fn row(r: sqlx::any::AnyRow) -> sqlx::Result<ApiToken> {
    let kind = match r.try_get::<String, _>("kind")?.as_str() {
        "personal" => TokenKind::Personal,
        "service" => TokenKind::Service,
        other => return Err(corrupt(format!("unknown API token kind `{other}`"))),
    };
    let role = |col: &str| -> sqlx::Result<Role> {
        r.try_get::<String, _>(col)?
            .parse::<Role>()
            .map_err(corrupt)
    };
    Ok(ApiToken {
        id: r.try_get("id")?,
        kind,
        name: r.try_get("name")?,
        user_id: r.try_get("user_id")?,
        user_name: r.try_get("user_name")?,
        user_role: role("user_role")?,
        user_disabled: r.try_get::<i64, _>("user_disabled")? != 0,
        role: role("role")?,
        prefix: r.try_get("prefix")?,
        created_at: from_millis(r.try_get("created_at")?),
        expires_at: from_millis(r.try_get("expires_at")?),
        last_used_at: r
            .try_get::<Option<i64>, _>("last_used_at")?
            .map(from_millis),
        revoked_at: r.try_get::<Option<i64>, _>("revoked_at")?.map(from_millis),
    })
}

pub struct NewToken<'a> {
    pub kind: TokenKind,
    pub name: &'a str,
    pub user_id: i64,
    pub role: Role,
    pub token_sha256: &'a str,
    pub prefix: &'a str,
    pub expires_at: DateTime<Utc>,
}

pub async fn insert(conn: impl AnyExecutor<'_>, t: &NewToken<'_>) -> sqlx::Result<i64> {
    crate::store::sql::query_scalar(
        "INSERT INTO api_tokens (kind, name, user_id, role, token_sha256, prefix, created_at, \
         expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
    )
    .bind(t.kind.as_str())
    .bind(t.name)
    .bind(t.user_id)
    .bind(t.role.as_str())
    .bind(t.token_sha256)
    .bind(t.prefix)
    .bind(now_millis())
    .bind(t.expires_at.timestamp_millis())
    .fetch_one(conn)
    .await
}

pub async fn by_hash(conn: impl AnyExecutor<'_>, sha256: &str) -> sqlx::Result<Option<ApiToken>> {
    crate::store::sql::query(tokens_where!("WHERE t.token_sha256 = ?"))
        .bind(sha256)
        .fetch_optional(conn)
        .await?
        .map(row)
        .transpose()
}

pub async fn by_id(conn: impl AnyExecutor<'_>, id: i64) -> sqlx::Result<Option<ApiToken>> {
    crate::store::sql::query(tokens_where!("WHERE t.id = ?"))
        .bind(id)
        .fetch_optional(conn)
        .await?
        .map(row)
        .transpose()
}

/// A user's personal tokens, and (for `with_service`) every service token, newest first.
pub async fn list(
    conn: impl AnyExecutor<'_>,
    user_id: i64,
    with_service: bool,
) -> sqlx::Result<Vec<ApiToken>> {
    crate::store::sql::query(tokens_where!(
        "WHERE (t.kind = 'personal' AND t.user_id = ?) OR (? AND t.kind = 'service') \
         ORDER BY t.id DESC"
    ))
    .bind(user_id)
    .bind(with_service)
    .fetch_all(conn)
    .await?
    .into_iter()
    .map(row)
    .collect()
}

/// Notes a use, at most once a minute per token (no write per request).
pub async fn touch(conn: impl AnyExecutor<'_>, id: i64) -> sqlx::Result<()> {
    let now = now_millis();
    crate::store::sql::query(
        "UPDATE api_tokens SET last_used_at = ? WHERE id = ? \
         AND (last_used_at IS NULL OR last_used_at < ?)",
    )
    .bind(now)
    .bind(id)
    .bind(now - 60_000)
    .execute(conn)
    .await?;
    Ok(())
}

/// Revokes a token; false when it was already revoked or does not exist.
pub async fn revoke(conn: impl AnyExecutor<'_>, id: i64) -> sqlx::Result<bool> {
    let done = crate::store::sql::query(
        "UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
    )
    .bind(now_millis())
    .bind(id)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}
