//! Sign-ins under way: what `/auth/oidc/start` sent the provider (state, nonce, PKCE
//! verifier, redirect URL, where to go afterwards), kept in memory on the server and keyed
//! by a one-way function of the browser's pre-session cookie. Nothing of it travels in a
//! cookie or reaches the database; the callback takes it out (single use), so a state can
//! be answered once, only by the browser that started it, within `TTL`.

use std::{
    collections::HashMap,
    sync::Mutex,
    time::{Duration, Instant},
};

use openidconnect::{CsrfToken, Nonce, PkceCodeVerifier, RedirectUrl};
use sha2::{Digest, Sha256};

/// How long a sign-in may take at the provider.
pub const TTL: Duration = Duration::from_secs(10 * 60);
/// Bound on sign-ins under way (anonymous visitors can start them).
const MAX: usize = 10_000;

pub struct Pending {
    pub state: CsrfToken,
    pub nonce: Nonce,
    pub pkce_verifier: PkceCodeVerifier,
    pub redirect_url: RedirectUrl,
    pub next: String,
    started: Instant,
}

impl Pending {
    pub fn new(
        state: CsrfToken,
        nonce: Nonce,
        pkce_verifier: PkceCodeVerifier,
        redirect_url: RedirectUrl,
        next: String,
    ) -> Pending {
        Pending {
            state,
            nonce,
            pkce_verifier,
            redirect_url,
            next,
            started: Instant::now(),
        }
    }
}

#[derive(Default)]
pub struct PendingSignIns(Mutex<HashMap<String, Pending>>);

/// The key of a pre-session cookie value (its own domain string: never equal to the
/// cookie's CSRF token or a session id hash).
fn key(pre_session: &str) -> String {
    let mut h = Sha256::new();
    h.update(b"natpilot-oidc-pending\0");
    h.update(pre_session.as_bytes());
    hex::encode(h.finalize())
}

impl PendingSignIns {
    /// Records a sign-in for this pre-session, replacing one it started before.
    pub fn insert(&self, pre_session: &str, pending: Pending) {
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        map.retain(|_, p| p.started.elapsed() < TTL);
        if map.len() >= MAX {
            // Drop the oldest: a flood of anonymous starts cannot grow memory without bound.
            if let Some(oldest) = map
                .iter()
                .min_by_key(|(_, p)| p.started)
                .map(|(k, _)| k.clone())
            {
                map.remove(&oldest);
            }
        }
        map.insert(key(pre_session), pending);
    }

    /// Takes this pre-session's sign-in out, if it is there and not too old.
    pub fn take(&self, pre_session: &str) -> Option<Pending> {
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        map.remove(&key(pre_session))
            .filter(|p| p.started.elapsed() < TTL)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pending(state: &str) -> Pending {
        Pending::new(
            CsrfToken::new(state.into()),
            Nonce::new("n".into()),
            PkceCodeVerifier::new("v".repeat(43)),
            RedirectUrl::new("http://127.0.0.1/auth/oidc/callback".into()).unwrap(),
            "/".into(),
        )
    }

    #[test]
    fn a_sign_in_is_taken_once_and_only_by_its_own_pre_session() {
        let map = PendingSignIns::default();
        map.insert("cookie-a", pending("s1"));
        assert!(map.take("cookie-b").is_none());
        assert_eq!(map.take("cookie-a").unwrap().state.secret(), "s1");
        assert!(map.take("cookie-a").is_none(), "single use");
        // A new start replaces the old one.
        map.insert("cookie-a", pending("s2"));
        map.insert("cookie-a", pending("s3"));
        assert_eq!(map.take("cookie-a").unwrap().state.secret(), "s3");
    }
}
