//! One attempt on the wire: sign, send `POST /` with the headers of reference §1.2, and read
//! the envelope. No retries here.

use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HOST};
use secrecy::ExposeSecret;

use super::{Reply, Shared};
use crate::tencent::envelope::{self, excerpt, find_request_id};
use crate::tencent::error::NetworkPhase;
use crate::tencent::sign::{SigningInput, sign};
use crate::tencent::{Action, Credentials, TencentError};

/// Exactly what the Python SDK sends and signs (no charset), reference §1.2 / §3.2.
const JSON: &str = "application/json";

pub(super) async fn send<A: Action>(
    shared: &Shared,
    credentials: &Credentials,
    region: &str,
    body: &[u8],
) -> Result<Reply<A::Response>, TencentError> {
    // Refused before anything is signed: the region must not pick the host (issue 10).
    let target = shared
        .endpoint
        .target(A::SERVICE, region)
        .map_err(|e| TencentError::Setup(format!("{}: {e}", A::NAME)))?;
    let timestamp = chrono::Utc::now().timestamp();
    let signature = sign(&SigningInput {
        secret_id: &credentials.secret_id,
        secret_key: credentials.secret_key.expose_secret(),
        service: A::SERVICE.name(),
        headers: &[("content-type", JSON), ("host", &target.host)],
        method: "POST",
        canonical_query: "",
        body,
        timestamp,
        unsigned_payload: false,
    });

    // Host is set explicitly (reqwest keeps a caller's Host) so the value signed is the one sent.
    let mut request = shared
        .http
        .post(&target.url)
        .header(HOST, &target.host)
        .header(CONTENT_TYPE, JSON)
        .header("X-TC-Action", A::NAME)
        .header("X-TC-Version", A::SERVICE.version())
        .header("X-TC-Timestamp", timestamp.to_string())
        .header("X-TC-Language", &shared.language)
        .header(AUTHORIZATION, &signature.authorization);
    // DNSPod ignores the region and the SDK omits the header for it (reference §1.7).
    if A::SERVICE.is_regional() && !region.is_empty() {
        request = request.header("X-TC-Region", region);
    }
    if let Some(token) = &credentials.token {
        request = request.header("X-TC-Token", token.expose_secret());
    }

    let network = |e: reqwest::Error, phase| network_error(A::NAME, &target.host, e, phase);
    let response = request.body(body.to_vec()).send().await.map_err(|e| {
        let phase = if e.is_connect() {
            NetworkPhase::Connect
        } else {
            NetworkPhase::AfterSend
        };
        network(e, phase)
    })?;
    let status = response.status();
    let bytes = response
        .bytes()
        .await
        .map_err(|e| network(e, NetworkPhase::AfterSend))?;
    if status != reqwest::StatusCode::OK {
        return Err(TencentError::HttpStatus {
            action: A::NAME,
            status: status.as_u16(),
            request_id: find_request_id(&bytes),
            excerpt: excerpt(&bytes),
        });
    }
    let (response, request_id) = envelope::parse_response::<A::Response>(A::NAME, &bytes)?;
    Ok(Reply {
        response,
        request_id,
    })
}

fn network_error(
    action: &'static str,
    host: &str,
    error: reqwest::Error,
    phase: NetworkPhase,
) -> TencentError {
    // reqwest's Display is terse ("error sending request"); the source chain says why.
    let mut detail = error.to_string();
    let mut source = std::error::Error::source(&error);
    while let Some(cause) = source {
        detail.push_str(": ");
        detail.push_str(&cause.to_string());
        source = cause.source();
    }
    TencentError::Network {
        action,
        host: host.to_owned(),
        detail,
        timeout: error.is_timeout(),
        phase,
    }
}
