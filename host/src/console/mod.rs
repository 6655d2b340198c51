//! The web console: a single-page app under `/console/`, built from
//! `host/console/` and embedded in the binary. It is only static files: every
//! page reads and changes data through the same REST API, tokens and RBAC as
//! any other client, so the console holds no privilege of its own and its
//! routes sit outside the API's authorization layer.

mod assets;
mod headers;

use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;

use crate::http::error::ApiError;

pub use self::assets::Asset;
pub use self::headers::CONTENT_SECURITY_POLICY;

/// `/` and `/console` lead to the console; `/console/` is its page and
/// `/console/{path}` its scripts, styles and vendored chart library.
pub fn router<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route("/", get(|| async { Redirect::to("/console/") }))
        .route("/console", get(|| async { Redirect::to("/console/") }))
        .route("/console/", get(|request: HeaderMap| async move { serve("index.html", &request) }))
        .route(
            "/console/{*path}",
            get(|Path(path): Path<String>, request: HeaderMap| async move { serve(&path, &request) }),
        )
}

fn serve(path: &str, request: &HeaderMap) -> Response {
    let Some(asset) = Asset::find(path) else {
        return ApiError::NotFound("console file").into_response();
    };
    let etag = asset.etag();
    let fresh = request
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|tags| tags.split(',').any(|t| t.trim() == etag));
    let mut response = if fresh {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        ([(header::CONTENT_TYPE, asset.content_type())], asset.data).into_response()
    };
    headers::secure(response.headers_mut(), &etag);
    response
}
