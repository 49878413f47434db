//! The one-time setup link: with no users in the database, start-up arms a random token and
//! `serve` prints `/setup/<token>` to the console (never to the log). The link creates the
//! first admin, signs them in, and is then gone.

use askama::Template;
use askama_web::WebTemplate;
use axum::{
    Form,
    extract::{ConnectInfo, Path, State},
    http::{StatusCode, header},
    response::{IntoResponse, Response},
};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use crate::{
    app::AppState,
    store::users::{self, Role, UserName},
    web::{
        audit::{self, Entry},
        error::WebError,
        layout::Layout,
        tls::ClientAddr,
    },
};

use super::session::MaybeSession;

/// Arms a setup token when the database has no users yet.
pub async fn arm_if_no_users(state: &AppState) -> anyhow::Result<()> {
    if users::count(state.store.readers()).await? == 0 {
        *state.auth.lock_token() = Some(hex::encode(rand::random::<[u8; 24]>()));
    }
    Ok(())
}

fn token_matches(state: &AppState, token: &str) -> bool {
    state
        .auth
        .lock_token()
        .as_deref()
        .is_some_and(|t| t == token)
}

fn invalid_link() -> WebError {
    WebError::NotFound(
        "This setup link is not valid: it has been used already, or the server restarted and printed a new one. \
         Sign in, or ask an admin for an account."
            .into(),
    )
}

#[derive(Template, WebTemplate)]
#[template(path = "auth/setup.html")]
pub struct SetupPage {
    layout: Layout,
    token: String,
    name: String,
    errors: Vec<String>,
}

pub async fn form(
    State(state): State<AppState>,
    MaybeSession(ctx): MaybeSession,
    Path(token): Path<String>,
) -> Result<Response, WebError> {
    if !token_matches(&state, &token) {
        return Err(invalid_link());
    }
    let (csrf, cookie) = super::ensure_session(&state, ctx.as_ref()).await?;
    let mut layout = Layout::bare(&state);
    layout.csrf = csrf;
    let mut response = SetupPage {
        layout,
        token,
        name: String::new(),
        errors: vec![],
    }
    .into_response();
    if let Some(c) = cookie {
        response.headers_mut().insert(header::SET_COOKIE, c);
    }
    Ok(response)
}

#[derive(Deserialize)]
pub struct SetupForm {
    name: String,
    password: SecretString,
    password_confirm: SecretString,
}

pub async fn submit(
    State(state): State<AppState>,
    ConnectInfo(ClientAddr(peer)): ConnectInfo<ClientAddr>,
    MaybeSession(ctx): MaybeSession,
    Path(token): Path<String>,
    Form(form): Form<SetupForm>,
) -> Result<Response, WebError> {
    if !token_matches(&state, &token) {
        return Err(invalid_link());
    }
    let name = UserName::parse(&form.name);
    let mut errors = Vec::new();
    if let Err(e) = &name {
        errors.push(format!("User name: {e}."));
    }
    if let Err(e) = super::password::check_new(&form.password) {
        errors.push(format!("Password: {e}."));
    }
    if form.password.expose_secret() != form.password_confirm.expose_secret() {
        errors.push("Password: the two passwords differ.".into());
    }
    let Ok(name) = name
        .map_err(|_| ())
        .and_then(|n| if errors.is_empty() { Ok(n) } else { Err(()) })
    else {
        let mut layout = Layout::bare(&state);
        layout.csrf = ctx.as_ref().map(|c| c.csrf.clone()).unwrap_or_default();
        let page = SetupPage {
            layout,
            token,
            name: form.name,
            errors,
        };
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
    };
    let hash = super::password::hash(form.password).await?;
    // Take the token first: two racing submissions cannot both create an admin.
    if state.auth.lock_token().take().is_none() {
        return Err(invalid_link());
    }
    let id = users::insert(state.store.writer(), &name, Role::Admin, &hash).await?;
    let entry = Entry {
        actor: name.as_str(),
        ip: Some(peer.ip()),
        action: "user.create",
        target: name.as_str(),
        details: serde_json::json!({"role": "admin", "via": "setup link"}),
    };
    audit::record(&state, entry).await?;
    super::start_user_session(&state, ctx.as_ref(), id, "/").await
}
