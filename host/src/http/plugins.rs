//! `/admin/plugins` and `/tenant/plugins`: publishing plugins, listing what a
//! tenant may run, and running a preprocessor on an uploaded table — the
//! path from a tenant's request to a sandboxed plugin.

use std::time::Instant;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, FromRequest, Request, State};
use axum::http::header::{ACCEPT, CONTENT_TYPE};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use mmm_runtime::{CallOptions, ErrorCode, Fault, LoadedPlugin, PluginKind, RuntimeError};
use serde::Deserialize;
use serde_json::json;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::error::{ApiError, Problem};
use super::extract::{Json, Path, PlatformAdmin, Query, TenantContext};
use super::state::AppState;
use crate::db::plugins::{NewRun, PluginRecord};
use crate::db::{self, audit};
use crate::ids::TenantId;
use crate::plugins::RegistryError;
use crate::plugins::convert::{self, ConvertError};
use crate::plugins::registry::{MAX_PLUGIN_BYTES, limits_for};

const ARROW_STREAM: &str = "application/vnd.apache.arrow.stream";

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_global, publish_global))
        .routes(routes!(list_runnable, publish_private))
        .routes(routes!(run_plugin))
        .layer(DefaultBodyLimit::max(MAX_PLUGIN_BYTES))
}

impl From<RegistryError> for ApiError {
    fn from(e: RegistryError) -> Self {
        let message = e.to_string();
        match e {
            RegistryError::TooLarge { .. } => ApiError::PayloadTooLarge {
                limit: MAX_PLUGIN_BYTES,
            },
            RegistryError::Invalid(inner) => ApiError::Invalid {
                code: inner.code(),
                field: None,
                message,
            },
            RegistryError::Mismatch { .. } => ApiError::Invalid {
                code: "plugin_mismatch",
                field: None,
                message,
            },
            RegistryError::Exists { .. } => ApiError::conflict("plugin_exists", message),
            RegistryError::NameTaken(_) => ApiError::conflict("plugin_name_taken", message),
            RegistryError::NotFound(_) => ApiError::NotFound("plugin"),
            RegistryError::Disabled(_) => ApiError::forbidden("plugin_disabled", message),
            RegistryError::Db(e) => e.into(),
        }
    }
}

/// A guest's failure is the caller's to see (422, naming plugin and cause);
/// a host failure stays opaque.
fn call_error(e: RuntimeError) -> ApiError {
    if e.fault() == Fault::Host {
        return ApiError::internal(e);
    }
    let code = match &e {
        RuntimeError::Plugin { code, .. } => match code {
            ErrorCode::InvalidInput => "plugin_invalid_input",
            ErrorCode::InvalidParams => "plugin_invalid_params",
            ErrorCode::Numerical => "plugin_numerical",
            ErrorCode::Cancelled => "plugin_cancelled",
            ErrorCode::Internal => "plugin_internal",
        },
        other => other.code(),
    };
    ApiError::Invalid {
        code,
        field: None,
        message: e.to_string(),
    }
}

impl From<ConvertError> for ApiError {
    fn from(e: ConvertError) -> Self {
        match e {
            ConvertError::Write { .. } => ApiError::internal(e),
            other => ApiError::Invalid {
                code: "invalid_table",
                field: None,
                message: other.to_string(),
            },
        }
    }
}

/// A raw body whose oversize rejection is a problem response.
struct RawBody(Bytes);

impl<S: Send + Sync> FromRequest<S> for RawBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        Bytes::from_request(req, state)
            .await
            .map(RawBody)
            .map_err(|e| match e.status() {
                StatusCode::PAYLOAD_TOO_LARGE => ApiError::PayloadTooLarge {
                    limit: MAX_PLUGIN_BYTES,
                },
                _ => ApiError::BadRequest {
                    code: "unreadable_body",
                    message: e.body_text(),
                },
            })
    }
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct PublishQuery {
    /// When given, the plugin's own `info()` must say this name.
    name: Option<String>,
    /// When given, the plugin's own `info()` must say this version.
    version: Option<String>,
}

impl PublishQuery {
    fn declared(&self) -> Result<Option<(&str, &str)>, ApiError> {
        match (&self.name, &self.version) {
            (Some(n), Some(v)) => Ok(Some((n, v))),
            (None, None) => Ok(None),
            _ => Err(ApiError::invalid(
                "version",
                "declare both name and version, or neither",
            )),
        }
    }
}

fn expect_wasm(headers: &HeaderMap) -> Result<(), ApiError> {
    let content_type = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if content_type.starts_with("application/wasm")
        || content_type.starts_with("application/octet-stream")
    {
        Ok(())
    } else {
        Err(ApiError::UnsupportedMediaType(
            "send the component as `Content-Type: application/wasm`".into(),
        ))
    }
}

/// The audit record of a publication.
fn published(
    plugin: &LoadedPlugin,
    tenant: Option<TenantId>,
    actor: Uuid,
    actor_role: &'static str,
) -> audit::Entry<'static> {
    let info = plugin.info();
    audit::Entry {
        tenant,
        actor,
        actor_role,
        action: "plugin.publish",
        details: json!({ "name": info.name, "version": info.version, "sha256": plugin.sha256() }),
    }
}

/// Publishes a global plugin; the body is the `.wasm` component.
#[utoipa::path(post, path = "/admin/plugins", tag = "plugins", security(("bearer" = [])), params(PublishQuery),
    request_body(content = Vec<u8>, content_type = "application/wasm"),
    responses((status = 201, body = PluginRecord), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn publish_global(
    State(app): State<AppState>,
    admin: PlatformAdmin,
    Query(query): Query<PublishQuery>,
    headers: HeaderMap,
    RawBody(wasm): RawBody,
) -> Result<(StatusCode, Json<PluginRecord>), ApiError> {
    expect_wasm(&headers)?;
    let plugin = app.plugins.inspect(wasm.clone(), query.declared()?).await?;
    let mut tx = app.db.platform_tx().await?;
    app.plugins
        .publish_global(&mut tx, &plugin, &wasm, admin.id.0)
        .await?;
    let info = plugin.info();
    let entry = published(&plugin, None, admin.id.0, "platform_admin");
    audit::record(tx.conn(), entry).await?;
    let record = db::plugins::list_global(&mut tx)
        .await?
        .into_iter()
        .find(|p| p.name == info.name && p.version == info.version)
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("published plugin vanished")))?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(record)))
}

/// Every global plugin, built-in or published.
#[utoipa::path(get, path = "/admin/plugins", tag = "plugins", security(("bearer" = [])),
    responses((status = 200, body = Vec<PluginRecord>)))]
async fn list_global(
    State(app): State<AppState>,
    _: PlatformAdmin,
) -> Result<Json<Vec<PluginRecord>>, ApiError> {
    let mut tx = app.db.platform_tx().await?;
    let plugins = db::plugins::list_global(&mut tx).await?;
    tx.commit().await?;
    Ok(Json(plugins))
}

/// Publishes a plugin private to the caller's tenant.
#[utoipa::path(post, path = "/tenant/plugins", tag = "plugins", security(("bearer" = [])), params(PublishQuery),
    request_body(content = Vec<u8>, content_type = "application/wasm"),
    responses((status = 201, body = PluginRecord), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn publish_private(
    State(app): State<AppState>,
    ctx: TenantContext,
    Query(query): Query<PublishQuery>,
    headers: HeaderMap,
    RawBody(wasm): RawBody,
) -> Result<(StatusCode, Json<PluginRecord>), ApiError> {
    expect_wasm(&headers)?;
    let plugin = app.plugins.inspect(wasm.clone(), query.declared()?).await?;
    let mut tx = app.db.tenant_tx(ctx.tenant_id).await?;
    app.plugins
        .publish_private(&mut tx, &plugin, &wasm, ctx.user_id.0)
        .await?;
    let info = plugin.info();
    let entry = published(
        &plugin,
        Some(ctx.tenant_id),
        ctx.user_id.0,
        ctx.role.as_str(),
    );
    audit::record(tx.conn(), entry).await?;
    let record = db::plugins::list_visible(&mut tx)
        .await?
        .into_iter()
        .find(|p| p.scope == "tenant" && p.name == info.name && p.version == info.version)
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("published plugin vanished")))?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(record)))
}

/// The plugins this tenant may run, with their params schemas.
#[utoipa::path(get, path = "/tenant/plugins", tag = "plugins", security(("bearer" = [])),
    responses((status = 200, body = Vec<PluginRecord>)))]
async fn list_runnable(
    State(app): State<AppState>,
    ctx: TenantContext,
) -> Result<Json<Vec<PluginRecord>>, ApiError> {
    let mut tx = app.db.tenant_tx(ctx.tenant_id).await?;
    let plugins = app.plugins.runnable(&mut tx, &ctx.config).await?;
    tx.commit().await?;
    Ok(Json(plugins))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct RunQuery {
    /// A published version; the newest when absent.
    version: Option<String>,
    /// The plugin's params as JSON; `{}` when absent.
    params: Option<String>,
}

/// Runs a preprocessor on the body (Arrow IPC stream or CSV) and answers in
/// the format `Accept` asks for (Arrow IPC, CSV or JSON), by default the
/// body's own.
#[utoipa::path(post, path = "/tenant/plugins/{name}/run", tag = "plugins", security(("bearer" = [])), params(RunQuery),
    request_body(content = Vec<u8>, content_type = "text/csv"),
    responses((status = 200, description = "The transformed table"), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn run_plugin(
    State(app): State<AppState>,
    ctx: TenantContext,
    Path(name): Path<String>,
    Query(query): Query<RunQuery>,
    headers: HeaderMap,
    RawBody(body): RawBody,
) -> Result<Response, ApiError> {
    let format = TableFormat::of_request(&headers)?;
    let input = format.to_ipc(&body)?;
    let mut tx = app.db.tenant_tx(ctx.tenant_id).await?;
    let (record, plugin) = app
        .plugins
        .open(&mut tx, &ctx.config, &name, query.version.as_deref())
        .await?;
    tx.commit().await?;
    if plugin.kind() != PluginKind::Preprocessor {
        return Err(ApiError::invalid(
            "name",
            format!("`{name}` is a model; run it through an analysis"),
        ));
    }
    let limits = limits_for(&ctx.config, &name, app.plugins.default_limits());
    let options = CallOptions {
        limits: Some(limits),
        ..CallOptions::labelled(ctx.tenant_id.to_string())
    };
    let started = Instant::now();
    let input_bytes = input.len() as i64;
    let result = app
        .plugins
        .runtime()
        .transform(&plugin, input, query.params.unwrap_or_default(), options)
        .await;
    let mut tx = app.db.tenant_tx(ctx.tenant_id).await?;
    let run = NewRun {
        plugin_name: &record.name,
        plugin_version: &record.version,
        succeeded: result.is_ok(),
        error_code: result.as_ref().err().map(|e| e.code()),
        duration_ms: started.elapsed().as_millis() as i64,
        input_bytes,
        output_bytes: result.as_ref().map_or(0, |o| o.len() as i64),
        run_by: ctx.user_id.0,
    };
    db::plugins::record_run(&mut tx, run).await?;
    tx.commit().await?;
    let output = result.map_err(call_error)?;
    TableFormat::of_response(&headers, format).respond(output)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum TableFormat {
    Arrow,
    Csv,
    Json,
}

impl TableFormat {
    fn of_request(headers: &HeaderMap) -> Result<Self, ApiError> {
        let content_type = headers
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if content_type.starts_with(ARROW_STREAM) {
            Ok(Self::Arrow)
        } else if content_type.starts_with("text/csv") {
            Ok(Self::Csv)
        } else {
            Err(ApiError::UnsupportedMediaType(format!(
                "send the table as `{ARROW_STREAM}` or `text/csv`"
            )))
        }
    }

    fn of_response(headers: &HeaderMap, request: Self) -> Self {
        let accept = headers
            .get(ACCEPT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if accept.contains(ARROW_STREAM) {
            Self::Arrow
        } else if accept.contains("text/csv") {
            Self::Csv
        } else if accept.contains("application/json") {
            Self::Json
        } else {
            request
        }
    }

    /// The body as one uncompressed IPC stream, checked to be a table.
    fn to_ipc(self, body: &[u8]) -> Result<Vec<u8>, ApiError> {
        let batches = match self {
            Self::Arrow => convert::ipc_to_batches(body)?,
            Self::Csv | Self::Json => convert::csv_to_batches(body)?,
        };
        if batches.is_empty() {
            return Err(ApiError::Invalid {
                code: "invalid_table",
                field: None,
                message: "the table has no rows".into(),
            });
        }
        Ok(convert::batches_to_ipc(&batches)?)
    }

    fn respond(self, ipc: Vec<u8>) -> Result<Response, ApiError> {
        let (content_type, body) = match self {
            Self::Arrow => (ARROW_STREAM, ipc),
            Self::Csv => (
                "text/csv",
                convert::batches_to_csv(&convert::ipc_to_batches(&ipc)?)?,
            ),
            Self::Json => (
                "application/json",
                convert::batches_to_json(&convert::ipc_to_batches(&ipc)?)?,
            ),
        };
        Ok(([(CONTENT_TYPE, content_type)], body).into_response())
    }
}
