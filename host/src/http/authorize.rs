//! The gate every route passes: on the anonymous `/auth` routes, the
//! per-address rate limit; then verify the bearer token, resolve the tenant
//! from it (a subdomain must agree), refuse suspended tenants and tokens
//! whose user was deleted or changed role, draw from the tenant's rate
//! limit, then ask casbin whether the role may call the matched route
//! template with this method. Denials and errors fail closed: 401 without
//! identity, 403 when denied, 429 over a limit.

use axum::extract::{MatchedPath, Request, State};
use axum::http::HeaderMap;
use axum::http::header::{AUTHORIZATION, HOST};
use axum::middleware::Next;
use axum::response::Response;

use super::error::ApiError;
use super::extract::Identity;
use super::state::AppState;
use crate::limits::Limited;
use crate::rbac::ANONYMOUS;
use crate::telemetry::metrics::RATE_LIMITED;

pub async fn authorize(
    State(app): State<AppState>,
    matched: MatchedPath,
    mut req: Request,
    next: Next,
) -> Result<Response, ApiError> {
    if ANONYMOUS_AUTH.contains(&matched.as_str()) {
        let client = app.limits.clients.client(req.headers(), req.extensions());
        app.limits
            .clients
            .check(client)
            .map_err(|l| rate_limited("auth", l))?;
    }
    let identity = identify(&app, req.headers()).await?;
    if let Some(tenant) = identity.as_ref().and_then(|i| i.tenant.as_ref()) {
        app.limits
            .tenants
            .check(tenant)
            .map_err(|l| rate_limited("tenant", l))?;
    }
    let span = tracing::Span::current();
    span.record("route", matched.as_str());
    if let Some(identity) = &identity {
        span.record("user", tracing::field::display(identity.subject));
        if let Some(tenant) = &identity.tenant {
            span.record("tenant", tracing::field::display(&tenant.tenant.slug));
        }
    }
    let subject = identity.as_ref().map_or(ANONYMOUS, |i| i.role.as_str());
    let allowed = app
        .rbac
        .allows(subject, matched.as_str(), req.method().as_str())
        .map_err(ApiError::internal)?;
    match (allowed, &identity) {
        (true, _) => {}
        (false, None) => {
            return Err(ApiError::unauthorized(
                "authentication_required",
                "sign in first",
            ));
        }
        (false, Some(_)) => {
            return Err(ApiError::forbidden(
                "forbidden",
                "your role may not do this",
            ));
        }
    }
    if let Some(identity) = identity {
        req.extensions_mut().insert(identity);
    }
    Ok(next.run(req).await)
}

/// The routes callers use before they hold an access token: where
/// guessing comes from, so limited per client address.
const ANONYMOUS_AUTH: [&str; 3] = ["/auth/login", "/auth/refresh", "/auth/logout"];

fn rate_limited(scope: &'static str, limited: Limited) -> ApiError {
    metrics::counter!(RATE_LIMITED, "scope" => scope).increment(1);
    ApiError::TooManyRequests {
        code: "rate_limited",
        message: match scope {
            "tenant" => "your tenant is over its request rate; slow down".into(),
            _ => "too many requests from your address; slow down".into(),
        },
        retry_after_secs: limited.retry_after_secs(),
    }
}

async fn identify(app: &AppState, headers: &HeaderMap) -> Result<Option<Identity>, ApiError> {
    let subdomain = headers
        .get(HOST)
        .and_then(|h| h.to_str().ok())
        .and_then(|host| app.settings.subdomain(host));
    let Some(header) = headers.get(AUTHORIZATION) else {
        return Ok(None);
    };
    let token = header
        .to_str()
        .ok()
        .and_then(|h| h.strip_prefix("Bearer "))
        .ok_or_else(|| {
            ApiError::unauthorized("invalid_token", "expected `Authorization: Bearer <token>`")
        })?;
    let claims = app.tokens.verify(token.trim())?;
    let tenant = match claims.tid {
        Some(id) => {
            let config = app
                .tenants
                .get(id)
                .await
                .map_err(ApiError::internal)?
                .ok_or_else(|| {
                    ApiError::unauthorized("invalid_token", "the token's tenant does not exist")
                })?;
            if !config.is_active() {
                return Err(ApiError::forbidden(
                    "tenant_suspended",
                    "this tenant is suspended",
                ));
            }
            app.tenants
                .accounts()
                .check(id, claims.sub, claims.role)
                .await
                .map_err(ApiError::internal)?
                .map_err(|revoked| ApiError::unauthorized("token_revoked", revoked.to_string()))?;
            Some(config)
        }
        None => None,
    };
    if let Some(slug) = subdomain
        && tenant.as_ref().is_none_or(|t| t.tenant.slug != slug)
    {
        return Err(ApiError::forbidden(
            "tenant_mismatch",
            "the subdomain names a different tenant than the token",
        ));
    }
    Ok(Some(Identity {
        subject: claims.sub,
        role: claims.role,
        tenant,
    }))
}
