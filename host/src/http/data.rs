//! `/tenant/data`: uploading marketing data (validated, versioned, stored
//! under RLS), listing and reading data sources, deleting a version. The
//! rules are `crate::data`'s, the SQL `crate::db::data_sources`'.

use axum::body::Bytes;
use axum::extract::multipart::{Field, MultipartError};
use axum::extract::{DefaultBodyLimit, FromRequest, Multipart, Request, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::error::{ApiError, Problem};
use super::extract::{Json, Path, Query, TenantContext, typed};
use super::openapi::Binary;
use super::pagination::{Page, PageQuery};
use super::state::AppState;
use super::tables::{self, ResponseFormat};
use crate::data::{self, UploadMeta};
use crate::db::data_sources::{self, NewSource, SourceRecord};
use crate::db::{OnConstraint, audit};
use crate::tables::TableFormat;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(upload))
        .routes(routes!(list_sources))
        .routes(routes!(get_source, delete_source))
        .routes(routes!(source_rows))
        // The table caps bound each part as it is read (`read_part`).
        .layer(DefaultBodyLimit::disable())
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct UploadQuery {
    /// With a raw body: the upload's declarations as JSON (see `UploadMeta`).
    meta: Option<String>,
}

/// A multipart upload: the file, and its declarations; any other part is refused.
#[derive(ToSchema, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct UploadForm {
    /// CSV, Parquet or Arrow IPC, named by the part's content type or its
    /// file name's extension (`.csv`, `.parquet`, `.arrow`).
    #[schema(value_type = Binary)]
    file: Vec<u8>,
    meta: UploadMeta,
}

/// Uploads a table as a new version of a data source.
#[utoipa::path(post, path = "/tenant/data/upload", tag = "data", security(("bearer" = [])), params(UploadQuery),
    request_body(description = "The file with its declarations as multipart, or the file as the body with `?meta=`",
        content((UploadForm = "multipart/form-data"), (inline(Binary) = "text/csv"),
            (inline(Binary) = "application/vnd.apache.parquet"), (inline(Binary) = "application/vnd.apache.arrow.stream"))),
    responses((status = 201, description = "Stored as the next version of its name", body = SourceRecord,
            links(("GetSource" = (operation_id = "get_source", parameters(("id" = "$response.body#/id")))),
                ("SourceRows" = (operation_id = "source_rows", parameters(("id" = "$response.body#/id")))),
                ("DeleteSource" = (operation_id = "delete_source", parameters(("id" = "$response.body#/id")))),
                ("RunAnalysis" = (operation_id = "run_analysis", request_body = json!({ "source_id": "$response.body#/id", "model": null, "model_version": null, "preprocessors": [], "params": {}, "experiments": [] }))))),
        (status = 409, description = "Another upload of this name took the same version; retry", body = Problem),
        (status = 413, description = "Over the byte cap, or the table over the caps on columns, rows or cells", body = Problem),
        (status = 422, description = "The declarations or the data broke a rule (`invalid_data` lists row, column, value and reason)", body = Problem),
        (status = 503, description = "Tables being parsed hold the server's memory budget; retry later", body = Problem,
            headers(("Retry-After" = u32, description = "Seconds to wait before retrying")))))]
async fn upload(
    State(app): State<AppState>,
    ctx: TenantContext,
    Query(query): Query<UploadQuery>,
    headers: HeaderMap,
    request: Request,
) -> Result<(StatusCode, Json<SourceRecord>), ApiError> {
    let (format, meta, body) = if is_multipart(&headers) {
        let multipart =
            Multipart::from_request(request, &app)
                .await
                .map_err(|e| ApiError::BadRequest {
                    code: "malformed_multipart",
                    message: e.body_text(),
                })?;
        read_multipart(multipart, &app).await?
    } else {
        let format = tables::request_format(&headers)?;
        let raw = query.meta.ok_or_else(|| {
            ApiError::invalid("meta", "declare the upload: ?meta={\"name\":…,\"roles\":{…}}, or send multipart with a `meta` part")
        })?;
        let meta = parse_meta(raw.as_bytes())?;
        let body = tables::read_body(request.into_body(), &headers, app.tables.limits()).await?;
        (format, meta, body)
    };
    let prepared = {
        let meta = meta.clone();
        let file = body.clone();
        app.tables
            .read_with(format, body, move |batches| {
                data::prepare(batches, format, &meta).map_err(|e| e.in_file(format, &file))
            })
            .await?
    };
    let mut tx = app.db.tenant_tx(ctx.tenant_id).await?;
    let new = NewSource {
        name: meta.name.trim(),
        roles: &meta.roles,
        granularity: prepared.granularity.as_str(),
        currency: meta.currency.as_deref(),
        rows: i32::try_from(prepared.rows).unwrap_or(i32::MAX),
        date_from: prepared.date_from,
        date_to: prepared.date_to,
        columns: &prepared.columns,
        warnings: &prepared.warnings,
        sha256: &prepared.sha256,
        content: &prepared.content,
        uploaded_by: ctx.user_id.0,
    };
    let record = data_sources::insert(&mut tx, &new).await.on_constraint(
        "data_sources_tenant_name_version_key",
        |_| {
            ApiError::conflict(
                "concurrent_upload",
                "another upload of this name took the same version; retry",
            )
        },
    )?;
    let details = json!({ "id": record.id, "name": record.name, "version": record.version, "sha256": record.sha256 });
    audit::record(tx.conn(), ctx.audit("data.upload", details)).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(record)))
}

fn is_multipart(headers: &HeaderMap) -> bool {
    headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.trim_start()
                .to_ascii_lowercase()
                .starts_with("multipart/form-data")
        })
}

fn parse_meta(raw: &[u8]) -> Result<UploadMeta, ApiError> {
    let value: serde_json::Value = serde_json::from_slice(raw)
        .map_err(|e| ApiError::invalid("meta", format!("meta is not JSON: {e}")))?;
    typed(value, "meta")
}

/// The `file` and `meta` parts; any other part is refused.
async fn read_multipart(
    mut multipart: Multipart,
    app: &AppState,
) -> Result<(TableFormat, UploadMeta, Bytes), ApiError> {
    let limit = app.tables.limits().max_bytes;
    let (mut file, mut meta) = (None, None);
    while let Some(field) = multipart
        .next_field()
        .await
        .map_err(multipart_error(limit))?
    {
        match field.name().unwrap_or("") {
            "file" => {
                let format = part_format(&field)?;
                file = Some((format, read_part(field, limit).await?));
            }
            "meta" => meta = Some(parse_meta(&read_part(field, 1 << 20).await?)?),
            other => {
                let field = if other.is_empty() { "part" } else { other };
                return Err(ApiError::invalid(
                    field.to_owned(),
                    "unknown part: send `file` and `meta`",
                ));
            }
        }
    }
    let (format, body) =
        file.ok_or_else(|| ApiError::invalid("file", "the `file` part is missing"))?;
    let meta = meta.ok_or_else(|| ApiError::invalid("meta", "the `meta` part is missing"))?;
    Ok((format, meta, body))
}

fn part_format(field: &Field<'_>) -> Result<TableFormat, ApiError> {
    let by_type = field.content_type().and_then(TableFormat::of_media_type);
    let by_name = field.file_name().and_then(|name| {
        let ext = name.rsplit_once('.')?.1.to_ascii_lowercase();
        match ext.as_str() {
            "csv" => Some(TableFormat::Csv),
            "parquet" => Some(TableFormat::Parquet),
            "arrow" | "arrows" => Some(TableFormat::Arrow),
            _ => None,
        }
    });
    by_type.or(by_name).ok_or_else(|| {
        ApiError::UnsupportedMediaType(
            "the `file` part must be CSV, Parquet or Arrow IPC: give its content type or a .csv, .parquet or .arrow file name".into(),
        )
    })
}

async fn read_part(mut field: Field<'_>, limit: usize) -> Result<Bytes, ApiError> {
    let mut out = Vec::new();
    while let Some(chunk) = field.chunk().await.map_err(multipart_error(limit))? {
        if out.len() + chunk.len() > limit {
            return Err(ApiError::PayloadTooLarge { limit });
        }
        out.extend_from_slice(&chunk);
    }
    Ok(Bytes::from(out))
}

fn multipart_error(limit: usize) -> impl Fn(MultipartError) -> ApiError {
    move |e| match e.status() {
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::PayloadTooLarge { limit },
        _ => ApiError::BadRequest {
            code: "malformed_multipart",
            message: e.body_text(),
        },
    }
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct SourcesQuery {
    /// Only this data source name.
    name: Option<String>,
    /// 1 to 200, default 50.
    #[param(minimum = 1, maximum = 200)]
    limit: Option<i64>,
    /// Default 0.
    #[param(minimum = 0)]
    offset: Option<i64>,
}

/// The newest version of each data source, newest first.
#[utoipa::path(get, path = "/tenant/data/sources", tag = "data", security(("bearer" = [])), params(SourcesQuery),
    responses((status = 200, description = "One page", body = Page<SourceRecord>,
            links(("GetSource" = (operation_id = "get_source", parameters(("id" = "$response.body#/items/0/id")))),
                ("RunAnalysis" = (operation_id = "run_analysis", request_body = json!({ "source_id": "$response.body#/items/0/id", "model": null, "model_version": null, "preprocessors": [], "params": {}, "experiments": [] })))))))]
async fn list_sources(
    State(app): State<AppState>,
    ctx: TenantContext,
    Query(query): Query<SourcesQuery>,
) -> Result<Json<Page<SourceRecord>>, ApiError> {
    let page = PageQuery::new(query.limit, query.offset);
    let (limit, offset) = page.bounds()?;
    let mut tx = app.db.tenant_tx(ctx.tenant_id).await?;
    let (items, total) =
        data_sources::list_latest(&mut tx, query.name.as_deref(), limit, offset).await?;
    tx.finish_reading();
    Ok(Json(Page {
        items,
        total,
        limit,
        offset,
    }))
}

/// One version with its summary, the spend per channel and every version of its name.
#[derive(Debug, Serialize, ToSchema)]
pub struct SourceDetail {
    #[serde(flatten)]
    pub source: SourceRecord,
    /// Total spend per media column over the whole range.
    pub channel_spend: std::collections::BTreeMap<String, f64>,
    /// Every version of this name, newest first.
    pub versions: Vec<VersionRef>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct VersionRef {
    pub id: Uuid,
    pub version: i32,
    pub rows: i32,
    pub sha256: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

#[utoipa::path(get, path = "/tenant/data/sources/{id}", tag = "data", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "A data source version's id")),
    responses((status = 200, description = "The version", body = SourceDetail,
            links(("SourceRows" = (operation_id = "source_rows", parameters(("id" = "$response.body#/id")))),
                ("RunAnalysis" = (operation_id = "run_analysis", request_body = json!({ "source_id": "$response.body#/id", "model": null, "model_version": null, "preprocessors": [], "params": {}, "experiments": [] }))))),
        (status = 404, description = "No such data source in this tenant", body = Problem)))]
async fn get_source(
    State(app): State<AppState>,
    ctx: TenantContext,
    Path(id): Path<Uuid>,
) -> Result<Json<SourceDetail>, ApiError> {
    let mut tx = app.db.tenant_tx(ctx.tenant_id).await?;
    let source = data_sources::fetch(&mut tx, id)
        .await?
        .ok_or(ApiError::NotFound("data source"))?;
    let versions = data_sources::versions(&mut tx, &source.name).await?;
    tx.commit().await?;
    let channel_spend = source
        .columns
        .iter()
        .filter(|c| c.role == "media")
        .map(|c| (c.name.clone(), c.sum.unwrap_or(0.0)))
        .collect();
    let versions = versions
        .into_iter()
        .map(|v| VersionRef {
            id: v.id,
            version: v.version,
            rows: v.rows,
            sha256: v.sha256,
            created_at: v.created_at,
        })
        .collect();
    Ok(Json(SourceDetail {
        source,
        channel_spend,
        versions,
    }))
}

/// Deletes one version (others of the same name stay).
#[utoipa::path(delete, path = "/tenant/data/sources/{id}", tag = "data", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "A data source version's id")),
    responses((status = 204, description = "Deleted"),
        (status = 404, description = "No such data source in this tenant", body = Problem),
        (status = 409, description = "Analyses were run on this version", body = Problem)))]
async fn delete_source(
    State(app): State<AppState>,
    ctx: TenantContext,
    Path(id): Path<Uuid>,
) -> Result<StatusCode, ApiError> {
    let mut tx = app.db.tenant_tx(ctx.tenant_id).await?;
    let source = data_sources::fetch(&mut tx, id)
        .await?
        .ok_or(ApiError::NotFound("data source"))?;
    data_sources::delete(&mut tx, id).await.on_constraint(
        "analyses_tenant_id_source_id_fkey",
        |_| {
            ApiError::conflict(
                "source_in_use",
                "analyses were run on this version; it stays as long as they do",
            )
        },
    )?;
    let details = json!({ "id": id, "name": source.name, "version": source.version });
    audit::record(tx.conn(), ctx.audit("data.delete", details)).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The stored rows, as CSV (default), Arrow IPC or JSON by `Accept`.
#[utoipa::path(get, path = "/tenant/data/sources/{id}/rows", tag = "data", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "A data source version's id")),
    responses((status = 200, description = "The table",
            content((inline(Binary) = "text/csv"), (inline(Binary) = "application/vnd.apache.arrow.stream"),
                (Vec<Object> = "application/json"))),
        (status = 404, description = "No such data source in this tenant", body = Problem)))]
async fn source_rows(
    State(app): State<AppState>,
    ctx: TenantContext,
    Path(id): Path<Uuid>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let mut tx = app.db.tenant_tx(ctx.tenant_id).await?;
    let content = data_sources::content(&mut tx, id)
        .await?
        .ok_or(ApiError::NotFound("data source"))?;
    tx.commit().await?;
    let format = ResponseFormat::negotiate(&headers, TableFormat::Csv);
    tokio::task::spawn_blocking(move || format.respond(content))
        .await
        .map_err(ApiError::internal)?
}
