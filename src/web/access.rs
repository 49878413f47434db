//! The one middleware every routed request passes: finds the session, checks CSRF on
//! state-changing requests (Origin/Sec-Fetch-Site plus the session-bound token), then the
//! route's access level from the route table. Unknown routes fail closed.
//! Every refusal that is not simply "sign in first" (a role too low, a CSRF or cross-site
//! refusal, an unknown route) is written to the audit log with user, path, reason and IP.

use axum::{
    body::{Body, to_bytes},
    extract::{MatchedPath, Request, State},
    http::{HeaderMap, Method, header},
    middleware::Next,
    response::{IntoResponse, Response},
};

use axum::extract::ConnectInfo;
use subtle::ConstantTimeEq;

use crate::{app::AppState, store::users::Role};

use super::{
    audit::{self, Entry},
    auth::{
        pre_session,
        session::{self, SessionCtx},
    },
    error::WebError,
    routes::Access,
    tls::ClientAddr,
};

/// The form field and header that carry the CSRF token.
pub const CSRF_FIELD: &str = "csrf_token";
pub const CSRF_HEADER: &str = "x-csrf-token";

/// Copied into the response so the outer metrics layer can label by route template.
#[derive(Clone, Debug)]
pub struct RouteLabel(pub String);

/// A refused request, before it becomes an error page: why (for the audit log) and by whom.
struct Refused {
    reason: &'static str,
    user: Option<String>,
    error: WebError,
}

/// What `check` returns on failure: a plain error (sign in first, a bad form) or a refusal
/// to audit.
enum Denied {
    Plain(WebError),
    Refused(Refused),
}

impl From<WebError> for Denied {
    fn from(e: WebError) -> Denied {
        Denied::Plain(e)
    }
}

impl From<Refused> for Denied {
    fn from(r: Refused) -> Denied {
        Denied::Refused(r)
    }
}

pub async fn enforce(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_owned());
    let (method, path) = (req.method().clone(), req.uri().path().to_owned());
    let ip = req
        .extensions()
        .get::<ConnectInfo<ClientAddr>>()
        .map(|c| c.0.0.ip());
    let mut response = match check(&state, req, route.as_deref()).await {
        Ok(req) => next.run(req).await,
        Err(Denied::Plain(e)) => e.into_response(),
        Err(Denied::Refused(r)) => {
            let entry = Entry {
                actor: r.user.as_deref().unwrap_or(""),
                ip,
                action: "request.refused",
                target: &path,
                details: serde_json::json!({"method": method.as_str(), "reason": r.reason}),
            };
            // The request is refused either way; an audit failure is logged, not shown.
            if let Err(e) = audit::record(&state, entry).await {
                tracing::error!(error = %e, "could not audit a refused request");
            }
            r.error.into_response()
        }
    };
    if let Some(route) = route {
        response.extensions_mut().insert(RouteLabel(route));
    }
    response
}

async fn check(state: &AppState, req: Request, route: Option<&str>) -> Result<Request, Denied> {
    let Some(access) = route.and_then(|r| state.access.lookup(req.method(), r)) else {
        tracing::error!(route = ?route, "route missing from the access table; refusing");
        return Err(Refused {
            reason: "route not in the access table",
            user: None,
            error: WebError::Forbidden("This address is not open to anyone.".into()),
        }
        .into());
    };
    let secure = state.settings.secure_cookies;
    let needs_session =
        access != Access::Open || session::cookie_value(req.headers(), secure).is_some();
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
            return Err(WebError::SignInRequired { next }.into());
        };
        let needed = match access {
            Access::Open | Access::Viewer => Role::Viewer,
            Access::Operator => Role::Operator,
            Access::Admin => Role::Admin,
        };
        if user.role < needed {
            return Err(Refused {
                reason: "role",
                user: Some(user.name.clone()),
                error: WebError::Forbidden(format!(
                    "This needs the {needed} role; you are signed in as {} ({}). Ask an admin if you need it.",
                    user.name, user.role
                )),
            }
            .into());
        }
    }
    if let Some(ctx) = ctx {
        req.extensions_mut().insert(ctx);
    }
    Ok(req)
}

/// Cross-site request defence in depth: the browser's own origin signals must not say
/// "cross-site", and the request must carry the synchronizer token of its session (or, on
/// the open forms, of its pre-session cookie; see `auth::pre_session`).
async fn check_csrf(
    state: &AppState,
    req: Request,
    ctx: Option<&SessionCtx>,
) -> Result<Request, Denied> {
    let user = ctx.and_then(|c| c.user.as_ref()).map(|u| u.name.clone());
    let refuse = |reason: &'static str, why: &str| Refused {
        reason,
        user: user.clone(),
        error: WebError::Forbidden(format!("{why} Reload the page and submit the form again.")),
    };
    if !same_origin(req.headers()) {
        return Err(refuse(
            "cross-site",
            "This request came from another site, so it was refused.",
        )
        .into());
    }
    let expected = match ctx {
        Some(ctx) => Some(ctx.csrf.clone()),
        None => pre_session::existing_token(req.headers(), state.settings.secure_cookies),
    };
    let Some(expected) = expected else {
        return Err(refuse("csrf: no session", "Your session has expired.").into());
    };
    if let Some(token) = req.headers().get(CSRF_HEADER).and_then(|v| v.to_str().ok()) {
        return if tokens_match(token, &expected) {
            Ok(req)
        } else {
            Err(refuse(
                "csrf: token mismatch",
                "The form's security token did not match.",
            )
            .into())
        };
    }
    let is_form = req.headers().get(header::CONTENT_TYPE).is_some_and(|v| {
        v.as_bytes()
            .starts_with(b"application/x-www-form-urlencoded")
    });
    if !is_form {
        return Err(refuse(
            "csrf: token missing",
            "The form's security token is missing.",
        )
        .into());
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
        Some(t) if tokens_match(t, &expected) => Ok(Request::from_parts(parts, Body::from(bytes))),
        _ => Err(refuse(
            "csrf: token mismatch",
            "The form's security token did not match.",
        )
        .into()),
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

/// Constant-time token comparison (the tokens have a fixed length; only a length mismatch
/// returns early, and that reveals nothing).
fn tokens_match(a: &str, b: &str) -> bool {
    bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}
