//! `/tenant/users`: tenant admins manage their own tenant's users. The
//! creation path is shared with the platform admin's `/admin/tenants/{id}/users`.

use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::{ApiError, Problem};
use super::extract::{Json, Path, Query, TenantContext};
use super::pagination::{Page, PageQuery};
use super::state::AppState;
use super::validate;
use crate::auth::password;
use crate::db::users::User;
use crate::db::{OnConstraint, TenantTx, audit, users};
use crate::ids::{TenantId, UserId};
use crate::roles::TenantRole;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_users, create_tenant_user))
        .routes(routes!(get_user, update_user, delete_user))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    /// Stored trimmed and lower-cased; unique within the tenant.
    #[schema(format = Email, max_length = 254)]
    email: String,
    /// 12 to 256 characters.
    #[schema(min_length = 12, max_length = 256)]
    password: String,
    role: TenantRole,
}

/// Validates, hashes and inserts a user with its audit record in one transaction.
pub async fn create_user(
    app: &AppState,
    tenant: TenantId,
    body: NewUser,
    mut actor: audit::Entry<'_>,
) -> Result<User, ApiError> {
    let email = validate::email(&body.email)?;
    validate::new_password(&body.password)?;
    let hash = password::hash(body.password).await?;
    let mut tx = app.db.tenant_tx(tenant).await?;
    let user = users::insert(&mut tx, &email, &hash, body.role)
        .await
        .on_constraint("users_tenant_id_email_key", |_| {
            ApiError::conflict(
                "email_taken",
                "this tenant already has a user with this email",
            )
        })?;
    actor.details = json!({ "user": user.id, "email": user.email, "role": user.role });
    audit::record(tx.conn(), actor).await?;
    tx.commit().await?;
    Ok(user)
}

/// Creates a user in the caller's tenant.
#[utoipa::path(post, path = "/tenant/users", tag = "tenant", security(("bearer" = [])), request_body = NewUser,
    responses((status = 201, description = "The new user", body = User,
            links(("GetUser" = (operation_id = "get_user", parameters(("id" = "$response.body#/id")))),
                ("UpdateUser" = (operation_id = "update_user", parameters(("id" = "$response.body#/id")))),
                ("DeleteUser" = (operation_id = "delete_user", parameters(("id" = "$response.body#/id")))))),
        (status = 409, description = "The tenant has a user with this email", body = Problem)))]
async fn create_tenant_user(
    State(app): State<AppState>,
    ctx: TenantContext,
    Json(body): Json<NewUser>,
) -> Result<(StatusCode, Json<User>), ApiError> {
    let entry = ctx.audit("user.create", json!({}));
    let user = create_user(&app, ctx.tenant_id, body, entry).await?;
    Ok((StatusCode::CREATED, Json(user)))
}

/// The caller's tenant's users, a page at a time.
#[utoipa::path(get, path = "/tenant/users", tag = "tenant", security(("bearer" = [])), params(PageQuery),
    responses((status = 200, description = "A page of users", body = Page<User>,
            links(("GetUser" = (operation_id = "get_user", parameters(("id" = "$response.body#/items/0/id"))))))))]
async fn list_users(
    State(app): State<AppState>,
    ctx: TenantContext,
    Query(page): Query<PageQuery>,
) -> Result<Json<Page<User>>, ApiError> {
    let (limit, offset) = page.bounds()?;
    let mut tx = app.db.tenant_tx(ctx.tenant_id).await?;
    let (items, total) = users::list(&mut tx, limit, offset).await?;
    tx.commit().await?;
    Ok(Json(Page {
        items,
        total,
        limit,
        offset,
    }))
}

/// One user of the caller's tenant.
#[utoipa::path(get, path = "/tenant/users/{id}", tag = "tenant", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The user's id")),
    responses((status = 200, description = "The user", body = User)))]
async fn get_user(
    State(app): State<AppState>,
    ctx: TenantContext,
    Path(id): Path<UserId>,
) -> Result<Json<User>, ApiError> {
    let mut tx = app.db.tenant_tx(ctx.tenant_id).await?;
    let user = users::fetch(&mut tx, id)
        .await?
        .ok_or(ApiError::NotFound("user"))?;
    tx.commit().await?;
    Ok(Json(user))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateUser {
    role: TenantRole,
}

/// Changes a user's role; the tenant's last tenant admin keeps the role.
#[utoipa::path(patch, path = "/tenant/users/{id}", tag = "tenant", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The user's id")), request_body = UpdateUser,
    responses((status = 200, description = "The user as changed", body = User),
        (status = 409, description = "This would leave the tenant without a tenant admin", body = Problem)))]
async fn update_user(
    State(app): State<AppState>,
    ctx: TenantContext,
    Path(id): Path<UserId>,
    Json(body): Json<UpdateUser>,
) -> Result<Json<User>, ApiError> {
    let mut tx = app.db.tenant_tx(ctx.tenant_id).await?;
    let before = users::fetch(&mut tx, id)
        .await?
        .ok_or(ApiError::NotFound("user"))?;
    if before.role == TenantRole::TenantAdmin && body.role != TenantRole::TenantAdmin {
        keep_an_admin(&mut tx).await?;
    }
    let user = users::update_role(&mut tx, id, body.role)
        .await?
        .ok_or(ApiError::NotFound("user"))?;
    audit::record(
        tx.conn(),
        ctx.audit("user.update", json!({ "user": id, "role": body.role })),
    )
    .await?;
    tx.commit().await?;
    Ok(Json(user))
}

/// Deletes a user; not the tenant's last tenant admin.
#[utoipa::path(delete, path = "/tenant/users/{id}", tag = "tenant", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The user's id")),
    responses((status = 204, description = "Deleted"),
        (status = 409, description = "This would leave the tenant without a tenant admin", body = Problem)))]
async fn delete_user(
    State(app): State<AppState>,
    ctx: TenantContext,
    Path(id): Path<UserId>,
) -> Result<StatusCode, ApiError> {
    let mut tx = app.db.tenant_tx(ctx.tenant_id).await?;
    let user = users::fetch(&mut tx, id)
        .await?
        .ok_or(ApiError::NotFound("user"))?;
    if user.role == TenantRole::TenantAdmin {
        keep_an_admin(&mut tx).await?;
    }
    users::delete(&mut tx, id).await?;
    audit::record(tx.conn(), ctx.audit("user.delete", json!({ "user": id }))).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A tenant must keep at least one admin, or nobody could manage it.
async fn keep_an_admin(tx: &mut TenantTx) -> Result<(), ApiError> {
    if users::count_admins(tx).await? <= 1 {
        return Err(ApiError::conflict(
            "last_admin",
            "a tenant must keep at least one tenant admin",
        ));
    }
    Ok(())
}
