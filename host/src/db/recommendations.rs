//! Stored recommendations, under RLS.

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::types::Json;
use uuid::Uuid;

use super::TenantTx;

crate::db::row::record! {
    #[derive(Clone, Debug)]
    pub struct RecommendationRow {
        pub id: Uuid,
        pub analysis_id: Uuid,
        pub results_digest: String,
        pub is_default: bool,
        pub request: Json<Value>,
        pub body: Json<Value>,
        pub created_by: Uuid,
        pub created_at: DateTime<Utc>,
    }
}

const COLUMNS: &str =
    "id, analysis_id, results_digest, is_default, request, body, created_by, created_at";

pub struct NewRecommendation<'a> {
    pub id: Uuid,
    pub analysis_id: Uuid,
    pub results_digest: &'a str,
    pub is_default: bool,
    pub request: &'a Value,
    pub body: &'a Value,
    pub created_by: Uuid,
}

/// Stores one. A default that another request stored first is not
/// duplicated: `false` comes back and the caller reads that one.
#[tracing::instrument(skip_all, err)]
pub async fn insert(tx: &mut TenantTx, new: &NewRecommendation<'_>) -> Result<bool, sqlx::Error> {
    let tenant = tx.tenant();
    let done = sqlx::query(
        "insert into recommendations (tenant_id, id, analysis_id, results_digest, is_default,
             request, body, created_by)
         values ($1, $2, $3, $4, $5, $6, $7, $8)
         on conflict (tenant_id, analysis_id, results_digest) where is_default do nothing",
    )
    .bind(tenant)
    .bind(new.id)
    .bind(new.analysis_id)
    .bind(new.results_digest)
    .bind(new.is_default)
    .bind(Json(new.request))
    .bind(Json(new.body))
    .bind(new.created_by)
    .execute(tx.conn())
    .await?;
    Ok(done.rows_affected() == 1)
}

#[tracing::instrument(skip_all, err)]
pub async fn fetch(tx: &mut TenantTx, id: Uuid) -> Result<Option<RecommendationRow>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select {COLUMNS} from recommendations where id = $1"
    )))
    .bind(id)
    .fetch_optional(tx.conn())
    .await
}

/// The stored default for these results of an analysis.
#[tracing::instrument(skip_all, err)]
pub async fn default_for(
    tx: &mut TenantTx,
    analysis_id: Uuid,
    results_digest: &str,
) -> Result<Option<RecommendationRow>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select {COLUMNS} from recommendations
         where analysis_id = $1 and results_digest = $2 and is_default"
    )))
    .bind(analysis_id)
    .bind(results_digest)
    .fetch_optional(tx.conn())
    .await
}

/// Newest first, optionally of one analysis.
#[tracing::instrument(skip_all, err)]
pub async fn list(
    tx: &mut TenantTx,
    analysis_id: Option<Uuid>,
    limit: i64,
    offset: i64,
) -> Result<(Vec<RecommendationRow>, i64), sqlx::Error> {
    let items = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select {COLUMNS} from recommendations where ($1::uuid is null or analysis_id = $1)
         order by created_at desc, id limit $2 offset $3"
    )))
    .bind(analysis_id)
    .bind(limit)
    .bind(offset)
    .fetch_all(tx.conn())
    .await?;
    let total = sqlx::query_scalar(
        "select count(*) from recommendations where ($1::uuid is null or analysis_id = $1)",
    )
    .bind(analysis_id)
    .fetch_one(tx.conn())
    .await?;
    Ok((items, total))
}
