//! Signing in and out, the one-time setup link, sessions, password hashing, throttling.

pub mod login;
pub mod password;
pub mod session;
pub mod session_cache;
pub mod setup;
pub mod throttle;

use std::sync::Mutex;

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Redirect, Response};

use crate::app::AppState;

use super::{
    error::WebError,
    routes::{Access, Routes},
    settings::WebSettings,
};
use session::SessionCtx;

/// Authentication state that lives in memory: throttling buckets and the setup token.
pub struct AuthState {
    pub throttle: throttle::LoginThrottle,
    /// Recently checked sessions (see `session_cache` for how it stays fresh).
    pub sessions: session_cache::SessionCache,
    /// The one-time setup token while no user exists; taken when the first admin is created.
    setup_token: Mutex<Option<String>>,
}

impl AuthState {
    pub fn new(settings: &WebSettings) -> AuthState {
        AuthState {
            throttle: throttle::LoginThrottle::new(settings),
            sessions: session_cache::SessionCache::default(),
            setup_token: Mutex::new(None),
        }
    }

    pub fn setup_path(&self) -> Option<String> {
        self.lock_token().as_ref().map(|t| format!("/setup/{t}"))
    }

    fn lock_token(&self) -> std::sync::MutexGuard<'_, Option<String>> {
        self.setup_token.lock().unwrap_or_else(|e| e.into_inner())
    }
}

pub fn routes() -> Routes {
    Routes::default()
        .get("/login", Access::Open, login::form)
        .post("/login", Access::Open, login::submit)
        .post("/logout", Access::Viewer, login::logout)
        .get("/setup/{token}", Access::Open, setup::form)
        .post("/setup/{token}", Access::Open, setup::submit)
}

/// Makes sure an anonymous visitor has a session (so forms on open pages carry a CSRF
/// token bound to it). Returns the session's CSRF token and, if one was created, its cookie.
pub async fn ensure_session(
    state: &AppState,
    ctx: Option<&SessionCtx>,
) -> Result<(String, Option<HeaderValue>), WebError> {
    if let Some(ctx) = ctx {
        return Ok((ctx.csrf.clone(), None));
    }
    let raw = session::create(state, None).await?;
    Ok((
        session::csrf_for(&raw),
        Some(session::set_cookie(&raw, state.settings.secure_cookies)),
    ))
}

/// Ends the current session (if any) and starts a new one for `user_id`: the session id
/// always changes at login, so an id planted before login is worthless after it.
pub async fn start_user_session(
    state: &AppState,
    old: Option<&SessionCtx>,
    user_id: i64,
    to: &str,
) -> Result<Response, WebError> {
    if let Some(old) = old {
        crate::store::sessions::delete(state.store.writer(), &old.id_hash).await?;
    }
    let raw = session::create(state, Some(user_id)).await?;
    let mut response = Redirect::to(to).into_response();
    response.headers_mut().insert(
        header::SET_COOKIE,
        session::set_cookie(&raw, state.settings.secure_cookies),
    );
    Ok(response)
}
