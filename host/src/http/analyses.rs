//! `/tenant/analysis`: starting an analysis (queued as a durable job),
//! listing and reading analyses, their result tables, a live event stream
//! of their progress, and cancelling. The request rules are
//! `crate::analyses::request`'s, the jobs `crate::analyses::worker`'s, the
//! SQL `crate::db::analyses`'.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::Stream;
use serde::Deserialize;
use serde_json::json;
use tokio::sync::broadcast;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::error::{ApiError, Problem};
use super::extract::{Json, Path, Query, TenantContext};
use super::openapi::Binary;
use super::pagination::{Page, PageQuery};
use super::state::AppState;
use super::tables::ResponseFormat;
use crate::analyses::request::{self, RequestError, RunRequest};
use crate::analyses::view::{Analysis, is_final};
use crate::db::analyses::{self as sql, CancelOutcome, ListFilter, NewAnalysis, ResultPart};
use crate::db::{Db, audit};
use crate::ids::TenantId;
use crate::tables::TableFormat;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(run_analysis))
        .routes(routes!(list))
        .routes(routes!(get_analysis))
        .routes(routes!(decomposition))
        .routes(routes!(response_curves))
        .routes(routes!(events))
        .routes(routes!(cancel))
}

/// What the analyses routes share beyond the app state.
#[derive(Clone, Debug)]
pub struct AnalysisSettings {
    pub events: crate::analyses::AnalysisEvents,
    /// Attempts a new analysis gets before host faults fail it.
    pub max_attempts: i32,
}

impl From<RequestError> for ApiError {
    fn from(e: RequestError) -> Self {
        let message = e.to_string();
        match e {
            RequestError::SourceNotFound => ApiError::Invalid {
                code: "unknown_source",
                field: Some("source_id".into()),
                message,
            },
            RequestError::Plugin(e) => e.into(),
            RequestError::WrongKind { field, .. } => ApiError::Invalid {
                code: "wrong_plugin_kind",
                field: Some(field),
                message,
            },
            RequestError::Params(v) => ApiError::Invalid {
                code: "invalid_params",
                field: Some(v.field),
                message: v.message,
            },
            RequestError::Seed { message } => ApiError::invalid("seed", message),
            RequestError::Experiment { field, .. } => ApiError::Invalid {
                code: "unusable_experiment",
                field: Some(field),
                message,
            },
            RequestError::Config(_) => ApiError::Invalid {
                code: "invalid_tenant_config",
                field: None,
                message,
            },
            RequestError::Db(e) => e.into(),
        }
    }
}

const IDEMPOTENCY_KEY: &str = "idempotency-key";

fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let Some(value) = headers.get(IDEMPOTENCY_KEY) else {
        return Ok(None);
    };
    let key = value
        .to_str()
        .ok()
        .filter(|k| (1..=200).contains(&k.len()) && k.bytes().all(|b| b.is_ascii_graphic()))
        .ok_or_else(|| {
            ApiError::invalid(
                "Idempotency-Key",
                "must be 1 to 200 visible ASCII characters",
            )
        })?;
    Ok(Some(key.to_owned()))
}

/// Queues an analysis of a data source: its preprocessors, then a model.
#[utoipa::path(post, path = "/tenant/analysis/run", tag = "analyses", security(("bearer" = [])),
    params(("Idempotency-Key" = Option<String>, Header, description = "Retrying with the same key returns the same analysis instead of queuing another")),
    request_body = RunRequest,
    responses((status = 202, description = "Queued (or, with a known idempotency key, the analysis it queued)", body = Analysis,
            links(("GetAnalysis" = (operation_id = "get_analysis", parameters(("analysis_id" = "$response.body#/id")))),
                ("CancelAnalysis" = (operation_id = "cancel", parameters(("analysis_id" = "$response.body#/id")))),
                ("Decomposition" = (operation_id = "decomposition", parameters(("analysis_id" = "$response.body#/id")))),
                ("CreateRecommendation" = (operation_id = "create_recommendation", request_body = json!({ "analysis_id": "$response.body#/id", "objective": "max_response", "target": null, "budget": null, "horizon": null, "bounds": {} }))))),
        (status = 403, description = "A plugin named is not enabled for this tenant (the message names it)", body = Problem),
        (status = 404, description = "No such plugin", body = Problem),
        (status = 409, description = "The idempotency key was used with another request", body = Problem),
        (status = 422, description = "Unknown source, wrong plugin kind, or params that break the plugin's schema (the field names which)", body = Problem),
        (status = 503, description = "The queue is full (`queue_full`); `Retry-After` says when to try again", body = Problem)))]
async fn run_analysis(
    State(app): State<AppState>,
    ctx: TenantContext,
    headers: HeaderMap,
    Json(body): Json<RunRequest>,
) -> Result<(StatusCode, Json<Analysis>), ApiError> {
    let key = idempotency_key(&headers)?;
    let request_digest = request::digest(&serde_json::to_value(&body).map_err(ApiError::internal)?);
    let mut tx = app.db.tenant_tx(ctx.tenant_id).await?;
    if let Some(key) = &key
        && let Some(existing) = sql::by_idempotency_key(&mut tx, key).await?
    {
        tx.commit().await?;
        return replay(existing, &request_digest);
    }
    refuse_when_queue_full(&app).await?;
    let resolved = request::resolve(&mut tx, &ctx.config, &app.plugins, &body).await?;
    let model = serde_json::to_value(&resolved.model).map_err(ApiError::internal)?;
    let preprocessors =
        serde_json::to_value(&resolved.preprocessors).map_err(ApiError::internal)?;
    let experiments = serde_json::to_value(&resolved.experiments).map_err(ApiError::internal)?;
    let new = NewAnalysis {
        source_id: resolved.source.id,
        source_name: &resolved.source.name,
        source_version: resolved.source.version,
        source_sha256: &resolved.source.sha256,
        model: &model,
        preprocessors: &preprocessors,
        experiments: &experiments,
        seed: resolved.seed.map(|s| s as i64),
        inputs_digest: &resolved.inputs_digest,
        idempotency_key: key.as_deref(),
        request_digest: &request_digest,
        max_attempts: app.analyses.max_attempts,
        requested_by: ctx.user_id.0,
    };
    let Some(id) = sql::insert(&mut tx, &new).await? else {
        // Another request with this key won the race.
        tx.commit().await?;
        let mut tx = app.db.tenant_tx(ctx.tenant_id).await?;
        let key = key.as_deref().unwrap_or_default();
        let existing = sql::by_idempotency_key(&mut tx, key)
            .await?
            .ok_or_else(|| ApiError::internal(anyhow::anyhow!("idempotent analysis vanished")))?;
        tx.commit().await?;
        return replay(existing, &request_digest);
    };
    let details = json!({ "id": id, "source_id": resolved.source.id, "model": resolved.model.name,
        "inputs_digest": resolved.inputs_digest });
    audit::record(tx.conn(), ctx.audit("analysis.run", details)).await?;
    let row = sql::fetch(&mut tx, id)
        .await?
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("queued analysis vanished")))?;
    tx.commit().await?;
    Ok((StatusCode::ACCEPTED, Json(Analysis::from_row(row, true))))
}

/// Back-pressure: past `--max-queued-analyses` (all tenants), a new run is
/// refused rather than queued behind work the workers cannot reach soon.
async fn refuse_when_queue_full(app: &AppState) -> Result<(), ApiError> {
    let mut platform = app.db.platform_tx().await?;
    let queued = crate::db::queue::queued(&mut platform).await?;
    platform.commit().await?;
    if queued >= app.limits.max_queued_analyses {
        metrics::counter!(crate::telemetry::metrics::SHED, "resource" => "queue").increment(1);
        return Err(ApiError::Unavailable {
            code: "queue_full",
            message: format!(
                "{queued} analyses are waiting for workers, the most this platform queues; \
                 try again later"
            ),
            retry_after_secs: 30,
        });
    }
    Ok(())
}

fn replay(
    existing: sql::AnalysisRow,
    request_digest: &str,
) -> Result<(StatusCode, Json<Analysis>), ApiError> {
    if existing.request_digest.as_deref() != Some(request_digest) {
        return Err(ApiError::conflict(
            "idempotency_key_reused",
            "this Idempotency-Key was used with a different request",
        ));
    }
    Ok((
        StatusCode::ACCEPTED,
        Json(Analysis::from_row(existing, true)),
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    #[param(inline)]
    status: Option<AnalysisStatus>,
    /// Only analyses of this data source version.
    source_id: Option<Uuid>,
    /// Only analyses of this model.
    model: Option<String>,
    /// 1 to 200, default 50.
    #[param(minimum = 1, maximum = 200)]
    limit: Option<i64>,
    /// Default 0.
    #[param(minimum = 0)]
    offset: Option<i64>,
}

/// Where an analysis is in its life.
#[derive(Debug, Clone, Copy, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum AnalysisStatus {
    Queued,
    Running,
    Succeeded,
    Failed,
    Cancelled,
}

impl AnalysisStatus {
    fn as_str(self) -> &'static str {
        match self {
            AnalysisStatus::Queued => "queued",
            AnalysisStatus::Running => "running",
            AnalysisStatus::Succeeded => "succeeded",
            AnalysisStatus::Failed => "failed",
            AnalysisStatus::Cancelled => "cancelled",
        }
    }
}

/// The tenant's analyses, newest first (without their summaries).
#[utoipa::path(get, path = "/tenant/analysis", tag = "analyses", security(("bearer" = [])), params(ListQuery),
    responses((status = 200, description = "A page of analyses", body = Page<Analysis>,
            links(("GetAnalysis" = (operation_id = "get_analysis", parameters(("analysis_id" = "$response.body#/items/0/id")))),
                ("ResponseCurves" = (operation_id = "response_curves", parameters(("analysis_id" = "$response.body#/items/0/id")))),
                ("DefaultRecommendation" = (operation_id = "default_recommendation", parameters(("analysis_id" = "$response.body#/items/0/id")))),
                ("CreateRecommendation" = (operation_id = "create_recommendation", request_body = json!({ "analysis_id": "$response.body#/items/0/id", "objective": "max_response", "target": null, "budget": null, "horizon": null, "bounds": {} }))))),
        (status = 422, description = "An unknown status, or paging out of range", body = Problem)))]
async fn list(
    State(app): State<AppState>,
    ctx: TenantContext,
    Query(query): Query<ListQuery>,
) -> Result<Json<Page<Analysis>>, ApiError> {
    let (limit, offset) = PageQuery::new(query.limit, query.offset).bounds()?;
    let filter = ListFilter {
        status: query.status.map(AnalysisStatus::as_str),
        source_id: query.source_id,
        model: query.model.as_deref(),
    };
    let mut tx = app.db.tenant_tx(ctx.tenant_id).await?;
    let (rows, total) = sql::list(&mut tx, &filter, limit, offset).await?;
    tx.commit().await?;
    Ok(Json(Page {
        items: rows
            .into_iter()
            .map(|r| Analysis::from_row(r, false))
            .collect(),
        total,
        limit,
        offset,
    }))
}

async fn load(db: &Db, tenant: TenantId, id: Uuid) -> Result<Analysis, ApiError> {
    let mut tx = db.tenant_tx(tenant).await?;
    let row = sql::fetch(&mut tx, id)
        .await?
        .ok_or(ApiError::NotFound("analysis"))?;
    tx.commit().await?;
    Ok(Analysis::from_row(row, true))
}

/// One analysis: status, progress, exact inputs and, once done, its summary or its error.
#[utoipa::path(get, path = "/tenant/analysis/{analysis_id}", tag = "analyses", security(("bearer" = [])),
    params(("analysis_id" = Uuid, Path, description = "The analysis's id")),
    responses((status = 200, description = "The analysis", body = Analysis,
            links(("Decomposition" = (operation_id = "decomposition", parameters(("analysis_id" = "$response.body#/id")))),
                ("ResponseCurves" = (operation_id = "response_curves", parameters(("analysis_id" = "$response.body#/id")))),
                ("GetSource" = (operation_id = "get_source", parameters(("id" = "$response.body#/inputs/source/id")))),
                ("DefaultRecommendation" = (operation_id = "default_recommendation", parameters(("analysis_id" = "$response.body#/id")))),
                ("CreateRecommendation" = (operation_id = "create_recommendation", request_body = json!({ "analysis_id": "$response.body#/id", "objective": "max_response", "target": null, "budget": null, "horizon": null, "bounds": {} }))))),
        (status = 404, description = "No such analysis in this tenant", body = Problem)))]
async fn get_analysis(
    State(app): State<AppState>,
    ctx: TenantContext,
    Path(id): Path<Uuid>,
) -> Result<Json<Analysis>, ApiError> {
    Ok(Json(load(&app.db, ctx.tenant_id, id).await?))
}

async fn result_table(
    app: &AppState,
    ctx: &TenantContext,
    id: Uuid,
    part: ResultPart,
    headers: &HeaderMap,
) -> Result<Response, ApiError> {
    let mut tx = app.db.tenant_tx(ctx.tenant_id).await?;
    let bytes = sql::result_part(&mut tx, id, part).await?;
    let status = match &bytes {
        Some(_) => None,
        None => Some(
            sql::fetch(&mut tx, id)
                .await?
                .ok_or(ApiError::NotFound("analysis"))?
                .status,
        ),
    };
    tx.commit().await?;
    let Some(bytes) = bytes else {
        let status = status.unwrap_or_default();
        return Err(ApiError::conflict(
            "analysis_not_succeeded",
            format!("the analysis is {status}: results exist once it has succeeded"),
        ));
    };
    let format = ResponseFormat::negotiate(headers, TableFormat::Csv);
    tokio::task::spawn_blocking(move || format.respond(bytes))
        .await
        .map_err(ApiError::internal)?
}

/// The fitted decomposition: per period, actual, fitted, baseline and each
/// channel's contribution; CSV (default), Arrow IPC or JSON by `Accept`.
#[utoipa::path(get, path = "/tenant/analysis/{analysis_id}/decomposition", tag = "analyses", security(("bearer" = [])),
    params(("analysis_id" = Uuid, Path, description = "The analysis's id")),
    responses((status = 200, description = "The table",
            content((inline(Binary) = "text/csv"), (inline(Binary) = "application/vnd.apache.arrow.stream"),
                (Vec<Object> = "application/json"))),
        (status = 404, description = "No such analysis in this tenant", body = Problem),
        (status = 409, description = "The analysis has not succeeded", body = Problem)))]
async fn decomposition(
    State(app): State<AppState>,
    ctx: TenantContext,
    Path(id): Path<Uuid>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    result_table(&app, &ctx, id, ResultPart::Decomposition, &headers).await
}

/// Each channel's response over a grid of spend levels (`channel`, `spend`,
/// `response`, and what else the model gives); CSV (default), Arrow IPC or JSON by `Accept`.
#[utoipa::path(get, path = "/tenant/analysis/{analysis_id}/response-curves", tag = "analyses", security(("bearer" = [])),
    params(("analysis_id" = Uuid, Path, description = "The analysis's id")),
    responses((status = 200, description = "The table",
            content((inline(Binary) = "text/csv"), (inline(Binary) = "application/vnd.apache.arrow.stream"),
                (Vec<Object> = "application/json"))),
        (status = 404, description = "No such analysis in this tenant", body = Problem),
        (status = 409, description = "The analysis has not succeeded", body = Problem)))]
async fn response_curves(
    State(app): State<AppState>,
    ctx: TenantContext,
    Path(id): Path<Uuid>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    result_table(&app, &ctx, id, ResultPart::ResponseCurves, &headers).await
}

/// One event of the stream as a client parses it, for the OpenAPI document.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)] // Only documented: the stream itself is written by axum's `Event`.
pub struct StatusEvent {
    /// `progress` or `status`.
    event: String,
    /// `{id, status, progress, attempts, error}` as JSON text.
    data: String,
}

/// Server-Sent Events of the analysis's status and progress until it ends:
/// `event: progress` while its stage or progress moves, `event: status` when
/// its status changes (the last one is final). Each `data` is
/// `{id, status, progress: {stage, done, total}, attempts, error}`.
#[utoipa::path(get, path = "/tenant/analysis/{analysis_id}/events", tag = "analyses", security(("bearer" = [])),
    params(("analysis_id" = Uuid, Path, description = "The analysis's id")),
    responses((status = 200, description = "An event stream", content((StatusEvent = "text/event-stream"))),
        (status = 404, description = "No such analysis in this tenant", body = Problem)))]
async fn events(
    State(app): State<AppState>,
    ctx: TenantContext,
    Path(id): Path<Uuid>,
) -> Result<Response, ApiError> {
    // Subscribe before the first read, so no change falls in between.
    let changes = app.analyses.events.subscribe();
    let first = load(&app.db, ctx.tenant_id, id).await?;
    let stream = event_stream(app.db.clone(), ctx.tenant_id, first, changes);
    let closed = app.analyses.events.clone();
    let stream =
        futures_util::StreamExt::take_until(stream, Box::pin(async move { closed.closed().await }));
    Ok(Sse::new(stream)
        .keep_alive(KeepAlive::default())
        .into_response())
}

/// How often a stream re-reads its analysis when no change was announced
/// (a missed notification costs at most this).
const REREAD_EVERY: Duration = Duration::from_secs(2);

struct Watch {
    db: Db,
    tenant: TenantId,
    id: Uuid,
    changes: broadcast::Receiver<crate::analyses::events::Change>,
    last: Option<Analysis>,
    pending: Option<Analysis>,
    ended: bool,
}

fn event_stream(
    db: Db,
    tenant: TenantId,
    first: Analysis,
    changes: broadcast::Receiver<crate::analyses::events::Change>,
) -> impl Stream<Item = Result<Event, Infallible>> {
    let watch = Watch {
        db,
        tenant,
        id: first.id,
        changes,
        last: None,
        pending: Some(first),
        ended: false,
    };
    futures_util::stream::unfold(watch, |mut w| async move {
        if w.ended {
            return None;
        }
        loop {
            let current = match w.pending.take() {
                Some(current) => current,
                None => {
                    w.wait().await;
                    match load(&w.db, w.tenant, w.id).await {
                        Ok(current) => current,
                        Err(e) => {
                            w.ended = true;
                            let data = json!({ "error": e.to_string() }).to_string();
                            return Some((Ok(Event::default().event("error").data(data)), w));
                        }
                    }
                }
            };
            let changed = w.last.as_ref().is_none_or(|last| {
                last.status != current.status
                    || last.progress != current.progress
                    || last.attempts != current.attempts
            });
            if !changed {
                continue;
            }
            let name = match &w.last {
                Some(last) if last.status == current.status => "progress",
                _ => "status",
            };
            w.ended = is_final(&current.status);
            let data = json!({
                "id": current.id,
                "status": current.status,
                "progress": current.progress,
                "attempts": current.attempts,
                "error": current.error,
            });
            w.last = Some(current);
            return Some((Ok(Event::default().event(name).data(data.to_string())), w));
        }
    })
}

impl Watch {
    /// Until this analysis is announced as changed, or the re-read interval passes.
    async fn wait(&mut self) {
        let deadline = tokio::time::sleep(REREAD_EVERY);
        tokio::pin!(deadline);
        loop {
            tokio::select! {
                () = &mut deadline => return,
                change = self.changes.recv() => match change {
                    Ok(c) if c.id == self.id && c.tenant == self.tenant => return,
                    Ok(_) => {}
                    Err(broadcast::error::RecvError::Lagged(_)) => return,
                    Err(broadcast::error::RecvError::Closed) => {
                        (&mut deadline).await;
                        return;
                    }
                },
            }
        }
    }
}

/// Cancels an analysis: a queued one never starts; a running one stops
/// within about a second and ends `cancelled`.
#[utoipa::path(post, path = "/tenant/analysis/{analysis_id}/cancel", tag = "analyses", security(("bearer" = [])),
    params(("analysis_id" = Uuid, Path, description = "The analysis's id")),
    responses((status = 200, description = "It was queued and is now cancelled", body = Analysis),
        (status = 202, description = "It is running; its worker is stopping it", body = Analysis),
        (status = 404, description = "No such analysis in this tenant", body = Problem),
        (status = 409, description = "It has already ended", body = Problem)))]
async fn cancel(
    State(app): State<AppState>,
    ctx: TenantContext,
    Path(id): Path<Uuid>,
) -> Result<(StatusCode, Json<Analysis>), ApiError> {
    let mut tx = app.db.tenant_tx(ctx.tenant_id).await?;
    let outcome = sql::request_cancel(&mut tx, id).await?;
    let status = match outcome {
        CancelOutcome::NotFound => return Err(ApiError::NotFound("analysis")),
        CancelOutcome::AlreadyEnded => {
            let row = sql::fetch(&mut tx, id)
                .await?
                .ok_or(ApiError::NotFound("analysis"))?;
            return Err(ApiError::conflict(
                "analysis_ended",
                format!("the analysis has already ended ({})", row.status),
            ));
        }
        CancelOutcome::Cancelled => StatusCode::OK,
        CancelOutcome::Requested => StatusCode::ACCEPTED,
    };
    audit::record(tx.conn(), ctx.audit("analysis.cancel", json!({ "id": id }))).await?;
    let row = sql::fetch(&mut tx, id)
        .await?
        .ok_or(ApiError::NotFound("analysis"))?;
    tx.commit().await?;
    Ok((status, Json(Analysis::from_row(row, true))))
}
