//! `/account/password`: a user changes their own password. The current password is asked
//! for (a session left open on a shared screen is not enough), the new one must pass the
//! same rule as everywhere (`auth::password::check_new`), and every other session of the
//! user ends; this one stays signed in.

use askama::Template;
use askama_web::WebTemplate;
use axum::{
    Form,
    extract::{ConnectInfo, Query, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use crate::{
    app::AppState,
    store::{audit, sessions, users},
    web::{
        auth::{
            password,
            session::{CurrentUser, MaybeSession},
        },
        error::WebError,
        layout::Layout,
        tls::ClientAddr,
    },
};

#[derive(Template, WebTemplate)]
#[template(path = "account/password.html")]
pub struct PasswordPage {
    layout: Layout,
    errors: Vec<String>,
    done: bool,
}

#[derive(Deserialize)]
pub struct Done {
    done: Option<String>,
}

pub async fn form(layout: Layout, Query(q): Query<Done>) -> PasswordPage {
    PasswordPage {
        layout,
        errors: vec![],
        done: q.done.is_some(),
    }
}

#[derive(Deserialize)]
pub struct ChangeForm {
    current: SecretString,
    password: SecretString,
    password_confirm: SecretString,
}

pub async fn submit(
    State(state): State<AppState>,
    ConnectInfo(ClientAddr(peer)): ConnectInfo<ClientAddr>,
    user: CurrentUser,
    MaybeSession(ctx): MaybeSession,
    layout: Layout,
    Form(form): Form<ChangeForm>,
) -> Result<Response, WebError> {
    let session = ctx
        .map(|c| c.id_hash)
        .ok_or_else(|| WebError::SignInRequired {
            next: "/account/password".into(),
        })?;
    let stored = users::credentials(state.store.readers(), &user.name)
        .await?
        .map(|(_, hash)| hash);
    let mut errors = Vec::new();
    if !password::verify(form.current, stored).await? {
        errors.push("Current password: this is not your current password.".to_owned());
    }
    if let Err(e) = password::check_new(&form.password, &[user.name.as_str()]) {
        errors.push(format!("New password: {e}."));
    }
    if form.password.expose_secret() != form.password_confirm.expose_secret() {
        errors.push("New password: the two new passwords differ.".to_owned());
    }
    if !errors.is_empty() {
        let page = PasswordPage {
            layout,
            errors,
            done: false,
        };
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
    }
    let hash = password::hash(form.password).await?;
    let mut tx = state.store.begin_write().await?;
    users::set_password_hash(&mut *tx, user.id, &hash).await?;
    // Whoever learnt the old password may hold a session: end all but this one.
    let ended = sessions::delete_for_user_except(&mut *tx, user.id, &session).await?;
    let details = serde_json::json!({"other_sessions_ended": ended});
    let ip = peer.ip().to_string();
    audit::record(
        &mut *tx,
        &user.name,
        &ip,
        "user.password_change",
        &user.name,
        &details,
    )
    .await?;
    tx.commit().await?;
    Ok(Redirect::to("/account/password?done=1").into_response())
}
