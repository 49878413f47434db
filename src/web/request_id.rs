//! A request id sent by the client (`X-Request-Id`) is kept only when it is short and made
//! of safe characters (`^[A-Za-z0-9._:-]{1,64}$`); any other is dropped before the request
//! span or a log line sees it, and `SetRequestIdLayer` then gives the request a fresh UUID.
//! Without this a client could write spaces, quotes or `key=value` pairs into our logs.

use axum::{extract::Request, http::HeaderValue, middleware::Next, response::Response};

pub const HEADER: &str = "x-request-id";

/// Whether a client-sent request id may be kept as it is.
pub fn acceptable(value: &HeaderValue) -> bool {
    let b = value.as_bytes();
    (1..=64).contains(&b.len())
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b':' | b'-'))
}

pub async fn sanitize(mut req: Request, next: Next) -> Response {
    let headers = req.headers_mut();
    let keep = {
        let mut all = headers.get_all(HEADER).iter();
        // More than one id is as suspect as a malformed one.
        matches!((all.next(), all.next()), (Some(v), None) if acceptable(v))
    };
    if !keep {
        headers.remove(HEADER);
    }
    next.run(req).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_short_ids_of_safe_characters_are_kept() {
        for ok in [
            "abc-123",
            "9f1c2b7e-1d2c-4a3b-8c9d-0e1f2a3b4c5d",
            "req:1.2_3",
            &"a".repeat(64),
        ] {
            assert!(acceptable(&HeaderValue::from_str(ok).unwrap()), "{ok}");
        }
        for bad in [
            "",
            "evil id=forged",
            "a\"b",
            "x\ty",
            "<script>",
            &"a".repeat(65),
            "ä",
        ] {
            let v = HeaderValue::from_bytes(bad.as_bytes()).unwrap();
            assert!(!acceptable(&v), "{bad:?}");
        }
    }
}
