//! The Tencent Cloud API client: one shared `reqwest::Client`, an endpoint, a credentials
//! provider, the retry policy, the rate limiter and the call observers. Cheap to clone.
//!
//! `call` is the one place that decides about retries (see its doc comment); `wire` sends a
//! single attempt; `envelope` reads the answer. A handle may carry a [`CallJournal`] that
//! records each attempt before it leaves (and may refuse it), and observers told afterwards.

mod retry;
mod wire;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

pub use retry::RetryPolicy;

use crate::config::TencentConfig;

use super::journal::{Attempt, CallJournal, EntryId};
use super::observer::{self, CallObserver, CallOutcome, CallRecord};
use super::ratelimit::{Priority, RateLimiter};
use super::{
    Action, CredentialSource, Credentials, CredentialsProvider, Endpoint, PagedAction, TencentError,
};

/// Everything a [`Client`] needs; [`ClientSettings::new`] fills sensible defaults.
#[derive(Debug, Clone)]
pub struct ClientSettings {
    pub endpoint: Endpoint,
    pub credentials: CredentialsProvider,
    pub connect_timeout: Duration,
    /// Whole-attempt timeout: connect, send, and read the full response.
    pub request_timeout: Duration,
    pub retry: RetryPolicy,
    /// `X-TC-Language`: `en-US` or `zh-CN` (language of `Error.Message`).
    pub language: String,
    /// Client-side limit at each action's documented rate (reference §3.5). Keep on against
    /// Tencent Cloud; a simulator test may turn it off.
    pub rate_limit: bool,
}

impl ClientSettings {
    pub fn new(endpoint: Endpoint, credentials: CredentialsProvider) -> ClientSettings {
        ClientSettings {
            endpoint,
            credentials,
            connect_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(30),
            retry: RetryPolicy::default(),
            language: "en-US".to_owned(),
            rate_limit: true,
        }
    }
}

impl ClientSettings {
    /// Settings from the `[tencent]` configuration section and resolved credentials: the
    /// endpoint override (else the international, region-pinned or default host), timeouts,
    /// attempts, language.
    pub fn from_config(
        config: &TencentConfig,
        credentials: CredentialsProvider,
    ) -> Result<ClientSettings, TencentError> {
        let endpoint = match &config.endpoint {
            Some(url) => {
                Endpoint::override_url(url).map_err(|e| TencentError::Setup(e.to_string()))?
            }
            None if config.international => Endpoint::International,
            None if config.region_pinned => Endpoint::RegionPinned,
            None => Endpoint::Default,
        };
        let mut settings = ClientSettings::new(endpoint, credentials);
        settings.connect_timeout = Duration::from_secs(config.connect_timeout_secs.max(1));
        settings.request_timeout = Duration::from_secs(config.request_timeout_secs.max(1));
        settings.retry.max_attempts = config.max_attempts.max(1);
        settings.language = config.language.clone();
        Ok(settings)
    }
}

/// A successful call's typed response and its `RequestId`.
#[derive(Debug, Clone)]
pub struct Reply<R> {
    pub response: R,
    pub request_id: String,
}

#[derive(Clone)]
pub struct Client {
    shared: Arc<Shared>,
    observers: Arc<Vec<Arc<dyn CallObserver>>>,
    journal: Option<Arc<dyn CallJournal>>,
    /// Whose calls these are for the shared rate limiter: a run's, or an estate scan's that
    /// yield to them.
    priority: Priority,
}

struct Shared {
    http: reqwest::Client,
    endpoint: Endpoint,
    credentials: CredentialsProvider,
    retry: RetryPolicy,
    language: String,
    rate_limit: bool,
    limiter: RateLimiter,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("endpoint", &self.shared.endpoint)
            .field("credentials", &self.shared.credentials)
            .field("observers", &self.observers.len())
            .field("journal", &self.journal.is_some())
            .finish()
    }
}

impl Client {
    pub fn new(settings: ClientSettings) -> Result<Client, TencentError> {
        let http = reqwest::Client::builder()
            .connect_timeout(settings.connect_timeout)
            .timeout(settings.request_timeout)
            .user_agent(concat!("natpilot/", env!("CARGO_PKG_VERSION")))
            // `Host`, `Content-Type`, `Authorization` as the official SDKs spell them (the Go
            // SDK sends `X-Tc-Action` too): a hand-written verifier may look headers up
            // case-sensitively even though HTTP says it must not.
            .http1_title_case_headers()
            .build()
            .map_err(|e| TencentError::Setup(format!("cannot build the HTTP client: {e}")))?;
        Ok(Client {
            shared: Arc::new(Shared {
                http,
                endpoint: settings.endpoint,
                credentials: settings.credentials,
                retry: settings.retry,
                language: settings.language,
                rate_limit: settings.rate_limit,
                limiter: RateLimiter::default(),
            }),
            observers: Arc::new(Vec::new()),
            journal: None,
            priority: Priority::Foreground,
        })
    }

    /// A client for a local stand-in (simulator, test server) at `base_url`, e.g.
    /// `http://127.0.0.1:9000`, with fixed keys and default settings.
    pub fn for_endpoint(
        base_url: &str,
        secret_id: &str,
        secret_key: &str,
    ) -> Result<Client, TencentError> {
        let endpoint =
            Endpoint::override_url(base_url).map_err(|e| TencentError::Setup(e.to_string()))?;
        let credentials = CredentialsProvider::fixed(
            Credentials::new(secret_id, secret_key),
            CredentialSource::Explicit,
        );
        Client::new(ClientSettings::new(endpoint, credentials))
    }

    /// This handle plus one more observer of every call made through it (and its clones).
    /// The HTTP client, rate limiter and credentials stay shared with `self`.
    pub fn with_observer(&self, observer: Arc<dyn CallObserver>) -> Client {
        let mut observers = (*self.observers).clone();
        observers.push(observer);
        Client {
            shared: self.shared.clone(),
            observers: Arc::new(observers),
            journal: self.journal.clone(),
            priority: self.priority,
        }
    }

    /// This handle with `journal` recording every attempt before it is sent (replacing any
    /// journal `self` had). Observers, HTTP client, rate limiter and credentials stay shared.
    pub fn with_journal(&self, journal: Arc<dyn CallJournal>) -> Client {
        Client {
            shared: self.shared.clone(),
            observers: self.observers.clone(),
            journal: Some(journal),
            priority: self.priority,
        }
    }

    /// This handle with its calls at background priority: they share the rate limiter's
    /// budgets with every other handle of the client but yield to foreground (run) calls of
    /// the same action, region and keys (`ratelimit::Priority`). For read-only surveys.
    pub fn in_background(&self) -> Client {
        Client {
            priority: Priority::Background,
            ..self.clone()
        }
    }

    /// Whose calls this handle makes: a run's, or a background survey's.
    pub fn priority(&self) -> Priority {
        self.priority
    }

    pub fn credential_source(&self) -> &CredentialSource {
        self.shared.credentials.source()
    }

    /// Calls action `A` in `region` (ignored for DNSPod) and returns its typed response.
    ///
    /// Retries live here and only here: an attempt that fails with a *retryable* error
    /// (`TencentError::is_retryable`: network errors, timeouts, HTTP 5xx/429,
    /// `RequestLimitExceeded*`, `InternalError`, and the transient codes of reference §3.4) is
    /// repeated after an exponential backoff with jitter, bounded both by
    /// `RetryPolicy::max_attempts` and by `RetryPolicy::max_elapsed`. Permanent errors
    /// (`InvalidParameter`, `AuthFailure.*`, …) return at once.
    ///
    /// Actions with `Replay::Unsafe` (creates without an idempotency token) are never repeated
    /// after an *ambiguous* failure (timeout or dropped connection after sending, 5xx, an
    /// unreadable 200, `InternalError`): they return `TencentError::MaybeApplied`, and the caller
    /// must look at the cloud before deciding. They are still retried after failures that prove
    /// nothing happened (connect errors, `RequestLimitExceeded`).
    pub async fn call<A: Action>(
        &self,
        region: &str,
        request: &A::Request,
    ) -> Result<A::Response, TencentError> {
        self.call_with_request_id::<A>(region, request)
            .await
            .map(|reply| reply.response)
    }

    /// Like [`Client::call`], also returning the successful attempt's `RequestId`.
    #[tracing::instrument(skip_all, fields(action = A::NAME, region = region))]
    pub async fn call_with_request_id<A: Action>(
        &self,
        region: &str,
        request: &A::Request,
    ) -> Result<Reply<A::Response>, TencentError> {
        let encode = |e: serde_json::Error| TencentError::Encode {
            action: A::NAME,
            detail: e.to_string(),
        };
        let body = serde_json::to_vec(request).map_err(encode)?;
        let params = match self.observers.is_empty() && self.journal.is_none() {
            true => Value::Null,
            false => observer::redact(&serde_json::to_value(request).map_err(encode)?),
        };
        let started = tokio::time::Instant::now();
        let mut attempt = 0;
        loop {
            attempt += 1;
            let credentials = self.shared.credentials.get().await?;
            if self.shared.rate_limit {
                // Tencent counts per action, region and (sub-)account (reference-2 §1): calls
                // in different regions do not share a budget (an estate scans them in parallel).
                let bucket = format!("{}/{region}", credentials.secret_id);
                let rate = A::RATE_LIMIT_PER_SECOND;
                self.shared
                    .limiter
                    .acquire_as(&bucket, A::NAME, rate, self.priority)
                    .await;
            }
            let entry = self.before_send::<A>(region, attempt, &params).await?;
            let sent_at = tokio::time::Instant::now();
            let result = wire::send::<A>(&self.shared, &credentials, region, &body).await;
            self.report::<A>(region, attempt, sent_at.elapsed(), &result, &params, entry)
                .await;
            let error = match result {
                Ok(reply) => return Ok(reply),
                Err(error) => error,
            };
            match self
                .shared
                .retry
                .decide(A::REPLAY, &error, attempt, started.elapsed())
            {
                retry::Decision::GiveUp => return Err(error),
                retry::Decision::Reconcile => {
                    return Err(TencentError::MaybeApplied {
                        action: A::NAME,
                        cause: Box::new(error),
                    });
                }
                retry::Decision::RetryAfter(delay) => {
                    tracing::warn!(action = A::NAME, attempt, ?delay, error = %error, "retrying");
                    tokio::time::sleep(delay).await;
                }
            }
        }
    }

    /// Every item of a list action: pages of `A::MAX_LIMIT` until `TotalCount` is reached
    /// (or, when the action reports no total, until a short or empty page).
    pub async fn fetch_all<A: PagedAction>(
        &self,
        region: &str,
        request: &A::Request,
    ) -> Result<Vec<A::Item>, TencentError> {
        self.fetch_all_counted::<A>(region, request, |_, _| {})
            .await
    }

    /// [`Client::fetch_all`], telling `counted` after each page how many items it has so far
    /// and of how many, when the action reports a total (a long copy's progress).
    pub async fn fetch_all_counted<A: PagedAction>(
        &self,
        region: &str,
        request: &A::Request,
        mut counted: impl FnMut(u64, Option<u64>) + Send,
    ) -> Result<Vec<A::Item>, TencentError> {
        let mut items = Vec::new();
        let mut offset = 0;
        loop {
            let page = A::page_request(request, offset, A::MAX_LIMIT);
            let (mut got, total) = A::into_page(self.call::<A>(region, &page).await?);
            let count = got.len() as u64;
            items.append(&mut got);
            offset += count;
            counted(offset, total);
            let done = match total {
                Some(total) => offset >= total,
                None => count < A::MAX_LIMIT,
            };
            // An empty page ends the walk even if TotalCount promised more (it changed meanwhile).
            if count == 0 || done {
                return Ok(items);
            }
        }
    }

    /// [`Client::fetch_all`] with up to `ahead` pages in flight once the first page has told
    /// the total: every page still waits for its own rate-limit slot, but none waits for the
    /// answer of the page before it, so a round trip longer than a slot (a large page, a
    /// loaded machine) no longer leaves slots unused. For read-only surveys (the estate scan).
    /// Pages come back in order. On an error the pages already sent are still awaited (their
    /// ledger rows get their answers), then the first error is returned. An action that
    /// reports no total is walked one page at a time, as `fetch_all` does.
    pub async fn fetch_all_ahead<A: PagedAction>(
        &self,
        region: &str,
        request: &A::Request,
        ahead: usize,
    ) -> Result<Vec<A::Item>, TencentError> {
        use futures_util::StreamExt as _;
        let first = A::page_request(request, 0, A::MAX_LIMIT);
        let (mut items, total) = A::into_page(self.call::<A>(region, &first).await?);
        let Some(total) = total else {
            return self.fetch_rest::<A>(region, request, items).await;
        };
        if items.is_empty() || items.len() as u64 >= total {
            return Ok(items);
        }
        let offsets = (items.len() as u64..total).step_by(A::MAX_LIMIT as usize);
        let mut pages = futures_util::stream::iter(offsets)
            .map(|offset| {
                let page = A::page_request(request, offset, A::MAX_LIMIT);
                async move { self.call::<A>(region, &page).await }
            })
            .buffered(ahead.max(1));
        let mut failed = None;
        while let Some(answer) = pages.next().await {
            match answer {
                Ok(response) if failed.is_none() => items.append(&mut A::into_page(response).0),
                Ok(_) => {}
                Err(e) => {
                    failed.get_or_insert(e);
                }
            }
        }
        match failed {
            Some(e) => Err(e),
            None => Ok(items),
        }
    }

    /// The pages after `items` (the first), one at a time until a short or empty page.
    async fn fetch_rest<A: PagedAction>(
        &self,
        region: &str,
        request: &A::Request,
        mut items: Vec<A::Item>,
    ) -> Result<Vec<A::Item>, TencentError> {
        let mut count = items.len() as u64;
        while count == A::MAX_LIMIT {
            let page = A::page_request(request, items.len() as u64, A::MAX_LIMIT);
            let (mut got, _) = A::into_page(self.call::<A>(region, &page).await?);
            count = got.len() as u64;
            items.append(&mut got);
        }
        Ok(items)
    }

    /// The journal's record of an attempt about to leave, or its refusal as an error.
    async fn before_send<A: Action>(
        &self,
        region: &str,
        attempt: u32,
        params: &Value,
    ) -> Result<Option<EntryId>, TencentError> {
        let Some(journal) = &self.journal else {
            return Ok(None);
        };
        let pending = Attempt {
            service: A::SERVICE,
            action: A::NAME,
            region,
            attempt,
            mutates: A::MUTATES,
            parameters: params,
        };
        match journal.before_send(&pending).await {
            Ok(id) => Ok(Some(id)),
            Err(refusal) => {
                tracing::warn!(action = A::NAME, code = %refusal.code, reason = %refusal.reason, "call refused before sending");
                Err(TencentError::Refused {
                    action: A::NAME,
                    code: refusal.code,
                    reason: refusal.reason,
                })
            }
        }
    }

    async fn report<A: Action>(
        &self,
        region: &str,
        attempt: u32,
        duration: Duration,
        result: &Result<Reply<A::Response>, TencentError>,
        params: &Value,
        entry: Option<EntryId>,
    ) {
        if self.observers.is_empty() && entry.is_none() {
            return;
        }
        let (request_id, outcome) = match result {
            Ok(reply) => (Some(reply.request_id.clone()), CallOutcome::Ok),
            Err(e) => (
                e.request_id().map(str::to_owned),
                CallOutcome::Error {
                    code: e.outcome_code(),
                },
            ),
        };
        let record = CallRecord {
            service: A::SERVICE,
            action: A::NAME,
            region: region.to_owned(),
            request_id,
            duration,
            attempt,
            outcome,
            parameters: params.clone(),
        };
        for observer in self.observers.iter() {
            observer.on_call(&record);
        }
        if let (Some(journal), Some(id)) = (&self.journal, entry) {
            journal.after_answer(id, &record).await;
        }
    }
}

#[cfg(test)]
mod tests;
