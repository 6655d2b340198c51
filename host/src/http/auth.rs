//! `/auth`: log in, rotate refresh tokens, log out, and say who I am.

use axum::extract::State;
use axum::http::header::HOST;
use axum::http::{HeaderMap, StatusCode};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::error::{ApiError, Problem};
use super::extract::{Identity, Json};
use super::state::AppState;
use super::validate;
use crate::auth::password::{self, Hasher, PasswordError, Slot};
use crate::auth::refresh::{self, Scope};
use crate::auth::throttle::Attempt;
use crate::db::refresh_tokens::{self, Claim, TokenStore};
use crate::db::{self, OnConstraint, platform_admins, users};
use crate::ids::{AdminId, TenantId, UserId};
use crate::roles::Role;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(login))
        .routes(routes!(refresh_tokens_route))
        .routes(routes!(logout))
        .routes(routes!(me))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    email: String,
    password: String,
    /// The tenant's slug; may be omitted when the request's subdomain names it.
    /// Platform admins log in without one.
    tenant: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct TokenResponse {
    access_token: String,
    refresh_token: String,
    token_type: &'static str,
    expires_in: u64,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    refresh_token: String,
}

fn bad_credentials() -> ApiError {
    ApiError::unauthorized("invalid_credentials", "wrong email or password")
}

/// Every hashing slot stayed busy: 503, come back shortly.
fn hashing_failed(e: PasswordError) -> ApiError {
    match e {
        PasswordError::Busy => ApiError::Unavailable {
            code: "login_busy",
            message: "too many sign-ins are being checked at once; try again shortly".into(),
            retry_after_secs: password::BUSY_RETRY_AFTER_SECS,
        },
        other => other.into(),
    }
}

/// Unknown users, unknown tenants and wrong passwords all answer alike.
#[utoipa::path(post, path = "/auth/login", tag = "auth", request_body = LoginRequest,
    responses((status = 200, description = "Signed in", body = TokenResponse),
        (status = 401, description = "Wrong email or password, or no such tenant", body = Problem),
        (status = 403, description = "The tenant is suspended, or the subdomain names another tenant", body = Problem),
        (status = 429, description = "Too many failed attempts for this account; try again later", body = Problem),
        (status = 503, description = "Too many sign-ins being checked at once; retry after `Retry-After`", body = Problem)))]
async fn login(
    State(app): State<AppState>,
    headers: HeaderMap,
    Json(body): Json<LoginRequest>,
) -> Result<Json<TokenResponse>, ApiError> {
    let subdomain = headers
        .get(HOST)
        .and_then(|h| h.to_str().ok())
        .and_then(|host| app.settings.subdomain(host));
    let slug = match (subdomain, body.tenant.as_deref()) {
        (Some(a), Some(b)) if a != b => {
            return Err(ApiError::forbidden(
                "tenant_mismatch",
                "the subdomain names another tenant",
            ));
        }
        (a, b) => a.or(b).map(str::to_owned),
    };
    let email = body.email.trim().to_lowercase();
    // The hashing slot comes first, so that a login refused for want of one
    // is not counted as an attempt on the account.
    let slot = Hasher::global().slot().await.map_err(hashing_failed)?;
    if let Attempt::Locked { retry_after } = app.throttle.attempt(slug.as_deref(), &email).await? {
        slot.release();
        return Err(ApiError::TooManyRequests {
            code: "too_many_requests",
            message: "too many failed attempts for this account; try again later".into(),
            retry_after_secs: retry_after.as_secs().max(1).try_into().unwrap_or(u32::MAX),
        });
    }
    let issued = match &slug {
        Some(slug) => login_tenant_user(&app, slug, &email, body.password, slot).await?,
        None => login_platform_admin(&app, &email, body.password, slot).await?,
    };
    match issued {
        Some(tokens) => {
            app.throttle.clear(slug.as_deref(), &email).await?;
            Ok(Json(tokens))
        }
        None => Err(bad_credentials()),
    }
}

async fn login_tenant_user(
    app: &AppState,
    slug: &str,
    email: &str,
    password: String,
    slot: Slot,
) -> Result<Option<TokenResponse>, ApiError> {
    let mut platform = app.db.platform_tx().await?;
    let tenant = db::tenants::id_by_slug(&mut platform, slug).await?;
    platform.commit().await?;
    let Some(tenant) = tenant else {
        slot.check(password, None).await?;
        return Ok(None);
    };
    // No connection is held while the password is hashed or while the
    // tenant's config loads (which takes a connection of its own): holding
    // one across either let N concurrent logins exhaust a pool of N.
    let mut tx = app.db.tenant_tx(tenant).await?;
    let user = users::credentials(&mut tx, email).await?;
    tx.commit().await?;
    let hash = user.as_ref().map(|u| u.password_hash.clone());
    let checked = slot.check(password, hash).await?;
    if !checked.matches {
        return Ok(None);
    }
    let user = user.ok_or_else(bad_credentials)?;
    ensure_active(app, tenant).await?;
    let mut tx = app.db.tenant_tx(tenant).await?;
    if let Some(upgraded) = checked.upgraded {
        sqlx::query("update users set password_hash = $1 where id = $2")
            .bind(upgraded)
            .bind(user.id.0)
            .execute(tx.conn())
            .await?;
    }
    let tokens = issue(
        app,
        &mut tx,
        user.id.0,
        Some(tenant),
        user.role.into(),
        Uuid::new_v4(),
    )
    .await?;
    tx.commit().await?;
    Ok(Some(tokens))
}

async fn login_platform_admin(
    app: &AppState,
    email: &str,
    password: String,
    slot: Slot,
) -> Result<Option<TokenResponse>, ApiError> {
    let mut tx = app.db.platform_tx().await?;
    let admin = platform_admins::credentials(&mut tx, email).await?;
    tx.commit().await?;
    let hash = admin.as_ref().map(|a| a.password_hash.clone());
    let checked = slot.check(password, hash).await?;
    if !checked.matches {
        return Ok(None);
    }
    let admin = admin.ok_or_else(bad_credentials)?;
    let mut tx = app.db.platform_tx().await?;
    if let Some(upgraded) = checked.upgraded {
        sqlx::query("update platform_admins set password_hash = $1 where id = $2")
            .bind(upgraded)
            .bind(admin.id.0)
            .execute(tx.conn())
            .await?;
    }
    let tokens = issue(
        app,
        &mut tx,
        admin.id.0,
        None,
        Role::PlatformAdmin,
        Uuid::new_v4(),
    )
    .await?;
    tx.commit().await?;
    Ok(Some(tokens))
}

async fn ensure_active(app: &AppState, tenant: TenantId) -> Result<(), ApiError> {
    let config = app.tenants.get(tenant).await.map_err(ApiError::internal)?;
    match config {
        Some(config) if config.is_active() => Ok(()),
        Some(_) => Err(ApiError::forbidden(
            "tenant_suspended",
            "this tenant is suspended",
        )),
        None => Err(bad_credentials()),
    }
}

/// An access token and a refresh token in `family`, stored in `store`'s transaction.
async fn issue(
    app: &AppState,
    store: &mut impl TokenStore,
    subject: Uuid,
    tenant: Option<TenantId>,
    role: Role,
    family: Uuid,
) -> Result<TokenResponse, ApiError> {
    let access_token = app.tokens.issue(subject, tenant, role)?;
    let scope = tenant.map_or(Scope::Platform, Scope::Tenant);
    let (refresh_token, hash) = refresh::generate(scope);
    let expires_at = chrono::Utc::now()
        + chrono::Duration::from_std(app.settings.refresh_ttl).map_err(ApiError::internal)?;
    refresh_tokens::insert(store, subject, family, &hash, expires_at).await?;
    Ok(TokenResponse {
        access_token,
        refresh_token,
        token_type: "Bearer",
        expires_in: app.tokens.access_ttl_secs(),
    })
}

fn bad_refresh() -> ApiError {
    ApiError::unauthorized(
        "invalid_refresh_token",
        "the refresh token is invalid, used or expired",
    )
}

/// Each refresh token works once; presenting a used one revokes its family.
#[utoipa::path(post, path = "/auth/refresh", tag = "auth", request_body = RefreshRequest,
    responses((status = 200, description = "A new token pair in the same family", body = TokenResponse),
        (status = 401, description = "The refresh token is invalid, used or expired", body = Problem),
        (status = 403, description = "The token's tenant is suspended", body = Problem)))]
async fn refresh_tokens_route(
    State(app): State<AppState>,
    Json(body): Json<RefreshRequest>,
) -> Result<Json<TokenResponse>, ApiError> {
    let (scope, hash) = refresh::parse(&body.refresh_token).ok_or_else(bad_refresh)?;
    match scope {
        Scope::Tenant(tenant) => {
            ensure_active(&app, tenant).await.map_err(|e| match e {
                ApiError::Unauthorized { .. } => bad_refresh(),
                other => other,
            })?;
            let mut tx = app.db.tenant_tx(tenant).await?;
            let claim = refresh_tokens::claim(&mut tx, &hash).await?;
            let Claim::Fresh { subject, family } = claim else {
                tx.commit().await?;
                return Err(bad_refresh());
            };
            let user = users::fetch(&mut tx, UserId(subject))
                .await?
                .ok_or_else(bad_refresh)?;
            let tokens = issue(
                &app,
                &mut tx,
                subject,
                Some(tenant),
                user.role.into(),
                family,
            )
            .await?;
            tx.commit().await?;
            Ok(Json(tokens))
        }
        Scope::Platform => {
            let mut tx = app.db.platform_tx().await?;
            let claim = refresh_tokens::claim(&mut tx, &hash).await?;
            let Claim::Fresh { subject, family } = claim else {
                tx.commit().await?;
                return Err(bad_refresh());
            };
            let tokens = issue(&app, &mut tx, subject, None, Role::PlatformAdmin, family).await?;
            tx.commit().await?;
            Ok(Json(tokens))
        }
    }
}

/// Revokes the refresh token's whole family. Unknown tokens are ignored.
#[utoipa::path(post, path = "/auth/logout", tag = "auth", request_body = RefreshRequest,
    responses((status = 204, description = "Signed out"),
        (status = 401, description = "Not a refresh token this server issues", body = Problem)))]
async fn logout(
    State(app): State<AppState>,
    Json(body): Json<RefreshRequest>,
) -> Result<StatusCode, ApiError> {
    let (scope, hash) = refresh::parse(&body.refresh_token).ok_or_else(bad_refresh)?;
    match scope {
        Scope::Tenant(tenant) => {
            let mut tx = app.db.tenant_tx(tenant).await?;
            refresh_tokens::revoke(&mut tx, &hash).await?;
            tx.commit().await?;
        }
        Scope::Platform => {
            let mut tx = app.db.platform_tx().await?;
            refresh_tokens::revoke(&mut tx, &hash).await?;
            tx.commit().await?;
        }
    }
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize, ToSchema)]
pub struct MeResponse {
    id: Uuid,
    email: String,
    role: Role,
    tenant: Option<MeTenant>,
    /// The tenant's enabled feature keys.
    features: Vec<String>,
}

#[derive(Serialize, ToSchema)]
pub struct MeTenant {
    id: TenantId,
    slug: String,
    name: String,
    plan: String,
}

/// Who the caller is: account, role, tenant and its enabled features.
#[utoipa::path(get, path = "/auth/me", tag = "auth", security(("bearer" = [])),
    responses((status = 200, description = "The caller", body = MeResponse)))]
async fn me(State(app): State<AppState>, identity: Identity) -> Result<Json<MeResponse>, ApiError> {
    let gone = || ApiError::unauthorized("invalid_token", "this account no longer exists");
    let Some(config) = identity.tenant else {
        let mut tx = app.db.platform_tx().await?;
        let admin = platform_admins::fetch(&mut tx, AdminId(identity.subject))
            .await?
            .ok_or_else(gone)?;
        tx.commit().await?;
        return Ok(Json(MeResponse {
            id: admin.id.0,
            email: admin.email,
            role: Role::PlatformAdmin,
            tenant: None,
            features: vec![],
        }));
    };
    // The account cache that checked the token holds the user (it is
    // dropped on every instance when the user's row changes).
    let account = app
        .tenants
        .accounts()
        .account(config.tenant.id, identity.subject)
        .await
        .map_err(ApiError::internal)?
        .ok_or_else(gone)?;
    Ok(Json(MeResponse {
        id: identity.subject,
        email: account.email,
        role: account.role,
        features: config.enabled_features(),
        tenant: Some(MeTenant {
            id: config.tenant.id,
            slug: config.tenant.slug.clone(),
            name: config.tenant.name.clone(),
            plan: config.tenant.plan.clone(),
        }),
    }))
}

/// Used by the bootstrap and the CLI: creates a platform admin.
pub async fn create_platform_admin(
    db: &db::Db,
    email: &str,
    password: String,
) -> Result<AdminId, ApiError> {
    let email = validate::email(email)?;
    validate::new_password(&password)?;
    let hash = password::hash(password).await?;
    let mut tx = db.platform_tx().await?;
    let id = platform_admins::insert(&mut tx, &email, &hash)
        .await
        .on_constraint("platform_admins_email_key", |_| {
            ApiError::conflict("email_taken", "a platform admin with this email exists")
        })?;
    tx.commit().await?;
    Ok(id)
}

#[cfg(test)]
mod tests {
    use axum::response::IntoResponse;

    use super::*;

    #[test]
    fn a_login_without_a_hashing_slot_is_a_503_with_retry_after() {
        let response = hashing_failed(PasswordError::Busy).into_response();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(
            response.headers()[axum::http::header::RETRY_AFTER],
            password::BUSY_RETRY_AFTER_SECS.to_string().as_str()
        );
        let other = hashing_failed(PasswordError::Hash("broken".into()));
        assert_eq!(other.status(), StatusCode::INTERNAL_SERVER_ERROR);
    }
}
