//! The one error type at the HTTP edge: every failure becomes a status, a
//! stable snake_case code and a human message, as JSON
//! `{"error": {"code", "message", "field"?}}`. Server errors say nothing
//! about their cause to the client; the cause is logged in the request span.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{message}")]
    BadRequest { code: &'static str, message: String },
    #[error("{message}")]
    Invalid {
        code: &'static str,
        field: Option<String>,
        message: String,
    },
    /// Data that broke validation rules, each named by row and column.
    #[error("{message}")]
    InvalidData {
        message: String,
        details: Vec<crate::data::Detail>,
        /// Problems found beyond the listed details.
        more: usize,
    },
    #[error("{message}")]
    Unauthorized { code: &'static str, message: String },
    #[error("{message}")]
    Forbidden { code: &'static str, message: String },
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("{message}")]
    Conflict { code: &'static str, message: String },
    #[error("the request body is larger than the {limit} bytes allowed")]
    PayloadTooLarge { limit: usize },
    /// Content over a limit other than bytes (a table's columns, rows, cells).
    #[error("{message}")]
    ContentTooLarge { code: &'static str, message: String },
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("this route does not accept that method")]
    MethodNotAllowed,
    /// Over a rate limit or the login throttle; `Retry-After` says when to come back.
    #[error("{message}")]
    TooManyRequests {
        code: &'static str,
        message: String,
        retry_after_secs: u32,
    },
    /// Temporarily out of a shared resource; the client should retry.
    #[error("{message}")]
    Unavailable {
        code: &'static str,
        message: String,
        retry_after_secs: u32,
    },
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

/// The JSON body of every error response.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    pub error: ProblemDetail,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProblemDetail {
    pub code: String,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// For `invalid_data`: where and why, at most 100.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<Vec<crate::data::Detail>>,
    /// For `invalid_data`: how many problems were found beyond `details`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub more_details: Option<usize>,
}

impl ApiError {
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        ApiError::Invalid {
            code: "invalid_value",
            field: Some(field.into()),
            message: message.into(),
        }
    }

    pub fn unauthorized(code: &'static str, message: impl Into<String>) -> Self {
        ApiError::Unauthorized {
            code,
            message: message.into(),
        }
    }

    pub fn forbidden(code: &'static str, message: impl Into<String>) -> Self {
        ApiError::Forbidden {
            code,
            message: message.into(),
        }
    }

    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        ApiError::Conflict {
            code,
            message: message.into(),
        }
    }

    pub fn internal(error: impl Into<anyhow::Error>) -> Self {
        ApiError::Internal(error.into())
    }

    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            ApiError::Invalid { .. } | ApiError::InvalidData { .. } => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            ApiError::Unauthorized { .. } => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden { .. } => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Conflict { .. } => StatusCode::CONFLICT,
            ApiError::PayloadTooLarge { .. } | ApiError::ContentTooLarge { .. } => {
                StatusCode::PAYLOAD_TOO_LARGE
            }
            ApiError::Unavailable { .. } => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            ApiError::BadRequest { code, .. }
            | ApiError::Invalid { code, .. }
            | ApiError::Unauthorized { code, .. }
            | ApiError::Forbidden { code, .. }
            | ApiError::Conflict { code, .. }
            | ApiError::ContentTooLarge { code, .. }
            | ApiError::Unavailable { code, .. }
            | ApiError::TooManyRequests { code, .. } => code,
            ApiError::InvalidData { .. } => "invalid_data",
            ApiError::NotFound(_) => "not_found",
            ApiError::PayloadTooLarge { .. } => "payload_too_large",
            ApiError::UnsupportedMediaType(_) => "unsupported_media_type",
            ApiError::MethodNotAllowed => "method_not_allowed",
            ApiError::Internal(_) => "internal_error",
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let ApiError::Internal(cause) = &self {
            tracing::error!(error = ?cause, "request failed");
        }
        let field = match &self {
            ApiError::Invalid { field, .. } => field.clone(),
            _ => None,
        };
        let (details, more_details) = match &self {
            ApiError::InvalidData { details, more, .. } => (Some(details.clone()), Some(*more)),
            _ => (None, None),
        };
        let body = Problem {
            error: ProblemDetail {
                code: self.code().to_owned(),
                message: self.to_string(),
                field,
                details,
                more_details,
            },
        };
        let mut response = (self.status(), Json(body)).into_response();
        if let ApiError::Unavailable {
            retry_after_secs, ..
        }
        | ApiError::TooManyRequests {
            retry_after_secs, ..
        } = &self
        {
            response
                .headers_mut()
                .insert(axum::http::header::RETRY_AFTER, (*retry_after_secs).into());
        }
        response
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(e: sqlx::Error) -> Self {
        ApiError::Internal(e.into())
    }
}

impl From<crate::auth::password::PasswordError> for ApiError {
    fn from(e: crate::auth::password::PasswordError) -> Self {
        ApiError::Internal(e.into())
    }
}

impl From<crate::auth::TokenError> for ApiError {
    fn from(e: crate::auth::TokenError) -> Self {
        match e {
            crate::auth::TokenError::Expired => {
                ApiError::unauthorized("token_expired", e.to_string())
            }
            crate::auth::TokenError::Invalid => {
                ApiError::unauthorized("invalid_token", e.to_string())
            }
            crate::auth::TokenError::Signing(_) => ApiError::Internal(e.into()),
        }
    }
}

impl From<crate::tables::TableError> for ApiError {
    fn from(e: crate::tables::TableError) -> Self {
        use crate::tables::TableError as E;
        let code = e.code();
        match e {
            E::TooLarge { limit, .. } => ApiError::PayloadTooLarge { limit },
            E::TooManyColumns { .. } | E::TooManyRows { .. } | E::TooManyCells { .. } => {
                ApiError::ContentTooLarge {
                    code,
                    message: e.to_string(),
                }
            }
            E::NulCharacter { ref column, .. } => ApiError::Invalid {
                code,
                field: Some(column.clone()),
                message: e.to_string(),
            },
            E::Busy => ApiError::Unavailable {
                code,
                message: e.to_string(),
                retry_after_secs: 5,
            },
            E::Write { .. } | E::Crashed(_) => ApiError::internal(e),
            E::NoColumns
            | E::NoRows
            | E::Csv(_)
            | E::Ipc(_)
            | E::Parquet(_)
            | E::UnsupportedType { .. } => ApiError::Invalid {
                code,
                field: None,
                message: e.to_string(),
            },
        }
    }
}

impl From<crate::data::DataError> for ApiError {
    fn from(e: crate::data::DataError) -> Self {
        match e {
            crate::data::DataError::Invalid(found) => ApiError::InvalidData {
                message: format!(
                    "the data did not pass validation: {} problem(s); see details",
                    found.total
                ),
                more: found.total - found.details.len(),
                details: found.details,
            },
            crate::data::DataError::Table(e) => e.into(),
        }
    }
}
