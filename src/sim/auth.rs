//! TC3-HMAC-SHA256 verification of incoming requests, following reference §1.8: parse the
//! `Authorization` header, know the SecretId, check the 5-minute window against wall time,
//! recompute the signature over the headers as received (the `Host` value verbatim — tccli
//! sends `Host: http://127.0.0.1:PORT` and signs exactly that) and the raw body.
//! Reuses `tencent::sign` so client and simulator share one recipe. The simulator issues no
//! STS credentials, so an `X-TC-Token` header (tccli sends `TENCENTCLOUD_TOKEN`) is ignored.

use axum::http::HeaderMap;

use crate::sim::error::SimError;
use crate::tencent::sign::{self, SigningInput};

/// Largest allowed distance between `X-TC-Timestamp` and the server clock (reference §1.11).
pub const WINDOW_SECONDS: i64 = 300;

/// Who signed the request and for which product.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    pub secret_id: String,
    pub service: String,
}

fn failure(code: &str, message: &str) -> SimError {
    SimError::new(format!("AuthFailure.{code}"), message)
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// Verifies one request. `lookup` maps a SecretId to its SecretKey.
pub fn verify(
    method: &str,
    query: &str,
    headers: &HeaderMap,
    body: &[u8],
    now_unix: i64,
    lookup: impl Fn(&str) -> Option<String>,
) -> Result<Verified, SimError> {
    let Some(parsed) = header(headers, "authorization").and_then(sign::parse_authorization) else {
        return Err(failure(
            "InvalidAuthorization",
            "The Authorization header is missing or malformed; expected `TC3-HMAC-SHA256 \
             Credential=ID/DATE/SERVICE/tc3_request, SignedHeaders=..., Signature=...`.",
        ));
    };
    let Some(secret_key) = lookup(&parsed.secret_id) else {
        return Err(failure(
            "SecretIdNotFound",
            "The SecretId is not found, please ensure that your SecretId is correct.",
        ));
    };
    let timestamp: i64 = header(headers, "x-tc-timestamp")
        .and_then(|t| t.trim().parse().ok())
        .ok_or_else(|| SimError::missing("X-TC-Timestamp"))?;
    if (now_unix - timestamp).abs() > WINDOW_SECONDS {
        return Err(failure(
            "SignatureExpire",
            &format!(
                "Signature expired, the timestamp {timestamp} is more than 5 minutes away from \
                 server time {now_unix}; check the clock of the calling machine."
            ),
        ));
    }
    let mut signed: Vec<(&str, &str)> = Vec::with_capacity(parsed.signed_headers.len());
    for name in &parsed.signed_headers {
        let Some(value) = header(headers, name) else {
            return Err(signature_failure());
        };
        signed.push((name.as_str(), value));
    }
    let unsigned_payload = header(headers, "x-tc-content-sha256") == Some("UNSIGNED-PAYLOAD");
    let expected = sign::sign(&SigningInput {
        secret_id: &parsed.secret_id,
        secret_key: &secret_key,
        service: &parsed.service,
        headers: &signed,
        method,
        canonical_query: query,
        body,
        timestamp,
        unsigned_payload,
    });
    let scope_matches =
        expected.credential_scope == format!("{}/{}/tc3_request", parsed.date, parsed.service);
    if !scope_matches || !sign::signatures_equal(&expected.signature, &parsed.signature) {
        return Err(signature_failure());
    }
    Ok(Verified {
        secret_id: parsed.secret_id,
        service: parsed.service,
    })
}

fn signature_failure() -> SimError {
    failure(
        "SignatureFailure",
        "The provided credentials could not be validated. Please check your signature is correct.",
    )
}
