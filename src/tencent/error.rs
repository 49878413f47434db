//! One error type for every way a Tencent Cloud call can fail, classified for retries
//! (reference §3.4) and displayed so an operator knows what happened and what to do.

use std::fmt;

use super::hints::hint_for;

/// Which part of the exchange failed when no API answer came back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NetworkPhase {
    /// Could not connect: the request never left, so repeating it is always safe.
    Connect,
    /// Failed after the request may have been sent (timeout, dropped connection): ambiguous.
    AfterSend,
}

#[derive(Debug, thiserror::Error)]
pub enum TencentError {
    /// Transport failure: DNS, connect, TLS, timeout, connection reset.
    #[error("{action}: network error talking to {host}: {detail}{}", timeout_note(*.timeout))]
    Network {
        action: &'static str,
        host: String,
        detail: String,
        timeout: bool,
        phase: NetworkPhase,
    },
    /// The server answered with an HTTP status other than 200 (API errors come with 200, §3.2).
    #[error("{action}: unexpected HTTP status {status}{}; body starts: {excerpt:?}", request_id_note(.request_id))]
    HttpStatus {
        action: &'static str,
        status: u16,
        request_id: Option<String>,
        excerpt: String,
    },
    /// HTTP 200 but not the expected JSON envelope or response shape.
    #[error("{action}: could not read the response ({reason}){}; body starts: {excerpt:?}", request_id_note(.request_id))]
    Unparsable {
        action: &'static str,
        reason: String,
        request_id: Option<String>,
        excerpt: String,
    },
    /// The API answered with `Response.Error`.
    #[error("{action} failed: {code}: {message} (RequestId {request_id}){}", hint_note(.code, action))]
    Api {
        action: &'static str,
        code: String,
        message: String,
        request_id: String,
    },
    /// A create without idempotency token failed ambiguously: it may have been applied. It was
    /// not retried (that could duplicate the resource); the caller must check the cloud state.
    #[error(
        "{action} may or may not have been applied: {cause}. It was NOT retried, because repeating it \
         could create a duplicate; check the current state in the console or with a Describe call \
         before trying again"
    )]
    MaybeApplied {
        action: &'static str,
        cause: Box<TencentError>,
    },
    /// No usable credentials (or they could not be refreshed).
    #[error("{0}")]
    Credentials(String),
    /// The client could not be set up (bad endpoint URL, TLS initialisation).
    #[error("{0}")]
    Setup(String),
    /// The call's journal refused to let the attempt leave (a run lease not held, a ledger that
    /// cannot be written): nothing was sent.
    #[error("{reason}")]
    Refused {
        action: &'static str,
        code: String,
        reason: String,
    },
    /// The request could not be encoded (a bug in a request type, not a cloud problem).
    #[error("{action}: could not encode the request: {detail}")]
    Encode {
        action: &'static str,
        detail: String,
    },
}

fn timeout_note(timeout: bool) -> &'static str {
    if timeout { " (timed out)" } else { "" }
}

fn request_id_note(request_id: &Option<String>) -> String {
    request_id
        .as_ref()
        .map(|id| format!(" (RequestId {id})"))
        .unwrap_or_default()
}

fn hint_note(code: &str, action: &str) -> String {
    hint_for(code, action)
        .map(|h| format!("\n  hint: {h}"))
        .unwrap_or_default()
}

impl TencentError {
    /// The action whose call failed, when the error knows it.
    pub fn action(&self) -> Option<&'static str> {
        match self {
            TencentError::Network { action, .. }
            | TencentError::HttpStatus { action, .. }
            | TencentError::Unparsable { action, .. }
            | TencentError::Api { action, .. }
            | TencentError::MaybeApplied { action, .. }
            | TencentError::Refused { action, .. }
            | TencentError::Encode { action, .. } => Some(action),
            TencentError::Credentials(_) | TencentError::Setup(_) => None,
        }
    }

    /// The API error code, e.g. `InvalidParameter`, for API errors (also inside `MaybeApplied`).
    pub fn code(&self) -> Option<&str> {
        match self {
            TencentError::Api { code, .. } => Some(code),
            TencentError::MaybeApplied { cause, .. } => cause.code(),
            _ => None,
        }
    }

    pub fn request_id(&self) -> Option<&str> {
        match self {
            TencentError::Api { request_id, .. } => Some(request_id),
            TencentError::HttpStatus { request_id, .. }
            | TencentError::Unparsable { request_id, .. } => request_id.as_deref(),
            TencentError::MaybeApplied { cause, .. } => cause.request_id(),
            _ => None,
        }
    }

    /// A short label for metrics and the call ledger: the API code, or a client-side
    /// pseudo-code (`ClientNetworkError`, `ClientTimeout`, `HttpStatus.502`, …).
    pub fn outcome_code(&self) -> String {
        match self {
            TencentError::Api { code, .. } => code.clone(),
            TencentError::Network { timeout: true, .. } => "ClientTimeout".into(),
            TencentError::Network { .. } => "ClientNetworkError".into(),
            TencentError::HttpStatus { status, .. } => format!("HttpStatus.{status}"),
            TencentError::Unparsable { .. } => "ClientUnparsableResponse".into(),
            TencentError::MaybeApplied { cause, .. } => cause.outcome_code(),
            TencentError::Credentials(_) => "ClientCredentials".into(),
            TencentError::Setup(_) => "ClientSetup".into(),
            TencentError::Encode { .. } => "ClientEncode".into(),
            TencentError::Refused { code, .. } => code.clone(),
        }
    }

    /// The operator hint for this error's code, if we have one.
    pub fn hint(&self) -> Option<String> {
        match self {
            TencentError::Api { code, action, .. } => hint_for(code, action),
            TencentError::MaybeApplied { cause, .. } => cause.hint(),
            _ => None,
        }
    }

    /// Whether trying again later can succeed without anyone changing anything (reference §3.4:
    /// the SDK's retry list — network errors and `RequestLimitExceeded*` — plus codes whose
    /// meaning is "temporary"). Says nothing about whether a *create* is safe to repeat: see
    /// [`TencentError::is_ambiguous`].
    pub fn is_retryable(&self) -> bool {
        match self {
            TencentError::Network { .. } => true,
            TencentError::HttpStatus { status, .. } => *status == 429 || *status >= 500,
            TencentError::Api { code, .. } => is_retryable_code(code),
            _ => false,
        }
    }

    /// Whether the request may have taken effect even though we saw a failure: the server may
    /// have received and executed it (timeout or drop after sending, 5xx from a proxy, a 200 we
    /// could not read, or an internal error mid-way). A connect failure or an API error that
    /// rejects the request (rate limit, bad parameter) is not ambiguous.
    pub fn is_ambiguous(&self) -> bool {
        match self {
            TencentError::Network { phase, .. } => *phase == NetworkPhase::AfterSend,
            TencentError::HttpStatus { status, .. } => *status >= 500,
            TencentError::Unparsable { .. } => true,
            TencentError::Api { code, .. } => {
                code.starts_with("InternalError") || code == "InternalServerError"
            }
            _ => false,
        }
    }
}

/// Reference §3.4, first two groups. Codes needing user action (agent not installed, instance
/// not running) are excluded even though they share a prefix with transient ones.
fn is_retryable_code(code: &str) -> bool {
    const EXACT: &[&str] = &[
        "InternalServerError",
        "ServiceUnavailable",
        "ResourceUnavailable",
        "ResourceInUse",
        "FailedOperation.UnknowError",
        "InvalidParameter.OperateFailed",
        "UnsupportedOperation.MutexOperationTaskRunning",
        "OperationDenied.MutexTaskRunning",
        "UnsupportedOperation.InvalidState",
        "UnsupportedOperation.InvalidAddressState",
    ];
    code.starts_with("RequestLimitExceeded")
        || code == "InternalError"
        || code.starts_with("InternalError.")
        || EXACT.contains(&code)
}

impl fmt::Display for NetworkPhase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            NetworkPhase::Connect => "connect",
            NetworkPhase::AfterSend => "after send",
        })
    }
}

#[cfg(test)]
mod tests;
