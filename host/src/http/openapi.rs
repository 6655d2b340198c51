//! The OpenAPI 3.1 document, generated from the handlers' annotations; it is
//! also the list of routes the RBAC policy is checked against at start.

use std::collections::BTreeSet;
use std::sync::Arc;

use axum::Extension;
use axum::response::{IntoResponse, Response};
use utoipa::openapi::OpenApi;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(openapi_json))
}

/// The served document, shared once built.
#[derive(Clone)]
pub struct Document(pub Arc<String>);

/// This document.
#[utoipa::path(get, path = "/openapi.json", tag = "operations",
    responses((status = 200, description = "The OpenAPI 3.1 document", content_type = "application/json")))]
async fn openapi_json(Extension(doc): Extension<Document>) -> Response {
    (
        [("content-type", "application/json")],
        doc.0.as_str().to_owned(),
    )
        .into_response()
}

/// Title, version and the bearer scheme.
pub fn finish(mut api: OpenApi) -> OpenApi {
    api.info.title = "mmm".into();
    api.info.version = env!("CARGO_PKG_VERSION").into();
    api.info.description = Some("Multi-tenant Marketing Mix Modeling platform".into());
    let components = api.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        "bearer",
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .bearer_format("JWT")
                .build(),
        ),
    );
    api
}

/// Every (path template, METHOD) the document describes.
pub fn routes(api: &OpenApi) -> BTreeSet<(String, String)> {
    let mut routes = BTreeSet::new();
    for (path, item) in &api.paths.paths {
        let methods = [
            ("GET", item.get.is_some()),
            ("POST", item.post.is_some()),
            ("PUT", item.put.is_some()),
            ("PATCH", item.patch.is_some()),
            ("DELETE", item.delete.is_some()),
        ];
        for (method, present) in methods {
            if present {
                routes.insert((path.clone(), method.to_owned()));
            }
        }
    }
    routes
}
