//! Signing in and out, the one-time setup link, sessions, password hashing, throttling.

pub mod login;
pub mod oidc;
pub mod password;
pub mod pre_session;
pub mod session;
pub mod session_cache;
pub mod setup;
pub mod throttle;

use std::{net::IpAddr, sync::Mutex};

use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Redirect, Response};

use crate::{app::AppState, store::sessions::ClientInfo};

use super::{
    error::WebError,
    routes::{Access, Routes},
    settings::WebSettings,
};
use session::SessionCtx;

/// Authentication state that lives in memory: throttling buckets and the setup link.
pub struct AuthState {
    pub throttle: throttle::LoginThrottle,
    /// Recently checked sessions (see `session_cache` for how it stays fresh).
    pub sessions: session_cache::SessionCache,
    /// The one-time setup link while no user exists (see `setup`).
    setup: Mutex<Option<setup::SetupLink>>,
    /// Single sign-on, when `[auth] issuer` is set (see `oidc`).
    pub sso: Option<oidc::Sso>,
}

impl AuthState {
    pub fn new(settings: &WebSettings) -> AuthState {
        AuthState {
            throttle: throttle::LoginThrottle::new(settings),
            sessions: session_cache::SessionCache::default(),
            setup: Mutex::new(None),
            sso: settings.auth.sso.clone().map(oidc::Sso::new),
        }
    }

    /// `/setup/<token>` while a setup link is armed (printed to the console by `serve`).
    pub fn setup_path(&self) -> Option<String> {
        self.lock_setup().as_ref().map(setup::SetupLink::path)
    }

    fn lock_setup(&self) -> std::sync::MutexGuard<'_, Option<setup::SetupLink>> {
        self.setup.lock().unwrap_or_else(|e| e.into_inner())
    }
}

pub fn routes() -> Routes {
    Routes::default()
        .get("/login", Access::Open, login::form)
        .post("/login", Access::Open, login::submit)
        .post("/logout", Access::Viewer, login::logout)
        .get("/setup/{token}", Access::Open, setup::form)
        .post("/setup/{token}", Access::Open, setup::submit)
        .post("/auth/oidc/start", Access::Open, oidc::flow::start)
        .get(
            oidc::flow::CALLBACK_PATH,
            Access::Open,
            oidc::flow::callback,
        )
}

/// The CSRF token for a form on an open page: the session's if there is one, else a
/// pre-session token (no database row, see `pre_session`), with its cookie if it is new.
pub fn form_token(
    state: &AppState,
    ctx: Option<&SessionCtx>,
    headers: &HeaderMap,
) -> (String, Option<HeaderValue>) {
    match ctx {
        Some(ctx) => (ctx.csrf.clone(), None),
        None => pre_session::token(headers, state.settings.secure_cookies),
    }
}

/// The client a session is started for: its address (after `client_ip`) and user agent.
pub fn client_info(ip: IpAddr, headers: &HeaderMap) -> ClientInfo {
    let agent = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    ClientInfo::new(ip.to_string(), agent)
}

/// Ends the current session (if any) and starts a new one for `user_id`: the session id
/// always changes at login, so an id planted before login is worthless after it. The
/// pre-session cookie has done its job and is cleared.
pub async fn start_user_session(
    state: &AppState,
    old: Option<&SessionCtx>,
    user_id: i64,
    client: &ClientInfo,
    to: &str,
) -> Result<Response, WebError> {
    if let Some(old) = old {
        crate::store::sessions::delete(state.store.writer(), &old.id_hash).await?;
    }
    let raw = session::create(state, user_id, client).await?;
    let secure = state.settings.secure_cookies;
    let mut response = Redirect::to(to).into_response();
    let headers = response.headers_mut();
    headers.append(header::SET_COOKIE, session::set_cookie(&raw, secure));
    headers.append(header::SET_COOKIE, pre_session::clear_cookie(secure));
    Ok(response)
}
