//! Security headers on every response (issue 6): a CSP that allows only our own scripts and
//! styles (no `unsafe-inline` — templates carry no inline script or style), no framing,
//! no MIME sniffing, no referrer leaks, and HSTS when served over HTTPS.

use axum::{
    extract::{Request, State},
    http::{HeaderValue, header},
    middleware::Next,
    response::Response,
};

use crate::app::AppState;

pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
connect-src 'self'; font-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// [`CSP`] with forms also allowed to lead to `origins` (the identity provider's, with single
/// sign-on: see `Provider::form_targets`).
pub fn csp_with_form_targets(origins: &[String]) -> String {
    let mut allowed = String::from("form-action 'self'");
    for o in origins {
        allowed.push(' ');
        allowed.push_str(o);
    }
    CSP.replace("form-action 'self'", &allowed)
}

fn csp(state: &AppState) -> HeaderValue {
    match state.auth.sso.as_ref() {
        None => HeaderValue::from_static(CSP),
        Some(sso) => HeaderValue::from_str(&csp_with_form_targets(&sso.provider.form_targets()))
            // Origins are URL-serialised (no spaces or semicolons); if one ever were not a
            // header value, the strict policy stands.
            .unwrap_or_else(|_| HeaderValue::from_static(CSP)),
    }
}

pub async fn security(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let mut response = next.run(req).await;
    let h = response.headers_mut();
    h.insert(header::CONTENT_SECURITY_POLICY, csp(&state));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    // `same-origin`, not `no-referrer`: under `no-referrer` Chromium sends `Origin: null` on
    // our own form posts, which the cross-site check must refuse. Nothing leaks cross-site
    // either way. (Found by the real-browser test.)
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    h.insert(
        "cross-origin-opener-policy",
        HeaderValue::from_static("same-origin"),
    );
    h.insert(
        "permissions-policy",
        HeaderValue::from_static("camera=(), microphone=(), geolocation=()"),
    );
    if state.settings.hsts {
        h.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        );
    }
    if !h.contains_key(header::CACHE_CONTROL) {
        // Pages show live run state and user data: never serve them from a cache.
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_may_lead_to_the_identity_providers_origins_and_nowhere_else() {
        let csp = csp_with_form_targets(&["https://id.example.com".into()]);
        assert!(
            csp.contains("form-action 'self' https://id.example.com;"),
            "{csp}"
        );
        assert_eq!(csp.replace(" https://id.example.com", ""), CSP);
        assert_eq!(csp_with_form_targets(&[]), CSP);
    }
}
