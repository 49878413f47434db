//! User management shared by the admin pages and `natpilot user …`: each operation checks
//! its rules, writes the change and its audit entry in one transaction, and ends sessions
//! when access is withdrawn (disable, password reset).

use secrecy::SecretString;

use crate::store::{
    self, Store, audit, sessions,
    users::{self, Role, User, UserName},
};

use super::auth::password;

/// Who is making a change, for the audit log.
pub struct Actor<'a> {
    pub name: &'a str,
    pub ip: &'a str,
}

#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error("{0}")]
    Invalid(String),
    #[error("there is no user named `{0}`")]
    NoSuchUser(String),
    #[error("a user named `{0}` already exists")]
    Exists(String),
    #[error("this would leave no active admin; make another user admin first")]
    LastAdmin,
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<sqlx::Error> for AccountError {
    fn from(e: sqlx::Error) -> Self {
        AccountError::Internal(e.into())
    }
}

pub async fn add(
    store: &Store,
    actor: &Actor<'_>,
    name: &str,
    role: Role,
    pw: SecretString,
) -> Result<i64, AccountError> {
    let name = UserName::parse(name).map_err(AccountError::Invalid)?;
    password::check_new(&pw, &[name.as_str()]).map_err(AccountError::Invalid)?;
    if users::by_name(store.readers(), name.as_str())
        .await?
        .is_some()
    {
        return Err(AccountError::Exists(name.as_str().to_owned()));
    }
    let hash = password::hash(pw).await?;
    let mut tx = store.begin_write().await?;
    let id = users::insert(&mut *tx, &name, role, &hash)
        .await
        .map_err(|e| match &e {
            sqlx::Error::Database(d) if d.is_unique_violation() => {
                AccountError::Exists(name.as_str().to_owned())
            }
            _ => e.into(),
        })?;
    let details = serde_json::json!({"role": role});
    audit::record(
        &mut *tx,
        actor.name,
        actor.ip,
        "user.create",
        name.as_str(),
        &details,
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

async fn find(store: &Store, name: &str) -> Result<User, AccountError> {
    users::by_name(store.readers(), name.trim())
        .await?
        .ok_or_else(|| AccountError::NoSuchUser(name.trim().to_owned()))
}

pub async fn set_role(
    store: &Store,
    actor: &Actor<'_>,
    name: &str,
    role: Role,
) -> Result<(), AccountError> {
    let user = find(store, name).await?;
    let mut tx = store.begin_write().await?;
    if user.role == Role::Admin && role != Role::Admin && !user.disabled {
        ensure_other_admin(&mut tx, user.id).await?;
    }
    users::set_role(&mut *tx, user.id, role).await?;
    let details = serde_json::json!({"from": user.role, "to": role});
    audit::record(
        &mut *tx,
        actor.name,
        actor.ip,
        "user.role",
        &user.name,
        &details,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

pub async fn reset_password(
    store: &Store,
    actor: &Actor<'_>,
    name: &str,
    pw: SecretString,
) -> Result<(), AccountError> {
    let user = find(store, name).await?;
    password::check_new(&pw, &[user.name.as_str()]).map_err(AccountError::Invalid)?;
    let hash = password::hash(pw).await?;
    let mut tx = store.begin_write().await?;
    users::set_password_hash(&mut *tx, user.id, &hash).await?;
    // Whoever knew the old password may hold a session: end them all.
    sessions::delete_for_user(&mut *tx, user.id).await?;
    let details = serde_json::json!({});
    audit::record(
        &mut *tx,
        actor.name,
        actor.ip,
        "user.password_reset",
        &user.name,
        &details,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

pub async fn set_disabled(
    store: &Store,
    actor: &Actor<'_>,
    name: &str,
    disabled: bool,
) -> Result<(), AccountError> {
    let user = find(store, name).await?;
    let mut tx = store.begin_write().await?;
    if disabled && user.role == Role::Admin {
        ensure_other_admin(&mut tx, user.id).await?;
    }
    users::set_disabled(&mut *tx, user.id, disabled).await?;
    if disabled {
        sessions::delete_for_user(&mut *tx, user.id).await?;
    }
    let action = if disabled {
        "user.disable"
    } else {
        "user.enable"
    };
    audit::record(
        &mut *tx,
        actor.name,
        actor.ip,
        action,
        &user.name,
        &serde_json::json!({}),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

async fn ensure_other_admin(
    tx: &mut crate::store::WriteTx,
    except: i64,
) -> Result<(), AccountError> {
    if users::other_active_admins(&mut **tx, except).await? == 0 {
        return Err(AccountError::LastAdmin);
    }
    Ok(())
}

/// All users, for listings.
pub async fn list(store: &Store) -> Result<Vec<User>, AccountError> {
    Ok(store::users::list(store.readers()).await?)
}
