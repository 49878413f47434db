//! `/admin/users`: list users; add them, change roles, reset passwords, disable and enable
//! them. Every change goes through `web::accounts` (rules + audit in one transaction) and
//! ends in a redirect (Post/Redirect/Get); a rejected add re-renders the form with its input.

use askama::Template;
use askama_web::WebTemplate;
use std::net::SocketAddr;

use axum::{
    Form,
    extract::{ConnectInfo, Path, Query, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};
use secrecy::SecretString;
use serde::Deserialize;

use crate::{
    app::AppState,
    store::users::{self, Role, User},
    web::{
        accounts::{self, AccountError, Actor},
        auth::session::CurrentUser,
        error::WebError,
        layout::Layout,
        tls::ClientAddr,
    },
};

#[derive(Template, WebTemplate)]
#[template(path = "admin/users.html")]
pub struct UsersPage {
    layout: Layout,
    users: Vec<User>,
    roles: [Role; 3],
    notice: Option<String>,
    error: Option<String>,
    new_name: String,
    new_role: Role,
}

#[derive(Deserialize)]
pub struct Notice {
    done: Option<String>,
}

fn notice_text(done: Option<&str>) -> Option<String> {
    let text = match done? {
        "added" => "User added.",
        "role" => "Role changed.",
        "password" => "Password reset; the user's sessions were ended.",
        "disabled" => "User disabled; their sessions were ended.",
        "enabled" => "User enabled.",
        _ => return None,
    };
    Some(text.to_owned())
}

pub async fn list(
    State(state): State<AppState>,
    layout: Layout,
    Query(q): Query<Notice>,
) -> Result<UsersPage, WebError> {
    let users = users::list(state.store.readers()).await?;
    Ok(UsersPage {
        layout,
        users,
        roles: Role::ALL,
        notice: notice_text(q.done.as_deref()),
        error: None,
        new_name: String::new(),
        new_role: Role::Viewer,
    })
}

#[derive(Deserialize)]
pub struct AddForm {
    name: String,
    role: String,
    password: SecretString,
}

pub async fn add(
    State(state): State<AppState>,
    ConnectInfo(ClientAddr(peer)): ConnectInfo<ClientAddr>,
    admin: CurrentUser,
    layout: Layout,
    Form(form): Form<AddForm>,
) -> Result<Response, WebError> {
    let role: Role = form.role.parse().map_err(WebError::BadRequest)?;
    let acting = Acting::new(&admin, peer);
    match accounts::add(
        &state.store,
        &acting.actor(),
        &form.name,
        role,
        form.password,
    )
    .await
    {
        Ok(_) => Ok(Redirect::to("/admin/users?done=added").into_response()),
        Err(AccountError::Internal(e)) => Err(WebError::Internal(e)),
        Err(e) => {
            let users = users::list(state.store.readers()).await?;
            let page = UsersPage {
                layout,
                users,
                roles: Role::ALL,
                notice: None,
                error: Some(e.to_string()),
                new_name: form.name,
                new_role: role,
            };
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
    }
}

/// Turns an account rule violation into a helpful 4xx page.
fn refused(e: AccountError) -> WebError {
    match e {
        AccountError::Internal(e) => WebError::Internal(e),
        AccountError::NoSuchUser(_) => WebError::NotFound(e.to_string()),
        other => WebError::Conflict(format!("Nothing was changed: {other}.")),
    }
}

/// The admin acting and from where: `accounts` writes it into the audit entry of the change.
struct Acting {
    name: String,
    ip: String,
}

impl Acting {
    fn new(admin: &CurrentUser, peer: SocketAddr) -> Acting {
        Acting {
            name: admin.name.clone(),
            ip: peer.ip().to_string(),
        }
    }

    fn actor(&self) -> Actor<'_> {
        Actor {
            name: &self.name,
            ip: &self.ip,
        }
    }
}

/// The user an admin action is about (404 if there is none), and who is acting.
async fn target(
    state: &AppState,
    id: i64,
    admin: &CurrentUser,
    peer: SocketAddr,
) -> Result<(User, Acting), WebError> {
    let user = users::by_id(state.store.readers(), id)
        .await?
        .ok_or_else(|| WebError::NotFound("There is no such user.".into()))?;
    Ok((user, Acting::new(admin, peer)))
}

#[derive(Deserialize)]
pub struct RoleForm {
    role: String,
}

pub async fn set_role(
    State(state): State<AppState>,
    ConnectInfo(ClientAddr(peer)): ConnectInfo<ClientAddr>,
    admin: CurrentUser,
    Path(id): Path<i64>,
    Form(form): Form<RoleForm>,
) -> Result<Response, WebError> {
    let role: Role = form.role.parse().map_err(WebError::BadRequest)?;
    let (user, acting) = target(&state, id, &admin, peer).await?;
    accounts::set_role(&state.store, &acting.actor(), &user.name, role)
        .await
        .map_err(refused)?;
    Ok(Redirect::to("/admin/users?done=role").into_response())
}

#[derive(Deserialize)]
pub struct PasswordForm {
    password: SecretString,
}

pub async fn reset_password(
    State(state): State<AppState>,
    ConnectInfo(ClientAddr(peer)): ConnectInfo<ClientAddr>,
    admin: CurrentUser,
    Path(id): Path<i64>,
    Form(form): Form<PasswordForm>,
) -> Result<Response, WebError> {
    let (user, acting) = target(&state, id, &admin, peer).await?;
    accounts::reset_password(&state.store, &acting.actor(), &user.name, form.password)
        .await
        .map_err(|e| match e {
            AccountError::Invalid(msg) => WebError::BadRequest(format!("Password: {msg}.")),
            other => refused(other),
        })?;
    Ok(Redirect::to("/admin/users?done=password").into_response())
}

pub async fn disable(
    state: State<AppState>,
    peer: ConnectInfo<ClientAddr>,
    admin: CurrentUser,
    id: Path<i64>,
) -> Result<Response, WebError> {
    set_disabled(state, peer, admin, id, true).await
}

pub async fn enable(
    state: State<AppState>,
    peer: ConnectInfo<ClientAddr>,
    admin: CurrentUser,
    id: Path<i64>,
) -> Result<Response, WebError> {
    set_disabled(state, peer, admin, id, false).await
}

async fn set_disabled(
    State(state): State<AppState>,
    ConnectInfo(ClientAddr(peer)): ConnectInfo<ClientAddr>,
    admin: CurrentUser,
    Path(id): Path<i64>,
    disabled: bool,
) -> Result<Response, WebError> {
    let (user, acting) = target(&state, id, &admin, peer).await?;
    accounts::set_disabled(&state.store, &acting.actor(), &user.name, disabled)
        .await
        .map_err(refused)?;
    let done = if disabled { "disabled" } else { "enabled" };
    Ok(Redirect::to(&format!("/admin/users?done={done}")).into_response())
}
