//! `/admin/webhooks`: the configured webhooks (URLs redacted: their paths and queries are
//! tokens), the newest deliveries with state, attempts and last error, and "Send again" for
//! a dead delivery (audited).

use askama::Template;
use askama_web::WebTemplate;
use axum::{
    extract::{ConnectInfo, Path, Query, State},
    response::{IntoResponse, Redirect, Response},
};
use serde::Deserialize;

use crate::{
    app::AppState,
    notify::format::redacted,
    store::{self, notifications::Delivery},
    web::{auth::session::CurrentUser, error::WebError, layout::Layout, tls::ClientAddr},
};

pub struct HookLine {
    pub name: String,
    pub format: &'static str,
    pub url: String,
    pub events: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/webhooks.html")]
pub struct WebhooksPage {
    layout: Layout,
    hooks: Vec<HookLine>,
    deliveries: Vec<Delivery>,
    notice: Option<&'static str>,
}

#[derive(Deserialize, Default)]
pub struct Done {
    #[serde(default)]
    done: String,
}

pub async fn page(
    State(state): State<AppState>,
    layout: Layout,
    Query(done): Query<Done>,
) -> Result<WebhooksPage, WebError> {
    let hooks = state
        .settings
        .webhooks
        .iter()
        .map(|h| HookLine {
            name: h.name.clone(),
            format: h.format.as_str(),
            url: redacted(&h.url),
            events: h
                .events
                .iter()
                .map(|e| e.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        })
        .collect();
    let deliveries = store::notifications::recent(state.store.readers(), 100).await?;
    Ok(WebhooksPage {
        layout,
        hooks,
        deliveries,
        notice: (done.done == "retry").then_some("The delivery is queued and will be sent again."),
    })
}

pub async fn retry(
    State(state): State<AppState>,
    ConnectInfo(ClientAddr(peer)): ConnectInfo<ClientAddr>,
    admin: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Response, WebError> {
    let mut tx = state.store.begin_write().await?;
    if !store::notifications::revive(&mut *tx, id).await? {
        return Err(WebError::Conflict(format!(
            "delivery {id} is not dead (only a dead delivery can be sent again)"
        )));
    }
    let details = serde_json::json!({"delivery": id});
    store::audit::record(
        &mut *tx,
        &admin.name,
        &peer.to_string(),
        "webhook.retry",
        &format!("delivery {id}"),
        &details,
    )
    .await?;
    tx.commit().await?;
    Ok(Redirect::to("/admin/webhooks?done=retry").into_response())
}
