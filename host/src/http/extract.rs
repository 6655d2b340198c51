//! Extractors whose rejections are problem responses naming what was wrong:
//! JSON bodies, query strings, path ids, and the caller's identity.

use std::sync::Arc;

use axum::extract::rejection::{JsonRejection, PathRejection};
use axum::extract::{FromRequest, FromRequestParts, RawPathParams, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;
use uuid::Uuid;

use super::error::ApiError;
use super::nul;
use crate::ids::{AdminId, TenantId, UserId};
use crate::roles::Role;
use crate::tenant_config::TenantConfig;

/// A JSON body: malformed JSON is 400, a NUL character anywhere, a wrong or
/// unknown field 422 naming it, a missing content type 415, an oversize
/// body 413. The body is read as a JSON value first so that every string in
/// it is checked for NUL (see [`super::nul`]) before it is typed.
pub struct Json<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Json<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let axum::Json(value) = axum::Json::<serde_json::Value>::from_request(req, state)
            .await
            .map_err(json_rejection)?;
        typed(value, "").map(Json)
    }
}

/// A JSON value as `T`: NUL refused anywhere in it, a typing error a 422
/// naming the field, paths below `root` (`meta.roles.kpi`; `root` may be empty).
pub fn typed<T: DeserializeOwned>(value: serde_json::Value, root: &str) -> Result<T, ApiError> {
    nul::check_json(&value, root)?;
    serde_path_to_error::deserialize(value).map_err(|e| match data_error(e) {
        ApiError::Invalid {
            code,
            field,
            message,
        } if !root.is_empty() => ApiError::Invalid {
            code,
            field: Some(field.map_or(root.to_owned(), |f| format!("{root}.{f}"))),
            message: format!("{root}: {message}"),
        },
        other => other,
    })
}

impl<T: serde::Serialize> axum::response::IntoResponse for Json<T> {
    fn into_response(self) -> axum::response::Response {
        axum::Json(self.0).into_response()
    }
}

fn json_rejection(rejection: JsonRejection) -> ApiError {
    let text = rejection.body_text();
    match rejection.status() {
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::PayloadTooLarge {
            limit: super::MAX_JSON_BODY_BYTES,
        },
        StatusCode::UNSUPPORTED_MEDIA_TYPE => {
            ApiError::UnsupportedMediaType("expected `Content-Type: application/json`".into())
        }
        _ => ApiError::BadRequest {
            code: "malformed_json",
            message: text,
        },
    }
}

/// A typing error as a 422 naming the field: serde_path_to_error gives the
/// path to the value that failed; unknown and missing fields name themselves
/// (in backticks) below that path.
fn data_error<E: std::fmt::Display>(e: serde_path_to_error::Error<E>) -> ApiError {
    let path = e.path().to_string();
    let path = if path == "." { String::new() } else { path };
    let message = e.inner().to_string();
    let quoted = |prefix: &str| {
        message
            .find(prefix)
            .and_then(|at| message[at + prefix.len()..].split('`').next())
            .map(str::to_owned)
    };
    let below = |name: String| {
        if path.is_empty() || path == name || path.ends_with(&format!(".{name}")) {
            if path.is_empty() { name } else { path.clone() }
        } else {
            format!("{path}.{name}")
        }
    };
    let (code, field) = if let Some(name) = quoted("unknown field `") {
        ("unknown_field", Some(below(name)))
    } else if let Some(name) = quoted("missing field `") {
        ("missing_field", Some(below(name)))
    } else {
        ("invalid_value", (!path.is_empty()).then(|| path.clone()))
    };
    let message = match &field {
        Some(field) if code == "invalid_value" => format!("{field}: {message}"),
        _ => message,
    };
    ApiError::Invalid {
        code,
        field,
        message,
    }
}

/// A query string; NUL in any parameter, or anything that does not parse,
/// is 422 `invalid_query` naming the parameter (`field`) where there is one.
pub struct Query<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Query<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or("").as_bytes();
        nul::check_params(form_urlencoded::parse(query))?;
        let params = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query));
        serde_path_to_error::deserialize(params)
            .map(Query)
            .map_err(|e| match data_error(e) {
                ApiError::Invalid { field, message, .. } => ApiError::Invalid {
                    code: "invalid_query",
                    field,
                    message,
                },
                other => other,
            })
    }
}

/// A path of ids and names; one that is not a UUID names no existing thing:
/// 404. A name holding NUL is 422, as for every other string.
pub struct Path<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for Path<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        if let Ok(raw) = RawPathParams::from_request_parts(parts, state).await {
            nul::check_params(&raw)?;
        }
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(v)| Path(v))
            .map_err(|_: PathRejection| ApiError::NotFound("resource"))
    }
}

/// Who is calling, as established by the authorization middleware.
#[derive(Clone, Debug)]
pub struct Identity {
    pub subject: Uuid,
    pub role: Role,
    pub tenant: Option<Arc<TenantConfig>>,
}

impl<S: Send + Sync> FromRequestParts<S> for Identity {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Identity>()
            .cloned()
            .ok_or_else(|| ApiError::unauthorized("authentication_required", "sign in first"))
    }
}

/// A caller acting inside a tenant; the tenant comes only from the verified token.
#[derive(Clone, Debug)]
pub struct TenantContext {
    pub tenant_id: TenantId,
    pub user_id: UserId,
    pub role: Role,
    pub config: Arc<TenantConfig>,
}

impl<S: Send + Sync> FromRequestParts<S> for TenantContext {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let identity = Identity::from_request_parts(parts, state).await?;
        let config = identity.tenant.ok_or_else(|| {
            ApiError::forbidden("tenant_required", "this route acts inside a tenant")
        })?;
        Ok(TenantContext {
            tenant_id: config.tenant.id,
            user_id: UserId(identity.subject),
            role: identity.role,
            config,
        })
    }
}

impl TenantContext {
    /// The audit record of an action this caller took in its tenant.
    pub fn audit(
        &self,
        action: &'static str,
        details: serde_json::Value,
    ) -> crate::db::audit::Entry<'static> {
        crate::db::audit::Entry {
            tenant: Some(self.tenant_id),
            actor: self.user_id.0,
            actor_role: self.role.as_str(),
            action,
            details,
        }
    }
}

/// A platform administrator.
#[derive(Clone, Copy, Debug)]
pub struct PlatformAdmin {
    pub id: AdminId,
}

impl<S: Send + Sync> FromRequestParts<S> for PlatformAdmin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let identity = Identity::from_request_parts(parts, state).await?;
        match identity.role {
            Role::PlatformAdmin => Ok(PlatformAdmin {
                id: AdminId(identity.subject),
            }),
            _ => Err(ApiError::forbidden(
                "forbidden",
                "platform administrators only",
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;
    use serde_json::json;

    use super::*;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Body {
        email: String,
        role: Option<Role>,
        settings: Option<Settings>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Settings {
        plan: String,
    }

    fn field_and_code(value: serde_json::Value) -> (Option<String>, &'static str) {
        match serde_path_to_error::deserialize::<_, Body>(value).map_err(data_error) {
            Err(ApiError::Invalid { code, field, .. }) => (field, code),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn typing_errors_name_their_field() {
        assert_eq!(
            field_and_code(json!({"email": "a", "colour": 1})),
            (Some("colour".into()), "unknown_field")
        );
        assert_eq!(
            field_and_code(json!({})),
            (Some("email".into()), "missing_field")
        );
        assert_eq!(
            field_and_code(json!({"email": "a", "role": "boss"})),
            (Some("role".into()), "invalid_value")
        );
        assert_eq!(
            field_and_code(json!({"email": "a", "settings": {"plan": 1}})),
            (Some("settings.plan".into()), "invalid_value")
        );
        assert_eq!(
            field_and_code(json!({"email": "a", "settings": {"plan": "x", "tier": 1}})),
            (Some("settings.tier".into()), "unknown_field")
        );
        assert_eq!(
            field_and_code(json!({"email": "a", "settings": {}})),
            (Some("settings.plan".into()), "missing_field")
        );
    }
}
