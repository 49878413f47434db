//! `/account/tokens`: API tokens. Everyone manages their own personal tokens (acting as them,
//! never above their current role); admins also create and revoke service tokens (acting as
//! `svc:<name>`, for pipelines). A new token is shown once, on the page that created it; only
//! its SHA-256 is stored. Creating and revoking are audited.

use askama::Template;
use askama_web::WebTemplate;
use axum::{
    Form,
    extract::{ConnectInfo, Path, State},
    response::{IntoResponse, Redirect, Response},
};
use base64::Engine as _;
use chrono::{Duration, Utc};
use rand::RngCore;
use serde::Deserialize;

use crate::{
    app::AppState,
    store::{
        self,
        api_tokens::{ApiToken, NewToken, TokenKind},
        users::Role,
    },
    tencent::sign::sha256_hex,
    web::{auth::session::CurrentUser, error::WebError, layout::Layout, tls::ClientAddr},
};

/// Tokens start with this, so a leaked one is recognisable (and secret scanners can find it).
pub const TOKEN_PREFIX: &str = "np_";
pub const MAX_DAYS: i64 = 365;

#[derive(Template, WebTemplate)]
#[template(path = "account/tokens.html")]
pub struct TokensPage {
    layout: Layout,
    tokens: Vec<ApiToken>,
    is_admin: bool,
    roles: Vec<&'static str>,
    /// The token just created: shown this once.
    created: Option<String>,
    errors: Vec<String>,
    form: TokenForm,
}

#[derive(Deserialize, Default, Clone)]
pub struct TokenForm {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub role: String,
    #[serde(default)]
    pub days: String,
    /// `service` (admins only) or personal.
    #[serde(default)]
    pub kind: String,
}

impl TokenForm {
    pub fn days_or_default(&self) -> &str {
        if self.days.is_empty() {
            "30"
        } else {
            &self.days
        }
    }
}

async fn page(
    state: &AppState,
    user: &CurrentUser,
    layout: Layout,
) -> Result<TokensPage, WebError> {
    let is_admin = user.role == Role::Admin;
    let tokens = store::api_tokens::list(state.store.readers(), user.id, is_admin).await?;
    let roles = Role::ALL
        .into_iter()
        .filter(|r| *r <= user.role || is_admin)
        .map(Role::as_str)
        .collect();
    Ok(TokensPage {
        layout,
        tokens,
        is_admin,
        roles,
        created: None,
        errors: Vec::new(),
        form: TokenForm::default(),
    })
}

pub async fn list(
    State(state): State<AppState>,
    user: CurrentUser,
    layout: Layout,
) -> Result<TokensPage, WebError> {
    page(&state, &user, layout).await
}

/// A new random token: `np_` + 32 random bytes, base64url.
fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!(
        "{TOKEN_PREFIX}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    )
}

struct Checked {
    kind: TokenKind,
    name: String,
    role: Role,
    days: i64,
}

fn check(form: &TokenForm, user: &CurrentUser) -> Result<Checked, Vec<String>> {
    let mut errors = Vec::new();
    let name = form.name.trim().to_owned();
    if name.is_empty() || name.chars().count() > 60 {
        errors.push("Name: 1 to 60 characters, e.g. “release pipeline”.".to_owned());
    }
    let kind = if form.kind == "service" {
        if user.role != Role::Admin {
            errors.push("Only an admin creates service tokens.".to_owned());
        }
        if !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            errors.push(
                "A service token's name is what its actions are recorded as (svc:<name>): use \
                 letters, digits, '-' and '_'."
                    .to_owned(),
            );
        }
        TokenKind::Service
    } else {
        TokenKind::Personal
    };
    let role = form.role.parse::<Role>().unwrap_or_else(|e| {
        errors.push(format!("Role: {e}."));
        Role::Viewer
    });
    if kind == TokenKind::Personal && role > user.role {
        errors.push(format!(
            "Role: a personal token cannot do more than you ({}).",
            user.role.as_str()
        ));
    }
    let days = match form.days_or_default().trim().parse::<i64>() {
        Ok(d) if (1..=MAX_DAYS).contains(&d) => d,
        _ => {
            errors.push(format!("Expires after: 1 to {MAX_DAYS} days."));
            1
        }
    };
    if errors.is_empty() {
        Ok(Checked {
            kind,
            name,
            role,
            days,
        })
    } else {
        Err(errors)
    }
}

pub async fn create(
    State(state): State<AppState>,
    ConnectInfo(ClientAddr(peer)): ConnectInfo<ClientAddr>,
    user: CurrentUser,
    layout: Layout,
    Form(form): Form<TokenForm>,
) -> Result<Response, WebError> {
    let checked = match check(&form, &user) {
        Ok(c) => c,
        Err(errors) => {
            let mut p = page(&state, &user, layout).await?;
            p.errors = errors;
            p.form = form;
            return Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, p).into_response());
        }
    };
    let token = new_token();
    let prefix: String = token.chars().take(TOKEN_PREFIX.len() + 6).collect();
    let sha = sha256_hex(token.as_bytes());
    let mut tx = state.store.begin_write().await?;
    let inserted = store::api_tokens::insert(
        &mut *tx,
        &NewToken {
            kind: checked.kind,
            name: &checked.name,
            user_id: user.id,
            role: checked.role,
            token_sha256: &sha,
            prefix: &prefix,
            expires_at: Utc::now() + Duration::days(checked.days),
        },
    )
    .await;
    let id = match inserted {
        Ok(id) => id,
        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
            drop(tx);
            let mut p = page(&state, &user, layout).await?;
            p.errors = vec![format!(
                "Name: a service token called “{}” exists already; revoke it or choose another name.",
                checked.name
            )];
            p.form = form;
            return Ok((axum::http::StatusCode::CONFLICT, p).into_response());
        }
        Err(e) => return Err(e.into()),
    };
    let details = serde_json::json!({
        "token": id, "kind": checked.kind.as_str(), "name": checked.name,
        "role": checked.role.as_str(), "days": checked.days, "prefix": prefix,
    });
    store::audit::record(
        &mut *tx,
        &user.name,
        &peer.ip().to_string(),
        "token.create",
        &checked.name,
        &details,
    )
    .await?;
    tx.commit().await?;
    let mut p = page(&state, &user, layout).await?;
    p.created = Some(token);
    Ok(p.into_response())
}

pub async fn revoke(
    State(state): State<AppState>,
    ConnectInfo(ClientAddr(peer)): ConnectInfo<ClientAddr>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Response, WebError> {
    let token = store::api_tokens::by_id(state.store.readers(), id)
        .await?
        .ok_or_else(|| WebError::NotFound(format!("token {id}")))?;
    let mine = token.kind == TokenKind::Personal && token.user_id == user.id;
    let admin = user.role == Role::Admin;
    if !(mine || (admin && token.kind == TokenKind::Service)) {
        return Err(WebError::Forbidden(
            "you can revoke your own tokens, and admins service tokens".into(),
        ));
    }
    let mut tx = state.store.begin_write().await?;
    if store::api_tokens::revoke(&mut *tx, id).await? {
        let details =
            serde_json::json!({"token": id, "kind": token.kind.as_str(), "prefix": token.prefix});
        store::audit::record(
            &mut *tx,
            &user.name,
            &peer.ip().to_string(),
            "token.revoke",
            &token.name,
            &details,
        )
        .await?;
    }
    tx.commit().await?;
    Ok(Redirect::to("/account/tokens").into_response())
}
