//! Reading the response envelope (reference §3.1): `{"Response": {<fields>, "RequestId": ".."}}`
//! on success, `{"Response": {"Error": {"Code", "Message"}, "RequestId": ".."}}` on failure.
//! Never panics on bad input: whatever arrives becomes a typed result or a `TencentError`
//! that keeps the RequestId (when one can be found) and a short excerpt of the body.

use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::TencentError;

mod one_pass;

const EXCERPT_CHARS: usize = 200;

/// The envelope's head: only `Error` and `RequestId`, every other field skipped without
/// being built, so a 100-instance page is not parsed into a `Value` tree first.
#[derive(Deserialize)]
struct Head {
    #[serde(rename = "Response")]
    response: Option<HeadFields>,
}

#[derive(Deserialize)]
struct HeadFields {
    #[serde(rename = "RequestId")]
    request_id: Option<Value>,
    #[serde(rename = "Error")]
    error: Option<Value>,
}

/// The success envelope read straight into the typed response; `RequestId` and unknown
/// extra fields (e.g. `DeprecatedWarning`) are ignored by the typed structs.
#[derive(Deserialize)]
struct Typed<R> {
    #[serde(rename = "Response")]
    response: R,
}

/// The typed content of `Response` plus its `RequestId`. A successful answer is read in one
/// pass (`one_pass`); anything else is read again carefully here, in two passes (the head,
/// then the typed body), which cost far less than one pass into a `serde_json::Value`.
pub fn parse_response<R: DeserializeOwned>(
    action: &'static str,
    body: &[u8],
) -> Result<(R, String), TencentError> {
    if let Some(success) = one_pass::success(body) {
        return Ok(success);
    }
    let unparsable = |reason: String, request_id: Option<String>| TencentError::Unparsable {
        action,
        reason,
        request_id,
        excerpt: excerpt(body),
    };
    let head: Head = serde_json::from_slice(body).map_err(|e| {
        let reason = if e.is_data() {
            "no `Response` object".to_string()
        } else {
            format!("not JSON: {e}")
        };
        unparsable(reason, find_request_id(body))
    })?;
    let Some(head) = head.response else {
        return Err(unparsable(
            "no `Response` object".into(),
            find_request_id(body),
        ));
    };
    let request_id = match head.request_id {
        Some(Value::String(id)) => Some(id),
        _ => None,
    };
    if let Some(error) = head.error {
        let field = |name: &str| error.get(name).and_then(Value::as_str).map(str::to_owned);
        let (Some(code), Some(request_id)) = (field("Code"), request_id.clone()) else {
            return Err(unparsable(
                "`Error` without `Code` or without `RequestId`".into(),
                request_id,
            ));
        };
        return Err(TencentError::Api {
            action,
            code,
            message: field("Message").unwrap_or_default(),
            request_id,
        });
    }
    let Some(request_id) = request_id else {
        return Err(unparsable("no `RequestId` in `Response`".into(), None));
    };
    let typed: Typed<R> = serde_json::from_slice(body).map_err(|e| {
        unparsable(
            format!("unexpected response shape: {e}"),
            Some(request_id.clone()),
        )
    })?;
    Ok((typed.response, request_id))
}

/// The first 200 characters of the body, lossily decoded.
pub fn excerpt(body: &[u8]) -> String {
    String::from_utf8_lossy(body)
        .chars()
        .take(EXCERPT_CHARS)
        .collect()
}

/// Best-effort `"RequestId": "<id>"` from a body that is not valid JSON (e.g. truncated).
pub fn find_request_id(body: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(body);
    let after_key = &text[text.find("\"RequestId\"")? + "\"RequestId\"".len()..];
    let value = after_key.trim_start().strip_prefix(':')?.trim_start();
    let value = value.strip_prefix('"')?;
    let id = &value[..value.find('"')?];
    let plausible = !id.is_empty()
        && id.len() <= 128
        && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    plausible.then(|| id.to_owned())
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;

    #[derive(Debug, Deserialize)]
    #[serde(rename_all = "PascalCase")]
    struct Vpcs {
        total_count: u64,
    }

    #[test]
    fn success_returns_the_content_and_the_request_id() {
        let body = br#"{"Response":{"TotalCount":3,"VpcSet":[],"RequestId":"r-1"}}"#;
        let (vpcs, id) = parse_response::<Vpcs>("DescribeVpcs", body).unwrap();
        assert_eq!(vpcs.total_count, 3);
        assert_eq!(id, "r-1");
    }

    #[test]
    fn error_envelope_becomes_an_api_error() {
        let body = br#"{"Response":{"Error":{"Code":"InvalidParameter","Message":"bad"},"RequestId":"r-2"}}"#;
        let err = parse_response::<Vpcs>("DescribeVpcs", body).unwrap_err();
        assert_eq!(err.code(), Some("InvalidParameter"));
        assert_eq!(err.request_id(), Some("r-2"));
    }

    #[test]
    fn truncated_body_keeps_the_request_id_and_an_excerpt() {
        let body = br#"{"Response":{"RequestId":"6f1c-aa","TotalCount":3,"VpcSet":[{"VpcId"#;
        let err = parse_response::<Vpcs>("DescribeVpcs", body).unwrap_err();
        assert!(matches!(err, TencentError::Unparsable { .. }), "{err:?}");
        assert_eq!(err.request_id(), Some("6f1c-aa"));
        assert!(err.to_string().contains("VpcSet"), "{err}");
    }

    #[test]
    fn wrong_shape_keeps_the_request_id() {
        let body = br#"{"Response":{"TotalCount":"many","RequestId":"r-3"}}"#;
        let err = parse_response::<Vpcs>("DescribeVpcs", body).unwrap_err();
        assert_eq!(err.request_id(), Some("r-3"));
        assert!(err.to_string().contains("TotalCount") || err.to_string().contains("many"));
    }

    #[test]
    fn garbage_and_non_utf8_never_panic() {
        for body in [
            &b""[..],
            b"<html>502</html>",
            b"\xff\xfe\x00",
            b"{\"RequestId\": 12}",
        ] {
            let err = parse_response::<Vpcs>("DescribeVpcs", body).unwrap_err();
            assert!(matches!(err, TencentError::Unparsable { .. }));
        }
    }
}
