//! Single sign-on with OpenID Connect (issue 14 item 1): the authorization code flow with
//! PKCE through the `openidconnect` crate.
//!
//! - `config`: the `[auth]` section and its checked settings;
//! - `provider`: discovery from the issuer URL (cached), the JWKS (fetched again when a token
//!   names a key id we do not know: key rotation), ID-token verification;
//! - `pending`: state, nonce and PKCE verifier of sign-ins under way, kept server-side and
//!   keyed by the browser's pre-session cookie (`auth::pre_session`);
//! - `flow`: the routes (`/auth/oidc/start`, `/auth/oidc/callback`) and sign-out;
//! - `identity`: who the verified token is (issuer + subject), its role from the claim;
//! - `problem`: what went wrong, in words, with how to fix it.

pub mod config;
pub mod flow;
pub mod http;
pub mod identity;
pub mod pending;
pub mod problem;
pub mod provider;

pub use config::{AuthConfig, AuthSettings, SsoSettings};

/// The single sign-on state of a running portal (in `AuthState`, when `[auth] issuer` is set).
pub struct Sso {
    pub settings: SsoSettings,
    pub provider: provider::Provider,
    pub pending: pending::PendingSignIns,
}

impl Sso {
    pub fn new(settings: SsoSettings) -> Sso {
        Sso {
            provider: provider::Provider::new(&settings),
            settings,
            pending: pending::PendingSignIns::default(),
        }
    }
}
