//! Extractors whose rejections are problem responses naming what was wrong:
//! JSON bodies, query strings, path ids, and the caller's identity.

use std::sync::Arc;

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;
use uuid::Uuid;

use super::error::ApiError;
use crate::ids::{AdminId, TenantId, UserId};
use crate::roles::Role;
use crate::tenant_config::TenantConfig;

/// A JSON body: malformed JSON is 400, a wrong or unknown field 422 naming
/// it, a missing content type 415, an oversize body 413.
pub struct Json<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Json<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(value)) => Ok(Json(value)),
            Err(rejection) => Err(json_rejection(rejection)),
        }
    }
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
        StatusCode::UNPROCESSABLE_ENTITY => data_error(&text),
        _ => ApiError::BadRequest {
            code: "malformed_json",
            message: text,
        },
    }
}

/// Turns serde's message into a field name and a message: axum prefixes it,
/// serde_path_to_error puts the field path before the first `: `, and
/// unknown or missing fields name themselves in backticks.
fn data_error(text: &str) -> ApiError {
    let detail = text
        .split_once("target type: ")
        .map_or(text, |(_, rest)| rest);
    let quoted = |prefix: &str| {
        detail
            .find(prefix)
            .and_then(|at| detail[at + prefix.len()..].split('`').next())
            .map(str::to_owned)
    };
    let (code, field) = if let Some(field) = quoted("unknown field `") {
        ("unknown_field", Some(field))
    } else if let Some(field) = quoted("missing field `") {
        ("missing_field", Some(field))
    } else {
        let path = detail
            .split_once(": ")
            .map(|(path, _)| path)
            .filter(|p| !p.contains(' '));
        ("invalid_value", path.map(str::to_owned))
    };
    ApiError::Invalid {
        code,
        field,
        message: detail.to_owned(),
    }
}

/// A query string; anything that does not parse is 422.
pub struct Query<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Query<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Query(v)| Query(v))
            .map_err(|e: QueryRejection| ApiError::Invalid {
                code: "invalid_query",
                field: None,
                message: e.body_text(),
            })
    }
}

/// A path made of ids; one that is not a UUID names no existing thing: 404.
pub struct Path<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for Path<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
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
    use super::*;

    fn field_and_code(text: &str) -> (Option<String>, &'static str) {
        match data_error(text) {
            ApiError::Invalid { code, field, .. } => (field, code),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn serde_messages_name_their_field() {
        let prefix = "Failed to deserialize the JSON body into the target type: ";
        assert_eq!(
            field_and_code(&format!(
                "{prefix}unknown field `colour`, expected one of `name` at line 1 column 9"
            )),
            (Some("colour".into()), "unknown_field")
        );
        assert_eq!(
            field_and_code(&format!("{prefix}missing field `email` at line 1 column 2")),
            (Some("email".into()), "missing_field")
        );
        assert_eq!(
            field_and_code(&format!(
                "{prefix}role: unknown variant `boss`, expected `viewer`"
            )),
            (Some("role".into()), "invalid_value")
        );
    }
}
