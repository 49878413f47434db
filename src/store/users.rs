//! Portal users: names, roles, argon2id password hashes, disabled flag.
//! Hashing itself happens in `web::auth::password` (off the async runtime); this module only
//! stores and reads the PHC strings. Plain passwords never reach this module.

use std::{fmt, str::FromStr};

use sqlx::{AnyExecutor, FromRow};

/// What a user may do. Ordered: each role can do everything the one before it can.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Reads runs and history.
    Viewer,
    /// Starts and drives runs.
    Operator,
    /// Manages users, abandons anyone's run, reads the audit log.
    Admin,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Viewer, Role::Operator, Role::Admin];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Operator => "operator",
            Role::Admin => "admin",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Role, String> {
        match s {
            "viewer" => Ok(Role::Viewer),
            "operator" => Ok(Role::Operator),
            "admin" => Ok(Role::Admin),
            other => Err(format!(
                "unknown role `{other}`: choose viewer, operator or admin"
            )),
        }
    }
}

/// A user name as accepted at the edge: 1–64 characters, no control characters, trimmed.
/// Any other character is allowed (and escaped wherever it is shown).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserName(String);

impl UserName {
    pub fn parse(raw: &str) -> Result<UserName, String> {
        let name = raw.trim();
        if name.is_empty() {
            return Err("enter a user name".into());
        }
        if name.chars().count() > 64 {
            return Err("a user name has at most 64 characters".into());
        }
        if name.chars().any(char::is_control) {
            return Err("a user name cannot contain control characters".into());
        }
        Ok(UserName(name.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A user as the portal sees it (without the password hash).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct User {
    pub id: i64,
    pub name: String,
    pub role: Role,
    pub disabled: bool,
    pub created_at: i64,
}

#[derive(FromRow)]
struct UserRow {
    id: i64,
    name: String,
    role: String,
    /// 0 or 1 (`sql::flag`).
    disabled: i64,
    created_at: i64,
}

impl TryFrom<UserRow> for User {
    type Error = sqlx::Error;
    fn try_from(r: UserRow) -> Result<User, sqlx::Error> {
        let role = r
            .role
            .parse()
            .map_err(|e: String| sqlx::Error::Decode(e.into()))?;
        Ok(User {
            id: r.id,
            name: r.name,
            role,
            disabled: r.disabled != 0,
            created_at: r.created_at,
        })
    }
}

/// `SELECT <user columns> <rest>` as a static string (sqlx only takes audited literals).
macro_rules! select_users {
    ($rest:literal) => {
        concat!("SELECT id, name, role, disabled, created_at", $rest)
    };
}

pub fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

pub async fn count(db: impl AnyExecutor<'_>) -> sqlx::Result<i64> {
    crate::store::sql::query_scalar("SELECT COUNT(*) FROM users")
        .fetch_one(db)
        .await
}

/// Inserts a user; fails with a unique-constraint error when the name is taken.
pub async fn insert(
    db: impl AnyExecutor<'_>,
    name: &UserName,
    role: Role,
    password_hash: &str,
) -> sqlx::Result<i64> {
    let now = now();
    crate::store::sql::query_scalar(
        "INSERT INTO users (name, role, password_hash, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?) RETURNING id",
    )
    .bind(name.as_str())
    .bind(role.as_str())
    .bind(password_hash)
    .bind(now)
    .bind(now)
    .fetch_one(db)
    .await
}

pub async fn list(db: impl AnyExecutor<'_>) -> sqlx::Result<Vec<User>> {
    let rows: Vec<UserRow> =
        crate::store::sql::query_as(select_users!(" FROM users ORDER BY name"))
            .fetch_all(db)
            .await?;
    rows.into_iter().map(User::try_from).collect()
}

pub async fn by_id(db: impl AnyExecutor<'_>, id: i64) -> sqlx::Result<Option<User>> {
    let row: Option<UserRow> =
        crate::store::sql::query_as(select_users!(" FROM users WHERE id = ?"))
            .bind(id)
            .fetch_optional(db)
            .await?;
    row.map(User::try_from).transpose()
}

pub async fn by_name(db: impl AnyExecutor<'_>, name: &str) -> sqlx::Result<Option<User>> {
    let row: Option<UserRow> =
        crate::store::sql::query_as(select_users!(" FROM users WHERE name = ?"))
            .bind(name)
            .fetch_optional(db)
            .await?;
    row.map(User::try_from).transpose()
}

/// The user and their password hash, for verifying a login.
pub async fn credentials(
    db: impl AnyExecutor<'_>,
    name: &str,
) -> sqlx::Result<Option<(User, String)>> {
    #[derive(FromRow)]
    struct Row {
        #[sqlx(flatten)]
        user: UserRow,
        password_hash: String,
    }
    let row: Option<Row> =
        crate::store::sql::query_as(select_users!(", password_hash FROM users WHERE name = ?"))
            .bind(name)
            .fetch_optional(db)
            .await?;
    row.map(|r| Ok((User::try_from(r.user)?, r.password_hash)))
        .transpose()
}

/// Sets a user's role; returns false when no such user exists.
pub async fn set_role(db: impl AnyExecutor<'_>, id: i64, role: Role) -> sqlx::Result<bool> {
    let done = crate::store::sql::query("UPDATE users SET role = ?, updated_at = ? WHERE id = ?")
        .bind(role.as_str())
        .bind(now())
        .bind(id)
        .execute(db)
        .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn set_password_hash(
    db: impl AnyExecutor<'_>,
    id: i64,
    password_hash: &str,
) -> sqlx::Result<bool> {
    let done =
        crate::store::sql::query("UPDATE users SET password_hash = ?, updated_at = ? WHERE id = ?")
            .bind(password_hash)
            .bind(now())
            .bind(id)
            .execute(db)
            .await?;
    Ok(done.rows_affected() == 1)
}

/// Disables or re-enables a user. Callers disabling a user also end their sessions
/// (`sessions::delete_for_user`) in the same transaction.
pub async fn set_disabled(db: impl AnyExecutor<'_>, id: i64, disabled: bool) -> sqlx::Result<bool> {
    let done =
        crate::store::sql::query("UPDATE users SET disabled = ?, updated_at = ? WHERE id = ?")
            .bind(i64::from(disabled))
            .bind(now())
            .bind(id)
            .execute(db)
            .await?;
    Ok(done.rows_affected() == 1)
}

/// Enabled admins other than `except`: an admin may not demote or disable the last admin.
pub async fn other_active_admins(db: impl AnyExecutor<'_>, except: i64) -> sqlx::Result<i64> {
    crate::store::sql::query_scalar(
        "SELECT COUNT(*) FROM users WHERE role = 'admin' AND disabled = 0 AND id != ?",
    )
    .bind(except)
    .fetch_one(db)
    .await
}
