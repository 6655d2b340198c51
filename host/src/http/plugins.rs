//! `/admin/plugins` and `/tenant/plugins`: publishing plugins, listing what a
//! tenant may run, and running a preprocessor on an uploaded table — the
//! path from a tenant's request to a sandboxed plugin.

use std::time::Instant;

use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, FromRequest, Request, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use mmm_runtime::{CallOptions, Fault, LoadedPlugin, PluginKind, RuntimeError};
use serde::Deserialize;
use serde_json::json;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::error::{ApiError, Problem};
use super::extract::{Json, Path, PlatformAdmin, Query, TenantContext};
use super::openapi::Binary;
use super::state::AppState;
use super::tables::{self, ResponseFormat};
use super::{nul, validate};
use crate::db::plugins::{NewRun, PluginRecord};
use crate::db::{self, audit};
use crate::ids::TenantId;
use crate::plugins::RegistryError;
use crate::plugins::registry::{MAX_PLUGIN_BYTES, limits_for};

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
            RegistryError::Changed { .. } => ApiError::conflict("plugin_changed", message),
            RegistryError::Db(e) => e.into(),
        }
    }
}

/// A guest's failure is the caller's to see (422, naming plugin and cause);
/// a host failure stays opaque.
pub(super) fn call_error(e: RuntimeError) -> ApiError {
    if let RuntimeError::Busy { .. } = e {
        metrics::counter!(crate::telemetry::metrics::SHED, "resource" => "plugins").increment(1);
        return ApiError::Unavailable {
            code: "plugins_busy",
            message: "every plugin slot is busy; try again shortly".into(),
            retry_after_secs: 5,
        };
    }
    if e.fault() == Fault::Host {
        return ApiError::internal(e);
    }
    let code = crate::plugins::call_code(&e);
    ApiError::Invalid {
        code,
        field: None,
        message: e.to_string(),
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
#[into_params(parameter_in = Query)]
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

/// Media types are case-insensitive (RFC 9110 §8.3.1); parameters are ignored.
fn expect_wasm(headers: &HeaderMap) -> Result<(), ApiError> {
    let content_type = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let essence = content_type.split(';').next().unwrap_or("").trim();
    if essence.eq_ignore_ascii_case("application/wasm")
        || essence.eq_ignore_ascii_case("application/octet-stream")
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
    request_body(description = "The component (`application/octet-stream` is accepted too)",
        content((inline(Binary) = "application/wasm"), (inline(Binary) = "application/octet-stream"))),
    responses((status = 201, description = "Published", body = PluginRecord),
        (status = 409, description = "This name and version exist, or the name is another scope's", body = Problem),
        (status = 422, description = "Not a valid plugin component, or not the declared name and version", body = Problem)))]
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
    responses((status = 200, description = "The global plugins", body = Vec<PluginRecord>)))]
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
    request_body(description = "The component (`application/octet-stream` is accepted too)",
        content((inline(Binary) = "application/wasm"), (inline(Binary) = "application/octet-stream"))),
    responses((status = 201, description = "Published", body = PluginRecord),
        (status = 409, description = "This name and version exist, or the name is another scope's", body = Problem),
        (status = 422, description = "Not a valid plugin component, or not the declared name and version", body = Problem)))]
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
    responses((status = 200, description = "The plugins the tenant may run", body = Vec<PluginRecord>)))]
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
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct RunQuery {
    /// A published version; the newest when absent.
    version: Option<String>,
    /// The plugin's params as JSON; `{}` when absent.
    #[param(example = r#"{"method": "quantile", "lower": 0, "upper": 0.75}"#)]
    params: Option<String>,
}

/// Runs a preprocessor on the body (Arrow IPC stream or CSV) and answers in
/// the format `Accept` asks for (Arrow IPC, CSV or JSON), by default the
/// body's own.
#[utoipa::path(post, path = "/tenant/plugins/{name}/run", tag = "plugins", security(("bearer" = [])),
    params(("name" = String, Path, description = "The plugin's name", example = "winsorize"), RunQuery),
    request_body(description = "The table, as CSV with a header row or as an Arrow IPC stream",
        content((inline(Binary) = "text/csv", example = json!("week,tv\n2024-01-01,10\n2024-01-08,11\n2024-01-15,1000\n")),
            (inline(Binary) = "application/vnd.apache.arrow.stream"))),
    responses((status = 200, description = "The transformed table, in the format `Accept` asks for, by default the body's",
            content((inline(Binary) = "text/csv"), (inline(Binary) = "application/vnd.apache.arrow.stream"),
                (Vec<Object> = "application/json"))),
        (status = 403, description = "The feature `plugin:<name>` is off for this tenant, or the role may not run plugins", body = Problem),
        (status = 404, description = "No such plugin, or no such version", body = Problem),
        (status = 413, description = "The body is over the byte cap, or the table over the caps on columns, rows or cells", body = Problem),
        (status = 422, description = "The table, the params or the query is invalid, or the plugin failed on them \
            (the code says which, e.g. `invalid_table`, `plugin_invalid_params`)", body = Problem),
        (status = 503, description = "Tables being parsed hold the server's memory budget; retry later", body = Problem,
            headers(("Retry-After" = u32, description = "Seconds to wait before retrying")))))]
async fn run_plugin(
    State(app): State<AppState>,
    ctx: TenantContext,
    Path(name): Path<String>,
    Query(query): Query<RunQuery>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    // Everything that can refuse the call is decided before the body is read.
    let format = tables::request_format(&headers)?;
    let params = run_params(query.params.as_deref())?;
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
    let body = tables::read_body(body, &headers, app.tables.limits()).await?;
    let input = crate::tables::write::ipc(&app.tables.read(format, body).await?)?;
    let output = transform_and_record(&app, &ctx, &record, &plugin, input, params).await?;
    ResponseFormat::negotiate(&headers, format).respond(output)
}

/// The `params` query parameter: a JSON object (text, so checked for NUL
/// like every other string), `{}` when absent.
fn run_params(raw: Option<&str>) -> Result<String, ApiError> {
    let Some(raw) = raw else {
        return Ok("{}".into());
    };
    let value: serde_json::Value = serde_json::from_str(raw)
        .map_err(|e| ApiError::invalid("params", format!("params is not JSON: {e}")))?;
    validate::json_object("params", &value)?;
    nul::check_json(&value, "params")?;
    Ok(raw.to_owned())
}

/// Runs the preprocessor in the sandbox and records the run, failed or not.
async fn transform_and_record(
    app: &AppState,
    ctx: &TenantContext,
    record: &PluginRecord,
    plugin: &LoadedPlugin,
    input: Vec<u8>,
    params: String,
) -> Result<Vec<u8>, ApiError> {
    let limits = limits_for(&ctx.config, &record.name, app.plugins.default_limits());
    let options = CallOptions {
        limits: Some(limits),
        wait: Some(crate::plugins::REQUEST_SLOT_WAIT),
        ..CallOptions::labelled(ctx.tenant_id.to_string())
    };
    let started = Instant::now();
    let input_bytes = input.len() as i64;
    let result = app
        .plugins
        .runtime()
        .transform(plugin, input, params, options)
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
    result.map_err(call_error)
}
