//! Token authentication for `/api/v1`: `Authorization: Bearer <token>` only. Cookies are not
//! looked at, so a browser session cannot be used to call the API (and CSRF cannot reach
//! it). The token's SHA-256 is looked up; revoked, expired and disabled-user tokens are
//! refused with the reason. Role checks happen per handler (`ApiCaller::require`), and a
//! refusal for a role too low is audited.

use axum::{
    extract::{Request, State},
    http::header,
    middleware::Next,
    response::{IntoResponse, Response},
};
use chrono::Utc;

use super::error::ApiError;
use crate::{
    app::AppState,
    store::{self, users::Role},
    tencent::sign::sha256_hex,
};

/// Who is calling: put into the request by `authenticate`.
#[derive(Debug, Clone)]
pub struct ApiCaller {
    pub token_id: i64,
    /// The name runs and the audit log record: the user, or `svc:<name>`.
    pub actor: String,
    pub role: Role,
}

impl ApiCaller {
    /// Refuses (and audits the refusal) when the token's role is below `needed`.
    pub async fn require(
        &self,
        state: &AppState,
        needed: Role,
        what: &str,
    ) -> Result<(), ApiError> {
        if self.role >= needed {
            return Ok(());
        }
        let details = serde_json::json!({
            "token": self.token_id, "role": self.role.as_str(), "needed": needed.as_str(),
        });
        store::audit::record(
            state.store.writer(),
            &self.actor,
            "",
            "api.refused",
            what,
            &details,
        )
        .await?;
        Err(ApiError::forbidden(format!(
            "{what} needs the {} role; this token has {}",
            needed.as_str(),
            self.role.as_str()
        )))
    }
}

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for ApiCaller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _: &S,
    ) -> Result<ApiCaller, ApiError> {
        parts
            .extensions
            .get::<ApiCaller>()
            .cloned()
            .ok_or_else(|| ApiError::unauthorized("no API token on this request"))
    }
}

fn bearer(req: &Request) -> Option<&str> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

pub async fn authenticate(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let Some(token) = bearer(&req) else {
        return ApiError::unauthorized(
            "send an API token as `Authorization: Bearer <token>` (create one on /account/tokens); \
             browser sessions do not authenticate the API",
        )
        .into_response();
    };
    let found =
        store::api_tokens::by_hash(state.store.readers(), &sha256_hex(token.as_bytes())).await;
    let t = match found {
        Ok(Some(t)) => t,
        Ok(None) => return ApiError::unauthorized("unknown API token").into_response(),
        Err(e) => return ApiError::from(e).into_response(),
    };
    if let Err(why) = t.usable(Utc::now()) {
        return ApiError::unauthorized(format!("{why}; create a new one on /account/tokens"))
            .into_response();
    }
    if let Err(e) = store::api_tokens::touch(state.store.writer(), t.id).await {
        return ApiError::from(e).into_response();
    }
    req.extensions_mut().insert(ApiCaller {
        token_id: t.id,
        actor: t.actor(),
        role: t.effective_role(),
    });
    next.run(req).await
}
