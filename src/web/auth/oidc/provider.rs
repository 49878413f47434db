//! The OpenID provider as natpilot sees it: its discovery document and keys, fetched in the
//! background from start-up (`warm_up`; never blocking it: an unreachable provider must not
//! stop the portal, or the break-glass admin could not sign in) or at the first sign-in, and
//! kept; the code exchange; ID-token verification with key rotation (a key id we do not know
//! makes us fetch the JWKS again, once); the role claim from userinfo when the ID token has
//! none (providers such as Okta or Auth0 put groups only there).

use std::{borrow::Cow, sync::Arc, time::Duration};

use chrono::Utc;
use openidconnect::{
    AdditionalClaims, AuthenticationFlow, AuthorizationCode, ClaimsVerificationError, Client,
    ClientId, ClientSecret, CsrfToken, EndpointMaybeSet, EndpointNotSet, EndpointSet,
    IdTokenFields, IdTokenVerifier, IssuerUrl, JsonWebKeySet, Nonce, OAuth2TokenResponse,
    PkceCodeChallenge, RedirectUrl, RequestTokenError, Scope, SignatureVerificationError,
    StandardErrorResponse, StandardTokenResponse, TokenResponse,
    core::{
        CoreAuthDisplay, CoreAuthPrompt, CoreErrorResponseType, CoreGenderClaim, CoreJsonWebKey,
        CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm, CoreResponseType,
        CoreRevocableToken, CoreRevocationErrorResponse, CoreTokenIntrospectionResponse,
        CoreTokenType,
    },
};
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};

use super::{
    config::SsoSettings,
    http::{self, HttpError},
    pending::Pending,
    problem::Problem,
};

/// The claims beyond the standard ones (the role claim among them), as JSON.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
pub struct OtherClaims {
    #[serde(flatten)]
    pub rest: serde_json::Map<String, serde_json::Value>,
}
impl AdditionalClaims for OtherClaims {}

type IdFields = IdTokenFields<
    OtherClaims,
    openidconnect::EmptyExtraTokenFields,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJwsSigningAlgorithm,
>;
type Tokens = StandardTokenResponse<IdFields, CoreTokenType>;
pub type IdClaims = openidconnect::IdTokenClaims<OtherClaims, CoreGenderClaim>;
type Metadata = openidconnect::ProviderMetadataWithLogout;
type OidcClient = Client<
    OtherClaims,
    CoreAuthDisplay,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJsonWebKey,
    CoreAuthPrompt,
    StandardErrorResponse<CoreErrorResponseType>,
    Tokens,
    CoreTokenIntrospectionResponse,
    CoreRevocableToken,
    CoreRevocationErrorResponse,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

/// A token counts as unexpired this long after its `exp` (small clock differences).
const CLOCK_LEEWAY: Duration = Duration::from_secs(60);
/// A token issued further in the future than this is refused (a provider's clock ahead).
const FUTURE_LEEWAY: Duration = Duration::from_secs(5 * 60);

pub struct Provider {
    http: http::Http,
    /// The discovery document with its keys, once fetched.
    metadata: tokio::sync::Mutex<Option<Arc<Metadata>>>,
    /// Origins a natpilot form may lead the browser to (the CSP's `form-action`): the
    /// issuer's, then the authorization and end-session endpoints' once discovered.
    form_targets: std::sync::RwLock<Vec<String>>,
    /// Whether `form_targets` holds the discovered endpoints' origins yet (a page rendered
    /// before that had a CSP allowing only the issuer's origin).
    endpoints_allowed: std::sync::atomic::AtomicBool,
    issuer: String,
    client_id: String,
    client_secret: Option<secrecy::SecretString>,
}

impl Provider {
    pub fn new(settings: &SsoSettings) -> Provider {
        Provider {
            http: http::Http(http::client()),
            metadata: tokio::sync::Mutex::new(None),
            form_targets: std::sync::RwLock::new(origin_of(&settings.issuer).into_iter().collect()),
            endpoints_allowed: std::sync::atomic::AtomicBool::new(false),
            issuer: settings.issuer.clone(),
            client_id: settings.client_id.clone(),
            client_secret: settings.client_secret.clone(),
        }
    }

    /// The discovery document (fetched the first time, then kept).
    pub async fn metadata(&self) -> Result<Arc<Metadata>, Problem> {
        let mut cached = self.metadata.lock().await;
        if let Some(m) = cached.as_ref() {
            return Ok(m.clone());
        }
        let issuer = IssuerUrl::new(self.issuer.clone()).map_err(|e| Problem::BadDiscovery {
            issuer: self.issuer.clone(),
            why: e.to_string(),
        })?;
        let client = &self.http;
        let fetched = Metadata::discover_async(issuer, client)
            .await
            .map_err(|e| self.discovery_problem(e))?;
        let fetched = Arc::new(fetched);
        *cached = Some(fetched.clone());
        let endpoints = [
            Some(fetched.authorization_endpoint().as_str()),
            fetched
                .additional_metadata()
                .end_session_endpoint
                .as_ref()
                .map(|u| u.as_str()),
        ];
        let mut targets = self.form_targets.write().unwrap_or_else(|e| e.into_inner());
        for origin in endpoints.into_iter().flatten().filter_map(origin_of) {
            if !targets.contains(&origin) {
                targets.push(origin);
            }
        }
        drop(targets);
        self.endpoints_allowed
            .store(true, std::sync::atomic::Ordering::Release);
        Ok(fetched)
    }

    /// Discovery in the background from start-up, retried with backoff until it works or
    /// the portal stops, so the first sign-in's page already allows the provider's
    /// endpoints in its CSP (an authorization endpoint on another origin than the issuer,
    /// as Cognito has, would otherwise be blocked by the browser on that first sign-in).
    pub async fn warm_up(&self, mut stop: tokio::sync::watch::Receiver<bool>) {
        let mut delay = Duration::from_secs(2);
        loop {
            match self.metadata().await {
                Ok(_) => {
                    tracing::info!(issuer = %self.issuer, "fetched the identity provider's discovery document");
                    return;
                }
                Err(p) => tracing::warn!(
                    issuer = %self.issuer,
                    problem = p.code(),
                    retry_in_s = delay.as_secs(),
                    "the identity provider's discovery failed: {}", p.what()
                ),
            }
            tokio::select! {
                () = tokio::time::sleep(delay) => {}
                _ = stop.wait_for(|stopped| *stopped) => return,
            }
            delay = (delay * 2).min(Duration::from_secs(300));
        }
    }

    /// Whether pages rendered now allow the discovered endpoints' origins in their CSP.
    pub fn endpoints_allowed(&self) -> bool {
        self.endpoints_allowed
            .load(std::sync::atomic::Ordering::Acquire)
    }

    /// The issuer's origin: a form may always lead there.
    pub fn issuer_origin(&self) -> Option<String> {
        origin_of(&self.issuer)
    }

    /// The origins a natpilot form may lead to: "Sign in with …" posts to natpilot, which
    /// sends the browser on to the authorization endpoint, and "Sign out" to the end-session
    /// endpoint. Browsers hold such redirects to the page's CSP `form-action` (found by the
    /// real-browser test: Chromium stayed on the sign-in page under `form-action 'self'`).
    pub fn form_targets(&self) -> Vec<String> {
        self.form_targets
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// The cached discovery document, if a sign-in has fetched it (sign-out uses it and never
    /// waits on the provider).
    pub async fn cached(&self) -> Option<Arc<Metadata>> {
        self.metadata.lock().await.clone()
    }

    fn discovery_problem(&self, e: openidconnect::DiscoveryError<HttpError>) -> Problem {
        use openidconnect::DiscoveryError as D;
        let issuer = self.issuer.clone();
        match e {
            D::Request(e) => Problem::Unreachable {
                issuer,
                why: http::describe(&e),
            },
            D::Response(status, _, _) => Problem::Unreachable {
                issuer,
                why: format!("it answered HTTP {status}"),
            },
            D::Parse(e) => Problem::BadDiscovery {
                issuer,
                why: format!("its JSON does not parse ({e})"),
            },
            other => Problem::BadDiscovery {
                issuer,
                why: other.to_string(),
            },
        }
    }

    fn client(&self, metadata: &Metadata, redirect: RedirectUrl) -> OidcClient {
        let secret = self
            .client_secret
            .as_ref()
            .map(|s| ClientSecret::new(s.expose_secret().to_owned()));
        OidcClient::from_provider_metadata(
            metadata.clone(),
            ClientId::new(self.client_id.clone()),
            secret,
        )
        .set_redirect_uri(redirect)
    }

    /// The provider's authorization URL for a new sign-in, and what to remember of it.
    pub async fn start(
        &self,
        scopes: &[String],
        redirect: RedirectUrl,
        next: String,
    ) -> Result<(reqwest::Url, Pending), Problem> {
        let metadata = self.metadata().await?;
        let client = self.client(&metadata, redirect.clone());
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut request = client
            .authorize_url(
                AuthenticationFlow::<CoreResponseType>::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .set_pkce_challenge(challenge);
        for s in scopes.iter().filter(|s| s.as_str() != "openid") {
            request = request.add_scope(Scope::new(s.clone()));
        }
        let (url, state, nonce) = request.url();
        Ok((url, Pending::new(state, nonce, verifier, redirect, next)))
    }

    /// Exchanges the code and verifies the ID token: its claims, and the userinfo claims when
    /// the ID token lacks `role_claim` and the provider has a userinfo endpoint; or why not.
    pub async fn finish(
        &self,
        code: String,
        pending: Pending,
        role_claim: &str,
    ) -> Result<SignedIn, Problem> {
        let redirect = pending.redirect_url.clone();
        let (claims, tokens) = self.verified_claims(code, pending).await?;
        let in_token = serde_json::to_value(&claims)
            .ok()
            .is_some_and(|v| v.get(role_claim).is_some());
        if in_token {
            return Ok(SignedIn {
                claims,
                userinfo: None,
            });
        }
        let metadata = self.metadata().await?;
        if metadata.userinfo_endpoint().is_none() {
            return Ok(SignedIn {
                claims,
                userinfo: None,
            });
        }
        let client = self.client(&metadata, redirect);
        let request = client
            .user_info(
                tokens.access_token().clone(),
                Some(claims.subject().clone()),
            )
            .map_err(|e| Problem::TokenRequest {
                why: format!("the userinfo endpoint cannot be used ({e})"),
            })?;
        let info: openidconnect::UserInfoClaims<OtherClaims, CoreGenderClaim> = request
            .request_async(&self.http)
            .await
            .map_err(|e| Problem::TokenRequest {
                why: format!(
                    "the ID token has no `{role_claim}` claim and the userinfo endpoint did not answer usably ({})",
                    userinfo_words(&e)
                ),
            })?;
        let userinfo = serde_json::to_value(&info)
            .ok()
            .and_then(|v| v.as_object().cloned())
            .unwrap_or_default();
        Ok(SignedIn {
            claims,
            userinfo: Some(userinfo),
        })
    }

    /// The code exchange and the ID token's verification.
    async fn verified_claims(
        &self,
        code: String,
        pending: Pending,
    ) -> Result<(IdClaims, Tokens), Problem> {
        let metadata = self.metadata().await?;
        let client = self.client(&metadata, pending.redirect_url.clone());
        let http = &self.http;
        let tokens = client
            .exchange_code(AuthorizationCode::new(code))
            .map_err(|e| Problem::BadDiscovery {
                issuer: self.issuer.clone(),
                why: e.to_string(),
            })?
            .set_pkce_verifier(pending.pkce_verifier)
            .set_redirect_uri(Cow::Owned(pending.redirect_url.clone()))
            .request_async(http)
            .await
            .map_err(|e| self.token_problem(e))?;
        let Some(id_token) = tokens.id_token() else {
            return Err(Problem::TokenRequest {
                why: "the answer has no ID token (is `openid` among the client's scopes?)".into(),
            });
        };
        match id_token.claims(&verifier(&client), &pending.nonce) {
            Ok(claims) => return Ok((claims.clone(), tokens.clone())),
            Err(ClaimsVerificationError::SignatureVerification(
                SignatureVerificationError::NoMatchingKey,
            )) => {}
            Err(e) => return Err(claims_problem(e)),
        }
        // A key id we do not know: the provider may have rotated its keys. Fetch them again,
        // keep them, and verify once more.
        let jwks = JsonWebKeySet::fetch_async(metadata.jwks_uri(), http)
            .await
            .map_err(|e| self.discovery_problem(e))?;
        let refreshed = Arc::new((*metadata).clone().set_jwks(jwks));
        *self.metadata.lock().await = Some(refreshed.clone());
        tracing::info!(issuer = %self.issuer, "fetched the identity provider's keys again (unknown key id)");
        let client = self.client(&refreshed, pending.redirect_url);
        let claims = id_token
            .claims(&verifier(&client), &pending.nonce)
            .cloned()
            .map_err(claims_problem)?;
        Ok((claims, tokens.clone()))
    }

    fn token_problem(
        &self,
        e: RequestTokenError<HttpError, StandardErrorResponse<CoreErrorResponseType>>,
    ) -> Problem {
        match e {
            RequestTokenError::ServerResponse(r) => {
                let detail = r
                    .error_description()
                    .map(|d| format!(" ({d})"))
                    .unwrap_or_default();
                match r.error() {
                    CoreErrorResponseType::InvalidClient
                    | CoreErrorResponseType::UnauthorizedClient => Problem::ClientRefused {
                        client_id: self.client_id.clone(),
                        detail,
                    },
                    other => Problem::TokenRequest {
                        why: format!("the provider answered `{}`{detail}", other.as_ref()),
                    },
                }
            }
            RequestTokenError::Request(e) => Problem::Unreachable {
                issuer: self.issuer.clone(),
                why: format!(
                    "the token endpoint could not be reached: {}",
                    http::describe(&e)
                ),
            },
            RequestTokenError::Parse(e, _) => Problem::TokenRequest {
                why: format!("its answer does not parse ({e})"),
            },
            RequestTokenError::Other(s) => Problem::TokenRequest { why: s },
        }
    }
}

/// A verified sign-in: the ID token's claims and, when fetched, the userinfo claims.
pub struct SignedIn {
    pub claims: IdClaims,
    pub userinfo: Option<serde_json::Map<String, serde_json::Value>>,
}

fn userinfo_words(e: &openidconnect::UserInfoError<HttpError>) -> String {
    use openidconnect::UserInfoError as U;
    match e {
        U::Request(e) => http::describe(e),
        U::Response(status, _, _) => format!("HTTP {status}"),
        U::ClaimsVerification(e) => format!("its claims do not verify: {e}"),
        U::Parse(e) => format!("its JSON does not parse ({e})"),
        other => other.to_string(),
    }
}

fn verifier(client: &OidcClient) -> IdTokenVerifier<'_, CoreJsonWebKey> {
    let leeway = chrono::Duration::from_std(CLOCK_LEEWAY).expect("a small duration");
    let future = chrono::Duration::from_std(FUTURE_LEEWAY).expect("a small duration");
    client
        .id_token_verifier()
        .set_time_fn(move || Utc::now() - leeway)
        .set_issue_time_verifier_fn(move |iat| {
            let now = Utc::now();
            if iat > now + future {
                Err(format!(
                    "the ID token was issued at {} UTC, in the future of natpilot's clock ({} UTC)",
                    iat.format("%Y-%m-%d %H:%M:%S"),
                    now.format("%Y-%m-%d %H:%M:%S")
                ))
            } else {
                Ok(())
            }
        })
}

fn claims_problem(e: ClaimsVerificationError) -> Problem {
    match e {
        ClaimsVerificationError::Expired(why) => Problem::Expired {
            why: clock_words(&why),
        },
        ClaimsVerificationError::SignatureVerification(e) => {
            Problem::BadSignature { why: e.to_string() }
        }
        other => Problem::InvalidToken {
            why: other.to_string(),
        },
    }
}

/// The crate's expiry message, with natpilot's clock named.
fn clock_words(why: &str) -> String {
    if why.starts_with("ID token expired") {
        format!(
            "{why}; natpilot's clock says {} UTC (60 seconds of difference are allowed)",
            Utc::now().format("%Y-%m-%d %H:%M:%S")
        )
    } else {
        why.to_owned()
    }
}

/// `scheme://host[:port]` of a URL, as a CSP source expression; `None` for what has no such
/// origin (it is then simply not allowed).
fn origin_of(url: &str) -> Option<String> {
    let origin = reqwest::Url::parse(url).ok()?.origin();
    origin.is_tuple().then(|| origin.ascii_serialization())
}
