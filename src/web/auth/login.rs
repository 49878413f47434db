//! `/login` and `/logout`. One generic message for every failed login (wrong name, wrong
//! password, disabled account), throttling per IP and per account, audit of each attempt.

use askama::Template;
use askama_web::WebTemplate;
use axum::{
    Form,
    extract::{ConnectInfo, Query, State},
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Redirect, Response},
};
use secrecy::SecretString;
use serde::Deserialize;

use crate::{
    app::AppState,
    store::{sessions, users},
    web::{
        audit::{self, Entry},
        error::WebError,
        layout::Layout,
        tls::ClientAddr,
    },
};

use super::session::{CurrentUser, MaybeSession};

pub const FAILED: &str = "The user name or password is not right.";

#[derive(Template, WebTemplate)]
#[template(path = "auth/login.html")]
pub struct LoginPage {
    layout: Layout,
    name: String,
    next: String,
    error: Option<String>,
    /// "Sign in with <label>" when single sign-on is configured.
    sso_label: Option<String>,
    /// Whether this page's CSP already allows the provider's discovered endpoints (sent
    /// with "Sign in with …" so the start knows whether a redirect there would be blocked).
    sso_endpoints_allowed: bool,
    /// Password sign-in for everyone (else only for the break-glass admin).
    local_login: bool,
    /// After RP-initiated logout, the provider sends the browser back here.
    signed_out: bool,
}

/// The password form refused a name because `[auth] local_login` is off.
pub const LOCAL_OFF: &str = "Password sign-in is turned off here: use the single sign-on button above. Only the break-glass admin account signs in with a password.";

impl LoginPage {
    fn new(state: &AppState, layout: Layout, name: String, next: String) -> LoginPage {
        LoginPage {
            layout,
            name,
            next,
            error: None,
            sso_label: state.auth.sso.as_ref().map(|s| s.settings.label.clone()),
            sso_endpoints_allowed: state
                .auth
                .sso
                .as_ref()
                .is_some_and(|s| s.provider.endpoints_allowed()),
            local_login: state.settings.auth.local_login,
            signed_out: false,
        }
    }
}

#[derive(Deserialize)]
pub struct NextQuery {
    next: Option<String>,
    signed_out: Option<String>,
}

/// The redirect target after sign-in: `next` if it is a path on this site, else `/`.
///
/// Accepted: a path that starts with exactly one `/`, holds no control character (a tab,
/// CR, LF or NUL is dropped or refused by browsers and header writers in ways that turned
/// `/\t/evil.host` into `//evil.host`, issue 10 defect 7) and no backslash (read as `/` by
/// browsers), and that, resolved against this site, stays on it.
pub fn safe_next(next: Option<&str>) -> String {
    const HOME: &str = "/";
    let Some(n) = next else {
        return HOME.to_owned();
    };
    let shaped = n.starts_with('/')
        && !n.starts_with("//")
        && !n.chars().any(|c| c.is_control() || c == '\\');
    if !shaped {
        return HOME.to_owned();
    }
    // Re-parse as a URL relative to a stand-in origin: it must not name a scheme, host,
    // port or user of its own.
    let base = reqwest::Url::parse("http://natpilot.invalid/").expect("a valid base URL");
    match base.join(n) {
        Ok(url)
            if url.scheme() == "http"
                && url.host_str() == Some("natpilot.invalid")
                && url.port().is_none()
                && url.username().is_empty()
                && url.password().is_none() =>
        {
            n.to_owned()
        }
        _ => HOME.to_owned(),
    }
}

pub async fn form(
    State(state): State<AppState>,
    MaybeSession(ctx): MaybeSession,
    headers: HeaderMap,
    Query(q): Query<NextQuery>,
) -> Result<Response, WebError> {
    let next = safe_next(q.next.as_deref());
    if ctx.as_ref().is_some_and(|c| c.user.is_some()) {
        return Ok(Redirect::to(&next).into_response());
    }
    let (csrf, cookie) = super::form_token(&state, ctx.as_ref(), &headers);
    let mut layout = Layout::bare(&state);
    layout.csrf = csrf;
    let mut page = LoginPage::new(&state, layout, String::new(), next);
    page.signed_out = q.signed_out.is_some();
    let mut response = page.into_response();
    if let Some(c) = cookie {
        response.headers_mut().insert(header::SET_COOKIE, c);
    }
    Ok(response)
}

#[derive(Deserialize)]
pub struct LoginForm {
    name: String,
    password: SecretString,
    next: Option<String>,
}

pub async fn submit(
    State(state): State<AppState>,
    ConnectInfo(ClientAddr(peer)): ConnectInfo<ClientAddr>,
    MaybeSession(ctx): MaybeSession,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Result<Response, WebError> {
    let ip = peer.ip();
    let next = safe_next(form.next.as_deref());
    let mut layout = Layout::bare(&state);
    layout.csrf = super::form_token(&state, ctx.as_ref(), &headers).0;
    let page = |layout, error: String, status| {
        let mut page = LoginPage::new(&state, layout, form.name.clone(), next.clone());
        page.error = Some(error);
        Ok((status, page).into_response())
    };
    let auth = &state.settings.auth;
    if !auth.password_allowed(&form.name) {
        audit_login(&state, &form.name, ip, "login.password_off").await?;
        return page(layout, LOCAL_OFF.to_owned(), StatusCode::FORBIDDEN);
    }
    let throttled = state.auth.throttle.attempt(&state.store, ip, &form.name);
    if let Err(wait) = throttled.await? {
        let secs = wait.as_secs().max(1);
        let msg = format!(
            "Too many sign-in attempts. Wait {secs} seconds before trying again; ask an admin if you have forgotten your password."
        );
        audit_login(&state, &form.name, ip, "login.throttled").await?;
        return page(layout, msg, StatusCode::TOO_MANY_REQUESTS);
    }
    let found = users::credentials(state.store.readers(), form.name.trim()).await?;
    let (user, hash) = match found {
        Some((u, h)) if !u.disabled => (Some(u), Some(h)),
        _ => (None, None),
    };
    let ok = super::password::verify(form.password, hash).await?;
    // With passwords off, the break-glass account must (still) be an admin.
    let allowed = |u: &users::User| auth.local_login || u.role == users::Role::Admin;
    match user.filter(|u| ok && allowed(u)) {
        Some(user) => {
            audit_login(&state, &user.name, ip, "login").await?;
            let client = super::client_info(ip, &headers);
            super::start_user_session(&state, ctx.as_ref(), user.id, &client, &next).await
        }
        None => {
            audit_login(&state, &form.name, ip, "login.failed").await?;
            page(layout, FAILED.to_owned(), StatusCode::UNAUTHORIZED)
        }
    }
}

async fn audit_login(
    state: &AppState,
    name: &str,
    ip: std::net::IpAddr,
    action: &str,
) -> Result<(), WebError> {
    let entry = Entry {
        actor: name,
        ip: Some(ip),
        action,
        target: name,
        details: serde_json::json!({}),
    };
    audit::record(state, entry).await?;
    Ok(())
}

pub async fn logout(
    State(state): State<AppState>,
    ConnectInfo(ClientAddr(peer)): ConnectInfo<ClientAddr>,
    user: CurrentUser,
    MaybeSession(ctx): MaybeSession,
    headers: HeaderMap,
) -> Result<Response, WebError> {
    if let Some(ctx) = ctx {
        sessions::delete(state.store.writer(), &ctx.id_hash).await?;
    }
    let entry = Entry {
        actor: &user.name,
        ip: Some(peer.ip()),
        action: "logout",
        target: &user.name,
        details: serde_json::json!({}),
    };
    audit::record(&state, entry).await?;
    // Signed in through single sign-on: end the provider's session too (RP-initiated logout).
    let to = super::oidc::flow::after_sign_out(&state, user.id, &headers).await;
    let mut response = Redirect::to(&to).into_response();
    response.headers_mut().insert(
        header::SET_COOKIE,
        super::session::clear_cookie(state.settings.secure_cookies),
    );
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn only_paths_on_this_site_are_redirect_targets() {
        let table = [
            ("/runs/abc?x=1", "/runs/abc?x=1"),
            ("/", "/"),
            ("/runs/abc#timeline", "/runs/abc#timeline"),
            ("/\t/evil.host/x", "/"),
            ("//evil", "/"),
            ("/\\evil", "/"),
            ("\\\\evil", "/"),
            ("http://x", "/"),
            ("https://evil.example/", "/"),
            ("evil", "/"),
            ("", "/"),
            ("/a\rLocation: http://evil", "/"),
            ("/a\nb", "/"),
            ("/a\0b", "/"),
            ("/\u{7f}x", "/"),
            ("/ok\u{85}x", "/"),
        ];
        for (input, want) in table {
            assert_eq!(safe_next(Some(input)), want, "next = {input:?}");
        }
        assert_eq!(safe_next(None), "/");
    }
}
