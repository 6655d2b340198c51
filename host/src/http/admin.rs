//! `/admin`: platform administrators manage tenants, their users and their
//! feature flags. Tenant-owned rows are written through a tenant transaction
//! for the target tenant, so RLS holds even here; every change is audited in
//! the same transaction and invalidates the tenant's cached config.

use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::{ApiError, Problem};
use super::extract::{Json, Path, PlatformAdmin, Query};
use super::openapi::StoredJsonObject;
use super::pagination::{Page, PageQuery};
use super::state::AppState;
use super::users::{NewUser, create_user};
use super::validate;
use crate::db::features::Feature;
use crate::db::statistics::{PlatformStatistics, TenantStatistics};
use crate::db::tenants::{NewTenant, Tenant, TenantChanges};
use crate::db::users::User;
use crate::db::{self, OnConstraint, audit};
use crate::ids::TenantId;
use crate::roles::TenantStatus;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_tenants, create_tenant))
        .routes(routes!(get_tenant, update_tenant))
        .routes(routes!(tenant_statistics))
        .routes(routes!(list_tenant_users, create_tenant_user))
        .routes(routes!(list_features))
        .routes(routes!(set_feature))
        .routes(routes!(platform_statistics))
}

fn entry(
    admin: PlatformAdmin,
    tenant: TenantId,
    action: &'static str,
    details: serde_json::Value,
) -> audit::Entry<'static> {
    audit::Entry {
        tenant: Some(tenant),
        actor: admin.id.0,
        actor_role: "platform_admin",
        action,
        details,
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTenant {
    /// Lower-case DNS label; also the tenant's subdomain.
    #[schema(pattern = r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")]
    slug: String,
    /// 1 to 200 characters, not all blank, no control or invisible characters.
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\x00-\x1f\x7f-\x9f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb]*[^\s\x00-\x1f\x7f-\x9f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb][^\x00-\x1f\x7f-\x9f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb]*$"
    )]
    name: String,
    /// 1 to 50 characters, not all blank, no control or invisible characters. default `free`.
    #[schema(
        min_length = 1,
        max_length = 50,
        pattern = r"^[^\x00-\x1f\x7f-\x9f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb]*[^\s\x00-\x1f\x7f-\x9f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb][^\x00-\x1f\x7f-\x9f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb]*$"
    )]
    plan: Option<String>,
    /// A JSON object; default `{}`.
    #[schema(value_type = Option<StoredJsonObject>)]
    settings: Option<serde_json::Value>,
}

/// Creates a tenant.
#[utoipa::path(post, path = "/admin/tenants", tag = "admin", security(("bearer" = [])), request_body = CreateTenant,
    responses((status = 201, description = "The new tenant", body = Tenant),
        (status = 409, description = "A tenant with this slug exists", body = Problem)))]
async fn create_tenant(
    State(app): State<AppState>,
    admin: PlatformAdmin,
    Json(body): Json<CreateTenant>,
) -> Result<(StatusCode, Json<Tenant>), ApiError> {
    validate::slug(&body.slug)?;
    validate::text("name", &body.name, 200)?;
    let plan = body.plan.unwrap_or_else(|| "free".into());
    validate::text("plan", &plan, 50)?;
    let settings = body.settings.unwrap_or_else(|| json!({}));
    validate::tenant_settings(&settings)?;
    let mut tx = app.db.platform_tx().await?;
    let new = NewTenant {
        slug: &body.slug,
        name: body.name.trim(),
        plan: &plan,
        settings: &settings,
    };
    let tenant = db::tenants::insert(&mut tx, new)
        .await
        .on_constraint("tenants_slug_key", |_| {
            ApiError::conflict("slug_taken", "a tenant with this slug exists")
        })?;
    tx.act_for(tenant.id).await?;
    audit::record(
        tx.conn(),
        entry(
            admin,
            tenant.id,
            "tenant.create",
            json!({ "slug": tenant.slug }),
        ),
    )
    .await?;
    db::tenants::notify_changed(tx.conn(), tenant.id).await?;
    tx.commit().await?;
    app.tenants.invalidate(tenant.id).await;
    Ok((StatusCode::CREATED, Json(tenant)))
}

/// Every tenant, a page at a time.
#[utoipa::path(get, path = "/admin/tenants", tag = "admin", security(("bearer" = [])), params(PageQuery),
    responses((status = 200, description = "A page of tenants", body = Page<Tenant>)))]
async fn list_tenants(
    State(app): State<AppState>,
    _: PlatformAdmin,
    Query(page): Query<PageQuery>,
) -> Result<Json<Page<Tenant>>, ApiError> {
    let (limit, offset) = page.bounds()?;
    let mut tx = app.db.platform_tx().await?;
    let (items, total) = db::tenants::list(&mut tx, limit, offset).await?;
    tx.commit().await?;
    Ok(Json(Page {
        items,
        total,
        limit,
        offset,
    }))
}

async fn existing_tenant(app: &AppState, id: TenantId) -> Result<Tenant, ApiError> {
    let mut tx = app.db.platform_tx().await?;
    let tenant = db::tenants::fetch(&mut tx, id)
        .await?
        .ok_or(ApiError::NotFound("tenant"))?;
    tx.commit().await?;
    Ok(tenant)
}

/// One tenant.
#[utoipa::path(get, path = "/admin/tenants/{id}", tag = "admin", operation_id = "admin_get_tenant", security(("bearer" = [])), params(("id" = Uuid, Path, description = "The tenant's id")),
    responses((status = 200, description = "The tenant", body = Tenant)))]
async fn get_tenant(
    State(app): State<AppState>,
    _: PlatformAdmin,
    Path(id): Path<TenantId>,
) -> Result<Json<Tenant>, ApiError> {
    existing_tenant(&app, id).await.map(Json)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateTenant {
    /// 1 to 200 characters, not all blank, no control or invisible characters.
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\x00-\x1f\x7f-\x9f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb]*[^\s\x00-\x1f\x7f-\x9f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb][^\x00-\x1f\x7f-\x9f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb]*$"
    )]
    name: Option<String>,
    status: Option<TenantStatus>,
    /// 1 to 50 characters, not all blank, no control or invisible characters.
    #[schema(
        min_length = 1,
        max_length = 50,
        pattern = r"^[^\x00-\x1f\x7f-\x9f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb]*[^\s\x00-\x1f\x7f-\x9f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb][^\x00-\x1f\x7f-\x9f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb]*$"
    )]
    plan: Option<String>,
    /// A JSON object; replaces the settings whole.
    #[schema(value_type = Option<StoredJsonObject>)]
    settings: Option<serde_json::Value>,
}

/// Changes a tenant's name, status, plan or settings; absent fields stay.
#[utoipa::path(patch, path = "/admin/tenants/{id}", tag = "admin", security(("bearer" = [])), params(("id" = Uuid, Path, description = "The tenant's id")),
    request_body = UpdateTenant,
    responses((status = 200, description = "The tenant as changed", body = Tenant)))]
async fn update_tenant(
    State(app): State<AppState>,
    admin: PlatformAdmin,
    Path(id): Path<TenantId>,
    Json(body): Json<UpdateTenant>,
) -> Result<Json<Tenant>, ApiError> {
    if let Some(name) = &body.name {
        validate::text("name", name, 200)?;
    }
    if let Some(plan) = &body.plan {
        validate::text("plan", plan, 50)?;
    }
    if let Some(settings) = &body.settings {
        validate::tenant_settings(settings)?;
    }
    let details = json!({ "name": body.name, "status": body.status, "plan": body.plan, "settings": body.settings });
    let changes = TenantChanges {
        name: body.name,
        status: body.status,
        plan: body.plan,
        settings: body.settings,
    };
    let mut tx = app.db.platform_tx().await?;
    let tenant = db::tenants::update(&mut tx, id, changes)
        .await?
        .ok_or(ApiError::NotFound("tenant"))?;
    tx.act_for(id).await?;
    audit::record(tx.conn(), entry(admin, id, "tenant.update", details)).await?;
    db::tenants::notify_changed(tx.conn(), id).await?;
    tx.commit().await?;
    app.tenants.invalidate(id).await;
    Ok(Json(tenant))
}

/// Counts of one tenant's users, features, audit events, plugins and runs.
#[utoipa::path(get, path = "/admin/tenants/{id}/statistics", tag = "admin", security(("bearer" = [])), params(("id" = Uuid, Path, description = "The tenant's id")),
    responses((status = 200, description = "The tenant's counts", body = TenantStatistics)))]
async fn tenant_statistics(
    State(app): State<AppState>,
    _: PlatformAdmin,
    Path(id): Path<TenantId>,
) -> Result<Json<TenantStatistics>, ApiError> {
    let mut tx = app.db.platform_tx().await?;
    db::tenants::fetch(&mut tx, id)
        .await?
        .ok_or(ApiError::NotFound("tenant"))?;
    let stats = db::statistics::for_tenant(&mut tx, id).await?;
    tx.commit().await?;
    Ok(Json(stats))
}

/// Counts across the platform.
#[utoipa::path(get, path = "/admin/statistics", tag = "admin", security(("bearer" = [])),
    responses((status = 200, description = "The platform's counts", body = PlatformStatistics)))]
async fn platform_statistics(
    State(app): State<AppState>,
    _: PlatformAdmin,
) -> Result<Json<PlatformStatistics>, ApiError> {
    let mut tx = app.db.platform_tx().await?;
    let stats = db::statistics::platform(&mut tx).await?;
    tx.commit().await?;
    Ok(Json(stats))
}

/// Creates a user in a tenant, e.g. its first tenant admin.
#[utoipa::path(post, path = "/admin/tenants/{id}/users", tag = "admin", operation_id = "admin_create_tenant_user", security(("bearer" = [])), params(("id" = Uuid, Path, description = "The tenant's id")),
    request_body = NewUser,
    responses((status = 201, description = "The new user", body = User),
        (status = 409, description = "The tenant has a user with this email", body = Problem)))]
async fn create_tenant_user(
    State(app): State<AppState>,
    admin: PlatformAdmin,
    Path(id): Path<TenantId>,
    Json(body): Json<NewUser>,
) -> Result<(StatusCode, Json<User>), ApiError> {
    existing_tenant(&app, id).await?;
    let actor = audit::Entry {
        tenant: Some(id),
        actor: admin.id.0,
        actor_role: "platform_admin",
        action: "user.create",
        details: json!({}),
    };
    let user = create_user(&app, id, body, actor).await?;
    Ok((StatusCode::CREATED, Json(user)))
}

/// A tenant's users, a page at a time.
#[utoipa::path(get, path = "/admin/tenants/{id}/users", tag = "admin", security(("bearer" = [])), params(("id" = Uuid, Path, description = "The tenant's id"), PageQuery),
    responses((status = 200, description = "A page of the tenant's users", body = Page<User>)))]
async fn list_tenant_users(
    State(app): State<AppState>,
    _: PlatformAdmin,
    Path(id): Path<TenantId>,
    Query(page): Query<PageQuery>,
) -> Result<Json<Page<User>>, ApiError> {
    let (limit, offset) = page.bounds()?;
    existing_tenant(&app, id).await?;
    let mut tx = app.db.tenant_tx(id).await?;
    let (items, total) = db::users::list(&mut tx, limit, offset).await?;
    tx.commit().await?;
    Ok(Json(Page {
        items,
        total,
        limit,
        offset,
    }))
}

/// A tenant's feature flags, enabled or not.
#[utoipa::path(get, path = "/admin/tenants/{id}/features", tag = "admin", security(("bearer" = [])), params(("id" = Uuid, Path, description = "The tenant's id")),
    responses((status = 200, description = "The tenant's features", body = Vec<Feature>)))]
async fn list_features(
    State(app): State<AppState>,
    _: PlatformAdmin,
    Path(id): Path<TenantId>,
) -> Result<Json<Vec<Feature>>, ApiError> {
    existing_tenant(&app, id).await?;
    let mut tx = app.db.tenant_tx(id).await?;
    let features = db::features::list(&mut tx).await?;
    tx.commit().await?;
    Ok(Json(features))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetFeature {
    enabled: bool,
    /// Feature-specific settings, a JSON object; default `{}`.
    #[schema(value_type = Option<StoredJsonObject>)]
    config: Option<serde_json::Value>,
}

/// Switches a feature on or off for a tenant, with its config; the change
/// reaches every instance at once.
#[utoipa::path(put, path = "/admin/tenants/{id}/features/{key}", tag = "admin", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The tenant's id"), ("key" = String, Path, pattern = r"^[a-z0-9_:.\-]{1,100}$",
        description = "The feature's key, e.g. `plugin:winsorize`")),
    request_body = SetFeature,
    responses((status = 200, description = "The feature as set", body = Feature)))]
async fn set_feature(
    State(app): State<AppState>,
    admin: PlatformAdmin,
    Path((id, key)): Path<(TenantId, String)>,
    Json(body): Json<SetFeature>,
) -> Result<Json<Feature>, ApiError> {
    validate::feature_key(&key)?;
    let config = body.config.unwrap_or_else(|| json!({}));
    validate::json_object("config", &config)?;
    existing_tenant(&app, id).await?;
    let mut tx = app.db.tenant_tx(id).await?;
    let feature = db::features::upsert(&mut tx, &key, body.enabled, &config).await?;
    let details = json!({ "key": key, "enabled": body.enabled, "config": config });
    audit::record(tx.conn(), entry(admin, id, "feature.set", details)).await?;
    db::tenants::notify_changed(tx.conn(), id).await?;
    tx.commit().await?;
    app.tenants.invalidate(id).await;
    Ok(Json(feature))
}
