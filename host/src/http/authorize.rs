//! The gate every route passes: verify the bearer token, resolve the tenant
//! from it (a subdomain must agree), refuse suspended tenants, then ask casbin
//! whether the role may call the matched route template with this method.
//! Denials and errors fail closed: 401 without identity, 403 when denied.

use axum::extract::{MatchedPath, Request, State};
use axum::http::HeaderMap;
use axum::http::header::{AUTHORIZATION, HOST};
use axum::middleware::Next;
use axum::response::Response;

use super::error::ApiError;
use super::extract::Identity;
use super::state::AppState;
use crate::rbac::ANONYMOUS;

pub async fn authorize(
    State(app): State<AppState>,
    matched: MatchedPath,
    mut req: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let identity = identify(&app, req.headers()).await?;
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
