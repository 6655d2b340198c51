//! Tables over HTTP, for every route that takes or gives one: the request's
//! format from `Content-Type` (415 otherwise), its body read under the byte
//! cap (413 before the whole body is read), and the answer's format by
//! `Accept`. Parsing itself is `crate::tables`'.

use axum::body::{Body, Bytes};
use axum::http::HeaderMap;
use axum::http::header::{ACCEPT, CONTENT_LENGTH, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};

use super::error::ApiError;
use crate::tables::{self, ARROW_STREAM, CSV, PARQUET, TableFormat, TableLimits};

/// The table format of the request body.
pub fn request_format(headers: &HeaderMap) -> Result<TableFormat, ApiError> {
    header(headers, CONTENT_TYPE)
        .and_then(TableFormat::of_media_type)
        .ok_or_else(|| {
            ApiError::UnsupportedMediaType(format!(
                "send the table as `{CSV}`, `{ARROW_STREAM}` or `{PARQUET}`"
            ))
        })
}

/// Reads the body, refusing it as soon as it is known to be over the cap:
/// at once from `Content-Length`, otherwise once that many bytes arrived.
pub async fn read_body(
    body: Body,
    headers: &HeaderMap,
    limits: &TableLimits,
) -> Result<Bytes, ApiError> {
    let too_large = ApiError::PayloadTooLarge {
        limit: limits.max_bytes,
    };
    let declared = header(headers, CONTENT_LENGTH).and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|len| len > limits.max_bytes as u64) {
        return Err(too_large);
    }
    axum::body::to_bytes(body, limits.max_bytes)
        .await
        .map_err(|e| {
            let over = e
                .into_inner()
                .downcast_ref::<http_body_util::LengthLimitError>()
                .is_some();
            if over {
                too_large
            } else {
                ApiError::BadRequest {
                    code: "unreadable_body",
                    message: "the request body could not be read".into(),
                }
            }
        })
}

/// What a table answer is sent as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResponseFormat {
    Arrow,
    Csv,
    Json,
}

impl ResponseFormat {
    /// The format `Accept` asks for; the request's own format otherwise.
    pub fn negotiate(headers: &HeaderMap, request: TableFormat) -> Self {
        let accept = header(headers, ACCEPT).unwrap_or("");
        if accept.contains(ARROW_STREAM) {
            Self::Arrow
        } else if accept.contains(CSV) {
            Self::Csv
        } else if accept.contains("application/json") {
            Self::Json
        } else {
            match request {
                TableFormat::Arrow | TableFormat::Parquet => Self::Arrow,
                TableFormat::Csv => Self::Csv,
            }
        }
    }

    /// Answers with a plugin's output table (an Arrow IPC stream).
    pub fn respond(self, ipc: Vec<u8>) -> Result<Response, ApiError> {
        let (content_type, body) = match self {
            Self::Arrow => (ARROW_STREAM, ipc),
            Self::Csv => (CSV, tables::write::csv(&tables::ipc::decode_output(&ipc)?)?),
            Self::Json => (
                "application/json",
                tables::write::json(&tables::ipc::decode_output(&ipc)?)?,
            ),
        };
        Ok(([(CONTENT_TYPE, content_type)], body).into_response())
    }
}

fn header(headers: &HeaderMap, name: axum::http::HeaderName) -> Option<&str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}
