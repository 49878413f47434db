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

pub const COOKIE: &str = "natpilot_session";

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

pub fn cookie_value(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value.to_owned())
        .filter(|v| v.len() == 64 && v.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// `Set-Cookie` for a session id: HttpOnly and SameSite=Strict always, Secure under TLS.
pub fn set_cookie(raw: &str, secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{COOKIE}={raw}; Path=/; HttpOnly; SameSite=Strict{secure}"
    ))
    .expect("hex id is a valid header value")
}

pub fn clear_cookie(secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0{secure}"
    ))
    .expect("static cookie is a valid header value")
}

/// Looks up the session the request's cookie names; `None` when absent, expired, or its
/// user is disabled. Refreshes `last_seen_at` at most once a minute, so reads stay reads.
pub async fn load(state: &AppState, headers: &HeaderMap) -> Result<Option<SessionCtx>, WebError> {
    let Some(raw) = cookie_value(headers) else {
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

/// Creates a session row and returns the raw id for the cookie.
pub async fn create(state: &AppState, user_id: Option<i64>) -> Result<String, WebError> {
    let raw = new_raw_id();
    sessions::insert(state.store.writer(), &hash_id(&raw), user_id).await?;
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
