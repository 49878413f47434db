//! `/login` and `/logout`. One generic message for every failed login (wrong name, wrong
//! password, disabled account), throttling per IP and per account, audit of each attempt.

use askama::Template;
use askama_web::WebTemplate;
use axum::{
    Form,
    extract::{ConnectInfo, Query, State},
    http::{StatusCode, header},
    response::{IntoResponse, Redirect, Response},
};
use secrecy::SecretString;
use serde::Deserialize;

use crate::{
    app::AppState,
    store::{sessions, users},
    web::{
        audit::{self, Entry},
        error::WebError,
        layout::Layout,
        tls::ClientAddr,
    },
};

use super::session::{CurrentUser, MaybeSession};

pub const FAILED: &str = "The user name or password is not right.";

#[derive(Template, WebTemplate)]
#[template(path = "auth/login.html")]
pub struct LoginPage {
    layout: Layout,
    name: String,
    next: String,
    error: Option<String>,
}

#[derive(Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

/// Only same-site absolute paths may be redirect targets (no `//host`, no `/\host`).
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') => n.to_owned(),
        _ => "/".to_owned(),
    }
}

pub async fn form(
    State(state): State<AppState>,
    MaybeSession(ctx): MaybeSession,
    Query(q): Query<NextQuery>,
) -> Result<Response, WebError> {
    let next = safe_next(q.next.as_deref());
    if ctx.as_ref().is_some_and(|c| c.user.is_some()) {
        return Ok(Redirect::to(&next).into_response());
    }
    let (csrf, cookie) = super::ensure_session(&state, ctx.as_ref()).await?;
    let mut layout = Layout::bare(&state);
    layout.csrf = csrf;
    let mut response = LoginPage {
        layout,
        name: String::new(),
        next,
        error: None,
    }
    .into_response();
    if let Some(c) = cookie {
        response.headers_mut().insert(header::SET_COOKIE, c);
    }
    Ok(response)
}

#[derive(Deserialize)]
pub struct LoginForm {
    name: String,
    password: SecretString,
    next: Option<String>,
}

pub async fn submit(
    State(state): State<AppState>,
    ConnectInfo(ClientAddr(peer)): ConnectInfo<ClientAddr>,
    MaybeSession(ctx): MaybeSession,
    Form(form): Form<LoginForm>,
) -> Result<Response, WebError> {
    let ip = peer.ip();
    let next = safe_next(form.next.as_deref());
    let mut layout = Layout::bare(&state);
    layout.csrf = ctx.as_ref().map(|c| c.csrf.clone()).unwrap_or_default();
    let page = |layout, error: String, status| {
        let page = LoginPage {
            layout,
            name: form.name.clone(),
            next: next.clone(),
            error: Some(error),
        };
        Ok((status, page).into_response())
    };
    if let Err(wait) = state.auth.throttle.attempt(ip, &form.name) {
        let secs = wait.as_secs().max(1);
        let msg = format!(
            "Too many sign-in attempts. Wait {secs} seconds before trying again; ask an admin if you have forgotten your password."
        );
        audit_login(&state, &form.name, ip, "login.throttled").await?;
        return page(layout, msg, StatusCode::TOO_MANY_REQUESTS);
    }
    let found = users::credentials(state.store.readers(), form.name.trim()).await?;
    let (user, hash) = match found {
        Some((u, h)) if !u.disabled => (Some(u), Some(h)),
        _ => (None, None),
    };
    let ok = super::password::verify(form.password, hash).await?;
    match user.filter(|_| ok) {
        Some(user) => {
            audit_login(&state, &user.name, ip, "login").await?;
            super::start_user_session(&state, ctx.as_ref(), user.id, &next).await
        }
        None => {
            audit_login(&state, &form.name, ip, "login.failed").await?;
            page(layout, FAILED.to_owned(), StatusCode::UNAUTHORIZED)
        }
    }
}

async fn audit_login(
    state: &AppState,
    name: &str,
    ip: std::net::IpAddr,
    action: &str,
) -> Result<(), WebError> {
    let entry = Entry {
        actor: name,
        ip: Some(ip),
        action,
        target: name,
        details: serde_json::json!({}),
    };
    audit::record(state, entry).await?;
    Ok(())
}

pub async fn logout(
    State(state): State<AppState>,
    ConnectInfo(ClientAddr(peer)): ConnectInfo<ClientAddr>,
    user: CurrentUser,
    MaybeSession(ctx): MaybeSession,
) -> Result<Response, WebError> {
    if let Some(ctx) = ctx {
        sessions::delete(state.store.writer(), &ctx.id_hash).await?;
    }
    let entry = Entry {
        actor: &user.name,
        ip: Some(peer.ip()),
        action: "logout",
        target: &user.name,
        details: serde_json::json!({}),
    };
    audit::record(&state, entry).await?;
    let mut response = Redirect::to("/login").into_response();
    response.headers_mut().insert(
        header::SET_COOKIE,
        super::session::clear_cookie(state.settings.secure_cookies),
    );
    Ok(response)
}
