//! The web portal: routes, the access/CSRF middleware, pages (askama), static assets,
//! error pages, metrics. Handlers parse input, call `store`/`wizard`, and render; they never
//! run SQL or call the cloud themselves.

pub mod access;
pub mod account;
pub mod accounts;
pub mod admin;
pub mod api;
pub mod approvals;
pub mod assets;
pub mod audit;
pub mod auth;
pub mod campaigns;
pub mod client_ip;
pub mod error;
pub mod estate;
pub mod headers;
pub mod kept_eips;
pub mod layout;
pub mod metrics;
mod metrics_estate;
pub mod pages;
pub mod request_id;
pub mod routes;
pub mod settings;
pub mod tls;
pub mod user_cli;

use axum::{Router, middleware};
use tower::ServiceBuilder;
use tower_http::{
    catch_panic::CatchPanicLayer,
    limit::RequestBodyLimitLayer,
    request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer},
    trace::TraceLayer,
};

use crate::app::AppState;
use routes::{RouteSpec, Routes};

/// Every route of the portal, with its access level. Feature modules own their routes.
pub fn routes() -> Routes {
    Routes::default()
        .merge(pages::routes())
        .merge(auth::routes())
        .merge(account::routes())
        .merge(admin::routes())
        .merge(assets::routes())
        .merge(approvals::routes())
        .merge(estate::routes())
        .merge(campaigns::routes())
        .merge(kept_eips::routes())
}

/// The route table, for tests that check every route's protection.
pub fn route_table() -> Vec<RouteSpec> {
    routes().into_parts().1
}

/// Composes the routes and applies the layers (outermost first in the list below).
pub fn router(state: AppState) -> Router {
    let (router, _table, _) = routes().into_parts();
    let request_id = axum::http::HeaderName::from_static("x-request-id");
    let body_limit = state.settings.body_limit;
    router
        .fallback(error::not_found)
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            access::enforce,
        ))
        // After the session/CSRF check's route layer: the API authenticates with tokens only.
        .merge(api::router(state.clone()))
        .layer(
            ServiceBuilder::new()
                // Before anything reads the request id: a client's id must be safe to log.
                .layer(middleware::from_fn(request_id::sanitize))
                .layer(SetRequestIdLayer::new(request_id.clone(), MakeRequestUuid))
                .layer(TraceLayer::new_for_http().make_span_with(error::make_span))
                .layer(PropagateRequestIdLayer::new(request_id))
                .layer(middleware::from_fn_with_state(
                    state.clone(),
                    metrics::track,
                ))
                // Before the access check and every handler: they all read the client's
                // address from `ConnectInfo`.
                .layer(middleware::from_fn_with_state(
                    state.clone(),
                    client_ip::layer,
                ))
                .layer(middleware::from_fn_with_state(
                    state.clone(),
                    headers::security,
                ))
                .layer(middleware::from_fn_with_state(
                    state.clone(),
                    error::render_pages,
                ))
                .layer(CatchPanicLayer::custom(error::panic_response))
                .layer(RequestBodyLimitLayer::new(body_limit)),
        )
        .with_state(state)
}
