//! Analyses as tenants and workers see them, under RLS: creating, reading,
//! cancelling, and the lease-conditional writes a worker makes while it runs
//! one. Cross-tenant claiming lives in [`super::queue`].

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::types::Json;
use uuid::Uuid;

use super::TenantTx;

crate::db::row::record! {
    /// One analysis row (without its stored result tables).
    #[derive(Clone, Debug)]
    pub struct AnalysisRow {
        pub id: Uuid,
        pub source_id: Uuid,
        pub source_name: String,
        pub source_version: i32,
        pub source_sha256: String,
        pub model: Json<Value>,
        pub preprocessors: Json<Value>,
        /// The lift tests handed to the model (`crate::experiments::Snapshot`s).
        pub experiments: Json<Value>,
        pub seed: Option<i64>,
        pub inputs_digest: String,
        pub idempotency_key: Option<String>,
        pub request_digest: Option<String>,
        pub status: String,
        pub stage: String,
        pub progress_done: i64,
        pub progress_total: i64,
        pub attempts: i32,
        pub max_attempts: i32,
        pub cancel_requested: bool,
        pub error: Option<Json<Value>>,
        pub summary: Option<Json<Value>>,
        pub requested_by: Uuid,
        pub created_at: DateTime<Utc>,
        pub started_at: Option<DateTime<Utc>>,
        pub finished_at: Option<DateTime<Utc>>,
        pub updated_at: DateTime<Utc>,
        pub results_digest: Option<String>,
        pub fit_ms: Option<i64>,
    }
}

const COLUMNS: &str = "a.id, a.source_id, a.source_name, a.source_version, a.source_sha256, \
    a.model, a.preprocessors, a.experiments, a.seed, a.inputs_digest, a.idempotency_key, \
    a.request_digest, \
    a.status, a.stage, a.progress_done, a.progress_total, a.attempts, a.max_attempts, \
    a.cancel_requested, a.error, a.summary, a.requested_by, a.created_at, a.started_at, \
    a.finished_at, a.updated_at, r.results_digest, r.fit_ms";

const FROM: &str = "analyses a left join analysis_results r \
    on r.tenant_id = a.tenant_id and r.analysis_id = a.id";

pub struct NewAnalysis<'a> {
    pub source_id: Uuid,
    pub source_name: &'a str,
    pub source_version: i32,
    pub source_sha256: &'a str,
    pub model: &'a Value,
    pub preprocessors: &'a Value,
    pub experiments: &'a Value,
    pub seed: Option<i64>,
    pub inputs_digest: &'a str,
    pub idempotency_key: Option<&'a str>,
    pub request_digest: &'a str,
    pub max_attempts: i32,
    pub requested_by: Uuid,
}

/// Queues an analysis. With an idempotency key already used, nothing is
/// inserted and `None` comes back: the caller reads the earlier one.
#[tracing::instrument(skip_all, err)]
pub async fn insert(tx: &mut TenantTx, new: &NewAnalysis<'_>) -> Result<Option<Uuid>, sqlx::Error> {
    let tenant = tx.tenant();
    sqlx::query_scalar(
        "insert into analyses (tenant_id, id, source_id, source_name, source_version, source_sha256,
             model, preprocessors, seed, inputs_digest, idempotency_key, request_digest,
             max_attempts, requested_by, experiments)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
         on conflict (tenant_id, idempotency_key) do nothing
         returning id",
    )
    .bind(tenant)
    .bind(Uuid::new_v4())
    .bind(new.source_id)
    .bind(new.source_name)
    .bind(new.source_version)
    .bind(new.source_sha256)
    .bind(Json(new.model))
    .bind(Json(new.preprocessors))
    .bind(new.seed)
    .bind(new.inputs_digest)
    .bind(new.idempotency_key)
    .bind(new.request_digest)
    .bind(new.max_attempts)
    .bind(new.requested_by)
    .bind(Json(new.experiments))
    .fetch_optional(tx.conn())
    .await
}

#[tracing::instrument(skip_all, err)]
pub async fn fetch(tx: &mut TenantTx, id: Uuid) -> Result<Option<AnalysisRow>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select {COLUMNS} from {FROM} where a.id = $1"
    )))
    .bind(id)
    .fetch_optional(tx.conn())
    .await
}

#[tracing::instrument(skip_all, err)]
pub async fn by_idempotency_key(
    tx: &mut TenantTx,
    key: &str,
) -> Result<Option<AnalysisRow>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select {COLUMNS} from {FROM} where a.idempotency_key = $1"
    )))
    .bind(key)
    .fetch_optional(tx.conn())
    .await
}

/// Filters of the list; each `None` matches everything.
#[derive(Debug, Default)]
pub struct ListFilter<'a> {
    pub status: Option<&'a str>,
    pub source_id: Option<Uuid>,
    pub model: Option<&'a str>,
}

/// Newest first.
#[tracing::instrument(skip_all, err)]
pub async fn list(
    tx: &mut TenantTx,
    filter: &ListFilter<'_>,
    limit: i64,
    offset: i64,
) -> Result<(Vec<AnalysisRow>, i64), sqlx::Error> {
    let wheres = "($1::text is null or a.status = $1) and ($2::uuid is null or a.source_id = $2) \
        and ($3::text is null or a.model->>'name' = $3)";
    let items = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select {COLUMNS} from {FROM} where {wheres}
         order by a.created_at desc, a.id limit $4 offset $5"
    )))
    .bind(filter.status)
    .bind(filter.source_id)
    .bind(filter.model)
    .bind(limit)
    .bind(offset)
    .fetch_all(tx.conn())
    .await?;
    let total = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "select count(*) from analyses a where {wheres}"
    )))
    .bind(filter.status)
    .bind(filter.source_id)
    .bind(filter.model)
    .fetch_one(tx.conn())
    .await?;
    Ok((items, total))
}

/// The tenant's most recently finished succeeded analysis.
#[tracing::instrument(skip_all, err)]
pub async fn latest_succeeded(tx: &mut TenantTx) -> Result<Option<AnalysisRow>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select {COLUMNS} from {FROM} where a.status = 'succeeded'
         order by a.finished_at desc nulls last, a.created_at desc, a.id limit 1"
    )))
    .fetch_optional(tx.conn())
    .await
}

/// What a cancel request did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CancelOutcome {
    /// It was queued: it is cancelled and will never start.
    Cancelled,
    /// It is running: its worker stops it.
    Requested,
    /// It had already ended (with this status).
    AlreadyEnded,
    NotFound,
}

#[tracing::instrument(skip_all, err)]
pub async fn request_cancel(tx: &mut TenantTx, id: Uuid) -> Result<CancelOutcome, sqlx::Error> {
    let queued = sqlx::query(
        "update analyses set status = 'cancelled', stage = 'cancelled', finished_at = now(),
             updated_at = now()
         where id = $1 and status = 'queued'",
    )
    .bind(id)
    .execute(tx.conn())
    .await?;
    if queued.rows_affected() == 1 {
        return Ok(CancelOutcome::Cancelled);
    }
    let running = sqlx::query(
        "update analyses set cancel_requested = true, updated_at = now()
         where id = $1 and status = 'running'",
    )
    .bind(id)
    .execute(tx.conn())
    .await?;
    if running.rows_affected() == 1 {
        return Ok(CancelOutcome::Requested);
    }
    let exists: Option<i32> = sqlx::query_scalar("select 1 from analyses where id = $1")
        .bind(id)
        .fetch_optional(tx.conn())
        .await?;
    Ok(match exists {
        Some(_) => CancelOutcome::AlreadyEnded,
        None => CancelOutcome::NotFound,
    })
}

/// One of the result's tables (`decomposition` or `response_curves`) or its artifact.
#[tracing::instrument(skip_all, err)]
pub async fn result_part(
    tx: &mut TenantTx,
    id: Uuid,
    part: ResultPart,
) -> Result<Option<Vec<u8>>, sqlx::Error> {
    let column = match part {
        ResultPart::Decomposition => "decomposition",
        ResultPart::ResponseCurves => "response_curves",
        ResultPart::Artifact => "artifact",
    };
    sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "select {column} from analysis_results where analysis_id = $1"
    )))
    .bind(id)
    .fetch_optional(tx.conn())
    .await
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResultPart {
    Decomposition,
    ResponseCurves,
    Artifact,
}

// ---- Writes a worker makes while it holds the lease `token`. ----

/// Renews the lease; `None` when it is no longer held (expired and taken,
/// or the row ended), else whether a cancel was requested.
#[tracing::instrument(skip_all, err)]
pub async fn heartbeat(
    tx: &mut TenantTx,
    id: Uuid,
    token: Uuid,
    lease_secs: f64,
) -> Result<Option<bool>, sqlx::Error> {
    sqlx::query_scalar(
        "update analyses set lease_expires_at = now() + make_interval(secs => $3)
         where id = $1 and lease_token = $2 and status = 'running'
         returning cancel_requested",
    )
    .bind(id)
    .bind(token)
    .bind(lease_secs)
    .fetch_optional(tx.conn())
    .await
}

/// Records the stage and progress; answers whether the lease is still held.
#[tracing::instrument(skip_all, err)]
pub async fn progress(
    tx: &mut TenantTx,
    id: Uuid,
    token: Uuid,
    stage: &str,
    done: i64,
    total: i64,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "update analyses set stage = $3, progress_done = $4, progress_total = $5, updated_at = now()
         where id = $1 and lease_token = $2 and status = 'running'",
    )
    .bind(id)
    .bind(token)
    .bind(stage)
    .bind(done.max(0))
    .bind(total.max(0))
    .execute(tx.conn())
    .await?;
    Ok(done.rows_affected() == 1)
}

/// A fit's validated output, stored with the analysis.
pub struct NewResult<'a> {
    pub summary: &'a Value,
    pub decomposition: &'a [u8],
    pub response_curves: &'a [u8],
    pub artifact: &'a [u8],
    pub results_digest: &'a str,
    pub fit_ms: i64,
    pub worker: &'a str,
}

/// Marks the analysis succeeded and stores its result, in the caller's
/// transaction, only while the lease is held: `false` (nothing written)
/// when another worker has taken the job since.
#[tracing::instrument(skip_all, err)]
pub async fn succeed(
    tx: &mut TenantTx,
    id: Uuid,
    token: Uuid,
    result: &NewResult<'_>,
) -> Result<bool, sqlx::Error> {
    let marked = sqlx::query(
        "update analyses set status = 'succeeded', stage = 'done', summary = $3, error = null,
             progress_done = greatest(progress_done, progress_total), finished_at = now(),
             updated_at = now(), lease_owner = null, lease_token = null, lease_expires_at = null
         where id = $1 and lease_token = $2 and status = 'running'",
    )
    .bind(id)
    .bind(token)
    .bind(Json(result.summary))
    .execute(tx.conn())
    .await?;
    if marked.rows_affected() != 1 {
        return Ok(false);
    }
    let tenant = tx.tenant();
    sqlx::query(
        "insert into analysis_results (tenant_id, analysis_id, summary, decomposition,
             response_curves, artifact, results_digest, fit_ms, worker)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(tenant)
    .bind(id)
    .bind(Json(result.summary))
    .bind(result.decomposition)
    .bind(result.response_curves)
    .bind(result.artifact)
    .bind(result.results_digest)
    .bind(result.fit_ms)
    .bind(result.worker)
    .execute(tx.conn())
    .await?;
    Ok(true)
}

/// How a held job ends or goes back, short of success.
#[derive(Debug, Clone)]
pub enum Release {
    /// Fails now with this cause (the guest's fault, or out of attempts).
    Fail(Value),
    /// Cancelled as the tenant asked.
    Cancel,
    /// Back to the queue after `delay_secs`, with this cause; failed
    /// instead when its attempts are spent.
    Retry { error: Value, delay_secs: f64 },
    /// Back to the queue at once, the attempt not counted (a draining
    /// worker handing its job over).
    HandOver,
}

/// Applies a [`Release`] while the lease is held; `false` when it is not.
#[tracing::instrument(skip_all, err)]
pub async fn release(
    tx: &mut TenantTx,
    id: Uuid,
    token: Uuid,
    how: &Release,
) -> Result<bool, sqlx::Error> {
    let free =
        "lease_owner = null, lease_token = null, lease_expires_at = null, updated_at = now()";
    let query = match how {
        Release::Fail(error) => sqlx::query(sqlx::AssertSqlSafe(format!(
            "update analyses set status = 'failed', stage = 'failed', error = $3,
                 finished_at = now(), {free}
             where id = $1 and lease_token = $2 and status = 'running'"
        )))
        .bind(id)
        .bind(token)
        .bind(Json(error)),
        Release::Cancel => sqlx::query(sqlx::AssertSqlSafe(format!(
            "update analyses set status = 'cancelled', stage = 'cancelled', finished_at = now(), {free}
             where id = $1 and lease_token = $2 and status = 'running'"
        )))
        .bind(id)
        .bind(token),
        Release::Retry { error, delay_secs } => sqlx::query(sqlx::AssertSqlSafe(format!(
            "update analyses set
                 status = case when attempts >= max_attempts then 'failed' else 'queued' end,
                 stage = case when attempts >= max_attempts then 'failed' else 'waiting to retry' end,
                 finished_at = case when attempts >= max_attempts then now() end,
                 run_after = now() + make_interval(secs => $4),
                 error = $3, {free}
             where id = $1 and lease_token = $2 and status = 'running'"
        )))
        .bind(id)
        .bind(token)
        .bind(Json(error))
        .bind(*delay_secs),
        Release::HandOver => sqlx::query(sqlx::AssertSqlSafe(format!(
            "update analyses set status = 'queued', stage = 'queued', attempts = greatest(attempts - 1, 0),
                 run_after = now(), {free}
             where id = $1 and lease_token = $2 and status = 'running'"
        )))
        .bind(id)
        .bind(token),
    };
    Ok(query.execute(tx.conn()).await?.rows_affected() == 1)
}
