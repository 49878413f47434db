//! One error type for handlers, rendered as our HTML error page by one middleware.
//! 4xx pages say what was wrong and what to do; a 500 shows only the request id (the full
//! cause chain goes to the log under that id), never the error text.

use askama::Template;
use axum::{
    extract::{Request, State},
    http::{HeaderValue, StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Redirect, Response},
};
use tracing::Span;

use crate::app::AppState;

use super::layout::Layout;

#[derive(Debug, thiserror::Error)]
pub enum WebError {
    #[error("not found: {0}")]
    NotFound(String),
    #[error("forbidden: {0}")]
    Forbidden(String),
    #[error("bad request: {0}")]
    BadRequest(String),
    #[error("sign-in required")]
    SignInRequired { next: String },
    #[error("conflict: {0}")]
    Conflict(String),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<sqlx::Error> for WebError {
    fn from(e: sqlx::Error) -> WebError {
        WebError::Internal(e.into())
    }
}

/// Placed in a response's extensions by [`WebError`]; `render_pages` turns it into HTML.
#[derive(Clone, Debug)]
pub struct ErrorInfo {
    pub title: &'static str,
    pub detail: String,
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        let (status, title, detail) = match self {
            WebError::NotFound(what) => (StatusCode::NOT_FOUND, "Not found", what),
            WebError::Forbidden(why) => (StatusCode::FORBIDDEN, "Not allowed", why),
            WebError::BadRequest(why) => (StatusCode::BAD_REQUEST, "Bad request", why),
            WebError::Conflict(why) => (StatusCode::CONFLICT, "Conflict", why),
            WebError::SignInRequired { next } => return sign_in_redirect(&next),
            WebError::Internal(e) => {
                // The request id is on the span; the page shows only that id.
                tracing::error!(error = ?e, "internal error");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Something went wrong",
                    String::new(),
                )
            }
        };
        let mut response = status.into_response();
        response
            .extensions_mut()
            .insert(ErrorInfo { title, detail });
        response
    }
}

fn sign_in_redirect(next: &str) -> Response {
    let target = format!("/login?next={}", urlencode(next));
    let mut response = Redirect::to(&target).into_response();
    // htmx follows redirects inside its XHR; HX-Redirect makes it load the login page.
    if let Ok(v) = HeaderValue::from_str(&target) {
        response.headers_mut().insert("HX-Redirect", v);
    }
    response
}

/// Percent-encodes everything but unreserved characters and `/`.
pub fn urlencode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    layout: Layout,
    status: u16,
    title: String,
    detail: String,
    request_id: String,
}

/// Renders every 4xx/5xx response that is not already HTML (our own errors, axum's
/// rejections, 405s, body-limit 413s) as the error page.
pub async fn render_pages(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let request_id = req
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-")
        .to_owned();
    let response = next.run(req).await;
    let status = response.status();
    if status.as_u16() < 400 {
        return response;
    }
    let info = response.extensions().get::<ErrorInfo>().cloned();
    let is_html = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"text/html"));
    // HTML pages render themselves; the JSON API's errors stay JSON.
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if info.is_none() && (is_html || is_json) {
        return response;
    }
    let info = info.unwrap_or_else(|| default_info(status));
    let page = ErrorPage {
        layout: Layout::bare(&state),
        status: status.as_u16(),
        title: info.title.to_owned(),
        detail: info.detail,
        request_id,
    };
    let body = page.render().unwrap_or_else(|_| "error".to_owned());
    let (mut parts, _) = response.into_parts();
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    Response::from_parts(parts, body.into())
}

fn default_info(status: StatusCode) -> ErrorInfo {
    let (title, detail) = match status.as_u16() {
        400 | 422 => (
            "Bad request",
            "The form or link could not be read. Go back, check the values and try again.",
        ),
        403 => ("Not allowed", "Your account may not do this."),
        404 => ("Not found", "There is no page at this address."),
        405 => (
            "Not allowed",
            "This address does not accept that kind of request.",
        ),
        413 => (
            "Too large",
            "The request was larger than the portal accepts.",
        ),
        429 => ("Too many requests", "Wait a moment and try again."),
        _ => ("Something went wrong", ""),
    };
    ErrorInfo {
        title,
        detail: detail.to_owned(),
    }
}

pub async fn not_found() -> WebError {
    WebError::NotFound(
        "There is no page at this address. Check the link, or start from the dashboard.".into(),
    )
}

/// A panicking handler becomes an ordinary 500 page (with the request id, no text).
pub fn panic_response(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    tracing::error!("handler panicked");
    WebError::Internal(anyhow::anyhow!("handler panicked")).into_response()
}

/// The request span: method, path template is added later by `metrics::track`; the
/// request id ties log lines to the id shown on error pages.
pub fn make_span(req: &Request) -> Span {
    let request_id = req
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-");
    tracing::info_span!("request", method = %req.method(), request_id = %request_id, route = tracing::field::Empty)
}
