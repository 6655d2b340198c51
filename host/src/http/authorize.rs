//! The gate every route passes: on the anonymous `/auth` routes, the
//! per-address rate limit; then verify the bearer token, resolve the tenant
//! from it (a subdomain must agree), refuse suspended tenants and tokens
//! whose user was deleted or changed role, draw from the tenant's rate
//! limit, then ask casbin whether the role may call the matched route
//! template with this method. Denials and errors fail closed: 401 without
//! identity, 403 when denied, 429 over a limit.
//!
//! Every authentication failure and denial is logged as a security event
//! (target `mmm::security`: route, method, the caller's tenant, user and
//! role as far as known, the subdomain asked for, the decision and its
//! code), never with the token.
//!
//! `HEAD` is authorised as `GET`: it is the same request without a body
//! (RFC 9110 §9.3.2), and axum answers it with the GET handler.

use axum::extract::{MatchedPath, Request, State};
use axum::http::header::{AUTHORIZATION, HOST};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use uuid::Uuid;

use super::error::ApiError;
use super::extract::Identity;
use super::state::AppState;
use crate::ids::TenantId;
use crate::limits::Limited;
use crate::rbac::ANONYMOUS;
use crate::roles::Role;
use crate::telemetry::metrics::RATE_LIMITED;

pub async fn authorize(
    State(app): State<AppState>,
    matched: MatchedPath,
    req: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let method = req.method().clone();
    let subdomain = subdomain(&app, req.headers()).map(str::to_owned);
    match gate(&app, &matched, req).await {
        Ok(req) => Ok(next.run(req).await),
        Err(Denied { error, caller }) => {
            log_denial(&matched, &method, subdomain.as_deref(), &caller, &error);
            Err(error)
        }
    }
}

/// Who a refused caller was, as far as the gate got: nothing for a missing
/// or forged token, the token's claims once it verified.
#[derive(Default)]
struct Caller {
    user: Option<Uuid>,
    role: Option<Role>,
    tenant: Option<TenantId>,
}

impl Caller {
    fn of(identity: &Identity) -> Self {
        Self {
            user: Some(identity.subject),
            role: Some(identity.role),
            tenant: identity.tenant.as_ref().map(|t| t.tenant.id),
        }
    }
}

struct Denied {
    error: ApiError,
    caller: Caller,
}

impl Denied {
    fn anonymous(error: ApiError) -> Self {
        Self {
            error,
            caller: Caller::default(),
        }
    }
}

/// The checks, in order.
async fn gate(app: &AppState, matched: &MatchedPath, mut req: Request) -> Result<Request, Denied> {
    if ANONYMOUS_AUTH.contains(&matched.as_str()) {
        let client = app.limits.clients.client(req.headers(), req.extensions());
        app.limits
            .clients
            .check(client)
            .map_err(|l| Denied::anonymous(rate_limited("auth", l)))?;
    }
    let identity = identify(app, req.headers()).await?;
    let caller = identity.as_ref().map(Caller::of).unwrap_or_default();
    if let Some(tenant) = identity.as_ref().and_then(|i| i.tenant.as_ref())
        && let Err(l) = app.limits.tenants.check(tenant)
    {
        let error = rate_limited("tenant", l);
        return Err(Denied { error, caller });
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
    let method = match req.method() {
        &Method::HEAD => Method::GET,
        other => other.clone(),
    };
    let allowed = app
        .rbac
        .allows(subject, matched.as_str(), method.as_str())
        .map_err(|e| Denied {
            error: ApiError::internal(e),
            caller: Caller::default(),
        })?;
    match (allowed, identity) {
        (true, identity) => {
            if let Some(identity) = identity {
                req.extensions_mut().insert(identity);
            }
            Ok(req)
        }
        (false, None) => Err(Denied::anonymous(ApiError::unauthorized(
            "authentication_required",
            "sign in first",
        ))),
        (false, Some(_)) => Err(Denied {
            error: ApiError::forbidden("forbidden", "your role may not do this"),
            caller,
        }),
    }
}

/// A refusal as a security event. Rate limits are load rather than an
/// attempt on an account, and internal errors are logged where they are
/// answered: both are counted in the metrics instead.
fn log_denial(
    matched: &MatchedPath,
    method: &Method,
    subdomain: Option<&str>,
    caller: &Caller,
    error: &ApiError,
) {
    if matches!(
        error,
        ApiError::TooManyRequests { .. } | ApiError::Internal(_)
    ) {
        return;
    }
    let decision = if error.status() == StatusCode::UNAUTHORIZED {
        "unauthenticated"
    } else {
        "forbidden"
    };
    tracing::warn!(
        target: "mmm::security",
        route = matched.as_str(),
        %method,
        tenant = caller.tenant.map(tracing::field::display),
        user = caller.user.map(tracing::field::display),
        role = caller.role.map(Role::as_str),
        subdomain,
        decision,
        code = error.code(),
        "request refused"
    );
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

fn subdomain<'h>(app: &AppState, headers: &'h HeaderMap) -> Option<&'h str> {
    headers
        .get(HOST)
        .and_then(|h| h.to_str().ok())
        .and_then(|host| app.settings.subdomain(host))
}

/// The token of an `Authorization` header: the scheme is case-insensitive
/// (RFC 9110 §11.1), the token follows after whitespace.
fn bearer(header: &str) -> Option<&str> {
    let (scheme, token) = header.trim_start().split_once([' ', '\t'])?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

async fn identify(app: &AppState, headers: &HeaderMap) -> Result<Option<Identity>, Denied> {
    let subdomain = subdomain(app, headers);
    let Some(header) = headers.get(AUTHORIZATION) else {
        return Ok(None);
    };
    let token = header.to_str().ok().and_then(bearer).ok_or_else(|| {
        Denied::anonymous(ApiError::unauthorized(
            "invalid_token",
            "expected `Authorization: Bearer <token>`",
        ))
    })?;
    let claims = app
        .tokens
        .verify(token)
        .map_err(|e| Denied::anonymous(e.into()))?;
    let caller = || Caller {
        user: Some(claims.sub),
        role: Some(claims.role),
        tenant: claims.tid,
    };
    let denied = |error| Denied {
        error,
        caller: caller(),
    };
    let tenant = match claims.tid {
        Some(id) => {
            let config = app
                .tenants
                .get(id)
                .await
                .map_err(|e| denied(ApiError::internal(e)))?
                .ok_or_else(|| {
                    denied(ApiError::unauthorized(
                        "invalid_token",
                        "the token's tenant does not exist",
                    ))
                })?;
            if !config.is_active() {
                return Err(denied(ApiError::forbidden(
                    "tenant_suspended",
                    "this tenant is suspended",
                )));
            }
            app.tenants
                .accounts()
                .check(id, claims.sub, claims.role)
                .await
                .map_err(|e| denied(ApiError::internal(e)))?
                .map_err(|revoked| {
                    denied(ApiError::unauthorized("token_revoked", revoked.to_string()))
                })?;
            Some(config)
        }
        None => None,
    };
    if let Some(slug) = subdomain
        && tenant.as_ref().is_none_or(|t| t.tenant.slug != slug)
    {
        return Err(denied(ApiError::forbidden(
            "tenant_mismatch",
            "the subdomain names a different tenant than the token",
        )));
    }
    Ok(Some(Identity {
        subject: claims.sub,
        role: claims.role,
        tenant,
    }))
}

#[cfg(test)]
mod tests {
    use super::bearer;

    #[test]
    fn the_bearer_scheme_is_case_insensitive_and_the_token_required() {
        assert_eq!(bearer("Bearer abc"), Some("abc"));
        assert_eq!(bearer("bearer abc"), Some("abc"));
        assert_eq!(bearer("BEARER \t abc "), Some("abc"));
        assert_eq!(bearer("Bearer "), None);
        assert_eq!(bearer("Bearerabc"), None);
        assert_eq!(bearer("Basic abc"), None);
        assert_eq!(bearer(""), None);
    }
}
