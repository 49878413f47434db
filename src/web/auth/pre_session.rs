//! The CSRF token of the forms an anonymous visitor sees (`/login`, the setup link),
//! without a session row (issue 10: an anonymous `GET /login` must not write the database).
//!
//! A double-submit token: the page sets a random pre-session cookie (HttpOnly,
//! SameSite=Strict, `__Host-` prefixed over HTTPS) and embeds a one-way function of it in
//! the form; a post must carry both. A cross-site page can neither read the cookie nor set
//! one for this host (the `__Host-` prefix keeps sibling hosts out), so it cannot produce a
//! matching pair, and the Origin/Sec-Fetch-Site check of `access` applies as before. The
//! cookie is cleared at sign-in; it never grants anything by itself.

use axum::http::{HeaderMap, HeaderValue};
use sha2::{Digest, Sha256};

use super::session::{cookie_header, find_cookie, new_raw_id};

pub const COOKIE: &str = "natpilot_presession";
pub const HOST_COOKIE: &str = "__Host-natpilot_presession";

pub fn cookie_name(secure: bool) -> &'static str {
    if secure { HOST_COOKIE } else { COOKIE }
}

/// The form token for a pre-session cookie value. A different domain string than the
/// session's token, so one can never stand in for the other.
pub fn csrf_for(raw: &str) -> String {
    let mut h = Sha256::new();
    h.update(b"natpilot-pre-session-csrf\0");
    h.update(raw.as_bytes());
    hex::encode(h.finalize())
}

/// The form token of the request's pre-session cookie, if it carries one.
pub fn existing_token(headers: &HeaderMap, secure: bool) -> Option<String> {
    find_cookie(headers, cookie_name(secure)).map(|raw| csrf_for(&raw))
}

/// The form token for this request: from its pre-session cookie, or from a new one (then
/// also the `Set-Cookie` to send).
pub fn token(headers: &HeaderMap, secure: bool) -> (String, Option<HeaderValue>) {
    if let Some(token) = existing_token(headers, secure) {
        return (token, None);
    }
    let raw = new_raw_id();
    let cookie = cookie_header(cookie_name(secure), Some(&raw), secure);
    (csrf_for(&raw), Some(cookie))
}

pub fn clear_cookie(secure: bool) -> HeaderValue {
    cookie_header(cookie_name(secure), None, secure)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::header;

    #[test]
    fn a_request_with_a_pre_session_cookie_keeps_its_token() {
        let (token, cookie) = token(&HeaderMap::new(), true);
        let cookie = cookie.unwrap();
        let set = cookie.to_str().unwrap();
        assert!(set.starts_with("__Host-natpilot_presession="), "{set}");
        assert!(set.contains("; Secure") && set.contains("Path=/") && !set.contains("Domain"));
        let pair = set.split(';').next().unwrap();
        let mut headers = HeaderMap::new();
        headers.insert(header::COOKIE, HeaderValue::from_str(pair).unwrap());
        assert_eq!(existing_token(&headers, true), Some(token.clone()));
        // The plain-HTTP name is a different cookie.
        assert_eq!(existing_token(&headers, false), None);
        // Not the session's token for the same value.
        let raw = pair.split_once('=').unwrap().1;
        assert_ne!(super::super::session::csrf_for(raw), token);
    }
}
