//! The one middleware every routed request passes: finds the session, checks CSRF on
//! state-changing requests (Origin/Sec-Fetch-Site plus the session-bound token), then the
//! route's access level from the route table. Unknown routes fail closed.

use axum::{
    body::{Body, to_bytes},
    extract::{MatchedPath, Request, State},
    http::{HeaderMap, Method, header},
    middleware::Next,
    response::{IntoResponse, Response},
};

use crate::{app::AppState, store::users::Role};

use super::{
    auth::session::{self, SessionCtx},
    error::WebError,
    routes::Access,
};

/// The form field and header that carry the CSRF token.
pub const CSRF_FIELD: &str = "csrf_token";
pub const CSRF_HEADER: &str = "x-csrf-token";

/// Copied into the response so the outer metrics layer can label by route template.
#[derive(Clone, Debug)]
pub struct RouteLabel(pub String);

pub async fn enforce(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_owned());
    let mut response = match check(&state, req, route.as_deref()).await {
        Ok(req) => next.run(req).await,
        Err(e) => e.into_response(),
    };
    if let Some(route) = route {
        response.extensions_mut().insert(RouteLabel(route));
    }
    response
}

async fn check(state: &AppState, req: Request, route: Option<&str>) -> Result<Request, WebError> {
    let Some(access) = route.and_then(|r| state.access.lookup(req.method(), r)) else {
        tracing::error!(route = ?route, "route missing from the access table; refusing");
        return Err(WebError::Forbidden(
            "This address is not open to anyone.".into(),
        ));
    };
    let needs_session = access != Access::Open || session::cookie_value(req.headers()).is_some();
    let ctx = if needs_session {
        session::load(state, req.headers()).await?
    } else {
        None
    };
    let mutating = !matches!(*req.method(), Method::GET | Method::HEAD);
    let mut req = if mutating {
        check_csrf(state, req, ctx.as_ref()).await?
    } else {
        req
    };
    if access != Access::Open {
        let user = ctx.as_ref().and_then(|c| c.user.as_ref());
        let Some(user) = user else {
            let next = if mutating {
                "/".to_owned()
            } else {
                req.uri().path().to_owned()
            };
            return Err(WebError::SignInRequired { next });
        };
        let needed = match access {
            Access::Open | Access::Viewer => Role::Viewer,
            Access::Operator => Role::Operator,
            Access::Admin => Role::Admin,
        };
        if user.role < needed {
            return Err(WebError::Forbidden(format!(
                "This needs the {needed} role; you are signed in as {} ({}). Ask an admin if you need it.",
                user.name, user.role
            )));
        }
    }
    if let Some(ctx) = ctx {
        req.extensions_mut().insert(ctx);
    }
    Ok(req)
}

/// Cross-site request defence in depth: the browser's own origin signals must not say
/// "cross-site", and the request must carry the session's synchronizer token.
async fn check_csrf(
    state: &AppState,
    req: Request,
    ctx: Option<&SessionCtx>,
) -> Result<Request, WebError> {
    let refuse = |why: &str| {
        WebError::Forbidden(format!("{why} Reload the page and submit the form again."))
    };
    if !same_origin(req.headers()) {
        return Err(refuse(
            "This request came from another site, so it was refused.",
        ));
    }
    let Some(ctx) = ctx else {
        return Err(refuse("Your session has expired."));
    };
    if let Some(token) = req.headers().get(CSRF_HEADER).and_then(|v| v.to_str().ok()) {
        return if constant_time_eq(token, &ctx.csrf) {
            Ok(req)
        } else {
            Err(refuse("The form's security token did not match."))
        };
    }
    let is_form = req.headers().get(header::CONTENT_TYPE).is_some_and(|v| {
        v.as_bytes()
            .starts_with(b"application/x-www-form-urlencoded")
    });
    if !is_form {
        return Err(refuse("The form's security token is missing."));
    }
    // Buffer the (size-limited) form to read the token, then hand the bytes on unchanged.
    let (parts, body) = req.into_parts();
    let bytes = to_bytes(body, state.settings.body_limit)
        .await
        .map_err(|_| WebError::BadRequest("The form was too large or could not be read.".into()))?;
    let fields: Vec<(String, String)> = serde_urlencoded::from_bytes(&bytes).unwrap_or_default();
    let token = fields
        .iter()
        .find(|(k, _)| k == CSRF_FIELD)
        .map(|(_, v)| v.as_str());
    match token {
        Some(t) if constant_time_eq(t, &ctx.csrf) => {
            Ok(Request::from_parts(parts, Body::from(bytes)))
        }
        _ => Err(refuse("The form's security token did not match.")),
    }
}

/// `Sec-Fetch-Site` (modern browsers) and `Origin` must both, when present, say same origin.
fn same_origin(headers: &HeaderMap) -> bool {
    if let Some(site) = headers.get("sec-fetch-site")
        && !matches!(site.as_bytes(), b"same-origin" | b"none")
    {
        return false;
    }
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return true;
    };
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let origin_host = origin
        .strip_prefix("https://")
        .or_else(|| origin.strip_prefix("http://"));
    origin_host.is_some_and(|h| !host.is_empty() && h.eq_ignore_ascii_case(host))
}

fn constant_time_eq(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}
