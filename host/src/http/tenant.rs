//! `/tenant`: what a tenant's users see of their own tenant.

use std::collections::BTreeMap;

use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::ApiError;
use super::extract::{Json, TenantContext};
use super::state::AppState;
use crate::db::tenants::Tenant;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_tenant))
        .merge(super::users::router())
}

#[derive(Serialize, ToSchema)]
pub struct TenantView {
    tenant: Tenant,
    /// Feature key to its config, for enabled features only.
    features: BTreeMap<String, serde_json::Value>,
}

/// The caller's tenant and its enabled features, from the cached config.
#[utoipa::path(get, path = "/tenant", tag = "tenant", security(("bearer" = [])),
    responses((status = 200, description = "The tenant and its enabled features", body = TenantView)))]
async fn get_tenant(ctx: TenantContext) -> Result<Json<TenantView>, ApiError> {
    let features = ctx
        .config
        .features
        .iter()
        .filter(|f| f.enabled)
        .map(|f| (f.key.clone(), f.config.clone()))
        .collect();
    Ok(Json(TenantView {
        tenant: ctx.config.tenant.clone(),
        features,
    }))
}
