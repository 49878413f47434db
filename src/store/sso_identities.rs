//! Single sign-on identities: (issuer, subject) → natpilot user (issue 14 item 1).
//! Users are found by this pair only, never by a name from a claim (see migration 0100).

use sqlx::AnyConnection;

use super::users::{self, Role, User, UserName};

/// The password hash stored for users created by single sign-on: not a PHC string, so no
/// password ever verifies against it (`argon2` refuses to parse it).
pub const NO_PASSWORD: &str = "!sso: signs in through single sign-on only";

/// The user linked to this identity, if any.
pub async fn user_for(
    db: &mut AnyConnection,
    issuer: &str,
    subject: &str,
) -> sqlx::Result<Option<User>> {
    let id: Option<i64> = crate::store::sql::query_scalar(
        "SELECT user_id FROM sso_identities WHERE issuer = ? AND subject = ?",
    )
    .bind(issuer)
    .bind(subject)
    .fetch_optional(&mut *db)
    .await?;
    match id {
        Some(id) => users::by_id(&mut *db, id).await,
        None => Ok(None),
    }
}

/// Whether this user signs in through this provider (for RP-initiated logout).
pub async fn is_linked(
    db: impl sqlx::AnyExecutor<'_>,
    issuer: &str,
    user_id: i64,
) -> sqlx::Result<bool> {
    let n: i64 = crate::store::sql::query_scalar(
        "SELECT COUNT(*) FROM sso_identities WHERE issuer = ? AND user_id = ?",
    )
    .bind(issuer)
    .bind(user_id)
    .fetch_one(db)
    .await?;
    Ok(n > 0)
}

/// Creates a user for a new identity and links it, in the caller's transaction. The name
/// is `wanted` if free, else `wanted (2)`, `wanted (3)`, …: a name that already belongs to
/// someone else never links to them.
pub async fn create_user(
    db: &mut AnyConnection,
    issuer: &str,
    subject: &str,
    wanted: &UserName,
    role: Role,
) -> sqlx::Result<User> {
    let mut name = wanted.clone();
    for n in 2.. {
        if users::by_name(&mut *db, name.as_str()).await?.is_none() {
            break;
        }
        let base: String = wanted.as_str().chars().take(56).collect();
        name = UserName::parse(&format!("{base} ({n})")).map_err(sqlx::Error::Protocol)?;
    }
    let id = users::insert(&mut *db, &name, role, NO_PASSWORD).await?;
    crate::store::sql::query(
        "INSERT INTO sso_identities (issuer, subject, user_id, created_at) VALUES (?, ?, ?, ?)",
    )
    .bind(issuer)
    .bind(subject)
    .bind(id)
    .bind(users::now())
    .execute(&mut *db)
    .await?;
    users::by_id(&mut *db, id)
        .await?
        .ok_or(sqlx::Error::RowNotFound)
}
