//! TC3-HMAC-SHA256 request signing (Tencent Cloud API 3.0, "signature v3").
//!
//! Pure functions only: the client uses them to sign what it sends, and the simulator uses the
//! same functions to verify what it receives, so the two can never disagree about the recipe.
//! Source: reference §1.3–1.6 (CVM "Signature v3" doc, `tencentcloud-sdk-python` `sign.py`).

use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};

pub const ALGORITHM: &str = "TC3-HMAC-SHA256";

/// The headers that both official SDKs sign. The Host value is signed exactly as sent,
/// port (and, for tccli, even the scheme) included.
pub const SIGNED_HEADERS: &str = "content-type;host";

/// Everything that goes into one signature.
#[derive(Debug, Clone)]
pub struct SigningInput<'a> {
    pub secret_id: &'a str,
    pub secret_key: &'a str,
    /// Product name used in the credential scope (`vpc`, `cvm`, `tat`, `dnspod`), independent of host.
    pub service: &'a str,
    /// `(lower-case name, value as sent)` for each signed header, in any order.
    pub headers: &'a [(&'a str, &'a str)],
    pub method: &'a str,
    pub canonical_query: &'a str,
    pub body: &'a [u8],
    pub timestamp: i64,
    /// `None` hashes the body; `Some(..)` is the `X-TC-Content-SHA256: UNSIGNED-PAYLOAD` variant.
    pub unsigned_payload: bool,
}

/// Every intermediate value of the recipe, kept so tests (and a curious operator) can compare
/// them against the documented example step by step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signature {
    pub hashed_payload: String,
    pub canonical_request: String,
    pub hashed_canonical_request: String,
    pub credential_scope: String,
    pub string_to_sign: String,
    pub secret_date: String,
    pub secret_service: String,
    pub secret_signing: String,
    pub signed_headers: String,
    pub signature: String,
    pub authorization: String,
}

/// Computes the signature following reference §1.3–1.6 exactly.
pub fn sign(input: &SigningInput<'_>) -> Signature {
    let hashed_payload = if input.unsigned_payload {
        sha256_hex(b"UNSIGNED-PAYLOAD")
    } else {
        sha256_hex(input.body)
    };

    let mut headers: Vec<(String, String)> = input
        .headers
        .iter()
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_ascii_lowercase()))
        .collect();
    headers.sort_by(|a, b| a.0.cmp(&b.0));
    let canonical_headers: String = headers.iter().map(|(k, v)| format!("{k}:{v}\n")).collect();
    let signed_headers = headers
        .iter()
        .map(|(k, _)| k.as_str())
        .collect::<Vec<_>>()
        .join(";");

    let canonical_request = format!(
        "{}\n/\n{}\n{}\n{}\n{}",
        input.method, input.canonical_query, canonical_headers, signed_headers, hashed_payload
    );
    let hashed_canonical_request = sha256_hex(canonical_request.as_bytes());

    let date = utc_date(input.timestamp);
    let credential_scope = format!("{date}/{}/tc3_request", input.service);
    let string_to_sign = format!(
        "{ALGORITHM}\n{}\n{credential_scope}\n{hashed_canonical_request}",
        input.timestamp
    );

    let secret_date = hmac_sha256(
        format!("TC3{}", input.secret_key).as_bytes(),
        date.as_bytes(),
    );
    let secret_service = hmac_sha256(&secret_date, input.service.as_bytes());
    let secret_signing = hmac_sha256(&secret_service, b"tc3_request");
    let signature = hex::encode(hmac_sha256(&secret_signing, string_to_sign.as_bytes()));

    let authorization = format!(
        "{ALGORITHM} Credential={}/{credential_scope}, SignedHeaders={signed_headers}, Signature={signature}",
        input.secret_id
    );

    Signature {
        hashed_payload,
        canonical_request,
        hashed_canonical_request,
        credential_scope,
        string_to_sign,
        secret_date: hex::encode(secret_date),
        secret_service: hex::encode(secret_service),
        secret_signing: hex::encode(secret_signing),
        signed_headers,
        signature,
        authorization,
    }
}

/// The parts of an `Authorization` header, as a verifier needs them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedAuthorization {
    pub secret_id: String,
    pub date: String,
    pub service: String,
    pub signed_headers: Vec<String>,
    pub signature: String,
}

/// Parses `TC3-HMAC-SHA256 Credential=ID/DATE/SERVICE/tc3_request, SignedHeaders=a;b, Signature=hex`.
/// Returns `None` for anything malformed (the server answers `AuthFailure.InvalidAuthorization`).
pub fn parse_authorization(value: &str) -> Option<ParsedAuthorization> {
    let rest = value.strip_prefix(ALGORITHM)?.strip_prefix(' ')?;
    let mut credential = None;
    let mut signed_headers = None;
    let mut signature = None;
    for part in rest.split(',') {
        let (key, val) = part.trim().split_once('=')?;
        match key {
            "Credential" => credential = Some(val),
            "SignedHeaders" => signed_headers = Some(val),
            "Signature" => signature = Some(val),
            _ => return None,
        }
    }
    let mut scope = credential?.split('/');
    let secret_id = scope.next()?.to_string();
    let date = scope.next()?.to_string();
    let service = scope.next()?.to_string();
    if scope.next()? != "tc3_request" || scope.next().is_some() || secret_id.is_empty() {
        return None;
    }
    let signed_headers: Vec<String> = signed_headers?
        .split(';')
        .map(|h| h.trim().to_ascii_lowercase())
        .collect();
    if signed_headers.iter().any(String::is_empty) {
        return None;
    }
    let signature = signature?.to_string();
    if signature.len() != 64 || !signature.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    Some(ParsedAuthorization {
        secret_id,
        date,
        service,
        signed_headers,
        signature,
    })
}

/// `YYYY-MM-DD` of a Unix timestamp in UTC (the docs warn against local time).
pub fn utc_date(timestamp: i64) -> String {
    chrono::DateTime::from_timestamp(timestamp, 0)
        .map(|t| t.format("%Y-%m-%d").to_string())
        .unwrap_or_default()
}

pub fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

pub(crate) fn hmac_sha256(key: &[u8], msg: &[u8]) -> Vec<u8> {
    let mut mac =
        <Hmac<Sha256> as KeyInit>::new_from_slice(key).expect("HMAC accepts keys of any length");
    mac.update(msg);
    mac.finalize().into_bytes().to_vec()
}

/// Constant-time comparison of two signatures, so a verifier leaks nothing through timing.
pub fn signatures_equal(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

#[cfg(test)]
mod tests;
