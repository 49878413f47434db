//! The single sign-on routes: `POST /auth/oidc/start` (from the sign-in page's "Sign in with
//! …" button, CSRF-checked like the password form) sends the browser to the provider;
//! `GET /auth/oidc/callback` takes the code back, verifies the ID token, finds or creates
//! the user by issuer + subject, sets the role from the claim, audits, and starts the
//! session. Sign-out at the provider (RP-initiated logout) is `after_sign_out`.

use askama::Template;
use askama_web::WebTemplate;
use axum::{
    Form,
    extract::{ConnectInfo, Query, State},
    http::{HeaderMap, HeaderValue, header},
    response::{IntoResponse, Redirect, Response},
};
use serde::Deserialize;
use subtle::ConstantTimeEq;

use crate::{
    app::AppState,
    store::{self, sso_identities, users::User},
    web::{
        audit::{self, Entry},
        error::WebError,
        layout::Layout,
        tls::ClientAddr,
    },
};

use super::{
    super::{login::safe_next, pre_session, session},
    Sso,
    identity::Identity,
    problem::Problem,
};

pub const CALLBACK_PATH: &str = "/auth/oidc/callback";

/// The cookie that ties a sign-in under way to this browser. `SameSite=Lax`, unlike the
/// portal's other cookies: the provider's redirect back is a cross-site navigation, on which
/// browsers withhold `Strict` cookies. It grants nothing by itself: it only names the
/// server-side record (state, nonce, PKCE verifier) of `pending`, for ten minutes, once.
const FLOW_COOKIE: &str = "natpilot_oidc";
const SECURE_FLOW_COOKIE: &str = "__Secure-natpilot_oidc";

fn flow_cookie_name(secure: bool) -> &'static str {
    if secure {
        SECURE_FLOW_COOKIE
    } else {
        FLOW_COOKIE
    }
}

fn flow_cookie(value: Option<&str>, secure: bool) -> HeaderValue {
    let name = flow_cookie_name(secure);
    let secure = if secure { "; Secure" } else { "" };
    let (value, age) = match value {
        Some(v) => (v, "; Max-Age=600"),
        None => ("", "; Max-Age=0"),
    };
    HeaderValue::from_str(&format!(
        "{name}={value}; Path=/auth/oidc/; HttpOnly; SameSite=Lax{age}{secure}"
    ))
    .expect("a hex id is a valid header value")
}

#[derive(Template, WebTemplate)]
#[template(path = "auth/sso_problem.html")]
pub struct ProblemPage {
    layout: Layout,
    title: &'static str,
    what: String,
    fix: String,
    code: &'static str,
    label: String,
    break_glass_only: bool,
    sso_endpoints_allowed: bool,
}

/// "Continuing to <provider>…": a link that follows itself, for a sign-in started from a
/// page whose CSP did not yet allow the authorization endpoint's origin (a redirect there
/// from the form post would be blocked by `form-action`; a link navigation is not).
#[derive(Template, WebTemplate)]
#[template(path = "auth/sso_redirect.html")]
pub struct RedirectPage {
    layout: Layout,
    url: String,
    label: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "auth/sso_continue.html")]
pub struct ContinuePage {
    layout: Layout,
    next: String,
    name: String,
}

fn sso(state: &AppState) -> Result<&Sso, WebError> {
    state.auth.sso.as_ref().ok_or_else(|| {
        WebError::NotFound("Single sign-on is not configured here ([auth] issuer).".into())
    })
}

/// `<scheme>://<host>` of the portal as the browser reaches it: from `[auth] redirect_url`
/// when set, else from the request's `Host` (the provider only redirects to registered
/// URLs, so a forged Host cannot send a code elsewhere).
fn portal_origin(state: &AppState, sso: &Sso, headers: &HeaderMap) -> String {
    if let Some(url) = &sso.settings.redirect_url {
        return url.origin().ascii_serialization();
    }
    let scheme = if state.settings.secure_cookies {
        "https"
    } else {
        "http"
    };
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("localhost");
    format!("{scheme}://{host}")
}

fn redirect_url(
    state: &AppState,
    sso: &Sso,
    headers: &HeaderMap,
) -> Result<openidconnect::RedirectUrl, Problem> {
    let url = match &sso.settings.redirect_url {
        Some(u) => u.to_string(),
        None => format!("{}{CALLBACK_PATH}", portal_origin(state, sso, headers)),
    };
    openidconnect::RedirectUrl::new(url.clone()).map_err(|e| Problem::InvalidToken {
        why: format!("the redirect URL {url} is not valid ({e}); set [auth] redirect_url"),
    })
}

fn problem_page(state: &AppState, sso: &Sso, headers: &HeaderMap, p: &Problem) -> Response {
    let mut layout = Layout::bare(state);
    let (csrf, cookie) = pre_session::token(headers, state.settings.secure_cookies);
    layout.csrf = csrf;
    let page = ProblemPage {
        layout,
        title: p.title(),
        what: p.what(),
        fix: p.fix(),
        code: p.code(),
        label: sso.settings.label.clone(),
        break_glass_only: !state.settings.auth.local_login,
        sso_endpoints_allowed: sso.provider.endpoints_allowed(),
    };
    let mut response = (p.status(), page).into_response();
    if let Some(c) = cookie {
        response.headers_mut().append(header::SET_COOKIE, c);
    }
    response
}

async fn audit_failure(
    state: &AppState,
    ip: std::net::IpAddr,
    p: &Problem,
) -> Result<(), WebError> {
    let entry = Entry {
        actor: "",
        ip: Some(ip),
        action: "login.sso_failed",
        target: &sso(state)?.settings.issuer,
        details: serde_json::json!({"problem": p.code(), "message": p.what()}),
    };
    audit::record(state, entry).await?;
    Ok(())
}

#[derive(Deserialize)]
pub struct StartForm {
    next: Option<String>,
    /// "1" when the page the form was on already allowed the provider's endpoints in its
    /// CSP (see `LoginPage`); it only chooses between a redirect and a link page.
    endpoints_allowed: Option<String>,
}

/// Whether the browser that posted the start form would follow a redirect to `url`: its
/// page's CSP `form-action` allowed the issuer's origin always, the discovered endpoints'
/// origins only when the page said so.
fn redirect_allowed(sso: &Sso, form: &StartForm, url: &reqwest::Url) -> bool {
    let origin = url.origin().ascii_serialization();
    form.endpoints_allowed.as_deref() == Some("1")
        || sso.provider.issuer_origin().as_deref() == Some(origin.as_str())
}

pub async fn start(
    State(state): State<AppState>,
    ConnectInfo(ClientAddr(peer)): ConnectInfo<ClientAddr>,
    headers: HeaderMap,
    Form(form): Form<StartForm>,
) -> Result<Response, WebError> {
    let sso = sso(&state)?;
    let next = safe_next(form.next.as_deref());
    let started = match redirect_url(&state, sso, &headers) {
        Ok(redirect) => {
            sso.provider
                .start(&sso.settings.scopes, redirect, next)
                .await
        }
        Err(p) => Err(p),
    };
    match started {
        Ok((url, pending)) => {
            let flow = session::new_raw_id();
            sso.pending.insert(&flow, pending);
            let mut response = if redirect_allowed(sso, &form, &url) {
                Redirect::to(url.as_str()).into_response()
            } else {
                let page = RedirectPage {
                    layout: Layout::bare(&state),
                    url: url.to_string(),
                    label: sso.settings.label.clone(),
                };
                let mut r = page.into_response();
                r.headers_mut()
                    .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
                r
            };
            response.headers_mut().append(
                header::SET_COOKIE,
                flow_cookie(Some(&flow), state.settings.secure_cookies),
            );
            Ok(response)
        }
        Err(p) => {
            audit_failure(&state, peer.ip(), &p).await?;
            Ok(problem_page(&state, sso, &headers, &p))
        }
    }
}

#[derive(Deserialize)]
pub struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
    iss: Option<String>,
}

pub async fn callback(
    State(state): State<AppState>,
    ConnectInfo(ClientAddr(peer)): ConnectInfo<ClientAddr>,
    session::MaybeSession(ctx): session::MaybeSession,
    headers: HeaderMap,
    Query(q): Query<CallbackQuery>,
) -> Result<Response, WebError> {
    let sso = sso(&state)?;
    let secure = state.settings.secure_cookies;
    let outcome = sign_in(&state, sso, &headers, q).await;
    let (identity, user, next) = match outcome {
        Ok(done) => done,
        Err(p) => {
            audit_failure(&state, peer.ip(), &p).await?;
            let mut response = problem_page(&state, sso, &headers, &p);
            response
                .headers_mut()
                .append(header::SET_COOKIE, flow_cookie(None, secure));
            return Ok(response);
        }
    };
    let entry = Entry {
        actor: &user.name,
        ip: Some(peer.ip()),
        action: "login.sso",
        target: &user.name,
        details: serde_json::json!({
            "issuer": identity.issuer,
            "subject": identity.subject,
            "role": user.role,
            "claim": sso.settings.role_claim,
            "values": identity.groups,
        }),
    };
    audit::record(&state, entry).await?;
    // The session id changes at sign-in, as with a password (see `start_user_session`).
    if let Some(old) = &ctx {
        store::sessions::delete(state.store.writer(), &old.id_hash).await?;
    }
    let client = super::super::client_info(peer.ip(), &headers);
    let raw = session::create(&state, user.id, &client).await?;
    // A page that moves on by itself rather than a redirect: the portal's session cookie is
    // SameSite=Strict, and a browser does not send it on a redirect chain that came from the
    // provider's site; a navigation started by this page is same-site.
    let page = ContinuePage {
        layout: Layout::bare(&state),
        next,
        name: user.name.clone(),
    };
    let mut response = page.into_response();
    let h = response.headers_mut();
    h.append(header::SET_COOKIE, session::set_cookie(&raw, secure));
    h.append(header::SET_COOKIE, pre_session::clear_cookie(secure));
    h.append(header::SET_COOKIE, flow_cookie(None, secure));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

/// Everything between the provider's answer and a signed-in user.
async fn sign_in(
    state: &AppState,
    sso: &Sso,
    headers: &HeaderMap,
    q: CallbackQuery,
) -> Result<(Identity, User, String), Problem> {
    let flow = session::find_cookie(headers, flow_cookie_name(state.settings.secure_cookies))
        .ok_or(Problem::Stale)?;
    let pending = sso.pending.take(&flow).ok_or(Problem::Stale)?;
    let state_ok = q
        .state
        .as_deref()
        .is_some_and(|s| bool::from(s.as_bytes().ct_eq(pending.state.secret().as_bytes())));
    if !state_ok {
        return Err(Problem::Stale);
    }
    // RFC 9207: an answer naming another issuer is a mix-up attack or a misconfiguration.
    if let Some(iss) = &q.iss
        && iss != &sso.settings.issuer
    {
        return Err(Problem::WrongIssuer {
            expected: sso.settings.issuer.clone(),
            got: iss.clone(),
        });
    }
    if let Some(error) = q.error {
        let detail = q
            .error_description
            .map(|d| format!(" ({d})"))
            .unwrap_or_default();
        return Err(Problem::ProviderError { error, detail });
    }
    let code = q.code.ok_or_else(|| Problem::ProviderError {
        error: "no code".into(),
        detail: " (the answer had neither a code nor an error)".into(),
    })?;
    let next = pending.next.clone();
    let signed_in = sso
        .provider
        .finish(code, pending, &sso.settings.role_claim)
        .await?;
    let identity = Identity::from_claims(&signed_in, &sso.settings)?;
    let user = link_user(state, &identity)
        .await
        .map_err(|e| Problem::TokenRequest {
            why: format!("natpilot could not record the sign-in ({e})"),
        })??;
    Ok((identity, user, next))
}

/// Finds the identity's user (creating it on first sign-in) and sets the role from the
/// claim, auditing both, in one transaction.
async fn link_user(state: &AppState, identity: &Identity) -> anyhow::Result<Result<User, Problem>> {
    let mut tx = state.store.writer().begin().await?;
    let found = sso_identities::user_for(&mut tx, &identity.issuer, &identity.subject).await?;
    let user = match found {
        Some(user) if user.disabled => {
            return Ok(Err(Problem::Disabled { name: user.name }));
        }
        Some(mut user) => {
            if user.role != identity.role {
                let before = user.role;
                store::users::set_role(&mut *tx, user.id, identity.role).await?;
                store::audit::record(
                    &mut *tx,
                    &user.name,
                    "",
                    "user.role_from_sso",
                    &user.name,
                    &serde_json::json!({"from": before, "to": identity.role, "values": identity.groups}),
                )
                .await?;
                user.role = identity.role;
            }
            user
        }
        None => {
            let user = sso_identities::create_user(
                &mut tx,
                &identity.issuer,
                &identity.subject,
                &identity.name,
                identity.role,
            )
            .await?;
            store::audit::record(
                &mut *tx,
                &user.name,
                "",
                "user.created_sso",
                &user.name,
                &serde_json::json!({"issuer": identity.issuer, "subject": identity.subject, "role": user.role}),
            )
            .await?;
            user
        }
    };
    tx.commit().await?;
    Ok(Ok(user))
}

/// Where the browser goes after natpilot's session ended: the provider's end-session
/// endpoint (RP-initiated logout) when the user signs in through it and its discovery has
/// one, back to natpilot's sign-in page afterwards; else straight to `/login`.
pub async fn after_sign_out(state: &AppState, user_id: i64, headers: &HeaderMap) -> String {
    const LOGIN: &str = "/login";
    let Some(sso) = state.auth.sso.as_ref() else {
        return LOGIN.into();
    };
    match sso_identities::is_linked(state.store.readers(), &sso.settings.issuer, user_id).await {
        Ok(true) => {}
        _ => return LOGIN.into(),
    }
    let Ok(metadata) = sso.provider.metadata().await else {
        return LOGIN.into();
    };
    let Some(end) = metadata.additional_metadata().end_session_endpoint.clone() else {
        return LOGIN.into();
    };
    let back = format!("{}{LOGIN}?signed_out=1", portal_origin(state, sso, headers));
    let mut request = openidconnect::LogoutRequest::from(end)
        .set_client_id(openidconnect::ClientId::new(sso.settings.client_id.clone()));
    if let Ok(url) = openidconnect::PostLogoutRedirectUrl::new(back) {
        request = request.set_post_logout_redirect_uri(url);
    }
    request.http_get_url().to_string()
}
