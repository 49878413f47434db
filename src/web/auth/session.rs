//! Session cookies and the per-request session context. The raw session id is 256 random
//! bits that live only in the cookie; the database keys sessions by its SHA-256, and the
//! CSRF token is derived from the raw id (so it is bound to the session and needs no storage).

use axum::{
    extract::FromRequestParts,
    http::{HeaderMap, HeaderValue, header, request::Parts},
};
use sha2::{Digest, Sha256};

use crate::{
    app::AppState,
    store::{sessions, users::Role},
    web::error::WebError,
};

/// The session cookie's name over plain HTTP.
pub const COOKIE: &str = "natpilot_session";
/// Its name when served over HTTPS: with the `__Host-` prefix the browser accepts the cookie
/// only with `Secure`, `Path=/` and no `Domain`, so no other host (a sibling subdomain, a
/// plain-HTTP page) can plant or overwrite it (ASVS 5.0 V3.3).
pub const HOST_COOKIE: &str = "__Host-natpilot_session";

/// The session cookie's name for this portal (`secure`: served over HTTPS).
pub fn cookie_name(secure: bool) -> &'static str {
    if secure { HOST_COOKIE } else { COOKIE }
}

/// The signed-in user of a request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CurrentUser {
    pub id: i64,
    pub name: String,
    pub role: Role,
}

/// A request's session, as found by `access::enforce` (present only when the cookie named
/// a live session).
#[derive(Clone, Debug)]
pub struct SessionCtx {
    pub id_hash: String,
    pub csrf: String,
    pub user: Option<CurrentUser>,
}

/// A fresh raw session id (hex of 32 random bytes) — goes into the cookie only.
pub fn new_raw_id() -> String {
    hex::encode(rand::random::<[u8; 32]>())
}

pub fn hash_id(raw: &str) -> String {
    hex::encode(Sha256::digest(raw.as_bytes()))
}

/// The synchronizer token for a session: a one-way function of the raw id, so a token seen
/// in a page reveals nothing about the cookie.
pub fn csrf_for(raw: &str) -> String {
    let mut h = Sha256::new();
    h.update(b"natpilot-csrf\0");
    h.update(raw.as_bytes());
    hex::encode(h.finalize())
}

/// The session id the request's cookie carries, if it has the shape of one.
pub fn cookie_value(headers: &HeaderMap, secure: bool) -> Option<String> {
    find_cookie(headers, cookie_name(secure))
}

/// The value of cookie `name` if it is 64 hex digits (every id we issue is).
pub fn find_cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, value)| value.to_owned())
        .filter(|v| v.len() == 64 && v.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// `Set-Cookie` for cookie `name` (a hex id, or empty with `Max-Age=0` to clear it):
/// HttpOnly and SameSite=Strict always, Secure under TLS; `Path=/` and no `Domain`, as
/// the `__Host-` prefix requires.
pub fn cookie_header(name: &str, value: Option<&str>, secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    let (value, age) = match value {
        Some(v) => (v, ""),
        None => ("", "; Max-Age=0"),
    };
    HeaderValue::from_str(&format!(
        "{name}={value}; Path=/; HttpOnly; SameSite=Strict{age}{secure}"
    ))
    .expect("cookie names and hex ids are valid header values")
}

/// `Set-Cookie` for a session id.
pub fn set_cookie(raw: &str, secure: bool) -> HeaderValue {
    cookie_header(cookie_name(secure), Some(raw), secure)
}

pub fn clear_cookie(secure: bool) -> HeaderValue {
    cookie_header(cookie_name(secure), None, secure)
}

/// Looks up the session the request's cookie names; `None` when absent, expired, or its
/// user is disabled. Refreshes `last_seen_at` at most once a minute, so reads stay reads.
pub async fn load(state: &AppState, headers: &HeaderMap) -> Result<Option<SessionCtx>, WebError> {
    let Some(raw) = cookie_value(headers, state.settings.secure_cookies) else {
        return Ok(None);
    };
    let id_hash = hash_id(&raw);
    let Some(row) = live_row(state, &id_hash).await? else {
        return Ok(None);
    };
    if crate::store::users::now() - row.last_seen_at >= 60 {
        sessions::touch(state.store.writer(), &id_hash).await?;
    }
    let user = match (row.user_id, row.user_name.clone(), row.role()) {
        (Some(id), Some(name), Some(role)) => Some(CurrentUser { id, name, role }),
        _ => None,
    };
    Ok(Some(SessionCtx {
        id_hash,
        csrf: csrf_for(&raw),
        user,
    }))
}

/// The live session row, from the session cache when it is fresh, else from the database.
/// The timeouts are checked on every request, cached or not.
async fn live_row(
    state: &AppState,
    id_hash: &str,
) -> Result<Option<sessions::SessionRow>, WebError> {
    let s = &state.settings;
    let (idle, absolute) = (
        s.session_idle.as_secs() as i64,
        s.session_absolute.as_secs() as i64,
    );
    let now = crate::store::users::now();
    let within_timeouts =
        |r: &sessions::SessionRow| r.last_seen_at > now - idle && r.created_at > now - absolute;
    // Taken before the read: a write committed during it leaves the entry stale.
    let version = state.store.write_generation();
    let clock = std::time::Instant::now();
    if let Some(row) = state.auth.sessions.get(id_hash, version, clock) {
        return Ok(within_timeouts(&row).then_some(row));
    }
    let row = sessions::find_live(state.store.readers(), id_hash, idle, absolute).await?;
    if let Some(row) = &row {
        state.auth.sessions.put(row.clone(), version, clock);
    }
    Ok(row)
}

/// Whether the session `id_hash` still stands (exists, within both timeouts, its user
/// enabled), read from the database itself. For long-lived responses (event streams) that
/// must end with their session.
pub async fn still_live(state: &AppState, id_hash: &str) -> sqlx::Result<bool> {
    let s = &state.settings;
    let (idle, absolute) = (
        s.session_idle.as_secs() as i64,
        s.session_absolute.as_secs() as i64,
    );
    let row = sessions::find_live(state.store.readers(), id_hash, idle, absolute).await?;
    Ok(row.is_some())
}

/// Creates a signed-in session row for `user_id` and returns the raw id for the cookie.
/// The client's address and user agent are kept so the user can recognise their sessions.
pub async fn create(
    state: &AppState,
    user_id: i64,
    client: &sessions::ClientInfo,
) -> Result<String, WebError> {
    let raw = new_raw_id();
    sessions::insert(state.store.writer(), &hash_id(&raw), Some(user_id), client).await?;
    Ok(raw)
}

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = WebError;
    async fn from_request_parts(parts: &mut Parts, _: &AppState) -> Result<Self, WebError> {
        parts
            .extensions
            .get::<SessionCtx>()
            .and_then(|s| s.user.clone())
            .ok_or_else(|| WebError::SignInRequired {
                next: parts.uri.path().to_owned(),
            })
    }
}

/// The session context if any (open pages such as `/login`).
pub struct MaybeSession(pub Option<SessionCtx>);

impl FromRequestParts<AppState> for MaybeSession {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, _: &AppState) -> Result<Self, Self::Rejection> {
        Ok(MaybeSession(parts.extensions.get::<SessionCtx>().cloned()))
    }
}
