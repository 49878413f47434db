//! The one-time setup link: with no users in the database, start-up arms a random token and
//! `serve` prints `/setup/<token>` to the console (never to the log). The link creates the
//! first admin, signs them in, and is then gone.
//!
//! It is refused once any user exists, however that user came to be (`natpilot user add`,
//! another portal on the same database): the check runs inside the write transaction that
//! inserts the admin (issue 10, defect 5). It expires [`WebSettings::setup_link_ttl`] after
//! it was printed (an hour by default); restarting `natpilot serve` on a database without
//! users prints a new one. The token is compared in constant time.

use std::time::Instant;

use askama::Template;
use askama_web::WebTemplate;
use axum::{
    Form,
    extract::{ConnectInfo, Path, State},
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use subtle::ConstantTimeEq;

use crate::{
    app::AppState,
    store::{
        audit,
        users::{self, Role, UserName},
    },
    web::{error::WebError, layout::Layout, tls::ClientAddr},
};

use super::session::MaybeSession;

/// An armed setup link: its token and when it stops working.
pub struct SetupLink {
    token: String,
    expires: Instant,
}

impl SetupLink {
    pub fn path(&self) -> String {
        format!("/setup/{}", self.token)
    }
}

/// Arms a setup link when the database has no users yet.
pub async fn arm_if_no_users(state: &AppState) -> anyhow::Result<()> {
    if users::count(state.store.readers()).await? == 0 {
        *state.auth.lock_setup() = Some(SetupLink {
            token: hex::encode(rand::random::<[u8; 24]>()),
            expires: Instant::now() + state.settings.setup_link_ttl,
        });
    }
    Ok(())
}

/// Why a link does not work (each says what to do instead).
enum Refusal {
    Unknown,
    Expired,
    UsersExist,
}

impl From<Refusal> for WebError {
    fn from(r: Refusal) -> WebError {
        let why = match r {
            Refusal::Unknown => {
                "This setup link is not valid: it has been used already, or the server restarted and printed a new one. \
                 Sign in, or ask an admin for an account."
            }
            Refusal::Expired => {
                "This setup link has expired (a link works for one hour after it is printed). \
                 Restart natpilot to print a new one on its console."
            }
            Refusal::UsersExist => {
                "This setup link no longer works: the portal has users now. \
                 Sign in, or ask an admin for an account (an admin can be added with `natpilot user add NAME --role admin`)."
            }
        };
        WebError::NotFound(why.into())
    }
}

/// Whether `token` is the armed link's token, compared in constant time (the comparison
/// must not tell an attacker how many leading characters they got right).
fn check_token(state: &AppState, token: &str) -> Result<(), Refusal> {
    let armed = state.auth.lock_setup();
    let Some(link) = armed.as_ref() else {
        return Err(Refusal::Unknown);
    };
    if !bool::from(link.token.as_bytes().ct_eq(token.as_bytes())) {
        return Err(Refusal::Unknown);
    }
    if Instant::now() >= link.expires {
        return Err(Refusal::Expired);
    }
    Ok(())
}

fn disarm(state: &AppState) {
    state.auth.lock_setup().take();
}

/// The link is usable: armed, the right token, not expired, and still no user. Once users
/// exist the link is disarmed for good.
async fn usable(state: &AppState, token: &str) -> Result<(), WebError> {
    check_token(state, token)?;
    if users::count(state.store.readers()).await? != 0 {
        disarm(state);
        return Err(Refusal::UsersExist.into());
    }
    Ok(())
}

#[derive(Template, WebTemplate)]
#[template(path = "auth/setup.html")]
pub struct SetupPage {
    layout: Layout,
    token: String,
    name: String,
    errors: Vec<String>,
}

pub async fn form(
    State(state): State<AppState>,
    MaybeSession(ctx): MaybeSession,
    headers: HeaderMap,
    Path(token): Path<String>,
) -> Result<Response, WebError> {
    usable(&state, &token).await?;
    let (csrf, cookie) = super::form_token(&state, ctx.as_ref(), &headers);
    let mut layout = Layout::bare(&state);
    layout.csrf = csrf;
    let mut response = SetupPage {
        layout,
        token,
        name: String::new(),
        errors: vec![],
    }
    .into_response();
    if let Some(c) = cookie {
        response.headers_mut().insert(header::SET_COOKIE, c);
    }
    Ok(response)
}

#[derive(Deserialize)]
pub struct SetupForm {
    name: String,
    password: SecretString,
    password_confirm: SecretString,
}

/// The form's errors, one per problem; `Ok` with the parsed name when there are none.
fn validate(form: &SetupForm) -> Result<UserName, Vec<String>> {
    let name = UserName::parse(&form.name);
    let mut errors = Vec::new();
    if let Err(e) = &name {
        errors.push(format!("User name: {e}."));
    }
    if let Err(e) = super::password::check_new(&form.password, &[form.name.trim()]) {
        errors.push(format!("Password: {e}."));
    }
    if form.password.expose_secret() != form.password_confirm.expose_secret() {
        errors.push("Password: the two passwords differ.".into());
    }
    match name {
        Ok(name) if errors.is_empty() => Ok(name),
        _ => Err(errors),
    }
}

pub async fn submit(
    State(state): State<AppState>,
    ConnectInfo(ClientAddr(peer)): ConnectInfo<ClientAddr>,
    MaybeSession(ctx): MaybeSession,
    headers: HeaderMap,
    Path(token): Path<String>,
    Form(form): Form<SetupForm>,
) -> Result<Response, WebError> {
    usable(&state, &token).await?;
    let name = match validate(&form) {
        Ok(name) => name,
        Err(errors) => {
            let mut layout = Layout::bare(&state);
            layout.csrf = super::form_token(&state, ctx.as_ref(), &headers).0;
            let page = SetupPage {
                layout,
                token,
                name: form.name,
                errors,
            };
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
        }
    };
    let hash = super::password::hash(form.password).await?;
    // "No users yet" is decided inside the write transaction (BEGIN IMMEDIATE holds the
    // write lock), so no user created meanwhile, by this process or another, is missed.
    let mut tx = state.store.begin_write().await?;
    if users::count(&mut *tx).await? != 0 {
        drop(tx);
        disarm(&state);
        return Err(Refusal::UsersExist.into());
    }
    let id = users::insert(&mut *tx, &name, Role::Admin, &hash).await?;
    let ip = peer.ip().to_string();
    let details = serde_json::json!({"role": "admin", "via": "setup link"});
    audit::record(
        &mut *tx,
        name.as_str(),
        &ip,
        "user.create",
        name.as_str(),
        &details,
    )
    .await?;
    tx.commit().await?;
    disarm(&state);
    let client = super::client_info(peer.ip(), &headers);
    super::start_user_session(&state, ctx.as_ref(), id, &client, "/").await
}
