//! The HTTP API: one file per resource area, each exposing `router()`, put
//! together here with the layers every request passes through.

pub mod admin;
pub mod analyses;
pub mod auth;
pub mod authorize;
pub mod dashboard;
pub mod data;
pub mod error;
pub mod experiments;
pub mod extract;
pub mod health;
pub mod nul;
pub mod openapi;
pub mod pagination;
pub mod plugins;
pub mod recommendations;
pub mod state;
pub mod tables;
pub mod tenant;
pub mod timeout;
pub mod users;
pub mod validate;

use std::sync::Arc;

use axum::extract::{DefaultBodyLimit, Request};
use axum::{Extension, Router};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;
use utoipa::openapi::OpenApi;
use utoipa_axum::router::OpenApiRouter;

use self::error::ApiError;
pub use self::state::{AppState, HttpSettings};

/// JSON bodies larger than this are refused with 413.
pub const MAX_JSON_BODY_BYTES: usize = 1024 * 1024;

/// All routes with their OpenAPI description, before state and layers.
pub fn api() -> (Router<AppState>, OpenApi) {
    let (router, api) = OpenApiRouter::new()
        .merge(health::router())
        .merge(openapi::router())
        .merge(auth::router())
        .merge(tenant::router())
        .merge(admin::router())
        .merge(plugins::router())
        .merge(data::router())
        .merge(dashboard::router())
        .merge(analyses::router())
        .merge(experiments::router())
        .merge(recommendations::router())
        .split_for_parts();
    (router, openapi::finish(api))
}

/// The served application: routes, authorization (and rate limits) on
/// every matched route, JSON errors for unknown routes and methods, the
/// request deadline, request metrics, body limit, request ids and a trace
/// span per request.
pub fn app(router: Router<AppState>, api: &OpenApi, state: AppState) -> Router {
    let doc = openapi::Document(Arc::new(api.to_json().unwrap_or_default()));
    router
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            authorize::authorize,
        ))
        // Static files only, outside the authorization layer: the console
        // calls the API like any client, with the user's own token.
        .merge(crate::console::router())
        .fallback(|| async { ApiError::NotFound("route") })
        .method_not_allowed_fallback(|| async { ApiError::MethodNotAllowed })
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            timeout::deadline,
        ))
        .with_state(state)
        .layer(axum::middleware::from_fn(crate::telemetry::http::track))
        .layer(Extension(doc))
        .layer(DefaultBodyLimit::max(MAX_JSON_BODY_BYTES))
        .layer(
            TraceLayer::new_for_http()
                .on_response(DefaultOnResponse::new().level(Level::INFO))
                .make_span_with(|req: &Request| {
                    let request_id = req
                        .headers()
                        .get("x-request-id")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("-");
                    tracing::info_span!(
                        "request",
                        method = %req.method(),
                        uri = %req.uri().path(),
                        request_id,
                        route = tracing::field::Empty,
                        tenant = tracing::field::Empty,
                        user = tracing::field::Empty,
                    )
                }),
        )
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
}
