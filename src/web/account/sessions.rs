//! `/account/sessions`: the signed-in user's live sessions (when started, last used, from
//! which address and browser; never the session id) and "sign out everywhere", which ends
//! all of them, this one included.

use askama::Template;
use askama_web::WebTemplate;
use axum::{
    extract::{ConnectInfo, State},
    http::header,
    response::{IntoResponse, Redirect, Response},
};
use chrono::{DateTime, Utc};

use crate::{
    app::AppState,
    store::{audit, sessions},
    web::{
        auth::session::{self, CurrentUser, MaybeSession},
        error::WebError,
        layout::Layout,
        tls::ClientAddr,
    },
};

/// One session as the page shows it.
pub struct SessionRow {
    pub created: String,
    pub last_seen: String,
    pub ip: String,
    pub user_agent: String,
    pub current: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "account/sessions.html")]
pub struct SessionsPage {
    layout: Layout,
    sessions: Vec<SessionRow>,
}

fn when(secs: i64) -> String {
    DateTime::<Utc>::from_timestamp(secs, 0)
        .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_default()
}

pub async fn list(
    State(state): State<AppState>,
    user: CurrentUser,
    MaybeSession(ctx): MaybeSession,
    layout: Layout,
) -> Result<SessionsPage, WebError> {
    let s = &state.settings;
    let (idle, absolute) = (
        s.session_idle.as_secs() as i64,
        s.session_absolute.as_secs() as i64,
    );
    let current = ctx.map(|c| c.id_hash).unwrap_or_default();
    let rows = sessions::list_for_user(state.store.readers(), user.id, idle, absolute).await?;
    let sessions = rows
        .into_iter()
        .map(|r| SessionRow {
            created: when(r.created_at),
            last_seen: when(r.last_seen_at),
            ip: r.client_ip,
            user_agent: r.user_agent,
            current: r.id_hash == current,
        })
        .collect();
    Ok(SessionsPage { layout, sessions })
}

/// Ends every session of the user (this one too) and sends them to the sign-in page.
pub async fn end_all(
    State(state): State<AppState>,
    ConnectInfo(ClientAddr(peer)): ConnectInfo<ClientAddr>,
    user: CurrentUser,
) -> Result<Response, WebError> {
    let mut tx = state.store.begin_write().await?;
    let ended = sessions::delete_for_user(&mut *tx, user.id).await?;
    let details = serde_json::json!({"sessions_ended": ended});
    let ip = peer.ip().to_string();
    audit::record(
        &mut *tx,
        &user.name,
        &ip,
        "user.sign_out_everywhere",
        &user.name,
        &details,
    )
    .await?;
    tx.commit().await?;
    let mut response = Redirect::to("/login").into_response();
    response.headers_mut().insert(
        header::SET_COOKIE,
        session::clear_cookie(state.settings.secure_cookies),
    );
    Ok(response)
}
