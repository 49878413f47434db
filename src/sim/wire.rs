//! The HTTP face of the simulator: `POST /` with `X-TC-*` headers and a JSON body, answered
//! like Tencent Cloud answers (reference §3, §7.3): always HTTP 200 with `Content-Type:
//! application/json` exactly (the Python SDK ignores errors under any other content type), a
//! fresh `RequestId`, errors in the envelope, never a panic. Order of checks: method,
//! headers, signature, action, version, region, rate limit, injected faults, the action.
//! Also the read-only `GET /_sim/state` inspection endpoint.

use std::sync::Arc;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, HeaderValue, Method, Uri, header};
use axum::response::Response;
use axum::routing::get;

use crate::sim::Shared;
use crate::sim::accounts::Caller;
use crate::sim::auth;
use crate::sim::config::FaultKind;
use crate::sim::dispatch::{Entry, encode_error};
use crate::sim::error::SimError;
use crate::tencent::Service;

/// Tencent accepts 10 MB POST bodies (reference §1.1).
const BODY_LIMIT: usize = 10 * 1024 * 1024;

pub fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/_sim/state", get(state))
        .fallback(api)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .with_state(shared)
}

async fn state(State(shared): State<Arc<Shared>>) -> Response {
    let body = serde_json::to_vec_pretty(&shared.state_json()).unwrap_or_default();
    json_response(body)
}

fn json_response(body: Vec<u8>) -> Response {
    let mut response = Response::new(Body::from(body));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
}

async fn api(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let request_id = uuid::Uuid::new_v4().to_string();
    let Admitted {
        entry,
        secret_id,
        caller,
        region,
    } = match admit(&shared, &method, &uri, &headers, &body) {
        Ok(admitted) => admitted,
        Err(error) => return json_response(encode_error(&error, &request_id)),
    };
    let now = shared.clock.now();
    // Tencent's limits are per action, region and (sub-)account (reference-2 §1).
    let bucket = format!("{secret_id}/{region}");
    if let Err(error) = shared.limiter.lock().expect("rate limiter lock").check(
        &bucket,
        entry.name,
        entry.rate_limit,
        now,
    ) {
        return json_response(encode_error(&error, &request_id));
    }
    let mut faults_set = shared.faults_set.subscribe();
    let fault = shared.faults.lock().expect("faults lock").draw(entry.name);
    match fault {
        Some(FaultKind::InternalError) => {
            let error =
                SimError::internal("An internal error occurred (injected by natpilot sim).");
            return json_response(encode_error(&error, &request_id));
        }
        Some(FaultKind::RequestLimitExceeded) => {
            let error = SimError::new(
                "RequestLimitExceeded",
                "Request rate limit exceeded (injected by natpilot sim). Please retry later.",
            );
            return json_response(encode_error(&error, &request_id));
        }
        _ => {}
    }
    let answer = shared.call(entry, &caller, &region, &body, &request_id);
    let body = answer.unwrap_or_else(|error| encode_error(&error, &request_id));
    if fault == Some(FaultKind::Slow) {
        // As documented: the action has run, its answer comes late — or when the faults are
        // set again (a test releasing a call it held).
        let delay = shared.faults.lock().expect("faults lock").config.slow_delay;
        tokio::select! {
            () = tokio::time::sleep(delay) => {}
            _ = faults_set.changed() => {}
        }
    }
    if fault == Some(FaultKind::Drop) {
        return dropped();
    }
    json_response(body)
}

/// A request that passed every check before its action runs.
struct Admitted<'s> {
    entry: &'s Entry,
    secret_id: String,
    caller: Caller,
    /// `X-TC-Region` (empty for DNSPod).
    region: String,
}

/// Checks everything before the action runs: method, headers, signature (and for temporary
/// keys their token), action, version, the caller's regions and CAM permissions.
fn admit<'s>(
    shared: &'s Shared,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Admitted<'s>, SimError> {
    if method != Method::POST {
        return Err(SimError::new(
            "UnsupportedProtocol",
            "natpilot sim implements POST / with a JSON body only; set the SDK's \
             HttpProfile reqMethod to POST.",
        ));
    }
    let action =
        header_str(headers, "x-tc-action").ok_or_else(|| SimError::missing("X-TC-Action"))?;
    let version =
        header_str(headers, "x-tc-version").ok_or_else(|| SimError::missing("X-TC-Version"))?;
    let now_unix = chrono::Utc::now().timestamp();
    let verified = auth::verify(
        "POST",
        uri.query().unwrap_or(""),
        headers,
        body,
        now_unix,
        |id| shared.secret_key_for(id),
    )?;
    let unknown_action = || {
        SimError::new(
            "InvalidAction",
            format!(
                "The action `{action}` of product `{}` is not valid or not simulated.",
                verified.service
            ),
        )
    };
    let service = Service::from_name(&verified.service).ok_or_else(unknown_action)?;
    let entry = shared
        .registry
        .get(service, action)
        .ok_or_else(unknown_action)?;
    if version != service.version() {
        return Err(SimError::new(
            "NoSuchVersion",
            format!(
                "The API version `{version}` does not exist for `{service}`; use `{}`.",
                service.version()
            ),
        ));
    }
    let caller = shared.accounts.caller(
        &verified.secret_id,
        header_str(headers, "x-tc-token"),
        now_unix,
    )?;
    let mut region = String::new();
    if service.is_regional() {
        region = header_str(headers, "x-tc-region")
            .ok_or_else(|| SimError::missing("Region"))?
            .to_owned();
        // STS and the region service answer in any region (the SDKs call STS in ap-guangzhou).
        let global = matches!(service, Service::Sts | Service::Region);
        let ours = shared.regions_of(&caller);
        if !global && !ours.contains(&region) {
            return Err(crate::sim::unsupported_region(&ours, &region));
        }
    }
    shared
        .accounts
        .check_permission(&caller, service.name(), &region, action)?;
    Ok(Admitted {
        entry,
        secret_id: verified.secret_id,
        caller,
        region,
    })
}

/// A response whose body fails after the head: hyper cuts the connection mid-answer.
fn dropped() -> Response {
    let stream = futures_util::stream::once(async {
        Err::<Bytes, std::io::Error>(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "connection dropped (injected by natpilot sim)",
        ))
    });
    let mut response = Response::new(Body::from_stream(stream));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}
