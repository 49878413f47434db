//! Why a single sign-on did not work, in words an operator can act on: what happened and
//! how to fix it (issue 14 "Bad input"). Rendered by `flow` as the sign-in problem page,
//! which also offers password sign-in (the break-glass account when `local_login` is off).
//! No message holds a secret: codes, tokens and the client secret never appear here.

use axum::http::StatusCode;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// Discovery (or the JWKS) could not be fetched.
    Unreachable { issuer: String, why: String },
    /// The discovery document is there but unusable (wrong issuer, bad JSON).
    BadDiscovery { issuer: String, why: String },
    /// The token endpoint refused natpilot's client credentials.
    ClientRefused { client_id: String, detail: String },
    /// The provider answered the authorization request with an error (access_denied, …).
    ProviderError { error: String, detail: String },
    /// The token endpoint refused the code, or answered something unusable.
    TokenRequest { why: String },
    /// The ID token expired before natpilot checked it (or was issued in the future).
    Expired { why: String },
    /// The ID token's signature does not verify against the provider's keys.
    BadSignature { why: String },
    /// Another check of the ID token failed (issuer, audience, nonce).
    InvalidToken { why: String },
    /// The token has no role claim.
    MissingClaim { claim: String, present: Vec<String> },
    /// The role claim names nothing `[auth.roles]` maps.
    NoRole { claim: String, values: Vec<String> },
    /// The natpilot account of this identity is disabled.
    Disabled { name: String },
    /// No sign-in under way for this browser (expired, used, or started elsewhere), or the
    /// state does not match.
    Stale,
    /// The provider that answered is not the configured one (RFC 9207 `iss`).
    WrongIssuer { expected: String, got: String },
}

impl Problem {
    pub fn status(&self) -> StatusCode {
        match self {
            Problem::Unreachable { .. } | Problem::BadDiscovery { .. } => StatusCode::BAD_GATEWAY,
            Problem::ClientRefused { .. } | Problem::TokenRequest { .. } => StatusCode::BAD_GATEWAY,
            Problem::NoRole { .. } | Problem::Disabled { .. } => StatusCode::FORBIDDEN,
            Problem::Stale => StatusCode::BAD_REQUEST,
            _ => StatusCode::UNAUTHORIZED,
        }
    }

    /// A short code for the audit log and tests.
    pub fn code(&self) -> &'static str {
        match self {
            Problem::Unreachable { .. } => "unreachable_issuer",
            Problem::BadDiscovery { .. } => "bad_discovery",
            Problem::ClientRefused { .. } => "client_refused",
            Problem::ProviderError { .. } => "provider_error",
            Problem::TokenRequest { .. } => "token_request",
            Problem::Expired { .. } => "expired_token",
            Problem::BadSignature { .. } => "bad_signature",
            Problem::InvalidToken { .. } => "invalid_token",
            Problem::MissingClaim { .. } => "missing_claim",
            Problem::NoRole { .. } => "no_role",
            Problem::Disabled { .. } => "disabled",
            Problem::Stale => "stale",
            Problem::WrongIssuer { .. } => "wrong_issuer",
        }
    }

    pub fn title(&self) -> &'static str {
        match self {
            Problem::Unreachable { .. } => "The identity provider cannot be reached",
            Problem::BadDiscovery { .. } => "The identity provider's configuration is unusable",
            Problem::ClientRefused { .. } => {
                "The identity provider refused natpilot's client credentials"
            }
            Problem::ProviderError { .. } => "The identity provider refused the sign-in",
            Problem::TokenRequest { .. } => "The identity provider did not hand out a token",
            Problem::Expired { .. } => "The sign-in token had expired: the clocks disagree",
            Problem::BadSignature { .. } => "The sign-in token's signature is not valid",
            Problem::InvalidToken { .. } => "The sign-in token is not valid for natpilot",
            Problem::MissingClaim { .. } => "The sign-in token does not say your groups",
            Problem::NoRole { .. } => "Your groups give you no role in natpilot",
            Problem::Disabled { .. } => "Your natpilot account is disabled",
            Problem::Stale => "This sign-in is no longer under way",
            Problem::WrongIssuer { .. } => "The answer came from another identity provider",
        }
    }

    /// What happened.
    pub fn what(&self) -> String {
        match self {
            Problem::Unreachable { issuer, why } => format!(
                "natpilot could not fetch the OpenID configuration of {issuer}: {why}."
            ),
            Problem::BadDiscovery { issuer, why } => format!(
                "The OpenID configuration of {issuer} could not be used: {why}."
            ),
            Problem::ClientRefused { client_id, detail } => format!(
                "The token endpoint answered invalid_client for client id `{client_id}`{detail}."
            ),
            Problem::ProviderError { error, detail } => {
                format!("The provider answered `{error}`{detail}.")
            }
            Problem::TokenRequest { why } => format!("The token request failed: {why}."),
            Problem::Expired { why } => format!("{why}."),
            Problem::BadSignature { why } => format!(
                "The ID token does not verify against the provider's published keys ({why}): it was altered on the way or not issued by this provider. The sign-in was refused."
            ),
            Problem::InvalidToken { why } => format!("The ID token was refused: {why}."),
            Problem::MissingClaim { claim, present } => format!(
                "The ID token and the userinfo answer have no `{claim}` claim (they have: {}).",
                present.join(", ")
            ),
            Problem::NoRole { claim, values } if values.is_empty() => {
                format!("Your `{claim}` claim is empty.")
            }
            Problem::NoRole { claim, values } => format!(
                "Your `{claim}` claim says {}; none of these is mapped to a natpilot role.",
                values.join(", ")
            ),
            Problem::Disabled { name } => {
                format!("You signed in at the provider, but the natpilot account {name} is disabled.")
            }
            Problem::Stale => "natpilot has no sign-in under way for this browser: it took longer than 10 minutes, was already used, or was started in another browser or tab.".into(),
            Problem::WrongIssuer { expected, got } => format!(
                "The provider's answer names issuer {got}, but natpilot is configured for {expected}."
            ),
        }
    }

    /// How to fix it.
    pub fn fix(&self) -> String {
        match self {
            Problem::Unreachable { .. } => "Check `[auth] issuer` (it is the URL before /.well-known/openid-configuration) and that this natpilot host can reach it (DNS, firewall, proxy). Meanwhile an admin can sign in with the break-glass account below.".into(),
            Problem::BadDiscovery { .. } => "Set `[auth] issuer` to exactly the issuer the provider names in its configuration (mind a trailing slash).".into(),
            Problem::ClientRefused { .. } => "The client secret (or client id) is wrong or was rotated: copy the client's current secret from the provider into `[auth] client_secret` and restart natpilot.".into(),
            Problem::ProviderError { .. } => "Ask the provider's admin to allow natpilot's client for your account, or try again.".into(),
            Problem::TokenRequest { .. } => "Try again; if it keeps failing, check that `[auth] redirect_url` is registered for the client at the provider and that the client may use the authorization code flow.".into(),
            Problem::Expired { .. } => "Synchronise the clocks of the natpilot host and the identity provider (NTP), then sign in again.".into(),
            Problem::BadSignature { .. } => "Try again. If it happens again, something between natpilot and the provider changes its answers: tell your security team.".into(),
            Problem::InvalidToken { .. } => "Check `[auth] issuer` and `[auth] client_id` against the client registered at the provider, then sign in again.".into(),
            Problem::MissingClaim { claim, .. } => format!("Make the provider put `{claim}` into the ID token for natpilot's client (a claim mapper or an extra scope in `[auth] scopes`), or set `[auth] role_claim` to the claim that holds your groups."),
            Problem::NoRole { .. } => "Ask an admin to add you to a group that `[auth.roles]` maps to viewer, operator or admin.".into(),
            Problem::Disabled { .. } => "Ask an admin to enable your account on the Users page.".into(),
            Problem::Stale => "Start the sign-in again from the sign-in page.".into(),
            Problem::WrongIssuer { .. } => "Start the sign-in again from natpilot's sign-in page; if it keeps happening, check `[auth] issuer`.".into(),
        }
    }
}
